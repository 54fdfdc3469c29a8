-- 0017_handoffs: chats handed to a person of the department (转人工,
-- casework.Handoff) and their messages in order: the owner's words, the
-- person's replies (each carried to the owner by an outbox message) and what
-- the bot told the owner meanwhile. A chat account has at most one hand-off
-- that is not ended.

CREATE TABLE handoffs (
    id            INTEGER PRIMARY KEY,
    platform      TEXT NOT NULL CHECK (platform <> ''),
    user_id       TEXT NOT NULL CHECK (user_id <> ''),
    display_name  TEXT NOT NULL DEFAULT '',
    lang          TEXT NOT NULL DEFAULT '',
    owner_id      INTEGER REFERENCES owners (id),
    case_id       INTEGER REFERENCES cases (id),
    state         TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'taken', 'ended')),
    taken_by      TEXT NOT NULL DEFAULT '',
    taken_at      TEXT,
    ended_by      TEXT NOT NULL DEFAULT '',
    ended_at      TEXT,
    last_owner_at TEXT,
    last_agent_at TEXT,
    last_bot_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (state <> 'taken' OR (taken_by <> '' AND taken_at IS NOT NULL)),
    CHECK ((state = 'ended') = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX handoffs_open_key ON handoffs (platform, user_id) WHERE state <> 'ended';
-- The inbox: the open ones by state and age, the ended by when they ended.
CREATE INDEX handoffs_state_idx ON handoffs (state, created_at, id);
CREATE INDEX handoffs_ended_idx ON handoffs (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE handoff_messages (
    id         INTEGER PRIMARY KEY,
    handoff_id INTEGER NOT NULL REFERENCES handoffs (id),
    at         TEXT NOT NULL,
    sender     TEXT NOT NULL CHECK (sender IN ('owner', 'agent', 'bot')),
    actor      TEXT NOT NULL CHECK (actor <> ''),
    text       TEXT NOT NULL,
    blob_key   TEXT NOT NULL DEFAULT '',
    outbox_id  INTEGER REFERENCES outbox (id),
    CHECK (text <> '' OR blob_key <> '')
);
CREATE INDEX handoff_messages_handoff_idx ON handoff_messages (handoff_id, id);
