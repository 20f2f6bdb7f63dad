"""The database schema: one DDL, created idempotently, with a version number.

Every data table carries lineage: `source` is 'published' (a figure from a cited public
source, named in `source_note`), 'simulated' (demonstration data) or 'import' (then
`batch_id` names the import batch).
"""

SCHEMA_VERSION = 1
# Additive changes within version 1 (new tables, new macro bodies) are applied on a write-mode
# open when a database's `meta.schema_revision` is older; a read-only open of such a file is refused.
SCHEMA_REVISION = 3  # 3: monthly_problems

LINEAGE = """
    source      VARCHAR NOT NULL DEFAULT 'simulated'
                CHECK (source IN ('published', 'simulated', 'import')),
    source_note VARCHAR,
    batch_id    INTEGER
"""

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS import_batches (
    batch_id     INTEGER PRIMARY KEY,
    table_name   VARCHAR NOT NULL,
    file_name    VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    rows_added   INTEGER NOT NULL,
    rows_updated INTEGER NOT NULL,
    imported_at  TIMESTAMP NOT NULL,
    imported_by  VARCHAR,
    undone_at    TIMESTAMP
);

CREATE TABLE IF NOT EXISTS communities (
    community_id INTEGER PRIMARY KEY,
    province     VARCHAR NOT NULL,
    city         VARCHAR NOT NULL,
    district     VARCHAR NOT NULL,
    street       VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    type         VARCHAR NOT NULL CHECK (type IN ('urban', 'rural')),
    households   INTEGER CHECK (households >= 0),
    residents    INTEGER CHECK (residents >= 0),
    area_km2     DOUBLE CHECK (area_km2 >= 0),
    {LINEAGE},
    UNIQUE (street, community)
);

CREATE TABLE IF NOT EXISTS compounds (
    compound_id  INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities (community_id),
    compound     VARCHAR NOT NULL,
    households   INTEGER CHECK (households >= 0),
    {LINEAGE},
    UNIQUE (community_id, compound)
);

CREATE TABLE IF NOT EXISTS buildings (
    building_id  INTEGER PRIMARY KEY,
    compound_id  INTEGER NOT NULL REFERENCES compounds (compound_id),
    community_id INTEGER NOT NULL REFERENCES communities (community_id),
    building     VARCHAR NOT NULL,
    households   INTEGER CHECK (households >= 0),
    {LINEAGE},
    UNIQUE (compound_id, building)
);

-- 小区党支部: one compound may have several (e.g. after a split), counted once for C1.
CREATE TABLE IF NOT EXISTS branches (
    branch_id      INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities (community_id),
    compound_id    INTEGER REFERENCES compounds (compound_id),
    branch         VARCHAR NOT NULL,
    members        INTEGER NOT NULL CHECK (members >= 0),
    has_committee  BOOLEAN,
    established_on DATE NOT NULL,
    dissolved_on   DATE,
    {LINEAGE}
);

CREATE TABLE IF NOT EXISTS building_groups (
    group_id       INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities (community_id),
    building_id    INTEGER NOT NULL REFERENCES buildings (building_id),
    leader         VARCHAR,
    established_on DATE NOT NULL,
    dissolved_on   DATE,
    {LINEAGE}
);

CREATE TABLE IF NOT EXISTS household_leads (
    lead_id        INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities (community_id),
    building_id    INTEGER NOT NULL REFERENCES buildings (building_id),
    household      VARCHAR NOT NULL,
    established_on DATE NOT NULL,
    dissolved_on   DATE,
    {LINEAGE}
);

CREATE TABLE IF NOT EXISTS social_orgs (
    org_id       INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities (community_id),
    org          VARCHAR NOT NULL,
    type         VARCHAR NOT NULL,
    party_led    BOOLEAN NOT NULL DEFAULT FALSE,
    founded_on   DATE NOT NULL,
    dissolved_on DATE,
    {LINEAGE},
    UNIQUE (community_id, org)
);

CREATE TABLE IF NOT EXISTS org_monthly (
    org_id        INTEGER NOT NULL REFERENCES social_orgs (org_id),
    month         DATE NOT NULL,
    member_units  INTEGER CHECK (member_units >= 0),
    volunteers    INTEGER CHECK (volunteers >= 0),
    service_hours DOUBLE CHECK (service_hours >= 0),
    {LINEAGE},
    PRIMARY KEY (org_id, month)
);

-- 诉求: contacted IS NULL means no valid follow-up call (not in T2-T4 denominators).
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id    VARCHAR PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities (community_id),
    compound_id  INTEGER REFERENCES compounds (compound_id),
    building_id  INTEGER REFERENCES buildings (building_id),
    category_l1  VARCHAR NOT NULL,
    category_l2  VARCHAR,
    category_l3  VARCHAR,
    channel      VARCHAR,
    received_at  TIMESTAMP NOT NULL,
    due_at       TIMESTAMP,
    closed_at    TIMESTAMP,
    status       VARCHAR,
    contacted    BOOLEAN,
    solved       BOOLEAN,
    satisfaction VARCHAR CHECK (satisfaction IN ('非常满意', '满意', '基本满意', '不满意', '非常不满意')),
    {LINEAGE},
    CHECK (closed_at IS NULL OR closed_at >= received_at)
);

