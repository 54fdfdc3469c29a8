package postgres

import (
	"context"
	"fmt"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

var _ staff.ViewStore = (*DB)(nil)

// SaveView stores v under its user and name, replacing the query of the
// view of that name, and sets its ID and CreatedAt.
func (db *DB) SaveView(ctx context.Context, v *staff.View) error {
	if err := v.Validate(); err != nil {
		return err
	}
	v.CreatedAt = db.nowUTC()
	err := db.pool.QueryRow(ctx, `INSERT INTO staff_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, name) DO UPDATE SET query = EXCLUDED.query RETURNING id`,
		v.UserID, v.Name, v.Query, v.CreatedAt).Scan(&v.ID)
	if err != nil {
		return dbErr(fmt.Sprintf("postgres: save view %q", v.Name), err)
	}
	return nil
}

// ListViews returns a user's views by name.
func (db *DB) ListViews(ctx context.Context, userID int64) ([]*staff.View, error) {
	return readAll(ctx, db, "postgres: list views", func(s scanner) (*staff.View, error) {
		var v staff.View
		err := s.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &v.CreatedAt)
		v.CreatedAt = v.CreatedAt.UTC()
		return &v, err
	}, "SELECT id, user_id, name, query, created_at FROM staff_views WHERE user_id = $1 ORDER BY name", userID)
}

// DeleteView deletes the user's view id; another's is casework.ErrNotFound.
func (db *DB) DeleteView(ctx context.Context, userID, id int64) error {
	tag, err := db.pool.Exec(ctx, "DELETE FROM staff_views WHERE id = $1 AND user_id = $2", id, userID)
	if err != nil {
		return dbErr(fmt.Sprintf("postgres: delete view %d", id), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("view %d: %w", id, casework.ErrNotFound)
	}
	return nil
}
