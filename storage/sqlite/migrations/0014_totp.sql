-- 0014_totp: a person's optional second factor, the code of an authenticator
-- app (TOTP, RFC 6238; staff.User.TOTPSecret): the base32 secret confirmed,
-- a secret enrolled but not yet confirmed, and the time step of the last
-- code accepted, so that each code signs in once. A service account has no
-- secret.
--
-- The secret is kept as it is, not hashed: checking a code needs it. Like
-- the password hashes, it is for the service's eyes only.

ALTER TABLE staff_users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '' CHECK (totp_secret = '' OR kind = 'person');
ALTER TABLE staff_users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '' CHECK (totp_pending = '' OR kind = 'person');
ALTER TABLE staff_users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0 CHECK (totp_step >= 0);
