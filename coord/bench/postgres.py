"""The benchmark's data on PostgreSQL: the SQLite file the generator filled, copied row for row with COPY.

Both engines are then measured on the same rows. The target's schema is built by `coord migrate`, as in
a deployment; every table is emptied (migrations may seed some), then filled from the SQLite table of the
same name, each value converted to the PostgreSQL column's type (SQLite keeps timestamps and dates as
text, booleans as 0/1, JSON as text). Triggers do not fire during the copy (`session_replication_role =
replica`, which also lifts the foreign-key checks, so the order of the tables does not matter): the SQLite
file already holds what they compute, counters and the search index (its FTS5 table there) included.
The indexes that back no constraint are dropped for the copy and built again at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from coord.core.settings import ROOT

SERVER = "postgres://postgres@127.0.0.1:5432"
BOOKKEEPING = {"migration"}  # Piccolo's record of the migrations run: the target keeps its own
# PostgreSQL tables filled from a SQLite table of another name: the search index, an FTS5 table there
# with the same columns (PostgreSQL computes the tsvector column itself).
SOURCES = {"search_document": "search_index"}
BATCH_ROWS = 5_000  # rows read from SQLite at a time: a table is streamed, never held whole in memory
INDEX_MEMORY = "256MB"  # for building the indexes after the copy (the server's default is 64MB)
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _timestamptz(value: Any) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)  # Coord writes UTC


def _timestamp(value: Any) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _bool(value: Any) -> bool:
    return value.lower() in ("1", "t", "true") if isinstance(value, str) else bool(value)


def _json(value: Any) -> str:
    # A declared JSON column has numeric affinity in SQLite: a document like `3` comes back as a number.
    return value if isinstance(value, str) else json.dumps(value)


def _bytes(value: Any) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timestamptz": _timestamptz,
    "timestamp": _timestamp,
    "date": _date,
    "bool": _bool,
    "json": _json,
    "jsonb": _json,
    "bytea": _bytes,
    "int2": int,
    "int4": int,
    "int8": int,
    "float4": float,
    "float8": float,
    "numeric": lambda v: Decimal(str(v)),
}
# Other types go as they are: SQLite's text affinity already stores text columns as strings (a call
# per value would cost a second on the largest table), and asyncpg takes a uuid as a string.


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_name(database: str) -> str:
    if not _NAME.fullmatch(database):
        raise ValueError(f"database name {database!r}: lowercase letters, digits and underscores only")
    return database


async def _admin(server: str, *statements: str) -> None:
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def drop_database(database: str, server: str = SERVER) -> None:
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{_check_name(database)}" WITH (FORCE)'))


def _migrate(url: str) -> None:
    env = {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    result = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"coord migrate failed on {url}:\n{result.stderr}")


def _records(cursor: sqlite3.Cursor, types: list[str]) -> Iterator[tuple[Any, ...]]:
    converted = [(i, CONVERTERS[t]) for i, t in enumerate(types) if t in CONVERTERS]
    while batch := cursor.fetchmany(BATCH_ROWS):
        if not converted:
            yield from batch
            continue
        for row in batch:
            values = list(row)
            for i, convert in converted:
                if values[i] is not None:
                    values[i] = convert(values[i])
            yield tuple(values)


async def _target_columns(connection: asyncpg.Connection) -> dict[str, list[tuple[str, str]]]:
    """Every table of the target and its columns with their types, generated columns left out."""
    rows = await connection.fetch(
        "SELECT c.table_name, c.column_name, c.udt_name FROM information_schema.columns c"
        " JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append((row["column_name"], row["udt_name"]))
    return {name: columns for name, columns in tables.items() if name not in BOOKKEEPING}


def _source_columns(source: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in source.execute(f"PRAGMA table_info({_quoted(table)})")}


async def _reset_sequences(connection: asyncpg.Connection) -> None:
    """Every serial or identity sequence continues after the largest id copied."""
    serials = await connection.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
    )
    for row in serials:
        table, column = row["table_name"], row["column_name"]
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX("  # noqa: S608 (the schema's own names)
            f"{_quoted(column)}), 0) + 1, false) FROM {_quoted(table)}",
            _quoted(table),
            column,
        )


async def _drop_plain_indexes(connection: asyncpg.Connection, tables: list[str]) -> list[str]:
    """Drop the indexes that back no constraint (and are not unique, so no foreign key needs them);
    returns their definitions. Building an index once after the copy is several times faster than
    updating it row by row (the action items have sixteen)."""
    rows = await connection.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        " WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1::text[]) AND NOT i.indisunique"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        tables,
    )
    for row in rows:
        await connection.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


async def _copy(source: sqlite3.Connection, url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        tables = await _target_columns(connection)
        async with connection.transaction():
            # Per connection and transaction: triggers (and foreign-key checks) stay off for the copy only.
            await connection.execute("SET LOCAL session_replication_role = replica")
            await connection.execute("TRUNCATE " + ", ".join(map(_quoted, tables)))
            indexes = await _drop_plain_indexes(connection, list(tables))
            for table, columns in tables.items():
                origin = SOURCES.get(table, table)
                names = [name for name, _ in columns]
                found = _source_columns(source, origin)
                if found != set(names):  # the engines' schemas differ: a copy would lose or invent values
                    raise RuntimeError(
                        f"{table}: columns {sorted(set(names) - found)} missing from SQLite's {origin}, "
                        f"{sorted(found - set(names))} missing from PostgreSQL"
                    )
                select = f"SELECT {', '.join(map(_quoted, names))} FROM {_quoted(origin)}"  # noqa: S608 (the schema's)
                cursor = source.execute(select)
                records = _records(cursor, [t for _, t in columns])
                await connection.copy_records_to_table(table, records=records, columns=names)
            await connection.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
            for definition in indexes:
                await connection.execute(definition)
            await _reset_sequences(connection)
        # Statistics for the planner, and the visibility map a settled database has (index-only scans).
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()


def prepare_postgres(sqlite_path: Path, database: str, *, server: str = SERVER) -> tuple[str, float]:
    """A database `database` on `server` (dropped first if it exists) holding every row of `sqlite_path`,
    a file `coord migrate` prepared and the generator filled. Returns its URL and the seconds it took."""
    started = time.perf_counter()
    name = _check_name(database)
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    url = f"{server}/{name}"
    _migrate(url)
    source = sqlite3.connect(f"{sqlite_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        asyncio.run(_copy(source, url))
    finally:
        source.close()
    return url, time.perf_counter() - started
