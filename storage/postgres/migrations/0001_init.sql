-- 0001_init: the whole initial schema. Forward-only: later changes go into
-- 0002_…, 0003_…, with the same numbers as storage/sqlite's migrations.
--
-- Enumerations are text with CHECK constraints listing the values of the
-- casework package (TestSchemaChecksMatchDomain keeps them in step). Codes
-- that are sorted on use COLLATE "C" so that their order is the byte order
-- whatever the database's default collation, as in SQLite.

CREATE TABLE projects (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text COLLATE "C" NOT NULL,
    name            text NOT NULL,
    city            text NOT NULL DEFAULT '',
    completion_date date,
    warranty        jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT projects_code_key UNIQUE (code)
);

CREATE TABLE buildings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      bigint NOT NULL REFERENCES projects (id),
    code            text COLLATE "C" NOT NULL,
    name            text NOT NULL DEFAULT '',
    completion_date date,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT buildings_project_code_key UNIQUE (project_id, code),
    -- Target of the composite foreign keys that keep a unit's or a route's
    -- building in the unit's or route's project.
    CONSTRAINT buildings_id_project_key UNIQUE (id, project_id)
);

CREATE TABLE units (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    bigint NOT NULL REFERENCES projects (id),
    building_id   bigint NOT NULL,
    building      text COLLATE "C" NOT NULL,
    entrance      text COLLATE "C" NOT NULL DEFAULT '',
    floor         integer NOT NULL DEFAULT 0,
    room          text COLLATE "C" NOT NULL,
    delivery_date date,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT units_building_fkey FOREIGN KEY (building_id, project_id) REFERENCES buildings (id, project_id),
    CONSTRAINT units_project_building_entrance_room_key UNIQUE (project_id, building, entrance, room)
);
CREATE INDEX units_building_idx ON units (building_id, entrance, room);

