"""One scan at a time across instances: a PostgreSQL advisory lock per tick.

The lock is transaction-level (`pg_try_advisory_xact_lock`) on a connection of its own, opened for the
tick and kept in an open transaction until the tick ends: a pooled connection would give a
session-level lock back to the pool with the lock still held, and the tick's own writes use many short
transactions. If the worker dies, the connection drops and PostgreSQL releases the lock.

The lock only saves work: correctness comes from the outbox's unique dedupe keys and the unique
proposal index. SQLite has one writer and Coord supports one worker there (see README).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from coord.core.db import current_engine

_NAMESPACE = 0x436F6F72  # "Coor": keeps Coord's keys apart from other users of the database


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name`."""
    return (_NAMESPACE << 32 | zlib.crc32(name.encode())) - (1 << 63)


@asynccontextmanager
async def tick_lock(name: str) -> AsyncIterator[bool]:
    """Yield True if this process may run the tick `name` now, False if another instance runs it."""
    engine = current_engine()
    if not isinstance(engine, PostgresEngine):
        yield True
        return
    connection = await asyncpg.connect(engine.config["dsn"])
    try:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield bool(await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", lock_key(name)))
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
