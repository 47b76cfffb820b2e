"""The cycle's read model kept exact by the database itself.

Every write of what a département's cycle is derived from (its meetings, committees, proposals,
unavailable dates, its zone and holiday calendar) bumps that département's row of `cycle_version` in
the same statement, by a trigger, so no write path (service, import, erasure, the scheduler, a manual
SQL fix) can leave a stored slot of `cycle_slot` looking exact. An update bumps only when a column
the cycle reads changed (a meeting's agenda sequence does not count). A TRUNCATE on PostgreSQL
forgets every stored slot. The SQL is frozen here on purpose: a later change of the watched columns
is a new migration that replaces the triggers.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

from coord.core.migrations import create_index, drop_index

ID = "2026-12-03T08:16:24:565669"
VERSION = "1.38.0"
DESCRIPTION = "triggers that bump a département's cycle_version when its cycle's inputs change"

# table, the column naming its département, the columns the cycle reads (an update elsewhere is ignored)
SOURCES = [
    (
        "meeting",
        "department",
        ["department", "committee", "kind", "status", "title", "starts_at", "ends_at", "convened_at"]
        + ["minutes_published_at"],
    ),
    ("committee", "department", ["department", "kind", "active"]),
    (
        "cycle_proposal",
        "department",
        ["department", "committee_kind", "year", "slot", "proposed_start", "proposed_end", "proposed_at"]
        + ["accepted_at", "meeting"],
    ),
    ("unavailable_date", "department", ["department", "day"]),
    ("department", "id", ["timezone", "holiday_subdivision"]),
]


def _changed(columns: list[str], differs: str) -> str:
    return " OR ".join(f'OLD."{c}" {differs} NEW."{c}"' for c in columns)


def _watched(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


# -- SQLite ------------------------------------------------------------------------------------

_SQLITE_BUMP = (
    "INSERT INTO cycle_version (department, version) {source} "
    "ON CONFLICT (department) DO UPDATE SET version = version + 1"
)


def _sqlite_bump(value: str, where: str = "") -> str:
    # An upsert from a SELECT needs its WHERE (SQLite's parsing rule); `WHERE true` when none is needed.
    return _SQLITE_BUMP.format(source=f"SELECT {value}, 1 WHERE {where or 'true'}")


def _sqlite_statements() -> list[str]:
    statements = []
    for table, key, columns in SOURCES:
        old, new = f'OLD."{key}"', f'NEW."{key}"'
        update = f"{_sqlite_bump(old)}; {_sqlite_bump(new, f'{new} IS NOT {old}')};"
        if table != "department":
            statements += [
                f'CREATE TRIGGER IF NOT EXISTS cycle_{table}_insert AFTER INSERT ON "{table}" '
                f"BEGIN {_sqlite_bump(new)}; END",
                f'CREATE TRIGGER IF NOT EXISTS cycle_{table}_delete AFTER DELETE ON "{table}" '
                f"BEGIN {_sqlite_bump(old)}; END",
            ]
        statements.append(
            f'CREATE TRIGGER IF NOT EXISTS cycle_{table}_update AFTER UPDATE OF {_watched(columns)} ON "{table}" '
            f"WHEN {_changed(columns, 'IS NOT')} BEGIN {update} END"
        )
    return statements


def _sqlite_backwards() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS cycle_{table}_{event}"
        for table, _, _ in SOURCES
        for event in ("insert", "delete", "update")
    ]


# -- PostgreSQL --------------------------------------------------------------------------------

POSTGRES_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION cycle_bump(department_id integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO cycle_version (department, version) VALUES (department_id, 1)
        ON CONFLICT (department) DO UPDATE SET version = cycle_version.version + 1
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cycle_touched() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM cycle_bump(NEW.department);
        ELSE
            PERFORM cycle_bump(OLD.department);
            IF TG_OP = 'UPDATE' THEN
                IF NEW.department IS DISTINCT FROM OLD.department THEN
                    PERFORM cycle_bump(NEW.department);
                END IF;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cycle_department_touched() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM cycle_bump(NEW.id);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cycle_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM cycle_slot;
        RETURN NULL;
    END
    $$
    """,
]


def _postgres_statements() -> list[str]:
    statements = list(POSTGRES_FUNCTIONS)
    for table, _, columns in SOURCES:
        function = "cycle_department_touched" if table == "department" else "cycle_touched"
        statements += [
            f'DROP TRIGGER IF EXISTS cycle_update ON "{table}"',
            f'CREATE TRIGGER cycle_update AFTER UPDATE OF {_watched(columns)} ON "{table}" FOR EACH ROW '
            f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION {function}()",
        ]
        if table != "department":
            statements += [
                f'DROP TRIGGER IF EXISTS cycle_insert_delete ON "{table}"',
                f'CREATE TRIGGER cycle_insert_delete AFTER INSERT OR DELETE ON "{table}" FOR EACH ROW '
                f"EXECUTE FUNCTION {function}()",
                f'DROP TRIGGER IF EXISTS cycle_truncate ON "{table}"',
                f'CREATE TRIGGER cycle_truncate AFTER TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION cycle_truncated()",
            ]
    return statements


def _postgres_backwards() -> list[str]:
    statements = [
        f'DROP TRIGGER IF EXISTS {name} ON "{table}"'
        for table, _, _ in SOURCES
        for name in ("cycle_update", "cycle_insert_delete", "cycle_truncate")
    ]
    functions = ("cycle_touched()", "cycle_department_touched()", "cycle_truncated()", "cycle_bump(integer)")
    return [*statements, *(f"DROP FUNCTION IF EXISTS {f}" for f in functions)]


async def _run(statements: list[str], engine: Engine) -> None:
    for statement in statements:
        await engine.run_ddl(statement)


async def create_triggers(engine: Engine | None = None) -> None:
    """Piccolo calls it without arguments (the configured engine); tests may pass theirs."""
    engine = engine or engine_finder()
    assert engine is not None
    await _run(_sqlite_statements() if engine.engine_type == "sqlite" else _postgres_statements(), engine)


async def drop_triggers(engine: Engine | None = None) -> None:
    engine = engine or engine_finder()
    assert engine is not None
    await _run(_sqlite_backwards() if engine.engine_type == "sqlite" else _postgres_backwards(), engine)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="scheduling", description=DESCRIPTION)
    # The national table reads a year's slots; a stale département's are replaced by (department, year).
    manager.add_raw(
        create_index("cycle_slot_key", "cycle_slot", ["year", "department", "committee_kind", "slot"], unique=True)
    )
    manager.add_raw_backwards(drop_index("cycle_slot_key"))
    manager.add_raw(create_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
