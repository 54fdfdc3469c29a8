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

CREATE TABLE staff_users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text COLLATE "C" NOT NULL CHECK (username <> ''),
    display_name  text NOT NULL DEFAULT '',
    role          text NOT NULL CONSTRAINT staff_users_role_check CHECK (role IN ('admin', 'supervisor', 'agent', 'party')),
    kind          text NOT NULL CONSTRAINT staff_users_kind_check CHECK (kind IN ('person', 'service')),
    party_id      bigint REFERENCES parties (id), -- a party account's, and only theirs
    password_hash text NOT NULL DEFAULT '',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT staff_users_username_key UNIQUE (username),
    CONSTRAINT staff_users_party_check CHECK ((role = 'party') = (party_id IS NOT NULL))
);

-- The projects a supervisor or an agent sees; none: every project.
CREATE TABLE staff_user_projects (
    user_id    bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    project_id bigint NOT NULL REFERENCES projects (id),
    PRIMARY KEY (user_id, project_id)
);

CREATE TABLE staff_sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   text COLLATE "C" NOT NULL CHECK (token_hash <> ''),
    user_id      bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    CONSTRAINT staff_sessions_token_hash_key UNIQUE (token_hash)
);
-- A user's sessions, ended together.
CREATE INDEX staff_sessions_user_idx ON staff_sessions (user_id);

-- Newest first is by id, the order the entries were added in.
CREATE TABLE staff_audit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    user_id bigint, -- NULL for an attempt without an account
    actor   text NOT NULL DEFAULT '',
    action  text NOT NULL CHECK (action <> ''),
    subject text NOT NULL DEFAULT '',
    detail  text NOT NULL DEFAULT '',
    ip      text NOT NULL DEFAULT ''
);
-- Who did what, and what happened to a case or an account, newest first.
CREATE INDEX staff_audit_user_idx ON staff_audit (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX staff_audit_subject_idx ON staff_audit (subject, id);
