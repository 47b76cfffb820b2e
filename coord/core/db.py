"""Database engine selection and transactions, the same code on SQLite and PostgreSQL.

Tables resolve their engine through `coord.piccolo_conf.DB` on first use; `use_engine` rebinds every
table at once (the test suite runs the same tests on both engines in one process).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from coord.core.settings import Settings

SQLITE_TIMEOUT_SECONDS = 30


def engine_for(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # The timeout makes a second writer wait for the lock instead of failing at once.
        return SQLiteEngine(path=str(path), timeout=SQLITE_TIMEOUT_SECONDS)
    if settings.database_url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": settings.database_url})
    raise ValueError(f"unsupported database URL {settings.database_url!r}: use sqlite:///path or postgresql://...")


_engine: Engine | None = None


def all_tables() -> list[type[Table]]:
    from coord.piccolo_conf import APP_REGISTRY

    return [table for config in APP_REGISTRY.app_configs.values() for table in config.table_classes]


def use_engine(engine: Engine) -> None:
    """Bind every Coord table to `engine`."""
    global _engine
    _engine = engine
    for table in all_tables():
        table._meta.db = engine


def current_engine() -> Engine:
    if _engine is None:
        from coord.piccolo_conf import DB

        use_engine(DB)
    assert _engine is not None
    return _engine


def is_sqlite(engine: Engine | None = None) -> bool:
    return isinstance(engine or current_engine(), SQLiteEngine)


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A write transaction. On SQLite it is IMMEDIATE: a read-then-write transaction opened as
    DEFERRED fails with "database is locked" as soon as two writers meet."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    else:
        async with engine.transaction() as txn:
            yield txn


async def prepare_sqlite(engine: Engine) -> None:
    """WAL lets readers go on while one writer writes; the setting is stored in the file."""
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")


# SQLite's LIKE is already case-insensitive for ASCII, which is what Piccolo falls back to.
warnings.filterwarnings("ignore", message=".*SQLite doesn't support ILIKE.*")
