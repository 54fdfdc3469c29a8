-- 0008_staff: the department's people in the console (package staff): their
-- accounts and roles, the projects a supervisor or an agent is scoped to,
-- their signed-in browsers, and the audit log of their actions.
--
-- Neither a password nor a session's token is kept: an account holds the
-- argon2id hash of its password (a service account, of its token), a
-- session the SHA-256 of its cookie's token. An account is disabled, never
-- deleted; were one deleted, its sessions and its projects would go with
-- it, and its audit entries would stay: the log names the actor, and its
-- user_id references nothing, so that it outlives every account.

-- AUTOINCREMENT: an ID is never given again, not even the newest's after
-- its row is deleted, so that the audit log's user_id stays the account's.
CREATE TABLE staff_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE CHECK (username <> ''),
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'party')),
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'service')),
    party_id      INTEGER REFERENCES parties (id), -- a party account's, and only theirs
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK ((role = 'party') = (party_id IS NOT NULL))
) STRICT;

-- The projects a supervisor or an agent sees; none: every project.
CREATE TABLE staff_user_projects (
    user_id    INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    PRIMARY KEY (user_id, project_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE staff_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE CHECK (token_hash <> ''),
    user_id      INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;
-- A user's sessions, ended together.
CREATE INDEX staff_sessions_user_idx ON staff_sessions (user_id);

-- Newest first is by id, the order the entries were added in.
CREATE TABLE staff_audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    user_id INTEGER, -- NULL for an attempt without an account
    actor   TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL CHECK (action <> ''),
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    ip      TEXT NOT NULL DEFAULT ''
) STRICT;
-- Who did what, and what happened to a case or an account, newest first.
CREATE INDEX staff_audit_user_idx ON staff_audit (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX staff_audit_subject_idx ON staff_audit (subject, id);
