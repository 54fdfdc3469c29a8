package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

// CaseStats computes the department's figures over the cases received in
// [from, to) (zero times: unbounded), as seen at now. It reads the columns
// the figures need of every such case in one pass of one query, and
// casework.StatsBuilder makes the figures of them, as in storage/sqlite.
func (db *DB) CaseStats(ctx context.Context, from, to, now time.Time) (*casework.Stats, error) {
	var w where
	if !from.IsZero() {
		w.add("received_at >= ?", from)
	}
	if !to.IsZero() {
		w.add("received_at < ?", to)
	}
	rows, err := db.pool.Query(ctx, `SELECT state, category, project_id, coalesce(party_id, 0), repair_count, received_at,
		respond_by, on_site_by, resolve_by, responded_at, on_site_at, resolved_at,
		survey_speed, survey_attitude, survey_quality
		FROM cases`+w.sql(), w.args...)
	if err != nil {
		return nil, dbErr("postgres: case statistics", err)
	}
	defer rows.Close()
	acc := casework.NewStatsBuilder(now)
	var c casework.Case
	var speed, attitude, quality *int
	_, err = pgx.ForEachRow(rows, []any{&c.State, &c.Category, &c.ProjectID, &c.PartyID, &c.RepairCount, &c.ReceivedAt,
		&c.RespondBy, &c.OnSiteBy, &c.ResolveBy, &c.RespondedAt, &c.OnSiteAt, &c.ResolvedAt,
		&speed, &attitude, &quality}, func() error {
		c.Survey = nil
		if speed != nil && attitude != nil && quality != nil {
			c.Survey = &casework.Survey{Speed: *speed, Attitude: *attitude, Quality: *quality}
		}
		acc.Add(&c)
		return nil
	})
	if err != nil {
		return nil, dbErr("postgres: case statistics", fmt.Errorf("read cases: %w", err))
	}
	return acc.Stats(), nil
}
