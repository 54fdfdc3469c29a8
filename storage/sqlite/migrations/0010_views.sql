-- 0010_views: the case lists people of the console saved under a name
-- (staff.View): the filter as the list page's query string, per account.

CREATE TABLE staff_views (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (name <> ''),
    query      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (user_id, name)
);
