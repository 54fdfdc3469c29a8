// Package staff is the department's people in the console: their accounts
// and roles, their sessions, what each may see and do, and the audit log of
// their actions. It holds the rules; the stores (storage/sqlite,
// storage/postgres) keep the rows, and the console and the command line call
// the Service.
package staff

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// Role is what an account may do.
type Role string

// The roles, from the most to the least powerful.
const (
	// RoleAdmin manages accounts and settings, and reads the audit log;
	// sees every case.
	RoleAdmin Role = "admin"
	// RoleSupervisor (主管) sees every case of their projects, the
	// reports and the escalations.
	RoleSupervisor Role = "supervisor"
	// RoleAgent (客服) takes in, triages, answers, dispatches and follows
	// up the cases of their projects.
	RoleAgent Role = "agent"
	// RoleParty is a responsible party's manager: their party's cases,
	// read and comment.
	RoleParty Role = "party"
)

// Roles lists the roles in order.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAgent, RoleParty}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Kind tells a person from a service account (an integration's API token).
type Kind string

const (
	KindPerson  Kind = "person"
	KindService Kind = "service"
)

// User is an account of the console or of the API.
type User struct {
	ID          int64
	Username    string // the login, unique: 2–32 of a–z 0–9 . _ -
	DisplayName string // shown on the case: 受理人
	Role        Role
	Kind        Kind
	// ProjectIDs scopes a supervisor or an agent to projects; empty: all.
	ProjectIDs []int64
	// PartyID is the party of a RoleParty account.
	PartyID int64
	// PasswordHash is the argon2id hash of a person's password (PHC
	// string); a service account's holds its token's hash.
	PasswordHash string
	// TOTPSecret is the base32 secret of the person's authenticator app
	// (RFC 6238), their second factor once confirmed; "" when they have
	// none. TOTPPending is a secret enrolled but not yet confirmed with a
	// code, which signs nobody in. A service account has neither.
	TOTPSecret, TOTPPending string
	// TOTPStep is the time step of the last code accepted (Unix time / 30
	// s): a code of that step or an earlier one is refused, so that each
	// code is good once. It never goes back.
	TOTPStep  int64
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Name is how the user is shown: the display name, else the login.
func (u *User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Actor is how the user's actions are recorded on cases: "staff:zhangwei"
// for a person, "service:api" for a service account.
func (u *User) Actor() string {
	if u.Kind == KindService {
		return string(casework.Service(u.Username))
	}
	return string(casework.Staff(u.Username))
}

// Session is a signed-in browser: the hash of the random token its cookie
// holds, and its expiries.
type Session struct {
	ID         int64
	TokenHash  string // hex SHA-256 of the cookie's token; the token is never stored
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute: the session ends then, however active
	IP         string
	UserAgent  string
}

// AuditEntry is one action of a person, or one view of an owner's contact
// details: who, when, what, on what, from where.
type AuditEntry struct {
	ID      int64
	At      time.Time
	UserID  int64  // 0 for an attempt without an account (a failed login)
	Actor   string // "staff:zhangwei", or the login tried
	Action  string // login, login_failed, logout, user_add, user_disable, case_view, phone_view…
	Subject string // what it was about: a case number, "owner:12", "user:lihua"
	Detail  string
	IP      string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	UserID  int64
	Action  string
	Subject string
	Before  int64 // entries with an ID below this; 0: from the newest
	Limit   int   // default 100, at most 500
}

// Store keeps accounts, sessions and the audit log.
type Store interface {
	// CreateUser stores u and sets its ID and timestamps; a taken username
	// is a *casework.ConflictError.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser saves u's fields (not its username) and sets UpdatedAt;
	// TOTPStep only moves forward (the later of the stored and u's).
	UpdateUser(ctx context.Context, u *User) error
	// FindUser and FindUserByName return casework.ErrNotFound when there
	// is no such account.
	FindUser(ctx context.Context, id int64) (*User, error)
	FindUserByName(ctx context.Context, username string) (*User, error)
	// FindServiceAccount returns the service account whose PasswordHash
	// (its token's hash) is hash, or casework.ErrNotFound.
	FindServiceAccount(ctx context.Context, hash string) (*User, error)
	// ListUsers returns every account by username.
	ListUsers(ctx context.Context) ([]*User, error)
	// UseTOTPStep records that a code of time step was accepted for the
	// account, unless one of that step or a later one was: it reports
	// whether it did, so that of two who send the same code only one
	// signs in. casework.ErrNotFound when there is no such account.
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)

	// CreateSession stores s and sets its ID.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the session of a token hash, or
	// casework.ErrNotFound.
	FindSession(ctx context.Context, tokenHash string) (*Session, error)
	// TouchSession sets a session's LastSeenAt.
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// DeleteSession ends one session; DeleteUserSessions every session of
	// a user. Deleting what is not there is no error.
	DeleteSession(ctx context.Context, id int64) error
	DeleteUserSessions(ctx context.Context, userID int64) error

	// AddAudit stores e and sets its ID.
	AddAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// Validate checks u's fields before it is stored.
func (u *User) Validate() error {
	if !usernameOK(u.Username) {
		return casework.Invalid("username", "use 2–32 of a–z, 0–9, dot, underscore and dash, starting with a letter or digit")
	}
	if !u.Role.Valid() {
		return casework.Invalid("role", "%q: use admin, supervisor, agent or party", u.Role)
	}
	if u.Kind != KindPerson && u.Kind != KindService {
		return casework.Invalid("kind", "%q: person or service", u.Kind)
	}
	if u.Role == RoleParty && u.PartyID == 0 {
		return casework.Invalid("party", "a party account needs its party")
	}
	if u.Role != RoleParty && u.PartyID != 0 {
		return casework.Invalid("party", "only a party account has a party")
	}
	if u.Role == RoleAdmin && len(u.ProjectIDs) > 0 {
		return casework.Invalid("project", "an admin sees every project")
	}
	if len([]rune(u.DisplayName)) > 64 {
		return casework.Invalid("display_name", "at most 64 characters")
	}
	return u.validateTOTP()
}

func usernameOK(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// String is the account as the command line lists it.
func (u *User) String() string {
	scope := "all projects"
	if len(u.ProjectIDs) > 0 {
		scope = fmt.Sprintf("projects %v", u.ProjectIDs)
	}
	if u.Role == RoleParty {
		scope = fmt.Sprintf("party %d", u.PartyID)
	}
	state := "active"
	if u.Disabled {
		state = "disabled"
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", u.Username, u.Name(), u.Role, scope, state, u.totpState())
}

// Normalize checks f and fills its limit: 100 when zero, at most 500.
func (f *AuditFilter) Normalize() error {
	if f.Limit < 0 {
		return casework.Invalid("limit", "must not be negative")
	}
	f.Limit = min(cmp.Or(f.Limit, 100), 500)
	return nil
}

// View is a case list a person saved under a name: its filter, as the list
// page's query string.
type View struct {
	ID        int64
	UserID    int64
	Name      string // 1–40 characters, unique per user
	Query     string // "urgency=urgent&overdue=true"
	CreatedAt time.Time
}

// ViewStore keeps the saved views of the case list.
type ViewStore interface {
	// SaveView stores v under its user and name, replacing the query of a
	// view of that name, and sets its ID and CreatedAt.
	SaveView(ctx context.Context, v *View) error
	// ListViews returns a user's views by name.
	ListViews(ctx context.Context, userID int64) ([]*View, error)
	// DeleteView deletes the user's view id; another user's is
	// casework.ErrNotFound.
	DeleteView(ctx context.Context, userID, id int64) error
}

// Validate checks a view before it is saved.
func (v *View) Validate() error {
	if n := len([]rune(v.Name)); n == 0 || n > 40 {
		return casework.Invalid("name", "1 to 40 characters")
	}
	if err := casework.ValidText("name", v.Name, 40); err != nil {
		return err
	}
	if len(v.Query) > 1000 {
		return casework.Invalid("query", "at most 1000 bytes")
	}
	return nil
}
