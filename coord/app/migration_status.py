"""Which migrations `coord migrate` would apply, without applying anything (`coord migrate --check`).

The migrations are found as Piccolo finds them (`piccolo migrations check`: every app of the Piccolo
configuration, every module of its `piccolo_migrations/` with an `ID`), and compared with the rows of
Piccolo's `migration` table. Unlike Piccolo's check, nothing is written: the `migration` table is not
created when missing (every migration is then pending) and a SQLite file that does not exist is not
created either. The hand-written steps of Coord's migrations (unique indexes, `coord.core.migrations`)
live inside migration modules, so they are pending exactly when their migration is.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from pathlib import Path

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine

from coord.core.db import current_engine

# Piccolo's own table of applied migrations (app_name, name = the migration's ID).
assert Migration._meta.tablename == "migration"


@dataclass(frozen=True)
class PendingMigration:
    app: str
    id: str
    description: str = ""

    def __str__(self) -> str:
        return f"{self.app} {self.id}"


def known_migrations() -> list[PendingMigration]:
    """Every migration of every app, in the order `coord migrate` applies them (apps, then ids)."""
    manager = BaseMigrationManager()
    found = []
    for app_module in manager.get_app_modules():
        config = app_module.APP_CONFIG
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        for migration_id in manager.get_migration_ids(modules):
            description = str(getattr(modules[migration_id], "DESCRIPTION", "") or "")
            found.append(PendingMigration(config.app_name, migration_id, description))
    return found


async def _has_migration_table(engine: Engine) -> bool:
    if engine.engine_type == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'migration'"
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = 'migration'"
        )
    return bool(await engine.run_ddl(sql))


def _sqlite_file_missing(engine: Engine) -> bool:
    path = getattr(engine, "path", None)
    return engine.engine_type == "sqlite" and bool(path) and path != ":memory:" and not Path(str(path)).exists()


async def applied_migrations(engine: Engine) -> set[tuple[str, str]]:
    """(app, id) of the migrations recorded as applied; none on a database never migrated."""
    if _sqlite_file_missing(engine):
        return set()  # opening it would create the file
    if not await _has_migration_table(engine):
        return set()
    rows = await engine.run_ddl('SELECT app_name, name FROM "migration"')
    return {(row["app_name"], row["name"]) for row in rows}


async def pending_migrations(engine: Engine | None = None) -> list[PendingMigration]:
    """The migrations `coord migrate` would apply to `engine`'s database (default: the configured one)."""
    applied = await applied_migrations(engine or current_engine())
    return [m for m in known_migrations() if (m.app, m.id) not in applied]


def describe(pending: list[PendingMigration]) -> str:
    """The French report of `coord migrate --check`."""
    if not pending:
        return "Schéma à jour : aucune migration en attente."
    lines = [f"{len(pending)} migration(s) en attente (appliquez-les avec `coord migrate`) :"]
    width = max(len(m.app) for m in pending)
    lines += [f"  {m.app:{width}}  {m.id}{'  ' + m.description if m.description else ''}" for m in pending]
    return "\n".join(lines)


def cmd_migrate_check(args: argparse.Namespace) -> None:
    """`coord migrate --check`: exit 0 when the schema is current, 1 (and the list, or why the database
    could not be read) otherwise."""
    try:
        pending = asyncio.run(pending_migrations())
    except Exception as exc:  # unreachable server, unreadable file: say so, without a traceback
        raise SystemExit(f"Impossible de lire l'état des migrations : {type(exc).__name__} : {exc}") from exc
    print(describe(pending))
    if pending:
        raise SystemExit(1)
