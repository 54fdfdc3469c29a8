-- 0012_unanswered: the cases no person of the department answered yet
-- (casework.CaseFilter.Unanswered: responded_at unset), which the console's
-- dashboard counts and lists, newest first, read from the few such cases
-- rather than from every case.

CREATE INDEX cases_unanswered_idx ON cases (received_at DESC, id DESC) WHERE responded_at IS NULL;
