-- 0013_next_deadline: the case list by the soonest deadline still to meet
-- (casework.CaseFilter.Order "due"; the expression is sqlite.nextDeadlineSQL
-- and casework.Case.NextDeadline), read in order from the index rather than
-- sorted from every case.

CREATE INDEX cases_next_deadline_idx ON cases ((CASE WHEN resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
	THEN nullif(min(CASE WHEN responded_at IS NULL THEN coalesce(respond_by, 'z') ELSE 'z' END,
		CASE WHEN on_site_at IS NULL THEN coalesce(on_site_by, 'z') ELSE 'z' END, coalesce(resolve_by, 'z')), 'z') END), received_at, id);
