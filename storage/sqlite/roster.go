package sqlite

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.RosterStore = (*DB)(nil)

// dutyColumns are a duty's columns, in scanDuty's order.
const dutyColumns = "id, project_id, member_id, coalesce(weekday, 0), day, start_min, end_min, created_at"

func scanDuty(row scanner) (*casework.Duty, error) {
	var d casework.Duty
	var weekday, from, to int64
	if err := row.Scan(&d.ID, &d.ProjectID, &d.MemberID, &weekday, dateCol{&d.Date}, &from, &to, timeCol{&d.CreatedAt}); err != nil {
		return nil, err
	}
	d.Weekday, d.From, d.To = time.Weekday(weekday), time.Duration(from)*time.Minute, time.Duration(to)*time.Minute
	return &d, nil
}

// ReplaceRoster replaces the rosters of the projects of projectIDs with
// duties, in one transaction (casework.RosterStore).
func (db *DB) ReplaceRoster(ctx context.Context, projectIDs []int64, duties []*casework.Duty) error {
	for i, d := range duties {
		if err := d.Validate(); err != nil {
			return fmt.Errorf("roster: turn %d: %w", i+1, err)
		}
		if !slices.Contains(projectIDs, d.ProjectID) {
			return casework.Invalid("project", "turn %d is of project %d, whose roster is not replaced", i+1, d.ProjectID)
		}
	}
	stored, err := inWriteResult(ctx, db, func(tx *Tx) ([]casework.Duty, error) {
		for _, p := range projectIDs {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM projects WHERE id = ?", p).Scan(&n); err != nil {
				return nil, fmt.Errorf("roster: project %d: %w", p, err)
			}
			if n == 0 {
				return nil, notFound("roster: project %d", p)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM duties WHERE project_id = ?", p); err != nil {
				return nil, fmt.Errorf("roster: clear project %d: %w", p, err)
			}
		}
		out := make([]casework.Duty, len(duties))
		for i, d := range duties {
			var weekday, day any
			if d.Date.IsZero() {
				weekday = int64(d.Weekday)
			} else {
				day = encodeDate(d.Date)
			}
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO duties (project_id, member_id, weekday, day, start_min, end_min, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				d.ProjectID, d.MemberID, weekday, day, int64(d.From/time.Minute), int64(d.To/time.Minute), encodeTime(tx.now)).Scan(&id)
			switch {
			case isForeignKeyViolation(err):
				return nil, notFound("roster: member %d", d.MemberID)
			case err != nil:
				return nil, fmt.Errorf("roster: turn %d: %w", i+1, err)
			}
			out[i] = *d
			out[i].ID, out[i].CreatedAt = id, tx.now
			if !d.Date.IsZero() {
				out[i].Weekday = 0
			}
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	for i := range duties {
		*duties[i] = stored[i]
	}
	return nil
}

// ListDuties returns the roster of a project, or of every project
// (casework.RosterStore).
func (db *DB) ListDuties(ctx context.Context, projectID int64) ([]*casework.Duty, error) {
	return readAll(ctx, db, "list duties", scanDuty, "SELECT "+dutyColumns+` FROM duties
		WHERE ? = 0 OR project_id = ?
		ORDER BY project_id, day IS NOT NULL, (weekday + 6) % 7, day, start_min, id`, projectID, projectID)
}
