"""Action items counted by the database: per département, creation year and status (`action_tally`),
and per plan measure, creation year and status over every département (`action_measure_tally`).

Triggers on `action_item` move both tallies in the statement that writes the items, so every write
path (service, import, erasure, the benchmark generator, a manual SQL fix) keeps them exact, on both
engines, inside the writer's transaction: a reader sees the tallies and the items of one commit.
The rows that existed before this migration are counted at the end. The SQL is frozen here on
purpose: counting something else is a new migration that replaces the triggers.

- SQLite: row triggers (an UPSERT on insert, a decrement on delete, both on a move).
- PostgreSQL: statement triggers with transition tables for inserts and deletes (a bulk COPY or a
  cascade costs one grouped statement per tally), a row trigger for the updates that move an item to
  another key (the column list and WHEN clause skip every other update), and a TRUNCATE trigger.

A key keeps its row at zero when its last item leaves it: rows are never deleted, so concurrent
writers only ever update or insert them. Overdue is not tallied (it moves with the clock, not with
writes): it stays a count of the open items past due, over a partial index of open items only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

ID = "2026-12-03T08:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "action items counted per département and per measure, by creation year and status, by triggers"

WATCHED = "department, measure, status, created_on"
SQLITE_YEAR = "CAST(strftime('%Y', {p}created_on) AS INTEGER)"
POSTGRES_YEAR = "EXTRACT(YEAR FROM {p}created_on)::integer"
# tally: its key columns and how each is read from an item row ({p}: "new.", "old." or nothing)
TALLIES = {
    "action_tally": {"department": "{p}department", "year": "{year}", "status": "{p}status"},
    "action_measure_tally": {"measure": "COALESCE({p}measure, 0)", "year": "{year}", "status": "{p}status"},
}


def _values(tally: str, p: str, year: str) -> list[str]:
    return [e.format(p=p, year=year.format(p=p)) for e in TALLIES[tally].values()]


def _columns(tally: str) -> str:
    return ", ".join(TALLIES[tally])


def _match(tally: str, p: str, year: str, prefix: str = "") -> str:
    return " AND ".join(f"{prefix}{c} = {v}" for c, v in zip(TALLIES[tally], _values(tally, p, year), strict=True))


def _add_one(tally: str, p: str, year: str) -> str:
    return (
        f"INSERT INTO {tally} ({_columns(tally)}, n) VALUES ({', '.join(_values(tally, p, year))}, 1) "
        f"ON CONFLICT ({_columns(tally)}) DO UPDATE SET n = {tally}.n + 1"
    )


def _remove_one(tally: str, p: str, year: str) -> str:
    return f"UPDATE {tally} SET n = n - 1 WHERE {_match(tally, p, year)}"


# -- SQLite ------------------------------------------------------------------------------------

SQLITE_MOVED = (
    "old.department IS NOT new.department OR old.measure IS NOT new.measure OR old.status IS NOT new.status "
    "OR strftime('%Y', old.created_on) IS NOT strftime('%Y', new.created_on)"
)


def _sqlite_statements() -> list[str]:
    add = "; ".join(_add_one(t, "new.", SQLITE_YEAR) for t in TALLIES)
    remove = "; ".join(_remove_one(t, "old.", SQLITE_YEAR) for t in TALLIES)
    return [
        f"CREATE TRIGGER IF NOT EXISTS action_tally_insert AFTER INSERT ON action_item BEGIN {add}; END",
        f"CREATE TRIGGER IF NOT EXISTS action_tally_delete AFTER DELETE ON action_item BEGIN {remove}; END",
        f"CREATE TRIGGER IF NOT EXISTS action_tally_update AFTER UPDATE OF {WATCHED} ON action_item "
        f"WHEN {SQLITE_MOVED} BEGIN {remove}; {add}; END",
    ]


SQLITE_BACKWARDS = [f"DROP TRIGGER IF EXISTS action_tally_{event}" for event in ("insert", "delete", "update")]


# -- PostgreSQL --------------------------------------------------------------------------------


def _grouped(tally: str, rows: str, year: str = POSTGRES_YEAR, count: str = "COUNT(*)::integer") -> str:
    keys = ", ".join(f"{v} AS {c}" for c, v in zip(TALLIES[tally], _values(tally, "", year), strict=True))
    positions = ", ".join(str(i + 1) for i in range(len(TALLIES[tally])))
    return f"SELECT {keys}, {count} AS n FROM {rows} GROUP BY {positions}"


def _function(name: str, statements: list[str]) -> str:
    body = "\n".join(f"        {s};" for s in statements)
    return f"""
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
{body}
        RETURN NULL;
    END
    $$
    """


def _postgres_statements() -> list[str]:
    added = [
        f"INSERT INTO {t} ({_columns(t)}, n) {_grouped(t, 'added')} "
        f"ON CONFLICT ({_columns(t)}) DO UPDATE SET n = {t}.n + EXCLUDED.n"
        for t in TALLIES
    ]
    removed = [
        f"UPDATE {t} t SET n = t.n - r.n FROM ({_grouped(t, 'removed')}) r "
        f"WHERE {' AND '.join(f't.{c} = r.{c}' for c in TALLIES[t])}"
        for t in TALLIES
    ]
    moved = [
        *(_remove_one(t, "OLD.", POSTGRES_YEAR) for t in TALLIES),
        *(_add_one(t, "NEW.", POSTGRES_YEAR) for t in TALLIES),
    ]
    return [
        _function("action_tally_added", added),
        _function("action_tally_removed", removed),
        _function("action_tally_moved", moved),
        _function("action_tally_cleared", [f"DELETE FROM {t}" for t in TALLIES]),
        *POSTGRES_TRIGGERS_BACKWARDS,
        "CREATE TRIGGER action_tally_insert AFTER INSERT ON action_item REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION action_tally_added()",
        "CREATE TRIGGER action_tally_delete AFTER DELETE ON action_item REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT EXECUTE FUNCTION action_tally_removed()",
        f"CREATE TRIGGER action_tally_update AFTER UPDATE OF {WATCHED} ON action_item FOR EACH ROW "
        "WHEN (OLD.department IS DISTINCT FROM NEW.department OR OLD.measure IS DISTINCT FROM NEW.measure "
        "OR OLD.status IS DISTINCT FROM NEW.status "
        "OR date_part('year', OLD.created_on) IS DISTINCT FROM date_part('year', NEW.created_on)) "
        "EXECUTE FUNCTION action_tally_moved()",
        "CREATE TRIGGER action_tally_truncate AFTER TRUNCATE ON action_item "
        "FOR EACH STATEMENT EXECUTE FUNCTION action_tally_cleared()",
    ]


POSTGRES_TRIGGERS_BACKWARDS = [
    f"DROP TRIGGER IF EXISTS action_tally_{event} ON action_item"
    for event in ("insert", "delete", "update", "truncate")
]
POSTGRES_BACKWARDS = [
    *POSTGRES_TRIGGERS_BACKWARDS,
    *(f"DROP FUNCTION IF EXISTS action_tally_{kind}()" for kind in ("added", "removed", "moved", "cleared")),
]

# -- both --------------------------------------------------------------------------------------

INDEXES = [
    *(f'CREATE UNIQUE INDEX IF NOT EXISTS "{t}_key" ON "{t}" ({_columns(t)})' for t in TALLIES),
    # The overdue count reads the open items only, however long the history of closed ones; `status`
    # is a column too, or SQLite reads each row to check the index's own condition.
    'CREATE INDEX IF NOT EXISTS "action_item_open_due" ON "action_item" ("status", "due_on", "department", '
    "\"measure\", \"created_on\") WHERE status IN ('a_faire', 'en_cours', 'bloque')",
]
INDEXES_BACKWARDS = [
    'DROP INDEX IF EXISTS "action_item_open_due"',
    *(f'DROP INDEX IF EXISTS "{t}_key"' for t in TALLIES),
]


def _fill(year: str, count: str) -> list[str]:
    statements = []
    for t in TALLIES:
        statements.append(f"DELETE FROM {t}")  # a re-run starts over rather than doubling the counts
        statements.append(f"INSERT INTO {t} ({_columns(t)}, n) {_grouped(t, 'action_item', year, count)}")
    return statements


async def _run(statements: list[str], engine: Engine) -> None:
    for statement in statements:
        await engine.run_ddl(statement)


async def create_tally(engine: Engine | None = None) -> None:
    """Piccolo calls it without arguments (the configured engine); tests may pass theirs."""
    engine = engine or engine_finder()
    assert engine is not None
    if engine.engine_type == "sqlite":
        await _run([*INDEXES, *_sqlite_statements(), *_fill(SQLITE_YEAR, "COUNT(*)")], engine)
    else:
        await _run([*INDEXES, *_postgres_statements(), *_fill(POSTGRES_YEAR, "COUNT(*)::integer")], engine)


async def drop_tally(engine: Engine | None = None) -> None:
    engine = engine or engine_finder()
    assert engine is not None
    backwards = SQLITE_BACKWARDS if engine.engine_type == "sqlite" else POSTGRES_BACKWARDS
    await _run([*backwards, *INDEXES_BACKWARDS], engine)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="actions", description=DESCRIPTION)
    manager.add_raw(create_tally)
    manager.add_raw_backwards(drop_tally)
    return manager
