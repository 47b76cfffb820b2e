"""Database engine selection and transactions, the same code on SQLite and PostgreSQL.

Tables resolve their engine through the Piccolo configuration (`PICCOLO_CONF`) on first use; `use_engine` rebinds every
table at once (the test suite runs the same tests on both engines in one process).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from coord.core.private_files import private_dir, secure_sqlite
from coord.core.settings import Settings

SQLITE_TIMEOUT_SECONDS = 30
SQLITE_POOL_SIZE = 8


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a new connection (and a new thread) for every query outside a
    transaction, which costs milliseconds per query. This keeps a few connections open and reuses
    them for those single statements; transactions still get a connection of their own.

    The pool is a plain list under a thread lock rather than an asyncio queue, because the same
    engine is used from several event loops (web server, test client, CLI)."""

    def __init__(self, *args: Any, pool_size: int = SQLITE_POOL_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[aiosqlite.Connection] = []
        self._lock = threading.Lock()
        self._pool_size = pool_size

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True  # an idle pooled connection must not keep the process alive
        await connection
        await connection.execute("PRAGMA foreign_keys = 1")
        connection.row_factory = dict_factory  # type: ignore[assignment]
        return connection

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = await self._open()
        try:
            # One trip to the connection's thread for a read (no transaction to commit), two for a
            # write; every row (RETURNING's included) is fetched before the commit.
            rows = await connection.execute_fetchall(query, args or [])
            if connection.in_transaction:
                await connection.commit()
        except BaseException:
            await connection.close()
            raise
        with self._lock:
            keep = len(self._idle) < self._pool_size
            if keep:
                self._idle.append(connection)
        if not keep:
            await connection.close()
        return rows

    async def close_pool(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


def engine_for(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        private_dir(path.parent)  # 0700 if created here (coord.core.private_files)
        # The timeout makes a second writer wait for the lock instead of failing at once.
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_TIMEOUT_SECONDS)
    if settings.database_url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": settings.database_url})
    raise ValueError(f"unsupported database URL {settings.database_url!r}: use sqlite:///path or postgresql://...")


_engine: Engine | None = None


def all_tables() -> list[type[Table]]:
    """Every table of the apps registered in the Piccolo configuration (the composition root's)."""
    registry = Finder().get_app_registry()
    return [table for config in registry.app_configs.values() for table in config.table_classes]


def use_engine(engine: Engine) -> None:
    """Bind every Coord table to `engine`."""
    global _engine
    _engine = engine
    for table in all_tables():
        table._meta.db = engine


def current_engine() -> Engine:
    if _engine is None:
        use_engine(engine_finder())
    assert _engine is not None
    return _engine


def is_unique_violation(exc: BaseException) -> bool:
    """Whether `exc` is a unique index refusing a row, on either engine."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc).upper()
    return isinstance(exc, asyncpg.UniqueViolationError)


def is_sqlite(engine: Engine | None = None) -> bool:
    return isinstance(engine or current_engine(), SQLiteEngine)


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A write transaction. On SQLite it is IMMEDIATE: a read-then-write transaction opened as
    DEFERRED fails with "database is locked" as soon as two writers meet."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        txn = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        txn = engine.transaction()
    try:
        entered = await txn.__aenter__()
    except BaseException:
        await _give_back(txn)
        raise
    try:
        yield entered
    except BaseException as exc:
        if not await _exit(txn, exc):
            raise
    else:
        await _exit(txn, None)


# Piccolo's transaction takes its connection, awaits BEGIN, and at the end awaits COMMIT or ROLLBACK
# before giving the connection back: a task cancelled in one of those waits (a worker stopping) never
# gave it back. asyncpg's pool then never closed (it waits for every connection), and an aiosqlite
# connection's thread kept the process alive. `_exit` and `_give_back` close that gap.


async def _exit(txn: Any, exc: BaseException | None) -> bool:
    try:
        return bool(await txn.__aexit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None))
    except BaseException:
        if getattr(txn, "context", None) is not None and txn.engine.current_transaction.get() is txn:
            txn.engine.current_transaction.reset(txn.context)  # the task may go on without it
        await _give_back(txn)
        raise


async def _give_back(txn: Any) -> None:
    """Return the connection of a transaction that could not end normally (its database side is
    rolled back: asyncpg's reset, or the closed connection)."""
    connection = getattr(txn, "connection", None)
    if connection is None or getattr(txn, "_parent", None) is not None:
        return
    pool = getattr(txn.engine, "pool", None)
    # Shielded: the cancellation that interrupted the transaction must not interrupt this too. An
    # error means the connection is already on its way back (a release the cancellation cut) or broken.
    with contextlib.suppress(Exception):
        if pool is not None:
            await asyncio.shield(pool.release(connection))  # a no-op for a connection already given back
        else:
            await asyncio.shield(connection.close())


async def prepare_sqlite(engine: Engine) -> None:
    """WAL lets readers go on while one writer writes; the setting is stored in the file.

    The file (created here if missing) and its -wal/-shm companions are made 0600 first: this runs
    when the service starts and before `coord migrate`."""
    if isinstance(engine, SQLiteEngine):
        if engine.path != ":memory:" and not str(engine.path).startswith("file:"):
            secure_sqlite(Path(engine.path))
        await engine.run_ddl("PRAGMA journal_mode=WAL")


# SQLite's LIKE is already case-insensitive for ASCII, which is what Piccolo falls back to.
warnings.filterwarnings("ignore", message=".*SQLite doesn't support ILIKE.*")
