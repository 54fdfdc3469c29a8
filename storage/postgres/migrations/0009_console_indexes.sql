-- 0009_console_indexes: the staff console's case list and dashboard stay
-- fast with 100,000 cases and more (console.BenchmarkConsole): the lists by
-- urgency and by category, the overdue list and the text search, and their
-- counts, read an index instead of every case.

-- The list by urgency or by category, newest first; its count reads the
-- index alone.
CREATE INDEX cases_urgency_idx  ON cases (urgency, received_at DESC, id DESC);
CREATE INDEX cases_category_idx ON cases (category, received_at DESC, id DESC);

-- The overdue list walks the open, unresolved cases newest first. With the
-- deadlines and moments the overdue condition compares, and the project a
-- scoped user's list is narrowed to, its count reads the index alone, as
-- storage/sqlite's cases_open_idx does. It replaces cases_open_received_idx.
DROP INDEX cases_open_received_idx;
CREATE INDEX cases_open_idx ON cases (received_at DESC, id DESC)
    INCLUDE (respond_by, responded_at, on_site_by, on_site_at, resolve_by, project_id)
    WHERE resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');

-- The text search (casework.CaseFilter.Text: a case's number, owner name,
-- description, location detail or expectation contains the text) read
-- every case with ILIKE. Chinese has no spaces to split words at, and a
-- search is often of two characters (渗水), too short for trigrams: the
-- index holds instead the characters and the pairs of adjacent characters
-- of those columns, joined by newlines and lowered as ILIKE lowers them
-- (the number, COLLATE "C", with the database's default collation, which
-- lowers more). A case that contains the text holds each pair of
-- characters of the text, lowered: storage/postgres's FindCases asks the
-- index for the cases that hold them all (caseTextGrams), and ILIKE keeps
-- those that contain the text.
CREATE FUNCTION case_text_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT string_to_array(t, NULL) || ARRAY(SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i) $$;
CREATE INDEX cases_text_grams_idx ON cases USING gin (case_text_grams(lower(
    number COLLATE "default" || E'\n' || owner_name || E'\n' || description || E'\n' || location_detail || E'\n' || expectation)));
