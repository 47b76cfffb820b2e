"""The search index of a département's records, kept by the database itself.

Triggers on every indexed table write the index in the same statement as the row, so no write
path (service, import, erasure, a future one, a manual SQL fix) can leave it stale; the rows that
existed before this migration are indexed at the end. The SQL is frozen here on purpose: a later
change of the indexed columns is a new migration that replaces the triggers.

- SQLite: an FTS5 table `search_index` (tokenizer `unicode61 remove_diacritics 2`: case and accent
  folding) and its vocabulary `search_index_terms` (fts5vocab), which the query side uses to expand
  a French stem into the indexed words that have it (coord.search.engine explains why).
- PostgreSQL: a table `search_document` whose `document` tsvector is generated with the text search
  configuration `coord_french` (the `french` one with `unaccent` before `french_stem`), a GIN index,
  and row triggers plus TRUNCATE triggers on the indexed tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

ID = "2026-12-02T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "full-text search index of meetings, agenda items, decisions, action items, partners, conventions"

# kind, code (the low 3 bits of the FTS5 rowid), table, title columns, body columns, parent column
SOURCES = [
    ("meeting", 1, "meeting", ["title"], ["place", "minutes"], None),
    ("agenda_item", 2, "agenda_item", ["title"], ["presenter", "notes"], "meeting"),
    ("decision", 3, "decision", ["text"], [], "meeting"),
    ("action_item", 4, "action_item", ["title"], ["description", "tags"], None),
    ("organisation", 5, "organisation", ["name", "acronym"], ["notes"], None),
    ("contact", 6, "contact", ["first_name", "last_name"], ["function", "email"], "organisation"),
    ("convention", 7, "convention", ["title"], ["notes"], None),
]


def _text(prefix: str, columns: list[str]) -> str:
    if not columns:
        return "''"
    return " || ' ' || ".join(f"COALESCE({prefix}.\"{c}\", '')" for c in columns)


def _keywords(prefix: str, table: str) -> str:
    """Words indexed but not shown: PostgreSQL's parser reads an e-mail address as one word, so its
    parts are indexed too (« martin34 » finds « c.martin34@cd.fr » on both engines)."""
    if table != "contact":
        return "''"
    return f"REPLACE(REPLACE(REPLACE(COALESCE({prefix}.\"email\", ''), '@', ' '), '.', ' '), '-', ' ')"


def _parent(prefix: str, parent: str | None) -> str:
    return f'{prefix}."{parent}"' if parent else "NULL"


def _watched(title: list[str], body: list[str], parent: str | None) -> str:
    return ", ".join(f'"{c}"' for c in [*title, *body, "department", *([parent] if parent else [])])


# -- SQLite ------------------------------------------------------------------------------------

SQLITE_TABLES = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5("
    "kind UNINDEXED, department_id UNINDEXED, object_id UNINDEXED, parent_id UNINDEXED, title, body, keywords, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_index_terms USING fts5vocab(search_index, 'row')",
]


def _sqlite_insert(
    kind: str, code: int, table: str, title: list[str], body: list[str], parent: str | None, p: str
) -> str:
    return (
        "INSERT INTO search_index (rowid, kind, department_id, object_id, parent_id, title, body, keywords) "
        f"VALUES ({p}.id * 8 + {code}, '{kind}', {p}.department, {p}.id, {_parent(p, parent)}, "
        f"{_text(p, title)}, {_text(p, body)}, {_keywords(p, table)})"
    )


def _sqlite_statements() -> list[str]:
    statements = list(SQLITE_TABLES)
    for kind, code, table, title, body, parent in SOURCES:
        insert_new = _sqlite_insert(kind, code, table, title, body, parent, "new")
        delete_old = f"DELETE FROM search_index WHERE rowid = old.id * 8 + {code}"
        statements += [
            f'CREATE TRIGGER IF NOT EXISTS search_{table}_insert AFTER INSERT ON "{table}" BEGIN {insert_new}; END',
            f"CREATE TRIGGER IF NOT EXISTS search_{table}_update AFTER UPDATE OF {_watched(title, body, parent)} "
            f'ON "{table}" BEGIN {delete_old}; {insert_new}; END',
            f'CREATE TRIGGER IF NOT EXISTS search_{table}_delete AFTER DELETE ON "{table}" BEGIN {delete_old}; END',
        ]
    statements.append("DELETE FROM search_index")  # a re-run starts over rather than doubling rows
    for kind, code, table, title, body, parent in SOURCES:
        select = _sqlite_insert(kind, code, table, title, body, parent, "t").replace(" VALUES (", " SELECT ", 1)
        statements.append(select[:-1] + f' FROM "{table}" t')
    return statements


def _sqlite_backwards() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS search_{table}_{event}"
        for _, _, table, *_ in SOURCES
        for event in ("insert", "update", "delete")
    ]
    return [*statements, "DROP TABLE IF EXISTS search_index_terms", "DROP TABLE IF EXISTS search_index"]


# -- PostgreSQL --------------------------------------------------------------------------------

POSTGRES_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'coord_french') THEN
            CREATE TEXT SEARCH CONFIGURATION coord_french (COPY = french);
        END IF;
    END
    $$
    """,
    "ALTER TEXT SEARCH CONFIGURATION coord_french "
    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem",
    """
    CREATE TABLE IF NOT EXISTS search_document (
        kind VARCHAR(20) NOT NULL,
        object_id INTEGER NOT NULL,
        department_id INTEGER NOT NULL,
        parent_id INTEGER,
        title TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        keywords TEXT NOT NULL DEFAULT '',
        document TSVECTOR GENERATED ALWAYS AS (
            setweight(to_tsvector('coord_french'::regconfig, title), 'A')
            || setweight(to_tsvector('coord_french'::regconfig, body), 'B')
            || setweight(to_tsvector('coord_french'::regconfig, keywords), 'C')
        ) STORED,
        PRIMARY KEY (kind, object_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS search_document_document ON search_document USING GIN (document)",
    "CREATE INDEX IF NOT EXISTS search_document_department ON search_document (department_id, kind)",
    """
    CREATE OR REPLACE FUNCTION search_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM search_document WHERE kind = TG_ARGV[0];
        RETURN NULL;
    END
    $$
    """,
]


def _postgres_statements() -> list[str]:
    statements = list(POSTGRES_SETUP)
    for kind, _, table, title, body, parent in SOURCES:
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION search_index_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    DELETE FROM search_document WHERE kind = '{kind}' AND object_id = OLD.id;
                    RETURN OLD;
                END IF;
                INSERT INTO search_document (kind, object_id, department_id, parent_id, title, body, keywords)
                VALUES ('{kind}', NEW.id, NEW.department, {_parent("NEW", parent)},
                        {_text("NEW", title)}, {_text("NEW", body)}, {_keywords("NEW", table)})
                ON CONFLICT (kind, object_id) DO UPDATE SET
                    department_id = EXCLUDED.department_id, parent_id = EXCLUDED.parent_id,
                    title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords;
                RETURN NEW;
            END
            $$
            """,
            f'DROP TRIGGER IF EXISTS search_index ON "{table}"',
            f"CREATE TRIGGER search_index AFTER INSERT OR DELETE OR UPDATE OF {_watched(title, body, parent)} "
            f'ON "{table}" FOR EACH ROW EXECUTE FUNCTION search_index_{table}()',
            f'DROP TRIGGER IF EXISTS search_truncate ON "{table}"',
            f'CREATE TRIGGER search_truncate AFTER TRUNCATE ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION search_truncate('{kind}')",
        ]
    statements.append("DELETE FROM search_document")
    for kind, _, table, title, body, parent in SOURCES:
        statements.append(
            "INSERT INTO search_document (kind, object_id, department_id, parent_id, title, body, keywords) "
            f"SELECT '{kind}', t.id, t.department, {_parent('t', parent)}, {_text('t', title)}, {_text('t', body)}, "
            f'{_keywords("t", table)} FROM "{table}" t'
        )
    return statements


