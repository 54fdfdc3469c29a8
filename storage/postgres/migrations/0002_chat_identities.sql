-- 0002_chat_identities: the chat accounts the bots talk to
-- (casework.ChatIdentity), keyed by platform and the platform's user ID.
-- The foreign keys are named: a violation of one is a
-- *casework.ValidationError naming the field.

CREATE TABLE chat_identities (
    platform        text NOT NULL CHECK (platform <> ''),
    user_id         text NOT NULL CHECK (user_id <> ''),
    owner_id        bigint CONSTRAINT chat_identities_owner_id_fkey REFERENCES owners (id),
    unit_id         bigint CONSTRAINT chat_identities_unit_id_fkey REFERENCES units (id),
    member_id       bigint CONSTRAINT chat_identities_member_id_fkey REFERENCES members (id),
    lang            text NOT NULL DEFAULT '',
    display_name    text NOT NULL DEFAULT '',
    unreachable     boolean NOT NULL DEFAULT false,
    last_inbound_at timestamptz,
    handoff_at      timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (platform, user_id)
);
CREATE INDEX chat_identities_owner_idx ON chat_identities (owner_id) WHERE owner_id IS NOT NULL;
