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

ALTER TABLE chat_identities ADD COLUMN verified_phone TEXT CHECK (verified_phone <> '');
ALTER TABLE chat_identities ADD COLUMN verified_at TEXT;
-- How: telegram_contact, sms or staff:<id>; there when verified_at is.
ALTER TABLE chat_identities ADD COLUMN verified_by TEXT CHECK (verified_by <> '')
    CHECK ((verified_at IS NULL) = (verified_by IS NULL));
UPDATE chat_identities SET owner_id = NULL;

-- Cases registered before: staff typed them in (received_by staff:<id>),
-- and staff know whom they talk to; the bot's were never proven.
ALTER TABLE cases ADD COLUMN identity_verified INTEGER NOT NULL DEFAULT 0 CHECK (identity_verified IN (0, 1));
UPDATE cases SET identity_verified = 1 WHERE received_by GLOB 'staff:*';
-- A chat account's own cases: the reporter filter, and the cases attached
-- to the owner it proves to be.
CREATE INDEX cases_reporter_idx ON cases (reporter_platform, reporter_user_id) WHERE reporter_platform <> '';

-- One-time codes sent by SMS to prove a chat account holds a phone. Only a
-- hash of the code is kept.
CREATE TABLE verification_codes (
    id         INTEGER PRIMARY KEY,
    platform   TEXT NOT NULL CHECK (platform <> ''),
    user_id    TEXT NOT NULL CHECK (user_id <> ''),
    phone      TEXT NOT NULL CHECK (phone <> ''),
    code_hash  TEXT NOT NULL CHECK (code_hash <> ''),
    salt       TEXT NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;
-- An account's newest code, and its codes since a moment.
CREATE INDEX verification_codes_account_idx ON verification_codes (platform, user_id, created_at, id);
-- The codes sent to a phone since a moment.
CREATE INDEX verification_codes_phone_idx ON verification_codes (phone, created_at);

-- Failed attempts (a wrong code, an unknown phone…), counted per kind and
-- subject over a recent window.
CREATE TABLE auth_failures (
    id      INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind <> ''),
    subject TEXT NOT NULL CHECK (subject <> ''),
    at      TEXT NOT NULL
) STRICT;
CREATE INDEX auth_failures_subject_idx ON auth_failures (kind, subject, at);

-- An owner's timeline: who proved to be them, and how, or who verified them
-- by hand.
CREATE TABLE owner_events (
    id       INTEGER PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES owners (id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL CHECK (actor <> ''),
    kind     TEXT NOT NULL CHECK (kind <> ''),
    note     TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX owner_events_owner_idx ON owner_events (owner_id, at, id);