CREATE TABLE owners (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    phone      text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX owners_phone_idx ON owners (phone);

CREATE TABLE owner_units (
    owner_id   bigint NOT NULL REFERENCES owners (id),
    unit_id    bigint NOT NULL REFERENCES units (id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner_id, unit_id)
);
CREATE INDEX owner_units_unit_idx ON owner_units (unit_id);

CREATE TABLE parties (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL CONSTRAINT parties_kind_check CHECK (kind IN (
                   'contractor', 'design_firm', 'supplier', 'maintenance',
                   'property_management', 'in_house')),
    trade      text NOT NULL DEFAULT '',
    phone      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT parties_code_key UNIQUE (code)
);

CREATE TABLE members (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    party_id   bigint NOT NULL REFERENCES parties (id),
    name       text NOT NULL,
    phone      text NOT NULL,
    role       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX members_party_phone_idx ON members (party_id, phone);

CREATE TABLE routes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects (id),
    building_id bigint,  -- NULL: every building of the project
    category    text NOT NULL DEFAULT '' CONSTRAINT routes_category_check CHECK (category IN ('',
                    'engineering_quality', 'design_defect', 'facilities_equipment',
                    'service_attitude', 'policy_consultation', 'other')),
    subcategory text NOT NULL DEFAULT '' CONSTRAINT routes_subcategory_check CHECK (subcategory IN ('',
                    'leak', 'crack', 'door_window', 'plumbing', 'electrical', 'structural', 'decoration',
                    'layout', 'missing_function',
                    'lift', 'fire', 'intercom', 'heating', 'cooling', 'in_unit_equipment',
                    'property_management', 'staff', 'contractor',
                    'certificate', 'fees', 'suggestion', 'praise', 'other')),
    party_id    bigint NOT NULL REFERENCES parties (id),
    created_at  timestamptz NOT NULL,
    CONSTRAINT routes_building_fkey FOREIGN KEY (building_id, project_id) REFERENCES buildings (id, project_id)
);
CREATE UNIQUE INDEX routes_key ON routes (project_id, COALESCE(building_id, 0), category, subcategory);
CREATE INDEX routes_party_idx ON routes (party_id);

-- The foreign keys of cases are named: storage/postgres turns a violation of
-- one into a *casework.ValidationError naming the field.
CREATE TABLE cases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          text COLLATE "C" NOT NULL,
    version         integer NOT NULL CHECK (version > 0),

    project_id      bigint NOT NULL CONSTRAINT cases_project_id_fkey REFERENCES projects (id),
    building_id     bigint CONSTRAINT cases_building_id_fkey REFERENCES buildings (id),
    unit_id         bigint CONSTRAINT cases_unit_id_fkey REFERENCES units (id),
    owner_id        bigint CONSTRAINT cases_owner_id_fkey REFERENCES owners (id),
    owner_name      text NOT NULL DEFAULT '',
    owner_phone     text NOT NULL DEFAULT '',

    location        text NOT NULL DEFAULT '' CONSTRAINT cases_location_check CHECK (location IN ('',
                        'living_room', 'bedroom', 'kitchen', 'bathroom', 'balcony',
                        'public_area', 'exterior', 'other')),
    location_detail text NOT NULL DEFAULT '',
    description     text NOT NULL,
    occurred_at     timestamptz,
    occurred_text   text NOT NULL DEFAULT '',
    expectation     text NOT NULL DEFAULT '',
    contact_time    text NOT NULL DEFAULT '',

    channel         text NOT NULL CONSTRAINT cases_channel_check CHECK (channel IN (
                        'wechat', 'telegram', 'hotline', 'walk_in', 'letter', 'return_visit', 'web')),
    received_at     timestamptz NOT NULL,
    received_by     text NOT NULL,

    category        text NOT NULL CONSTRAINT cases_category_check CHECK (category IN (
                        'engineering_quality', 'design_defect', 'facilities_equipment',
                        'service_attitude', 'policy_consultation', 'other')),
    subcategory     text NOT NULL CONSTRAINT cases_subcategory_check CHECK (subcategory IN (
                        'leak', 'crack', 'door_window', 'plumbing', 'electrical', 'structural', 'decoration',
                        'layout', 'missing_function',
                        'lift', 'fire', 'intercom', 'heating', 'cooling', 'in_unit_equipment',
                        'property_management', 'staff', 'contractor',
                        'certificate', 'fees', 'suggestion', 'praise', 'other')),
    urgency         text NOT NULL CONSTRAINT cases_urgency_check CHECK (urgency IN (
                        'normal', 'urgent', 'major_complaint')),
    responsibility  text NOT NULL CONSTRAINT cases_responsibility_check CHECK (responsibility IN (
                        'undetermined', 'contractor', 'design_firm', 'supplier',
                        'property_management', 'owner_or_third_party')),
    decision_reason text NOT NULL DEFAULT '',
    party_id        bigint CONSTRAINT cases_party_id_fkey REFERENCES parties (id),
    assignee_id     bigint CONSTRAINT cases_assignee_id_fkey REFERENCES members (id),

    state           text NOT NULL CONSTRAINT cases_state_check CHECK (state IN (
                        'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                        'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                        'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    held_from       text NOT NULL DEFAULT '' CONSTRAINT cases_held_from_check CHECK (held_from IN ('',
                        'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                        'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                        'owner_accepted', 'reopened', 'surveyed', 'closed', 'cancelled')),
    repair_count    integer NOT NULL DEFAULT 0 CHECK (repair_count >= 0),

    respond_by      timestamptz,
    on_site_by      timestamptz,
    resolve_by      timestamptz,
    responded_at    timestamptz,
    on_site_at      timestamptz,
    resolved_at     timestamptz,
    closed_at       timestamptz,

    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- Seq of the case's last timeline entry. Bumping it hands the next entry
    -- its Seq and locks the case row, so that entries appended concurrently
    -- get 1, 2, 3… without gaps or duplicates.
    last_event_seq  integer NOT NULL DEFAULT 0,

    CONSTRAINT cases_number_key UNIQUE (number)
);
-- The case list: newest first, alone or within one filter.
CREATE INDEX cases_received_idx ON cases (received_at DESC, id DESC);
CREATE INDEX cases_state_idx    ON cases (state, received_at DESC);
CREATE INDEX cases_project_idx  ON cases (project_id, received_at DESC);
CREATE INDEX cases_building_idx ON cases (building_id) WHERE building_id IS NOT NULL;
CREATE INDEX cases_unit_idx     ON cases (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX cases_owner_idx    ON cases (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX cases_party_idx    ON cases (party_id) WHERE party_id IS NOT NULL;
CREATE INDEX cases_assignee_idx ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
-- The overdue query (casework.Case.Overdue): an open, unresolved case not on
-- hold with a deadline passed and its step not met. One partial index per
-- deadline, so that the three ORed conditions become a BitmapOr over small
-- indexes of the open cases only.
CREATE INDEX cases_overdue_respond_idx ON cases (respond_by)
    WHERE responded_at IS NULL AND resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');
CREATE INDEX cases_overdue_on_site_idx ON cases (on_site_by)
    WHERE on_site_at IS NULL AND resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');
CREATE INDEX cases_overdue_resolve_idx ON cases (resolve_by)
    WHERE resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');
-- Its page, newest first: walks the open, unresolved cases only, not every
-- case received since the oldest overdue one.
CREATE INDEX cases_open_received_idx ON cases (received_at DESC, id DESC)
    WHERE resolved_at IS NULL AND state NOT IN ('closed', 'cancelled', 'rejected', 'on_hold');

CREATE TABLE case_media (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases (id),
    kind         text NOT NULL CONSTRAINT case_media_kind_check CHECK (kind IN ('photo', 'video', 'voice', 'document')),
    blob_key     text NOT NULL,
    content_type text NOT NULL DEFAULT '',
    size         bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    created_at   timestamptz NOT NULL
);
CREATE INDEX case_media_case_idx ON case_media (case_id, id);

CREATE TABLE case_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    seq        integer NOT NULL CHECK (seq > 0),
    at         timestamptz NOT NULL,
    actor      text NOT NULL CHECK (actor <> ''),
    kind       text NOT NULL CONSTRAINT case_events_kind_check CHECK (kind IN (
                   'created', 'transition', 'updated', 'note', 'urge', 'media')),
    action     text NOT NULL DEFAULT '' CONSTRAINT case_events_action_check CHECK (action IN ('',
                   'accept', 'reject', 'dispatch', 'schedule', 'inspect', 'propose_plan', 'agree_plan',
                   'disagree_plan', 'start_work', 'complete', 'owner_accept', 'owner_reject', 'survey',
                   'close', 'reopen', 'hold', 'resume', 'cancel')),
    from_state text NOT NULL DEFAULT '' CONSTRAINT case_events_from_state_check CHECK (from_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    to_state   text NOT NULL DEFAULT '' CONSTRAINT case_events_to_state_check CHECK (to_state IN ('',
                   'registered', 'accepted', 'rejected', 'dispatched', 'scheduled',
                   'inspected', 'plan_proposed', 'plan_agreed', 'in_progress', 'done',
                   'owner_accepted', 'reopened', 'surveyed', 'closed', 'on_hold', 'cancelled')),
    note       text NOT NULL DEFAULT '',
    CONSTRAINT case_events_case_seq_key UNIQUE (case_id, seq)
);

-- Per-day case number counters: day is casework.Numbering.Day (SH-20261127),
-- last the last sequence handed out that day.
CREATE TABLE case_counters (
    day  text COLLATE "C" PRIMARY KEY,
    last bigint NOT NULL CHECK (last > 0)
);
