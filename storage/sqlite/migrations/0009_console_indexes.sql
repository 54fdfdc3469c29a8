-- 0009_console_indexes: the staff console's lists by urgency and by
-- category, newest first, and their counts read an index instead of every
-- case, as storage/postgres's 0009 does.
--
-- The rest of that migration has no counterpart here: the overdue list's
-- covering index is cases_open_idx of 0001 already, and the text search's
-- index of character pairs is a GIN index, which SQLite does not have (an
-- FTS5 trigram table would not find the two-character searches Chinese is
-- full of).

CREATE INDEX cases_urgency_idx ON cases (urgency, received_at DESC, id DESC);
CREATE INDEX cases_category_idx ON cases (category, received_at DESC, id DESC);
