package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/aftersales/aftersales/casework"
)

var _ casework.RosterStore = (*DB)(nil)

// dutyCols are a duty's columns, in scanDuty's order.
const dutyCols = "id, project_id, member_id, coalesce(weekday, 0), day, start_min, end_min, created_at"

func scanDuty(row scanner) (*casework.Duty, error) {
	var d casework.Duty
	var weekday int16
	var from, to int32
	var day pgtype.Date
	if err := row.Scan(&d.ID, &d.ProjectID, &d.MemberID, &weekday, &day, &from, &to, &d.CreatedAt); err != nil {
		return nil, err
	}
	d.Weekday, d.Date = time.Weekday(weekday), fromPgDate(day)
	d.From, d.To = time.Duration(from)*time.Minute, time.Duration(to)*time.Minute
	d.CreatedAt = d.CreatedAt.UTC()
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
	now := db.nowUTC()
	ids, err := inWriteResult(ctx, db, "postgres: replace roster", func(tx pgx.Tx) ([]int64, error) {
		for _, p := range projectIDs {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, p).Scan(&exists); err != nil {
				return nil, err
			}
			if !exists {
				return nil, fmt.Errorf("project %d: %w", p, casework.ErrNotFound)
			}
			if _, err := tx.Exec(ctx, `DELETE FROM duties WHERE project_id = $1`, p); err != nil {
				return nil, err
			}
		}
		ids := make([]int64, len(duties))
		for i, d := range duties {
			var weekday *int16
			if d.Date.IsZero() {
				w := int16(d.Weekday)
				weekday = &w
			}
			err := tx.QueryRow(ctx, `INSERT INTO duties (project_id, member_id, weekday, day, start_min, end_min, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
				d.ProjectID, d.MemberID, weekday, pgDate(d.Date), int32(d.From/time.Minute), int32(d.To/time.Minute), now).Scan(&ids[i])
			if err != nil {
				return nil, err
			}
		}
		return ids, nil
	})
	if err != nil {
		return err
	}
	for i, d := range duties {
		d.ID, d.CreatedAt = ids[i], now
		if !d.Date.IsZero() {
			d.Weekday = 0
		}
	}
	return nil
}

// ListDuties returns the roster of a project, or of every project
// (casework.RosterStore).
func (db *DB) ListDuties(ctx context.Context, projectID int64) ([]*casework.Duty, error) {
	return readAll(ctx, db, "postgres: list duties", scanDuty, "SELECT "+dutyCols+` FROM duties
		WHERE $1::bigint = 0 OR project_id = $1
		ORDER BY project_id, day IS NOT NULL, (weekday + 6) % 7, day, start_min, id`, projectID)
}
