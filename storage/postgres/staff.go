package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

var _ staff.Store = (*DB)(nil)

// Accounts.

// userCols are an account's, its projects last: sorted, or NULL when there
// are none.
const userCols = `u.id, u.username, u.display_name, u.role, u.kind, coalesce(u.party_id, 0), u.password_hash,
	u.totp_secret, u.totp_pending, u.totp_step, u.disabled, u.created_at, u.updated_at, (SELECT array_agg(p.project_id ORDER BY p.project_id) FROM staff_user_projects p WHERE p.user_id = u.id)`

func scanUser(row scanner) (*staff.User, error) {
	var u staff.User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.Kind, &u.PartyID, &u.PasswordHash,
		&u.TOTPSecret, &u.TOTPPending, &u.TOTPStep, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &u.ProjectIDs)
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// CreateUser stores u with its projects and sets u to what is stored: its
// ID, timestamps, and ProjectIDs sorted, without repeats, nil when there are
// none. A taken username is a *casework.ConflictError; a party or a project
// that does not exist a *casework.ValidationError naming "party" or
// "project".
func (db *DB) CreateUser(ctx context.Context, u *staff.User) error {
	return db.saveUser(ctx, u, "postgres: create user "+u.Username, func(tx pgx.Tx) (id int64, err error) {
		err = tx.QueryRow(ctx, `INSERT INTO staff_users (username, display_name, role, kind, party_id, password_hash,
				totp_secret, totp_pending, totp_step, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
			u.Username, u.DisplayName, u.Role, u.Kind, nullID(u.PartyID), u.PasswordHash,
			u.TOTPSecret, u.TOTPPending, u.TOTPStep, u.Disabled, db.nowUTC()).Scan(&id)
		return id, err
	})
}

// UpdateUser saves u's fields and projects, not its username, and sets u to
// what is stored, as CreateUser does; TOTPStep becomes the later of the
// stored and u's, so that an account read before a sign-in does not give
// back its code. casework.ErrNotFound when there is no such account;
// otherwise it fails as CreateUser does.
func (db *DB) UpdateUser(ctx context.Context, u *staff.User) error {
	return db.saveUser(ctx, u, fmt.Sprintf("postgres: update user %d", u.ID), func(tx pgx.Tx) (id int64, err error) {
		err = tx.QueryRow(ctx, `UPDATE staff_users SET display_name = $2, role = $3, kind = $4, party_id = $5, password_hash = $6,
				totp_secret = $7, totp_pending = $8, totp_step = GREATEST(totp_step, $9), disabled = $10, updated_at = $11
			WHERE id = $1 RETURNING id`,
			u.ID, u.DisplayName, u.Role, u.Kind, nullID(u.PartyID), u.PasswordHash,
			u.TOTPSecret, u.TOTPPending, u.TOTPStep, u.Disabled, db.nowUTC()).Scan(&id)
		return id, err
	})
}

// saveUser checks u, writes its row with write, which returns its ID, and
// its projects, in one transaction, and sets u to the account as stored.
func (db *DB) saveUser(ctx context.Context, u *staff.User, op string, write func(tx pgx.Tx) (int64, error)) error {
	if err := u.Validate(); err != nil {
		return err
	}
	stored, err := inWriteResult(ctx, db, op, func(tx pgx.Tx) (*staff.User, error) {
		id, err := write(tx)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_user_projects WHERE user_id = $1`, id); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO staff_user_projects (user_id, project_id)
			SELECT DISTINCT $1::bigint, unnest($2::bigint[])`, id, u.ProjectIDs); err != nil {
			return nil, err
		}
		return scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM staff_users u WHERE u.id = $1`, id))
	})
	if err != nil {
		return err
	}
	*u = *stored
	return nil
}

// FindUser returns the account with the ID, or casework.ErrNotFound.
func (db *DB) FindUser(ctx context.Context, id int64) (*staff.User, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find user %d", id), scanUser,
		`SELECT `+userCols+` FROM staff_users u WHERE u.id = $1`, id)
}

// FindUserByName returns the account with the username, or
// casework.ErrNotFound.
func (db *DB) FindUserByName(ctx context.Context, username string) (*staff.User, error) {
	return readOne(ctx, db, fmt.Sprintf("postgres: find user %q", username), scanUser,
		`SELECT `+userCols+` FROM staff_users u WHERE u.username = $1`, username)
}

// FindServiceAccount returns the service account of a token's hash, or
// casework.ErrNotFound.
func (db *DB) FindServiceAccount(ctx context.Context, hash string) (*staff.User, error) {
	return readOne(ctx, db, "postgres: find service account", scanUser,
		`SELECT `+userCols+` FROM staff_users u WHERE u.kind = 'service' AND u.password_hash = $1`, hash)
}

