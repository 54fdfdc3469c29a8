-- 0003_lifecycle: what the lifecycle adds to a case (the warranty check, the
-- reporting chat account, the case it came from, the appointment, the repair
-- plan, the survey, the escalation), the outbox of messages written with a
-- change, bind codes, and external coordination tasks; the timeline takes
-- the new event kinds.
--
-- Cases registered before this migration read back with warranty_status
-- 'not_applicable' (what casework.Case.Validate fills in when no check was
-- made), no reporter, parent, slots, appointment, plan, survey or escalation.

ALTER TABLE cases ADD COLUMN warranty_status TEXT NOT NULL DEFAULT 'not_applicable'
    CHECK (warranty_status IN ('in_warranty', 'out_of_warranty', 'unknown', 'not_applicable'));
ALTER TABLE cases ADD COLUMN warranty_until TEXT
    CHECK (warranty_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]');
ALTER TABLE cases ADD COLUMN reporter_platform TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN reporter_user_id TEXT NOT NULL DEFAULT ''
    CHECK ((reporter_platform = '') = (reporter_user_id = ''));
ALTER TABLE cases ADD COLUMN parent_id INTEGER REFERENCES cases (id);
-- The offered visit times: a JSON array of times as stored elsewhere.
ALTER TABLE cases ADD COLUMN proposed_slots TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(proposed_slots) AND json_type(proposed_slots) = 'array');
ALTER TABLE cases ADD COLUMN appointment_at TEXT;
-- casework.Plan as JSON; NULL: no plan yet.
ALTER TABLE cases ADD COLUMN plan TEXT CHECK (plan IS NULL OR json_valid(plan));
-- casework.Survey in columns of its own, so that statistics aggregate it.
-- The three scores are there together or not at all; the survey is there
-- when they are.
ALTER TABLE cases ADD COLUMN survey_speed INTEGER CHECK (survey_speed BETWEEN 1 AND 5);
ALTER TABLE cases ADD COLUMN survey_attitude INTEGER CHECK (survey_attitude BETWEEN 1 AND 5);
ALTER TABLE cases ADD COLUMN survey_quality INTEGER CHECK (survey_quality BETWEEN 1 AND 5)
    CHECK ((survey_speed IS NULL) = (survey_quality IS NULL) AND (survey_attitude IS NULL) = (survey_quality IS NULL));
ALTER TABLE cases ADD COLUMN survey_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN survey_at TEXT;
ALTER TABLE cases ADD COLUMN escalated_at TEXT;

CREATE INDEX cases_assignee_idx ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_parent_idx ON cases (parent_id) WHERE parent_id IS NOT NULL;

-- The timeline's kinds grow: SQLite can't alter a CHECK constraint, so the
-- table is rebuilt with the same columns and its rows copied. No table
-- refers to case_events.
CREATE TABLE case_events_0003 (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL CHECK (actor <> ''),
    kind       TEXT NOT NULL CHECK (kind IN ('created', 'transition', 'updated', 'note', 'urge', 'media',
                   'delivery_failed', 'order_accepted', 'order_declined', 'message', 'escalated', 'return_visit')),
    action     TEXT NOT NULL DEFAULT '' CHECK (action IN ('',
                   'accept', 'reject', 'dispatch', 'schedule', 'inspect', 'propose_plan',
                   'agree_plan', 'disagree_plan', 'start_work', 'complete', 'owner_accept',
                   'owner_reject', 'survey', 'close', 'reopen', 'hold', 'resume', 'cancel')),
    from_state TEXT NOT NULL DEFAULT '' CHECK (from_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    to_state   TEXT NOT NULL DEFAULT '' CHECK (to_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    note       TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, seq)
) STRICT;
INSERT INTO case_events_0003 (id, case_id, seq, at, actor, kind, action, from_state, to_state, note)
    SELECT id, case_id, seq, at, actor, kind, action, from_state, to_state, note FROM case_events;
DROP TABLE case_events;
ALTER TABLE case_events_0003 RENAME TO case_events;

-- The outbox (发件箱): messages written in the transaction of the change
-- that caused them, delivered by a job. Sent ones carry sent_at.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER REFERENCES cases (id), -- NULL: concerns no case
    platform   TEXT NOT NULL CHECK (platform <> ''),
    user_id    TEXT NOT NULL CHECK (user_id <> ''),
    purpose    TEXT NOT NULL DEFAULT '',
    payload    BLOB NOT NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at    TEXT,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
) STRICT;
CREATE INDEX outbox_case_idx ON outbox (case_id, created_at, id) WHERE case_id IS NOT NULL;
-- A recipient's pending messages, delivered in order.
CREATE INDEX outbox_pending_idx ON outbox (platform, user_id, id) WHERE status = 'pending';

-- One-time codes that bind a member's chat account (/bind CODE).
CREATE TABLE bind_codes (
    code       TEXT PRIMARY KEY CHECK (code <> ''),
    member_id  INTEGER NOT NULL REFERENCES members (id),
    issued_by  TEXT NOT NULL CHECK (issued_by <> ''),
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX bind_codes_member_idx ON bind_codes (member_id);

CREATE INDEX chat_identities_member_idx ON chat_identities (member_id) WHERE member_id IS NOT NULL;

-- External coordination tasks (外部协调) of a case.
CREATE TABLE case_tasks (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    assignee    TEXT NOT NULL CHECK (assignee <> ''),
    description TEXT NOT NULL CHECK (description <> ''),
    due_at      TEXT NOT NULL,
    done_at     TEXT,
    created_by  TEXT NOT NULL CHECK (created_by <> ''),
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX case_tasks_case_idx ON case_tasks (case_id, due_at, id);
