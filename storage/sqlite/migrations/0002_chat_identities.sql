-- 0002_chat_identities: the chat accounts the bots talk to
-- (casework.ChatIdentity), keyed by platform and the platform's user ID.

CREATE TABLE chat_identities (
    platform        TEXT NOT NULL CHECK (platform <> ''),
    user_id         TEXT NOT NULL CHECK (user_id <> ''),
    owner_id        INTEGER REFERENCES owners (id),
    unit_id         INTEGER REFERENCES units (id),
    member_id       INTEGER REFERENCES members (id),
    lang            TEXT NOT NULL DEFAULT '',
    display_name    TEXT NOT NULL DEFAULT '',
    unreachable     INTEGER NOT NULL DEFAULT 0 CHECK (unreachable IN (0, 1)),
    last_inbound_at TEXT,
    handoff_at      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (platform, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX chat_identities_owner_idx ON chat_identities (owner_id) WHERE owner_id IS NOT NULL;
