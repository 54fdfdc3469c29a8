package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// CaseStats computes the department's figures over the cases received in
// [from, to) (zero times: unbounded), as seen at now. It reads the columns
// the figures need of every such case in one pass of one read transaction,
// and casework.StatsBuilder makes the figures of them (medians in Go, as
// SQLite has no percentile).
func (db *DB) CaseStats(ctx context.Context, from, to, now time.Time) (*casework.Stats, error) {
	var where []string
	var args []any
	if !from.IsZero() {
		where, args = append(where, "received_at >= ?"), append(args, encodeTime(from))
	}
	if !to.IsZero() {
		where, args = append(where, "received_at < ?"), append(args, encodeTime(to))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	return inRead(ctx, db, func(tx *Tx) (*casework.Stats, error) {
		rows, err := tx.QueryContext(ctx, `SELECT state, category, project_id, party_id, repair_count, received_at,
			respond_by, on_site_by, resolve_by, responded_at, on_site_at, resolved_at,
			survey_speed, survey_attitude, survey_quality
			FROM cases`+cond, args...)
		if err != nil {
			return nil, fmt.Errorf("case statistics: %w", err)
		}
		defer rows.Close()
		acc := casework.NewStatsBuilder(now)
		for rows.Next() {
			var c casework.Case
			var speed, attitude, quality sql.NullInt64
			if err := rows.Scan(&c.State, &c.Category, &c.ProjectID, idCol{&c.PartyID}, &c.RepairCount, timeCol{&c.ReceivedAt},
				nullTimeCol{&c.RespondBy}, nullTimeCol{&c.OnSiteBy}, nullTimeCol{&c.ResolveBy},
				nullTimeCol{&c.RespondedAt}, nullTimeCol{&c.OnSiteAt}, nullTimeCol{&c.ResolvedAt},
				&speed, &attitude, &quality); err != nil {
				return nil, fmt.Errorf("case statistics: %w", err)
			}
			if speed.Valid {
				c.Survey = &casework.Survey{Speed: int(speed.Int64), Attitude: int(attitude.Int64), Quality: int(quality.Int64)}
			}
			acc.Add(&c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("case statistics: %w", err)
		}
		return acc.Stats(), nil
	})
}
