"""A short-lived cache for the national read models (the tables of every département at a glance).

Those tables aggregate the whole history (100,000 action items, every département's cycle) and cost
tens of milliseconds; the people reading them change little between two looks. An entry is reused
only while the *change stamp* it was computed under is still the current one and for at most `ttl`
seconds. The stamp is read before the computation, so a change committed during it gives a new stamp
and the next reader recomputes. The stamp is the last audit entry (every change in Coord is audited)
plus what the caller adds (the scheduler's proposals, which no one audits); the TTL bounds what the
stamp cannot see: time-derived states, and on PostgreSQL a transaction that took an audit id before
a faster one committed. Each process has its own cache; instances agree within `ttl`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from piccolo.querystring import QueryString
from piccolo.table import Table

from coord.core.db import current_engine

T = TypeVar("T")


@dataclass
class _Entry:
    stamp: tuple[Any, ...]
    expires: float
    value: Any


class ReadCache:
    """Results keyed by what they were computed from; callers must treat them as read-only."""

    def __init__(self, ttl: float = 60.0, size: int = 64, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]], *, also: tuple[type[Table], ...] = ()) -> T:
        """The cached value of `key`, or `compute()`'s, stored under the current change stamp. `also`
        names tables whose newest id joins the stamp (tables written without an audit entry)."""
        stamp = await change_stamp(also)
        entry = self._entries.get(key)
        if entry is not None and entry.stamp == stamp and entry.expires > self.clock():
            self._entries.move_to_end(key)
            return entry.value
        value = await compute()
        self._entries[key] = _Entry(stamp, self.clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()


async def change_stamp(tables: tuple[type[Table], ...] = ()) -> tuple[Any, ...]:
    """The newest audit entry's id and each of `tables`' newest id, in one indexed query."""
    names = ("audit_entry", *(table._meta.tablename for table in tables))
    # Table names from our own Table classes, never from input.
    columns = ", ".join(f'(SELECT max(id) FROM "{name}") AS s{i}' for i, name in enumerate(names))  # noqa: S608
    sql = f"SELECT {columns}"
    rows = await current_engine().run_querystring(QueryString(sql))
    return tuple(rows[0].values()) if rows else ()


NATIONAL = ReadCache()
