package sqlite

import (
	"context"
	"fmt"

	"github.com/aftersales/aftersales/staff"
)

var _ staff.ViewStore = (*DB)(nil)

// SaveView stores v under its user and name, replacing the query of the
// view of that name, and sets its ID and CreatedAt.
func (db *DB) SaveView(ctx context.Context, v *staff.View) error {
	if err := v.Validate(); err != nil {
		return err
	}
	return db.inWrite(ctx, func(tx *Tx) error {
		v.CreatedAt = storedTime(tx.now)
		err := tx.QueryRowContext(ctx, `INSERT INTO staff_views (user_id, name, query, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query RETURNING id`,
			v.UserID, v.Name, v.Query, encodeTime(v.CreatedAt)).Scan(&v.ID)
		if err != nil {
			return fmt.Errorf("save view %q: %w", v.Name, err)
		}
		return nil
	})
}

// ListViews returns a user's views by name.
func (db *DB) ListViews(ctx context.Context, userID int64) ([]*staff.View, error) {
	return readAll(ctx, db, "list views", func(s scanner) (*staff.View, error) {
		var v staff.View
		return &v, s.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, timeCol{&v.CreatedAt})
	}, "SELECT id, user_id, name, query, created_at FROM staff_views WHERE user_id = ? ORDER BY name", userID)
}

// DeleteView deletes the user's view id; another's is casework.ErrNotFound.
func (db *DB) DeleteView(ctx context.Context, userID, id int64) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM staff_views WHERE id = ? AND user_id = ?", id, userID)
		if err != nil {
			return fmt.Errorf("delete view %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("view %d", id)
		}
		return nil
	})
}
