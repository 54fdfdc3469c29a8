-- 0010_views: the case lists people of the console saved under a name
-- (staff.View): the filter as the list page's query string, per account.

CREATE TABLE staff_views (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name <> ''),
    query      text NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (user_id, name)
);
