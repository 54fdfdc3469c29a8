-- 0015_answer: staff answer (答复) the cases that get no work order —
-- consultations, complaints about service, suggestions and praise — with
-- the action casework.ActionAnswer (accepted → done, reopened → done), which
-- the timeline now records.

ALTER TABLE case_events
    DROP CONSTRAINT case_events_action_check,
    ADD CONSTRAINT case_events_action_check CHECK (action IN ('',
        'accept', 'reject', 'dispatch', 'schedule', 'inspect', 'propose_plan', 'agree_plan',
        'disagree_plan', 'start_work', 'complete', 'answer', 'owner_accept', 'owner_reject', 'survey',
        'close', 'reopen', 'hold', 'resume', 'cancel'));
