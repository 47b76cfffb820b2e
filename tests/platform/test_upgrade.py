"""Nothing is lost on upgrade: a database made by the previous release (its code, its migrations, its
demo data) is upgraded by today's `coord migrate` with every row intact, on both engines."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENGINES, PG_ADMIN_DSN, ROOT, _pg_admin, run

# The last release before the code moved into coord/app, coord/access, coord/ics, coord/pilot_sites...
PREVIOUS_RELEASE = "d1e66d7"

PREVIOUS_RELEASE_SETUP = """
import asyncio
from coord.cli import migrate
from coord.demo import load_demo
from coord.reference import load_all

async def main():
    await migrate()
    await load_all()
    await load_demo()

asyncio.run(main())
"""


def _previous_release(tmp_path: Path) -> Path:
    """The previous release's `coord` package, extracted from the repository's history."""
    shallow = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
    ).stdout.strip()
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", PREVIOUS_RELEASE + "^{commit}"]).returncode == 0
    if not known and shallow == "true":
        pytest.skip(f"shallow clone: the previous release {PREVIOUS_RELEASE} is not in this clone's history")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE, "coord", "conventions", "templates"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    target = tmp_path / "previous"
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _run_python(code: str, *, url: str, pythonpath: Path | None, cwd: Path) -> None:
    env = {**os.environ, "COORD_DATABASE_URL": url, "COORD_DEMO_MODE": "false"}
    if pythonpath is None:
        env["PICCOLO_CONF"] = "coord.app.piccolo_conf"
        env.pop("PYTHONPATH", None)
    else:
        env["PICCOLO_CONF"] = "coord.piccolo_conf"
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except the migration log, in primary-key order."""
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(url.removeprefix("sqlite:///")) as conn:
            names = [
                r[0]
                for r in await conn.execute_fetchall(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            return {
                name: [tuple(r) for r in await conn.execute_fetchall(f'SELECT * FROM "{name}" ORDER BY 1')]
                for name in names
                if name != "migration"
            }
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        names = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            name: [tuple(r.values()) for r in await conn.fetch(f'SELECT * FROM "{name}" ORDER BY 1')]
            for name in names
            if name != "migration"
        }
    finally:
        await conn.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_database_of_the_previous_release_upgrades_with_every_row_intact(engine: str, tmp_path: Path) -> None:
    previous = _previous_release(tmp_path)
    dbname = None
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'previous.sqlite3'}"
    else:
        dbname = f"coord_upgrade_{uuid.uuid4().hex[:8]}"
        run(_pg_admin(f'CREATE DATABASE "{dbname}"'))
        url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname
    try:
        _run_python(PREVIOUS_RELEASE_SETUP, url=url, pythonpath=previous, cwd=previous)
        before = run(_snapshot(url))
        assert sum(len(rows) for rows in before.values()) > 500, "the previous release's demo data is there"
        assert before["meeting"] and before["action_item"] and before["convention"] and before["pilot_site"]

        _run_python("from coord.app.cli import main; main(['migrate'])", url=url, pythonpath=None, cwd=ROOT)
        after = run(_snapshot(url))

        for table, rows in before.items():
            assert table in after, f"table {table} disappeared"
            width = len(rows[0]) if rows else 0
            # New columns may be added at the end; every old value stays as it was.
            assert [row[:width] for row in after[table]] == rows, f"rows of {table} changed on upgrade"
    finally:
        if dbname:
            run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
