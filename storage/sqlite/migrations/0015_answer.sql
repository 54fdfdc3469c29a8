-- 0015_answer: staff answer (答复) the cases that get no work order —
-- consultations, complaints about service, suggestions and praise — with
-- the action casework.ActionAnswer (accepted → done, reopened → done), which
-- the timeline now records.
--
-- SQLite can't alter a CHECK constraint, so the timeline is rebuilt as
-- 0003_lifecycle did: the same columns and constraints but the action's,
-- its rows copied, its index (0011_urged) made again. No table refers to
-- case_events. The new timer kinds (answer_expiry, resume_due) need
-- nothing: timers live in the job queue's table, which checks no kind.
CREATE TABLE case_events_0015 (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL CHECK (actor <> ''),
    kind       TEXT NOT NULL CHECK (kind IN ('created', 'transition', 'updated', 'note', 'urge', 'media',
                   'delivery_failed', 'order_accepted', 'order_declined', 'message', 'escalated', 'return_visit')),
    action     TEXT NOT NULL DEFAULT '' CHECK (action IN ('',
                   'accept', 'reject', 'dispatch', 'schedule', 'inspect', 'propose_plan',
                   'agree_plan', 'disagree_plan', 'start_work', 'complete', 'answer', 'owner_accept',
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
INSERT INTO case_events_0015 (id, case_id, seq, at, actor, kind, action, from_state, to_state, note)
    SELECT id, case_id, seq, at, actor, kind, action, from_state, to_state, note FROM case_events;
DROP TABLE case_events;
ALTER TABLE case_events_0015 RENAME TO case_events;
CREATE INDEX case_events_urge_idx ON case_events (case_id) WHERE kind = 'urge';
