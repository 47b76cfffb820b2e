"""Helpers for hand-written steps in Piccolo migrations.

Composite unique constraints are created as unique indexes: SQLite cannot `ALTER TABLE ... ADD
CONSTRAINT`, and a unique index enforces the same rule on both engines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.engine import engine_finder


def _ddl(sql: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(sql)

    return run


def create_index(
    name: str, table: str, columns: list[str], *, unique: bool = False, where: str = ""
) -> Callable[[], Awaitable[None]]:
    cols = ", ".join(f'"{c}"' for c in columns)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    suffix = f" WHERE {where}" if where else ""
    return _ddl(f'CREATE {kind} IF NOT EXISTS "{name}" ON "{table}" ({cols}){suffix}')


def drop_index(name: str) -> Callable[[], Awaitable[None]]:
    return _ddl(f'DROP INDEX IF EXISTS "{name}"')
