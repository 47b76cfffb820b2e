"""The benchmark's PostgreSQL database holds the same rows as the SQLite file the generator filled, with
typed values, sequences that go on after the copied ids, and a service that serves it."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx

from coord.bench.net import free_port
from coord.bench.postgres import BOOKKEEPING, SOURCES, drop_database, prepare_postgres
from tests.conftest import PG_ADMIN_DSN, ROOT, run
from tests.ops.conftest import BenchDatabases

SERVER = PG_ADMIN_DSN.rsplit("/", 1)[0]
PLAIN_TYPES = {"int2", "int4", "int8", "text", "varchar"}  # the same value on both engines, compared as is


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf", **extra}


def _coord(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args], cwd=ROOT, env=_env(url), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


async def _tables(url: str) -> dict[str, dict[str, Any]]:
    """Every copied table of the PostgreSQL database: its plain columns and their rows, sorted."""
    connection = await asyncpg.connect(url)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, udt_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position"
        )
        plain: dict[str, list[str]] = {}
        for c in columns:
            plain.setdefault(c["table_name"], [])
            if c["udt_name"] in PLAIN_TYPES:
                plain[c["table_name"]].append(c["column_name"])
        found = {}
        for table, names in plain.items():
            if table in BOOKKEEPING:
                continue
            selected = ", ".join(f'"{n}"' for n in names)
            rows = await connection.fetch(f'SELECT {selected} FROM "{table}"')
            found[table] = {"columns": names, "rows": Counter(tuple(r) for r in rows)}
        return found
    finally:
        await connection.close()


async def _sequences_behind(url: str) -> list[str]:
    """The tables whose id sequence would hand out an id already copied."""
    connection = await asyncpg.connect(url)
    try:
        serials = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_default LIKE 'nextval(%'"
        )
        behind = []
        for s in serials:
            table, column = s["table_name"], s["column_name"]
            largest = await connection.fetchval(f'SELECT max("{column}") FROM "{table}"')
            following = await connection.fetchval("SELECT nextval(pg_get_serial_sequence($1, $2))", table, column)
            if largest is not None and following <= largest:
                behind.append(table)
        return behind
    finally:
        await connection.close()


async def _fetchrow(url: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchrow(query, *args)
    finally:
        await connection.close()


def _get_when_up(url: str, **kwargs: Any) -> httpx.Response:
    for _ in range(150):
        try:
            return httpx.get(url, timeout=5, **kwargs)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"no answer from {url}")


def test_the_benchmark_data_copied_to_postgresql_is_the_same_and_serves(bench_databases: BenchDatabases):
    path, counts = bench_databases.path(), bench_databases.counts  # read only: the copy is what changes
    database = f"coord_bench_copy_{os.getpid()}"
    source = sqlite3.connect(path)
    try:
        url, seconds = prepare_postgres(path, database, server=SERVER)
        assert seconds > 0

        # Every row of every table, with the values both engines store alike (ids, references, text, counters).
        copied = run(_tables(url))
        for table, content in copied.items():
            origin = SOURCES.get(table, table)
            selected = ", ".join(f'"{n}"' for n in content["columns"])
            expected = Counter(source.execute(f'SELECT {selected} FROM "{origin}"').fetchall())
            assert content["rows"] == expected, table
        assert copied["meeting"]["rows"].total() == counts["meetings"] > 0
        assert copied["invitation"]["rows"].total() == counts["invitations"] > 0
        assert copied["search_document"]["rows"]  # the search index came along, triggers off

        # Typed values: a meeting's start is the same instant, timezone-aware; booleans, dates and JSON.
        meeting_id, starts, urgent = source.execute("SELECT id, starts_at, urgent FROM meeting LIMIT 1").fetchone()
        row = run(_fetchrow(url, "SELECT starts_at, urgent FROM meeting WHERE id = $1", meeting_id))
        assert row["starts_at"].tzinfo is not None
        assert row["starts_at"] == dt.datetime.fromisoformat(starts)
        assert row["urgent"] is bool(urgent)
        item_id, due = source.execute("SELECT id, due_on FROM action_item WHERE due_on IS NOT NULL LIMIT 1").fetchone()
        assert run(_fetchrow(url, "SELECT due_on FROM action_item WHERE id = $1", item_id))["due_on"] == (
            dt.date.fromisoformat(due)
        )
        entry_id, after = source.execute("SELECT id, after FROM audit_entry WHERE after IS NOT NULL").fetchone()
        copied_after = run(_fetchrow(url, "SELECT after FROM audit_entry WHERE id = $1", entry_id))["after"]
        assert json.loads(copied_after) == json.loads(after)

        # The sequences go on after the copied ids, and the triggers are on again for everyone else:
        # a new partner gets a fresh id and enters the search index.
        assert run(_sequences_behind(url)) == []
        before = run(_fetchrow(url, "SELECT max(id) AS id FROM organisation"))["id"]
        created = run(
            _fetchrow(
                url, "INSERT INTO organisation (department, name, kind) VALUES (1, 'Nouvelle', 'autre') RETURNING id"
            )
        )
        assert created["id"] > before
        indexed = run(
            _fetchrow(
                url, "SELECT title FROM search_document WHERE kind = 'organisation' AND object_id = $1", created["id"]
            )
        )
        assert indexed["title"].startswith("Nouvelle")

        # The service serves the copy: the benchmark's account reads a meeting and its invitations.
        token = _coord(url, "token", "create", "--email", "bench@coord.test")
        port = free_port()
        env = _env(url, COORD_SCHEDULER_ENABLED="false", COORD_BASE_URL=f"http://127.0.0.1:{port}")
        server = subprocess.Popen(
            [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            response = _get_when_up(
                f"http://127.0.0.1:{port}/api/meetings/{meeting_id}", headers={"Authorization": f"Bearer {token}"}
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        assert response.status_code == 200, response.text
        detail = response.json()
        assert dt.datetime.fromisoformat(detail["meeting"]["starts_at"]) == dt.datetime.fromisoformat(starts)
        invited = source.execute("SELECT count(*) FROM invitation WHERE meeting = ?", (meeting_id,)).fetchone()[0]
        assert len(detail["invitations"]) == invited > 0
    finally:
        source.close()
        drop_database(database, server=SERVER)
