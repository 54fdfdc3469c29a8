-- 0006_mailbox: the chat page's mailboxes (bot.Mailbox, see Mailbox), kept
-- here when the service has no Redis. A box holds a visitor's last messages,
-- numbered from 1 by last_seq; a box untouched for the keep time is
-- forgotten (its entries go with it, ON DELETE CASCADE), and numbering starts
-- again. Bodies are opaque bytes.

CREATE TABLE mailboxes (
    box        TEXT PRIMARY KEY CHECK (box <> ''),
    last_seq   INTEGER NOT NULL CHECK (last_seq > 0),
    touched_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;
-- The sweep of the boxes untouched for the keep time.
CREATE INDEX mailboxes_touched_at_idx ON mailboxes (touched_at);

CREATE TABLE mailbox_entries (
    box    TEXT NOT NULL REFERENCES mailboxes (box) ON DELETE CASCADE,
    seq    INTEGER NOT NULL CHECK (seq > 0),
    -- A key the page gave its message, so that a message re-sent is kept
    -- once; NULL for none.
    dedupe TEXT CHECK (dedupe <> ''),
    body   BLOB NOT NULL,
    PRIMARY KEY (box, seq)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX mailbox_entries_dedupe_idx ON mailbox_entries (box, dedupe) WHERE dedupe IS NOT NULL;
