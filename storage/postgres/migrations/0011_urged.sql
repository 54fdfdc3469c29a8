-- 0011_urged: the cases an owner urged (催办), which the console's dashboard
-- and case list show (casework.CaseFilter.Urged), found from the urges
-- alone rather than from every event of every case.

CREATE INDEX case_events_urge_idx ON case_events (case_id) WHERE kind = 'urge';
