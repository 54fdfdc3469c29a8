-- 0007_sessions: the dialogue sessions (conversation.SessionStore, see
-- SessionStore) and the dedupe marks of inbound messages (bot.Deduper, see
-- Deduper), kept here when the service has no Redis, so that a restart or a
-- kill -9 loses neither an owner's report half-way through nor the marks of
-- the messages handled just before: a platform's retry of one of them is
-- dropped, not handled again.
--
-- A row lives until its expires_at, on the service's clock: reads ignore a
-- row whose time has come, and writes delete such rows now and then, a
-- bounded number at a time. A session is its JSON encoding; it holds what
-- the owner typed (names, phones), and goes when it expires or ends.

CREATE TABLE chat_sessions (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- the user's (bot.UserRef.Key)
    data       TEXT NOT NULL CHECK (json_valid(data)),
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The sweep of the expired sessions.
CREATE INDEX chat_sessions_expires_at_idx ON chat_sessions (expires_at);

CREATE TABLE inbound_dedupe (
    key        TEXT PRIMARY KEY CHECK (key <> ''), -- the user's and the platform's message id
    expires_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The sweep of the expired marks.
CREATE INDEX inbound_dedupe_expires_at_idx ON inbound_dedupe (expires_at);
