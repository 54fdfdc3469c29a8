package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

var _ staff.Store = (*DB)(nil)

// --- accounts ---

// CreateUser stores u with its projects and sets u to what is stored: its
// ID, timestamps, and ProjectIDs sorted, without repeats, nil when there are
// none. A taken username is a *casework.ConflictError; a party or a project
// that does not exist a *casework.ValidationError naming "party" or
// "project".
func (db *DB) CreateUser(ctx context.Context, u *staff.User) error {
	return db.saveUser(ctx, u, func(tx *Tx) (id int64, err error) {
		err = tx.QueryRowContext(ctx, `
			INSERT INTO staff_users (username, display_name, role, kind, party_id, password_hash, totp_secret, totp_pending, totp_step,
				disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Username, u.DisplayName, u.Role, u.Kind, nullID(u.PartyID), u.PasswordHash, u.TOTPSecret, u.TOTPPending, u.TOTPStep,
			u.Disabled, encodeTime(tx.now), encodeTime(tx.now)).Scan(&id)
		return id, err
	})
}

// UpdateUser saves u's fields and projects, not its username, and sets u to
// what is stored, as CreateUser does; TOTPStep becomes the later of the
// stored and u's, so that an account read before a sign-in does not give
// back its code. casework.ErrNotFound when there is no such account;
// otherwise it fails as CreateUser does.
func (db *DB) UpdateUser(ctx context.Context, u *staff.User) error {
	return db.saveUser(ctx, u, func(tx *Tx) (id int64, err error) {
		err = tx.QueryRowContext(ctx, `
			UPDATE staff_users SET display_name = ?, role = ?, kind = ?, party_id = ?, password_hash = ?,
				totp_secret = ?, totp_pending = ?, totp_step = max(totp_step, ?), disabled = ?, updated_at = ?
			WHERE id = ? RETURNING id`,
			u.DisplayName, u.Role, u.Kind, nullID(u.PartyID), u.PasswordHash, u.TOTPSecret, u.TOTPPending, u.TOTPStep,
			u.Disabled, encodeTime(tx.now), u.ID).Scan(&id)
		return id, err
	})
}

// saveUser checks u, writes its row with write, which returns its ID, and
// its projects, in one transaction, and sets u to the account as stored.
func (db *DB) saveUser(ctx context.Context, u *staff.User, write func(tx *Tx) (int64, error)) error {
	if err := u.Validate(); err != nil {
		return err
	}
	stored, err := inWriteResult(ctx, db, func(tx *Tx) (*staff.User, error) {
		id, err := write(tx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, notFound("user %d", u.ID)
		case isUniqueViolation(err):
			return nil, conflict("username %q is taken", u.Username)
		case isForeignKeyViolation(err):
			return nil, casework.Invalid("party", "party %d does not exist", u.PartyID)
		case err != nil:
			return nil, fmt.Errorf("save user %s: %w", u.Username, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM staff_user_projects WHERE user_id = ?", id); err != nil {
			return nil, fmt.Errorf("save user %s: projects: %w", u.Username, err)
		}
		for _, p := range u.ProjectIDs {
			_, err := tx.ExecContext(ctx, "INSERT INTO staff_user_projects (user_id, project_id) VALUES (?, ?) ON CONFLICT DO NOTHING", id, p)
			switch {
			case isForeignKeyViolation(err):
				return nil, casework.Invalid("project", "project %d does not exist", p)
			case err != nil:
				return nil, fmt.Errorf("save user %s: project %d: %w", u.Username, p, err)
			}
		}
		return queryOne(ctx, tx, fmt.Sprintf("user %d", id), scanUser, "SELECT "+userColumns+" FROM staff_users u WHERE u.id = ?", id)
	})
	if err != nil {
		return err
	}
	*u = *stored
	return nil
}

// FindUser returns the account with the ID, or casework.ErrNotFound.
func (db *DB) FindUser(ctx context.Context, id int64) (*staff.User, error) {
	return readOne(ctx, db, fmt.Sprintf("user %d", id), scanUser, "SELECT "+userColumns+" FROM staff_users u WHERE u.id = ?", id)
}

// FindUserByName returns the account with the username, or
// casework.ErrNotFound.
func (db *DB) FindUserByName(ctx context.Context, username string) (*staff.User, error) {
	return readOne(ctx, db, fmt.Sprintf("user %q", username), scanUser,
		"SELECT "+userColumns+" FROM staff_users u WHERE u.username = ?", username)
}

// FindServiceAccount returns the service account of a token's hash, or
// casework.ErrNotFound.
func (db *DB) FindServiceAccount(ctx context.Context, hash string) (*staff.User, error) {
	return readOne(ctx, db, "service account", scanUser,
		"SELECT "+userColumns+" FROM staff_users u WHERE u.kind = 'service' AND u.password_hash = ?", hash)
}

// ListUsers returns every account ordered by username.
func (db *DB) ListUsers(ctx context.Context) ([]*staff.User, error) {
	return readAll(ctx, db, "list users", scanUser, "SELECT "+userColumns+" FROM staff_users u ORDER BY u.username")
}

// UseTOTPStep sets the account's TOTPStep to step if it was earlier, and
// reports whether it did; casework.ErrNotFound when there is no such
// account.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	return inWriteResult(ctx, db, func(tx *Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, "UPDATE staff_users SET totp_step = ? WHERE id = ? AND totp_step < ?", step, userID, step)
		if err != nil {
			return false, fmt.Errorf("use time step of user %d: %w", userID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return n > 0, err
		}
		_, err = queryOne(ctx, tx, fmt.Sprintf("user %d", userID), func(s scanner) (id int64, err error) { return id, s.Scan(&id) },
			"SELECT id FROM staff_users WHERE id = ?", userID)
		return false, err
	})
}

// userColumns are an account's, its projects last: a sorted JSON array, or
// NULL when there are none.
const userColumns = `u.id, u.username, u.display_name, u.role, u.kind, u.party_id, u.password_hash,
	u.totp_secret, u.totp_pending, u.totp_step, u.disabled, u.created_at, u.updated_at,
	(SELECT json_group_array(p.project_id ORDER BY p.project_id) FROM staff_user_projects p WHERE p.user_id = u.id HAVING count(*) > 0)`

func scanUser(s scanner) (*staff.User, error) {
	var u staff.User
	var projects sql.NullString
	err := s.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.Kind, idCol{&u.PartyID}, &u.PasswordHash,
		&u.TOTPSecret, &u.TOTPPending, &u.TOTPStep, &u.Disabled, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, &projects)
	if err != nil {
		return nil, err
	}
	if projects.Valid {
		if err := json.Unmarshal([]byte(projects.String), &u.ProjectIDs); err != nil {
			return nil, fmt.Errorf("user %d: projects: %w", u.ID, err)
		}
	}
	return &u, nil
}

// --- sessions ---

// CreateSession stores s and sets its ID; its times are kept as given. A
// token hash stored already is a *casework.ConflictError, a user that does
// not exist casework.ErrNotFound.
func (db *DB) CreateSession(ctx context.Context, s *staff.Session) error {
	if s.TokenHash == "" {
		return casework.Invalid("token_hash", "is required")
	}
	ns := *s
	ns.CreatedAt, ns.LastSeenAt, ns.ExpiresAt = storedTime(s.CreatedAt), storedTime(s.LastSeenAt), storedTime(s.ExpiresAt)
	err := db.inWrite(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ns.TokenHash, ns.UserID, encodeTime(ns.CreatedAt), encodeTime(ns.LastSeenAt), encodeTime(ns.ExpiresAt), ns.IP, ns.UserAgent,
		).Scan(&ns.ID)
		switch {
		case isUniqueViolation(err):
			return conflict("the session token is taken")
		case isForeignKeyViolation(err):
			return notFound("user %d", ns.UserID)
		case err != nil:
			return fmt.Errorf("create session of user %d: %w", ns.UserID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*s = ns
	return nil
}

// FindSession returns the session of a token hash, or casework.ErrNotFound.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*staff.Session, error) {
	return readOne(ctx, db, "session", func(s scanner) (*staff.Session, error) {
		var ss staff.Session
		err := s.Scan(&ss.ID, &ss.TokenHash, &ss.UserID, timeCol{&ss.CreatedAt}, timeCol{&ss.LastSeenAt}, timeCol{&ss.ExpiresAt},
			&ss.IP, &ss.UserAgent)
		return &ss, err
	}, `SELECT id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM staff_sessions WHERE token_hash = ?`, tokenHash)
}

// TouchSession sets a session's LastSeenAt; casework.ErrNotFound when it
// has ended.
func (db *DB) TouchSession(ctx context.Context, id int64, at time.Time) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		_, err := queryOne(ctx, tx, fmt.Sprintf("session %d", id), func(s scanner) (id int64, err error) { return id, s.Scan(&id) },
			"UPDATE staff_sessions SET last_seen_at = ? WHERE id = ? RETURNING id", encodeTime(at), id)
		return err
	})
}

// DeleteSession ends a session; one ended already is no error.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	return db.deleteSessions(ctx, fmt.Sprintf("session %d", id), "id = ?", id)
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	return db.deleteSessions(ctx, fmt.Sprintf("sessions of user %d", userID), "user_id = ?", userID)
}

func (db *DB) deleteSessions(ctx context.Context, what, cond string, arg any) error {
	return db.inWrite(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM staff_sessions WHERE "+cond, arg); err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		return nil
	})
}

// --- the audit log ---

// AddAudit stores e and sets its ID; its At is kept as given.
func (db *DB) AddAudit(ctx context.Context, e *staff.AuditEntry) error {
	if e.Action == "" {
		return casework.Invalid("action", "is required")
	}
	ne := *e
	ne.At = storedTime(e.At)
	err := db.inWrite(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO staff_audit (at, user_id, actor, action, subject, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			encodeTime(ne.At), nullID(ne.UserID), ne.Actor, ne.Action, ne.Subject, ne.Detail, ne.IP).Scan(&ne.ID)
		if err != nil {
			return fmt.Errorf("add audit entry %s: %w", ne.Action, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	*e = ne
	return nil
}

// ListAudit returns the entries f selects, newest (the highest ID) first: at
// most f.Limit, 100 when zero, 500 when more.
func (db *DB) ListAudit(ctx context.Context, f staff.AuditFilter) ([]*staff.AuditEntry, error) {
	if err := f.Normalize(); err != nil {
		return nil, err
	}
	var w where
	if f.UserID != 0 {
		w.add("user_id = ?", f.UserID)
	}
	if f.Action != "" {
		w.add("action = ?", f.Action)
	}
	if f.Subject != "" {
		w.add("subject = ?", f.Subject)
	}
	if f.Before != 0 {
		w.add("id < ?", f.Before)
	}
	return readAll(ctx, db, "list audit entries", func(s scanner) (*staff.AuditEntry, error) {
		var e staff.AuditEntry
		err := s.Scan(&e.ID, timeCol{&e.At}, idCol{&e.UserID}, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.IP)
		return &e, err
	}, "SELECT id, at, user_id, actor, action, subject, detail, ip FROM staff_audit WHERE "+w.sql()+" ORDER BY id DESC LIMIT ?",
		append(w.args, f.Limit)...)
}
