"""The committees, organisations, contacts and pilot sites of each département, counted by the database.

Triggers on the four tables move `department_tally` in the statement that writes their rows, so every
write path (service, import, erasure, the benchmark generator, a manual SQL fix) keeps it exact, on
both engines, inside the writer's transaction. Every row counts, active or not, as the list of
départements always counted them. The rows that existed before this migration are counted at the
end. The SQL is frozen here on purpose: counting something else is a new migration.

- SQLite: row triggers (an UPSERT on insert, a decrement on delete, both on a change of département).
- PostgreSQL: statement triggers with transition tables for inserts and deletes (a bulk load or a
  cascade costs one grouped statement), a row trigger for a change of département, a TRUNCATE trigger.

A département keeps its row at zero when its last row of a kind goes: rows are never deleted.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

ID = "2026-12-03T08:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "committees, organisations, contacts and pilot sites counted per département, by triggers"

SUBJECTS = ("committee", "organisation", "contact", "pilot_site")  # the counted tables, and their subject
KEY = "(department, subject)"


def _sqlite(table: str) -> list[str]:
    add = (
        f"INSERT INTO department_tally (department, subject, n) VALUES (new.department, '{table}', 1) "
        f"ON CONFLICT {KEY} DO UPDATE SET n = n + 1"
    )
    remove = f"UPDATE department_tally SET n = n - 1 WHERE department = old.department AND subject = '{table}'"
    return [
        f'CREATE TRIGGER IF NOT EXISTS department_tally_{table}_insert AFTER INSERT ON "{table}" BEGIN {add}; END',
        f'CREATE TRIGGER IF NOT EXISTS department_tally_{table}_delete AFTER DELETE ON "{table}" BEGIN {remove}; END',
        f'CREATE TRIGGER IF NOT EXISTS department_tally_{table}_update AFTER UPDATE OF department ON "{table}" '
        f"WHEN old.department IS NOT new.department BEGIN {remove}; {add}; END",
    ]


def _sqlite_backwards(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS department_tally_{table}_{event}" for event in ("insert", "delete", "update")]


# The subject is the trigger's argument (TG_ARGV[0]): one function per event serves the four tables.
POSTGRES_FUNCTIONS = [
    f"""
    CREATE OR REPLACE FUNCTION department_tally_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO department_tally (department, subject, n)
        SELECT department, TG_ARGV[0], COUNT(*)::integer FROM added GROUP BY department
        ON CONFLICT {KEY} DO UPDATE SET n = department_tally.n + EXCLUDED.n;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION department_tally_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE department_tally t SET n = t.n - r.n
        FROM (SELECT department, COUNT(*)::integer AS n FROM removed GROUP BY department) r
        WHERE t.department = r.department AND t.subject = TG_ARGV[0];
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION department_tally_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE department_tally SET n = n - 1 WHERE department = OLD.department AND subject = TG_ARGV[0];
        INSERT INTO department_tally (department, subject, n) VALUES (NEW.department, TG_ARGV[0], 1)
        ON CONFLICT {KEY} DO UPDATE SET n = department_tally.n + 1;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION department_tally_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM department_tally WHERE subject = TG_ARGV[0];
        RETURN NULL;
    END
    $$
    """,
]


def _postgres(table: str) -> list[str]:
    return [
        *_postgres_backwards(table),
        f'CREATE TRIGGER department_tally_insert AFTER INSERT ON "{table}" REFERENCING NEW TABLE AS added '
        f"FOR EACH STATEMENT EXECUTE FUNCTION department_tally_added('{table}')",
        f'CREATE TRIGGER department_tally_delete AFTER DELETE ON "{table}" REFERENCING OLD TABLE AS removed '
        f"FOR EACH STATEMENT EXECUTE FUNCTION department_tally_removed('{table}')",
        f'CREATE TRIGGER department_tally_update AFTER UPDATE OF department ON "{table}" FOR EACH ROW '
        f"WHEN (OLD.department IS DISTINCT FROM NEW.department) EXECUTE FUNCTION department_tally_moved('{table}')",
        f'CREATE TRIGGER department_tally_truncate AFTER TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION department_tally_cleared('{table}')",
    ]


def _postgres_backwards(table: str) -> list[str]:
    return [
        f'DROP TRIGGER IF EXISTS department_tally_{event} ON "{table}"'
        for event in ("insert", "delete", "update", "truncate")
    ]


POSTGRES_FUNCTIONS_BACKWARDS = [
    f"DROP FUNCTION IF EXISTS department_tally_{kind}()" for kind in ("added", "removed", "moved", "cleared")
]

INDEX = 'CREATE UNIQUE INDEX IF NOT EXISTS "department_tally_key" ON "department_tally" ("department", "subject")'


def _fill() -> list[str]:
    statements = ["DELETE FROM department_tally"]  # a re-run starts over rather than doubling the counts
    for subject in SUBJECTS:
        statements.append(
            f"INSERT INTO department_tally (department, subject, n) "
            f"SELECT department, '{subject}', COUNT(*) FROM \"{subject}\" GROUP BY department"
        )
    return statements


async def _run(statements: list[str], engine: Engine) -> None:
    for statement in statements:
        await engine.run_ddl(statement)


async def create_tally(engine: Engine | None = None) -> None:
    """Piccolo calls it without arguments (the configured engine); tests may pass theirs."""
    engine = engine or engine_finder()
    assert engine is not None
    statements = [INDEX]
    if engine.engine_type == "sqlite":
        statements += [s for subject in SUBJECTS for s in _sqlite(subject)]
    else:
        statements += POSTGRES_FUNCTIONS
        statements += [s for subject in SUBJECTS for s in _postgres(subject)]
    await _run([*statements, *_fill()], engine)


async def drop_tally(engine: Engine | None = None) -> None:
    engine = engine or engine_finder()
    assert engine is not None
    if engine.engine_type == "sqlite":
        statements = [s for table in SUBJECTS for s in _sqlite_backwards(table)]
    else:
        statements = [s for table in SUBJECTS for s in _postgres_backwards(table)] + POSTGRES_FUNCTIONS_BACKWARDS
    await _run([*statements, 'DROP INDEX IF EXISTS "department_tally_key"'], engine)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="overview", description=DESCRIPTION)
    manager.add_raw(create_tally)
    manager.add_raw_backwards(drop_tally)
    return manager
