"""A database made by an old release, upgraded by today's code: built once per engine for the session.

The old release's code (from git history) runs its own migrations and loads its reference and demo
data; today's `coord migrate` then upgrades the database. `tests/platform/test_upgrade.py` checks
every row survived and runs the previous release's code on it (rolling upgrade);
`tests/ops/test_backups.py` backs it up and restores it (a database full of real data, at no extra cost).
Suite modules are imported lazily: this module is loaded by tests/conftest.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# As tests/conftest.py reads them (importing it here would be circular: it imports this module).
ENGINES = [e.strip() for e in os.environ.get("COORD_TEST_ENGINES", "sqlite,postgres").split(",") if e.strip()]

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


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def _extract(commit: str, target: Path, *paths: str) -> Path:
    """A commit's tree (or some of its folders), extracted from the repository's history with `git archive`."""
    shallow = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
    ).stdout.strip()
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", commit + "^{commit}"]).returncode == 0
    if not known and shallow == "true":
        pytest.skip(f"shallow clone: the release {commit} is not in this clone's history")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, *paths],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _previous_release(tmp_path: Path) -> Path:
    """The old release's `coord` package, extracted from the repository's history."""
    return _extract(PREVIOUS_RELEASE, tmp_path / "previous", "coord", "conventions", "templates")


def _run_python(
    code: str, *, url: str, pythonpath: Path | None, cwd: Path, piccolo_conf: str = "coord.piccolo_conf"
) -> str:
    env = {**os.environ, "COORD_DATABASE_URL": url, "COORD_DEMO_MODE": "false"}
    if pythonpath is None:
        env["PICCOLO_CONF"] = "coord.app.piccolo_conf"
        env.pop("PYTHONPATH", None)
    else:
        env["PICCOLO_CONF"] = piccolo_conf
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


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


@dataclass(frozen=True)
class Upgraded:
    """A database the old release made (migrations, reference and demo data), then upgraded by today's code."""

    engine: str
    url: str
    before: dict[str, list[tuple[Any, ...]]]  # every row as the old release left them
    after: dict[str, list[tuple[Any, ...]]]  # every row right after today's `coord migrate`


@pytest.fixture(scope="session", params=ENGINES)
def upgraded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upgraded]:
    """Tests may write to it (the before/after snapshots are taken here), not delete from it."""
    from tests.conftest import PG_ADMIN_DSN, _pg_admin, run

    engine = request.param
    tmp_path = tmp_path_factory.mktemp(f"upgrade-{engine}")
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
        _run_python("from coord.app.cli import main; main(['migrate'])", url=url, pythonpath=None, cwd=ROOT)
        after = run(_snapshot(url))
        yield Upgraded(engine, url, before, after)
    finally:
        if dbname:
            run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
