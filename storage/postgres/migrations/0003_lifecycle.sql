-- 0003_lifecycle: what the lifecycle adds to a case (the warranty check, the
-- reporting chat account, the case it came from, the appointment, the repair
-- plan, the survey, the escalation), the outbox of messages written with a
-- change, bind codes, and external coordination tasks; the timeline takes
-- the new event kinds.
--
-- Cases registered before this migration read back with warranty_status
-- 'not_applicable' (what casework.Case.Validate fills in when no check was
-- made), no reporter, parent, slots, appointment, plan, survey or escalation.

ALTER TABLE cases
    ADD COLUMN warranty_status   text NOT NULL DEFAULT 'not_applicable'
        CONSTRAINT cases_warranty_status_check CHECK (warranty_status IN (
            'in_warranty', 'out_of_warranty', 'unknown', 'not_applicable')),
    ADD COLUMN warranty_until    date,
    ADD COLUMN reporter_platform text NOT NULL DEFAULT '',
    ADD COLUMN reporter_user_id  text NOT NULL DEFAULT '',
    ADD COLUMN parent_id         bigint CONSTRAINT cases_parent_id_fkey REFERENCES cases (id),
    ADD COLUMN proposed_slots    timestamptz[] NOT NULL DEFAULT '{}',
    ADD COLUMN appointment_at    timestamptz,
    -- casework.Plan; NULL: no plan yet.
    ADD COLUMN plan              jsonb CONSTRAINT cases_plan_check CHECK (jsonb_typeof(plan) = 'object'),
    -- casework.Survey in columns of its own, so that statistics aggregate
    -- it; the survey is there when its scores are.
    ADD COLUMN survey_speed      smallint CHECK (survey_speed BETWEEN 1 AND 5),
    ADD COLUMN survey_attitude   smallint CHECK (survey_attitude BETWEEN 1 AND 5),
    ADD COLUMN survey_quality    smallint CHECK (survey_quality BETWEEN 1 AND 5),
    ADD COLUMN survey_comment    text NOT NULL DEFAULT '',
    ADD COLUMN survey_at         timestamptz,
    ADD COLUMN escalated_at      timestamptz,
    ADD CONSTRAINT cases_reporter_check CHECK ((reporter_platform = '') = (reporter_user_id = '')),
    ADD CONSTRAINT cases_survey_check CHECK (
        (survey_speed IS NULL) = (survey_quality IS NULL) AND (survey_attitude IS NULL) = (survey_quality IS NULL));
CREATE INDEX cases_parent_idx ON cases (parent_id) WHERE parent_id IS NOT NULL;

ALTER TABLE case_events
    DROP CONSTRAINT case_events_kind_check,
    ADD CONSTRAINT case_events_kind_check CHECK (kind IN (
        'created', 'transition', 'updated', 'note', 'urge', 'media',
        'delivery_failed', 'order_accepted', 'order_declined', 'message', 'escalated', 'return_visit'));

-- The outbox (发件箱): messages written in the transaction of the change
-- that caused them, delivered by a job. Sent ones carry sent_at.
CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    bigint REFERENCES cases (id), -- NULL: concerns no case
    platform   text NOT NULL CHECK (platform <> ''),
    user_id    text NOT NULL CHECK (user_id <> ''),
    purpose    text NOT NULL DEFAULT '',
    payload    bytea NOT NULL,
    status     text NOT NULL DEFAULT 'pending' CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    sent_at    timestamptz,
    CONSTRAINT outbox_sent_check CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX outbox_case_idx ON outbox (case_id, created_at, id) WHERE case_id IS NOT NULL;
-- A recipient's pending messages, delivered in order.
CREATE INDEX outbox_pending_idx ON outbox (platform, user_id, id) WHERE status = 'pending';

-- One-time codes that bind a member's chat account (/bind CODE).
CREATE TABLE bind_codes (
    code       text COLLATE "C" NOT NULL CHECK (code <> ''),
    member_id  bigint NOT NULL REFERENCES members (id),
    issued_by  text NOT NULL CHECK (issued_by <> ''),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT bind_codes_pkey PRIMARY KEY (code)
);
CREATE INDEX bind_codes_member_idx ON bind_codes (member_id);

CREATE INDEX chat_identities_member_idx ON chat_identities (member_id) WHERE member_id IS NOT NULL;

-- External coordination tasks (外部协调) of a case.
CREATE TABLE case_tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    assignee    text NOT NULL CHECK (assignee <> ''),
    description text NOT NULL CHECK (description <> ''),
    due_at      timestamptz NOT NULL,
    done_at     timestamptz,
    created_by  text NOT NULL CHECK (created_by <> ''),
    created_at  timestamptz NOT NULL
);
CREATE INDEX case_tasks_case_idx ON case_tasks (case_id, due_at, id);
