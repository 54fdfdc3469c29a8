-- 0006_mailbox: the chat page's mailboxes (bot.Mailbox, see Mailbox), kept
-- here when the service has no Redis, so that every instance sees them. A box
-- holds a visitor's last messages, numbered from 1 by last_seq; a box
-- untouched for the keep time is forgotten (its entries go with it, ON DELETE
-- CASCADE), and numbering starts again. Bodies are opaque bytes. Puts to one
-- box queue on its mailboxes row, which each of them updates.

CREATE TABLE mailboxes (
    box        text COLLATE "C" PRIMARY KEY CHECK (box <> ''),
    last_seq   bigint NOT NULL CHECK (last_seq > 0),
    touched_at timestamptz NOT NULL
);
-- The sweep of the boxes untouched for the keep time.
CREATE INDEX mailboxes_touched_at_idx ON mailboxes (touched_at);

CREATE TABLE mailbox_entries (
    box    text COLLATE "C" NOT NULL REFERENCES mailboxes ON DELETE CASCADE,
    seq    bigint NOT NULL CHECK (seq > 0),
    -- A key the page gave its message, so that a message re-sent is kept
    -- once; NULL for none.
    dedupe text COLLATE "C" CHECK (dedupe <> ''),
    body   bytea NOT NULL,
    PRIMARY KEY (box, seq)
);
-- Two Puts of one message that race: the second fails on this index and
-- reports the first's number (see isDedupeRace).
CREATE UNIQUE INDEX mailbox_entries_dedupe_idx ON mailbox_entries (box, dedupe) WHERE dedupe IS NOT NULL;