-- 经验做法: dated events of a community, to annotate charts and compare before/after.
CREATE TABLE IF NOT EXISTS practices (
    practice_id      INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities (community_id),
    practice         VARCHAR NOT NULL,
    started_on       DATE NOT NULL,
    related_category VARCHAR,
    description      VARCHAR,
    {LINEAGE}
);

-- Indicator settings (score weights, satisfaction level weights, targets): never constants;
-- the value in force at date D is the row with the latest effective_from <= D. `source` is
-- 'default' for the documented defaults put in force by ensure_default_settings, 'configured'
-- for a database's own values (added to files written before it existed: SETTINGS_MIGRATION).
CREATE TABLE IF NOT EXISTS settings (
    key            VARCHAR NOT NULL,
    effective_from DATE NOT NULL,
    value          DOUBLE NOT NULL,
    note           VARCHAR,
    source         VARCHAR DEFAULT 'configured',
    PRIMARY KEY (key, effective_from)
);

-- Column mappings (governance/importer/mapping.py): a file's own headers -> the importer's fields,
-- saved by name on the 数据管理 page and chosen again for a file with the same headers.
CREATE TABLE IF NOT EXISTS column_mappings (
    name       VARCHAR PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    headers    VARCHAR NOT NULL,   -- JSON: the file's normalised headers, sorted
    mapping    VARCHAR NOT NULL,   -- JSON object: field -> the file's header
    saved_at   TIMESTAMP NOT NULL,
    saved_by   VARCHAR
);

-- The one rule for "in force at D" (C1-C6, S1-S5): established (founded) on or before D and not
-- dissolved by D, i.e. dissolved_on is NULL or after D.
CREATE OR REPLACE MACRO in_force(established, dissolved, d) AS
    established <= d AND (dissolved IS NULL OR dissolved > d);

-- 用户: who may sign in, with a role and a scope (a region prefix; NULL for a level means any).
CREATE TABLE IF NOT EXISTS users (
    email           VARCHAR PRIMARY KEY,
    name            VARCHAR,
    role            VARCHAR NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    scope_province  VARCHAR,
    scope_city      VARCHAR,
    scope_district  VARCHAR,
    scope_street    VARCHAR,
    scope_community VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    created_by      VARCHAR
);

-- Who did what and when: imports, undos, demo removal, user changes (email, or the OS user).
CREATE SEQUENCE IF NOT EXISTS audit_seq;
CREATE TABLE IF NOT EXISTS audit_log (
    event_id INTEGER PRIMARY KEY DEFAULT nextval('audit_seq'),
    happened_at TIMESTAMP NOT NULL,
    actor    VARCHAR NOT NULL,
    action   VARCHAR NOT NULL,
    target   VARCHAR,
    detail   VARCHAR
);

-- 每月一题: a class problem adopted from a candidate. Its communities are the practices rows of
-- `batch_id` (one per community, related_category = the class), so its scope, its audit and its
-- undo are the import batch's; an undone batch takes the problem with it (listings join the batch).
CREATE SEQUENCE IF NOT EXISTS monthly_problem_seq;
CREATE TABLE IF NOT EXISTS monthly_problems (
    id          INTEGER PRIMARY KEY DEFAULT nextval('monthly_problem_seq'),
    batch_id    INTEGER NOT NULL UNIQUE,
    title       VARCHAR NOT NULL,
    categories  VARCHAR NOT NULL,
    owner_unit  VARCHAR NOT NULL,
    started_on  DATE NOT NULL,
    target_on   DATE,
    notes       VARCHAR,
    adopted_by  VARCHAR NOT NULL,
    adopted_at  TIMESTAMP NOT NULL,
    closed_on   DATE,
    outcome     VARCHAR,
    closed_by   VARCHAR,
    CHECK (target_on IS NULL OR target_on >= started_on),
    CHECK (closed_on IS NULL OR closed_on >= started_on)
);

-- The communities each import batch wrote rows for: whether a batch lies inside a scope.
CREATE TABLE IF NOT EXISTS batch_communities (
    batch_id     INTEGER NOT NULL,
    community_id INTEGER NOT NULL,
    PRIMARY KEY (batch_id, community_id)
);

-- The one scope rule: the signed-in user's scope is a STRUCT variable set on every query's cursor
-- by the query runner (governance/access.py: set_scope); each level NULL means any. A cursor on
-- which no scope was set sees no community at all.
CREATE OR REPLACE MACRO in_scope(c_province, c_city, c_district, c_street, c_community) AS
    getvariable('scope') IS NOT NULL
    AND (getvariable('scope').province IS NULL OR c_province = getvariable('scope').province)
    AND (getvariable('scope').city IS NULL OR c_city = getvariable('scope').city)
    AND (getvariable('scope').district IS NULL OR c_district = getvariable('scope').district)
    AND (getvariable('scope').street IS NULL OR c_street = getvariable('scope').street)
    AND (getvariable('scope').community IS NULL OR c_community = getvariable('scope').community);