def _postgres_backwards() -> list[str]:
    statements: list[str] = []
    for _, _, table, *_ in SOURCES:
        statements += [
            f'DROP TRIGGER IF EXISTS search_index ON "{table}"',
            f'DROP TRIGGER IF EXISTS search_truncate ON "{table}"',
            f"DROP FUNCTION IF EXISTS search_index_{table}()",
        ]
    return [
        *statements,
        "DROP FUNCTION IF EXISTS search_truncate()",
        "DROP TABLE IF EXISTS search_document",
        "DROP TEXT SEARCH CONFIGURATION IF EXISTS coord_french",
    ]


async def _run(statements: list[str], engine: Engine) -> None:
    for statement in statements:
        await engine.run_ddl(statement)


async def create_index(engine: Engine | None = None) -> None:
    """Piccolo calls it without arguments (the configured engine); tests may pass theirs."""
    engine = engine or engine_finder()
    assert engine is not None
    await _run(_sqlite_statements() if engine.engine_type == "sqlite" else _postgres_statements(), engine)


async def drop_index(engine: Engine | None = None) -> None:
    engine = engine or engine_finder()
    assert engine is not None
    await _run(_sqlite_backwards() if engine.engine_type == "sqlite" else _postgres_backwards(), engine)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="search", description=DESCRIPTION)
    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
