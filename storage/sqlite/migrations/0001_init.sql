-- 0001_init: the whole initial schema. Forward-only: later changes go into
-- 0002_…, 0003_…, with the same numbers as storage/postgres's migrations.
--
-- Tables are STRICT, so a column holds only its declared type. Enumerations
-- are text with CHECK constraints listing the values of the casework package
-- (TestSchemaChecksMatchDomain keeps them in step). Times are text in UTC with
-- six fractional digits, 2026-11-27T01:30:00.123456Z, which sort and compare
-- as the times they are; dates are text, 2026-11-27.

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    city            TEXT NOT NULL DEFAULT '',
    completion_date TEXT CHECK (completion_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    warranty        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(warranty)),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE buildings (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects (id),
    code            TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    completion_date TEXT CHECK (completion_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (project_id, code),
    -- Target of the composite foreign keys that keep a unit's or a route's
    -- building in the unit's or route's project.
    UNIQUE (id, project_id)
) STRICT;

CREATE TABLE units (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects (id),
    building_id   INTEGER NOT NULL,
    entrance      TEXT NOT NULL DEFAULT '',
    floor         INTEGER NOT NULL DEFAULT 0,
    room          TEXT NOT NULL,
    delivery_date TEXT CHECK (delivery_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    FOREIGN KEY (building_id, project_id) REFERENCES buildings (id, project_id),
    UNIQUE (building_id, entrance, room)
) STRICT;
CREATE INDEX units_project_idx ON units (project_id);

CREATE TABLE owners (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX owners_phone_idx ON owners (phone);

CREATE TABLE owner_units (
    owner_id   INTEGER NOT NULL REFERENCES owners (id),
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner_id, unit_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX owner_units_unit_idx ON owner_units (unit_id);

CREATE TABLE parties (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN (
                   'contractor', 'design_firm', 'supplier', 'maintenance',
                   'property_management', 'in_house')),
    trade      TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE members (
    id         INTEGER PRIMARY KEY,
    party_id   INTEGER NOT NULL REFERENCES parties (id),
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    role       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX members_party_phone_idx ON members (party_id, phone);

CREATE TABLE routes (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    building_id INTEGER, -- NULL: every building
    category    TEXT NOT NULL DEFAULT '' CHECK (category IN ('',
                    'engineering_quality', 'design_defect', 'facilities_equipment',
                    'service_attitude', 'policy_consultation', 'other')),
    subcategory TEXT NOT NULL DEFAULT '' CHECK (subcategory = '' OR category <> ''),
    party_id    INTEGER NOT NULL REFERENCES parties (id),
    created_at  TEXT NOT NULL,
    FOREIGN KEY (building_id, project_id) REFERENCES buildings (id, project_id)
) STRICT;
-- One route per key; a NULL building is "every building", so it is part of
-- the key as 0 (NULLs would never collide in a plain UNIQUE).
CREATE UNIQUE INDEX routes_key_idx ON routes (project_id, ifnull(building_id, 0), category, subcategory);

-- The case-number counter: one row per numbering day key (SH-20261127).
CREATE TABLE case_counters (
    day TEXT PRIMARY KEY,
    seq INTEGER NOT NULL CHECK (seq > 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    version         INTEGER NOT NULL CHECK (version > 0),
    project_id      INTEGER NOT NULL REFERENCES projects (id),
    building_id     INTEGER REFERENCES buildings (id),
    unit_id         INTEGER REFERENCES units (id),
    owner_id        INTEGER REFERENCES owners (id),
    owner_name      TEXT NOT NULL DEFAULT '',
    owner_phone     TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '' CHECK (location IN ('',
                        'living_room', 'bedroom', 'kitchen', 'bathroom', 'balcony',
                        'public_area', 'exterior', 'other')),
    location_detail TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL,
    occurred_at     TEXT,
    occurred_text   TEXT NOT NULL DEFAULT '',
    expectation     TEXT NOT NULL DEFAULT '',
    contact_time    TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL CHECK (channel IN (
                        'wechat', 'telegram', 'hotline', 'walk_in', 'letter',
                        'return_visit', 'web')),
    received_at     TEXT NOT NULL,
    received_by     TEXT NOT NULL CHECK (received_by <> ''),
    category        TEXT NOT NULL CHECK (category IN (
                        'engineering_quality', 'design_defect', 'facilities_equipment',
                        'service_attitude', 'policy_consultation', 'other')),
    subcategory     TEXT NOT NULL CHECK (subcategory IN (
                        'leak', 'crack', 'door_window', 'plumbing', 'electrical', 'structural',
                        'decoration', 'layout', 'missing_function', 'lift', 'fire', 'intercom',
                        'heating', 'cooling', 'in_unit_equipment', 'property_management', 'staff',
                        'contractor', 'certificate', 'fees', 'suggestion', 'praise', 'other')),
    urgency         TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'major_complaint')),
    responsibility  TEXT NOT NULL CHECK (responsibility IN (
                        'undetermined', 'contractor', 'design_firm', 'supplier',
                        'property_management', 'owner_or_third_party')),
    decision_reason TEXT NOT NULL DEFAULT '',
    party_id        INTEGER REFERENCES parties (id),
    assignee_id     INTEGER REFERENCES members (id),
    state           TEXT NOT NULL CHECK (state IN (
                        'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                        'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                        'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    held_from       TEXT NOT NULL DEFAULT '' CHECK (held_from IN ('',
                        'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                        'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                        'owner_accepted', 'reopened', 'surveyed', 'closed', 'cancelled')),
    repair_count    INTEGER NOT NULL DEFAULT 0 CHECK (repair_count >= 0),
    respond_by      TEXT,
    on_site_by      TEXT,
    resolve_by      TEXT,
    responded_at    TEXT,
    on_site_at      TEXT,
    resolved_at     TEXT,
    closed_at       TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (state <> 'on_hold' OR held_from <> '')
) STRICT;
-- The list order, newest first; also serves the unfiltered count.
CREATE INDEX cases_received_idx ON cases (received_at DESC, id DESC);
CREATE INDEX cases_state_idx ON cases (state, received_at DESC);
CREATE INDEX cases_project_idx ON cases (project_id, received_at DESC);
CREATE INDEX cases_unit_idx ON cases (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX cases_owner_idx ON cases (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX cases_party_idx ON cases (party_id) WHERE party_id IS NOT NULL;
-- The open, unresolved cases the overdue list looks at, in list order, with
-- the deadlines and moments it compares, so that counting them reads the
-- index alone.
CREATE INDEX cases_open_idx ON cases (received_at DESC, id DESC, respond_by, responded_at, on_site_by, on_site_at, resolve_by)
    WHERE resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');

CREATE TABLE case_media (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    kind         TEXT NOT NULL CHECK (kind IN ('photo', 'video', 'voice', 'document')),
    blob_key     TEXT NOT NULL CHECK (blob_key <> ''),
    content_type TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX case_media_case_idx ON case_media (case_id, id);

CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL CHECK (actor <> ''),
    kind       TEXT NOT NULL CHECK (kind IN ('created', 'transition', 'updated', 'note', 'urge', 'media')),
    action     TEXT NOT NULL DEFAULT '' CHECK (action IN ('',
                   'accept', 'reject', 'dispatch', 'schedule', 'inspect', 'propose_plan',
                   'agree_plan', 'disagree_plan', 'start_work', 'complete', 'owner_accept',
                   'owner_reject', 'survey', 'close', 'reopen', 'hold', 'resume', 'cancel')),
    from_state TEXT NOT NULL DEFAULT '' CHECK (from_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    to_state   TEXT NOT NULL DEFAULT '' CHECK (to_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    note       TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, seq)
) STRICT;