// ListUsers returns every account ordered by username.
func (db *DB) ListUsers(ctx context.Context) ([]*staff.User, error) {
	return readAll(ctx, db, "postgres: list users", scanUser, `SELECT `+userCols+` FROM staff_users u ORDER BY u.username`)
}

// UseTOTPStep sets the account's TOTPStep to step if it was earlier, and
// reports whether it did, in one statement: of two sign-ins with one code,
// the second waits for the first's row and then finds its step taken.
// casework.ErrNotFound when there is no such account.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	var used, found bool
	err := db.pool.QueryRow(ctx, `WITH used AS (UPDATE staff_users SET totp_step = $2 WHERE id = $1 AND totp_step < $2 RETURNING id)
		SELECT EXISTS (SELECT 1 FROM used), EXISTS (SELECT 1 FROM staff_users WHERE id = $1)`, userID, step).Scan(&used, &found)
	op := fmt.Sprintf("postgres: use time step of user %d", userID)
	switch {
	case err != nil:
		return false, dbErr(op, err)
	case !found:
		return false, fmt.Errorf("%s: %w", op, casework.ErrNotFound)
	}
	return used, nil
}

// Sessions.

// CreateSession stores s and sets its ID; its times are kept as given. A
// token hash stored already is a *casework.ConflictError, a user that does
// not exist casework.ErrNotFound.
func (db *DB) CreateSession(ctx context.Context, s *staff.Session) error {
	if s.TokenHash == "" {
		return casework.Invalid("token_hash", "is required")
	}
	ns := *s
	ns.CreatedAt, ns.LastSeenAt, ns.ExpiresAt = dbTime(s.CreatedAt), dbTime(s.LastSeenAt), dbTime(s.ExpiresAt)
	err := db.pool.QueryRow(ctx, `INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		ns.TokenHash, ns.UserID, ns.CreatedAt, ns.LastSeenAt, ns.ExpiresAt, ns.IP, ns.UserAgent).Scan(&ns.ID)
	if err != nil {
		return dbErr(fmt.Sprintf("postgres: create session of user %d", ns.UserID), err)
	}
	*s = ns
	return nil
}

// FindSession returns the session of a token hash, or casework.ErrNotFound.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*staff.Session, error) {
	return readOne(ctx, db, "postgres: find session", func(row scanner) (*staff.Session, error) {
		var s staff.Session
		if err := row.Scan(&s.ID, &s.TokenHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
		return &s, nil
	}, `SELECT id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM staff_sessions WHERE token_hash = $1`, tokenHash)
}

// TouchSession sets a session's LastSeenAt; casework.ErrNotFound when it
// has ended.
func (db *DB) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := readOne(ctx, db, fmt.Sprintf("postgres: touch session %d", id),
		func(row scanner) (id int64, err error) { return id, row.Scan(&id) },
		`UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1 RETURNING id`, id, dbTime(at))
	return err
}

// DeleteSession ends a session; one ended already is no error.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE id = $1`, id)
	return dbErr(fmt.Sprintf("postgres: delete session %d", id), err)
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM staff_sessions WHERE user_id = $1`, userID)
	return dbErr(fmt.Sprintf("postgres: delete sessions of user %d", userID), err)
}

// The audit log.

// AddAudit stores e and sets its ID; its At is kept as given.
func (db *DB) AddAudit(ctx context.Context, e *staff.AuditEntry) error {
	if e.Action == "" {
		return casework.Invalid("action", "is required")
	}
	ne := *e
	ne.At = dbTime(e.At)
	err := db.pool.QueryRow(ctx, `INSERT INTO staff_audit (at, user_id, actor, action, subject, detail, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		ne.At, nullID(ne.UserID), ne.Actor, ne.Action, ne.Subject, ne.Detail, ne.IP).Scan(&ne.ID)
	if err != nil {
		return dbErr("postgres: add audit entry "+ne.Action, err)
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
	for _, c := range []struct {
		cond string
		v    any
		set  bool
	}{{"user_id = ?", f.UserID, f.UserID != 0}, {"action = ?", f.Action, f.Action != ""},
		{"subject = ?", f.Subject, f.Subject != ""}, {"id < ?", f.Before, f.Before != 0}} {
		if c.set {
			w.add(c.cond, c.v)
		}
	}
	args := append(w.args, f.Limit)
	return readAll(ctx, db, "postgres: list audit entries", func(row scanner) (*staff.AuditEntry, error) {
		var e staff.AuditEntry
		if err := row.Scan(&e.ID, &e.At, &e.UserID, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.IP); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		return &e, nil
	}, `SELECT id, at, coalesce(user_id, 0), actor, action, subject, detail, ip FROM staff_audit`+w.sql()+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
}
