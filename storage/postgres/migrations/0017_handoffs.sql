-- 0017_handoffs: chats handed to a person of the department (转人工,
-- casework.Handoff) and their messages in order: the owner's words, the
-- person's replies (each carried to the owner by an outbox message) and what
-- the bot told the owner meanwhile. A chat account has at most one hand-off
-- that is not ended.

CREATE TABLE handoffs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform      text NOT NULL CHECK (platform <> ''),
    user_id       text NOT NULL CHECK (user_id <> ''),
    display_name  text NOT NULL DEFAULT '',
    lang          text NOT NULL DEFAULT '',
    owner_id      bigint REFERENCES owners (id),
    case_id       bigint REFERENCES cases (id),
    state         text NOT NULL DEFAULT 'waiting' CONSTRAINT handoffs_state_check CHECK (state IN ('waiting', 'taken', 'ended')),
    taken_by      text NOT NULL DEFAULT '',
    taken_at      timestamptz,
    ended_by      text NOT NULL DEFAULT '',
    ended_at      timestamptz,
    last_owner_at timestamptz,
    last_agent_at timestamptz,
    last_bot_at   timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT handoffs_taken_check CHECK (state <> 'taken' OR (taken_by <> '' AND taken_at IS NOT NULL)),
    CONSTRAINT handoffs_ended_check CHECK ((state = 'ended') = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX handoffs_open_key ON handoffs (platform, user_id) WHERE state <> 'ended';
-- The inbox: the open ones by state and age, the ended by when they ended.
CREATE INDEX handoffs_state_idx ON handoffs (state, created_at, id);
CREATE INDEX handoffs_ended_idx ON handoffs (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE handoff_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handoff_id bigint NOT NULL REFERENCES handoffs (id),
    at         timestamptz NOT NULL,
    sender     text NOT NULL CONSTRAINT handoff_messages_sender_check CHECK (sender IN ('owner', 'agent', 'bot')),
    actor      text NOT NULL CHECK (actor <> ''),
    text       text NOT NULL,
    blob_key   text NOT NULL DEFAULT '',
    outbox_id  bigint REFERENCES outbox (id),
    CONSTRAINT handoff_messages_text_check CHECK (text <> '' OR blob_key <> '')
);
CREATE INDEX handoff_messages_handoff_idx ON handoff_messages (handoff_id, id);
