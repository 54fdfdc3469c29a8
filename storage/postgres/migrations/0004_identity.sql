-- 0004_identity: a chat account proves who it is. The account records the
-- phone it proved to hold, when and how (casework.ChatIdentity.Verified*);
-- a case records whether whoever reported it proved to be its owner; the
-- one-time codes sent by SMS, failed attempts counted for rate limits, and
-- an owner's timeline are kept.
--
-- Owners bound their chat accounts before by typing a phone number, which
-- proved nothing: those bindings are dropped, and the owners verify again.
-- That goes for engineers' accounts too: their binding to a member
-- (member_id, made with a code staff issued) is kept, not an owner's. The default unit is kept.
-- updated_at is left as it was: a migration reads no clock.

ALTER TABLE chat_identities
    ADD COLUMN verified_phone text CHECK (verified_phone <> ''),
    ADD COLUMN verified_at    timestamptz,
    -- How: telegram_contact, sms or staff:<id>; there when verified_at is.
    ADD COLUMN verified_by    text CHECK (verified_by <> ''),
    ADD CONSTRAINT chat_identities_verified_check CHECK ((verified_at IS NULL) = (verified_by IS NULL));
UPDATE chat_identities SET owner_id = NULL;

-- Cases registered before: staff typed them in (received_by staff:<id>),
-- and staff know whom they talk to; the bot's were never proven.
ALTER TABLE cases ADD COLUMN identity_verified boolean NOT NULL DEFAULT false;
UPDATE cases SET identity_verified = true WHERE received_by LIKE 'staff:%';
-- A chat account's own cases: the reporter filter, and the cases attached
-- to the owner it proves to be.
CREATE INDEX cases_reporter_idx ON cases (reporter_platform, reporter_user_id) WHERE reporter_platform <> '';

-- One-time codes sent by SMS to prove a chat account holds a phone. Only a
-- hash of the code is kept.
CREATE TABLE verification_codes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform   text NOT NULL CHECK (platform <> ''),
    user_id    text NOT NULL CHECK (user_id <> ''),
    phone      text NOT NULL CHECK (phone <> ''),
    code_hash  text NOT NULL CHECK (code_hash <> ''),
    salt       text NOT NULL DEFAULT '',
    attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
-- An account's newest code, and its codes since a moment.
CREATE INDEX verification_codes_account_idx ON verification_codes (platform, user_id, created_at, id);
-- The codes sent to a phone since a moment.
CREATE INDEX verification_codes_phone_idx ON verification_codes (phone, created_at);

-- Failed attempts (a wrong code, an unknown phone…), counted per kind and
-- subject over a recent window.
CREATE TABLE auth_failures (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind    text NOT NULL CHECK (kind <> ''),
    subject text NOT NULL CHECK (subject <> ''),
    at      timestamptz NOT NULL
);
CREATE INDEX auth_failures_subject_idx ON auth_failures (kind, subject, at);

-- An owner's timeline: who proved to be them, and how, or who verified them
-- by hand.
CREATE TABLE owner_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL,
    actor    text NOT NULL CHECK (actor <> ''),
    kind     text NOT NULL CHECK (kind <> ''),
    note     text NOT NULL DEFAULT ''
);
CREATE INDEX owner_events_owner_idx ON owner_events (owner_id, at, id);
