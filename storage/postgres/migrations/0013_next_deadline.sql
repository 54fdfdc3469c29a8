-- 0013_next_deadline: the case list by the soonest deadline still to meet
-- (casework.CaseFilter.Order "due"; the expression is postgres.nextDeadlineSQL
-- and casework.Case.NextDeadline), read in order from the index rather than
-- sorted from every case.

CREATE INDEX cases_next_deadline_idx ON cases ((CASE WHEN resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold')
	THEN LEAST(CASE WHEN responded_at IS NULL THEN respond_by END, CASE WHEN on_site_at IS NULL THEN on_site_by END, resolve_by) END), received_at, id);