-- The communities a page's filters select, inside the user's scope; NULL for a level means "all".
-- Every query reads communities through this macro (tests/test_access_queries.py checks it).
CREATE OR REPLACE MACRO selected_communities(p_province, p_city, p_district, p_street, p_community) AS TABLE
    SELECT * FROM communities
    WHERE (p_province IS NULL OR province = p_province)
      AND (p_city IS NULL OR city = p_city)
      AND (p_district IS NULL OR district = p_district)
      AND (p_street IS NULL OR street = p_street)
      AND (p_community IS NULL OR community = p_community)
      AND in_scope(province, city, district, street, community);

-- The satisfaction level weights in force at d (T4, T9): one row, w1..w5 for 非常满意, 满意, 基本满意,
-- 不满意, 非常不满意, each the value of its latest setting effective on or before d; NULL when a level
-- has none, so that a satisfaction rate is never computed with a missing weight (it is 无数据).
CREATE OR REPLACE MACRO satisfaction_weights(d) AS TABLE
    WITH level_weights AS (
        SELECT substr(key, length('satisfaction_weight_') + 1) AS level, arg_max(value, effective_from) AS w
        FROM settings
        WHERE key LIKE 'satisfaction_weight_%' AND effective_from <= d
        GROUP BY key
    )
    SELECT max(w) FILTER (WHERE level = '非常满意') AS w1,
           max(w) FILTER (WHERE level = '满意') AS w2,
           max(w) FILTER (WHERE level = '基本满意') AS w3,
           max(w) FILTER (WHERE level = '不满意') AS w4,
           max(w) FILTER (WHERE level = '非常不满意') AS w5
    FROM level_weights;
"""

# Tables that hold data rows with lineage, in dependency order (parents first).
DATA_TABLES = [
    "communities", "compounds", "buildings", "branches", "building_groups",
    "household_leads", "social_orgs", "org_monthly", "tickets", "practices",
]


# For each data table, `undo_<table>`: the previous versions of the rows an import batch
# updated (or, for the removal of the demonstration data, the rows it deleted), so that undoing
# the batch restores them exactly. Same columns as the table, plus the batch that replaced them.
UNDO_DDL = "\n".join(
    f"CREATE TABLE IF NOT EXISTS undo_{t} AS SELECT NULL::INTEGER AS undo_batch, * FROM {t} LIMIT 0;"
    for t in DATA_TABLES
)


# A file written before settings.source existed gets the column (its rows are its own settings).
SETTINGS_MIGRATION = "ALTER TABLE settings ADD COLUMN IF NOT EXISTS source VARCHAR DEFAULT 'configured'"


def create_schema(con) -> None:
    """Create every table if missing and record the schema version (idempotent)."""
    con.execute(DDL)
    con.execute(SETTINGS_MIGRATION)
    con.execute(UNDO_DDL)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
        [str(SCHEMA_VERSION)],
    )
    con.execute("INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT (key) DO NOTHING")
    con.execute("INSERT INTO meta VALUES ('schema_revision', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [str(SCHEMA_REVISION)])


def is_complete(con) -> bool:
    """Whether every table and macro of this schema version exists (then nothing needs writing)."""
    import re

    tables = set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", DDL + UNDO_DDL))
    macros = set(re.findall(r"CREATE OR REPLACE MACRO (\w+)", DDL))
    have_tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    have_macros = {r[0] for r in con.execute(
        "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro')"
    ).fetchall()}
    has_source = con.execute("SELECT count(*) FROM information_schema.columns "
                             "WHERE table_name = 'settings' AND column_name = 'source'").fetchone()[0] > 0
    if not (tables <= have_tables and macros <= have_macros and has_source):
        return False
    revision = con.execute("SELECT value FROM meta WHERE key = 'schema_revision'").fetchone()
    return revision is not None and int(revision[0]) >= SCHEMA_REVISION


def ensure_default_settings(con) -> int:
    """Put each documented default (governance.indicators.DEFAULT_SETTINGS) in force from the
    earliest date for every key the database has no value of its own for; returns how many rows
    were written (0, and nothing written, when every key has a value)."""
    from governance.indicators import DEFAULT_SETTINGS, EARLIEST

    have = {r[0] for r in con.execute("SELECT DISTINCT key FROM settings").fetchall()}
    missing = [(k, EARLIEST, v, note) for k, v, note in DEFAULT_SETTINGS if k not in have]
    if missing:
        con.executemany("INSERT INTO settings (key, effective_from, value, note, source) "
                        "VALUES (?, ?::DATE, ?, ?, 'default')", missing)
        bump_data_version(con)
    return len(missing)


def bump_data_version(con) -> None:
    """Mark the data as changed so cached query results keyed on it are dropped."""
    con.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'data_version'"
    )
