-- 0018_duty: the duty roster (值班表, casework.Duty): which supervisor is on
-- duty for a project when — every week on a weekday (0 Sunday … 6 Saturday)
-- or on one date (a holiday), from start_min to end_min, minutes since
-- midnight; a turn whose end is not after its start spans midnight. A
-- roster is replaced whole, per project (casework.RosterStore).

CREATE TABLE duties (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    member_id  bigint NOT NULL REFERENCES members (id),
    weekday    smallint CHECK (weekday BETWEEN 0 AND 6),
    day        date,
    start_min  integer NOT NULL CHECK (start_min >= 0 AND start_min < 1440),
    end_min    integer NOT NULL CHECK (end_min > 0 AND end_min <= 1440),
    created_at timestamptz NOT NULL,
    CHECK ((weekday IS NULL) <> (day IS NULL)),
    CHECK (start_min <> end_min)
);
CREATE INDEX duties_project_idx ON duties (project_id, day, weekday, start_min);
