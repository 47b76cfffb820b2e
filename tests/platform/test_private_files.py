"""The SQLite database, its backups and the generated secret are readable by Coord's account only:
0600 files (0700 directories when Coord creates them), from their creation and again at every start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The worst umask a service could run under: nothing masked."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _settings(database: Path) -> object:
    from coord.core.settings import Settings

    return Settings(
        database_url=f"sqlite:///{database}",
        database_pool=False,
        secret_key="s" * 32,
        scheduler_enabled=False,
        smtp_port=1,
    )


def test_a_new_database_is_private_from_its_creation(tmp_path, permissive_umask):
    from coord.core.db import engine_for, prepare_sqlite

    database = tmp_path / "var" / "data" / "coord.sqlite3"
    engine = engine_for(_settings(database))
    assert mode(database.parent) == 0o700 and mode(tmp_path / "var") == 0o700  # created by Coord
    run(prepare_sqlite(engine))  # what the app's start and `coord migrate` run first
    assert mode(database) == 0o600
    run(engine.run_ddl("CREATE TABLE t (x INTEGER)"))
    run(engine.run_ddl("INSERT INTO t VALUES (1)"))
    wal = Path(str(database) + "-wal")
    assert wal.exists() and mode(wal) == 0o600  # SQLite gives its companions the database's mode
    run(engine.close_pool())


def test_an_existing_database_is_made_private_when_the_service_starts(tmp_path):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    database = tmp_path / "coord.sqlite3"
    database.touch()
    database.chmod(0o644)
    wal = Path(str(database) + "-wal")
    wal.touch()
    wal.chmod(0o666)
    os.chmod(tmp_path, 0o755)
    with TestClient(create_app(_settings(database))) as client:
        assert client.get("/health").status_code == 200
        assert mode(database) == 0o600 and mode(wal) == 0o600
    assert mode(tmp_path) == 0o755  # not created by Coord: not changed


def test_the_generated_secret_is_private(tmp_path, permissive_umask):
    from coord.core.settings import _development_secret

    path = tmp_path / "var" / "secret_key"
    secret = _development_secret(path)
    assert len(secret) >= 48
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert not [p.name for p in path.parent.iterdir() if p.name != "secret_key"]  # no temporary file left
    path.chmod(0o644)
    assert _development_secret(path) == secret  # the same secret at the next start...
    assert mode(path) == 0o600  # ...and private again


def test_a_backup_is_as_private_as_the_database(tmp_path, permissive_umask):
    import sqlite3

    from coord.ops.backup import backup_sqlite

    database = tmp_path / "coord.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    target = backup_sqlite(database)
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
