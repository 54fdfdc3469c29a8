-- 0014_totp: a person's optional second factor, the code of an authenticator
-- app (TOTP, RFC 6238; staff.User.TOTPSecret): the base32 secret confirmed,
-- a secret enrolled but not yet confirmed, and the time step of the last
-- code accepted, so that each code signs in once. A service account has no
-- secret.
--
-- The secret is kept as it is, not hashed: checking a code needs it. Like
-- the password hashes, it is for the service's eyes only.

ALTER TABLE staff_users
    ADD COLUMN totp_secret  text NOT NULL DEFAULT '',
    ADD COLUMN totp_pending text NOT NULL DEFAULT '',
    ADD COLUMN totp_step    bigint NOT NULL DEFAULT 0 CONSTRAINT staff_users_totp_step_check CHECK (totp_step >= 0),
    ADD CONSTRAINT staff_users_totp_check CHECK (kind = 'person' OR (totp_secret = '' AND totp_pending = ''));
