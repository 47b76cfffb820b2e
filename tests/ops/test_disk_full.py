"""The SQLite disk fills up: writes are refused with a clear 503, nothing half-written stays, and
once space is back the same request succeeds exactly once.

The full disk is SQLite's own: `PRAGMA max_page_count` caps the file, and SQLite then fails writes
with SQLITE_FULL ("database or disk is full"), the error a real full disk gives.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Disque-plein-2026"


def _coord(url: str, *args: str) -> str:
    env = {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    done = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _capped_connection(max_pages: int) -> type[sqlite3.Connection]:
    class CappedConnection(sqlite3.Connection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.execute(f"PRAGMA max_page_count = {max_pages}")

    return CappedConnection


def _page_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA page_count").fetchone()[0]


def _organisations(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as connection:
        organisations = connection.execute("SELECT count(*) FROM organisation").fetchone()[0]
        audited = connection.execute("SELECT count(*) FROM audit_entry WHERE entity = 'organisation'").fetchone()[0]
    return organisations, audited


def test_a_full_disk_refuses_writes_clearly_and_loses_nothing(tmp_path):
    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from coord.core.db import PooledSQLiteEngine, current_engine, use_engine
    from coord.core.settings import current_settings, load_settings, use_settings

    path = tmp_path / "coord.sqlite3"
    url = f"sqlite:///{path}"
    _coord(url, "migrate")
    _coord(url, "reference", "load")
    _coord(url, "user", "create", "--email", "agent@herault.gouv.fr", "--password", PASSWORD, "--role", "national")
    token = _coord(url, "token", "create", "--email", "agent@herault.gouv.fr")
    with sqlite3.connect(path) as connection:  # the WAL holds pages the cap must not count on
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    full_at = _page_count(path) + 8

    settings = load_settings(env={**os.environ, "COORD_DATABASE_URL": url, "COORD_SCHEDULER_ENABLED": "false"})
    previous_engine, previous_settings = current_engine(), current_settings()
    headers = {"Authorization": f"Bearer {token}"}

    def organisation(number: int) -> dict[str, str]:
        return {"name": f"Association {number}", "kind": "association", "department": "34", "notes": "n" * 1900}

    engine = PooledSQLiteEngine(path=str(path), timeout=5, factory=_capped_connection(full_at))
    try:
        with TestClient(create_app(settings, engine=engine), base_url="http://testserver.local") as client:
            accepted = 0
            for number in range(200):
                response = client.post("/api/organisations", json=organisation(number), headers=headers)
                if response.status_code != 201:
                    break
                accepted += 1
            assert accepted >= 1 and response.status_code == 503, response.text
            assert "espace disque" in response.json()["detail"]
            assert "rien n'a été enregistré" in response.json()["detail"]
            assert client.get("/api/organisations", headers=headers).status_code == 200  # reading still works
        # Nothing half-written: every organisation that answered 201 is there with its audit entry, no other.
        assert _organisations(path) == (accepted, accepted)

        roomy = PooledSQLiteEngine(path=str(path), timeout=5)
        with TestClient(create_app(settings, engine=roomy), base_url="http://testserver.local") as client:
            assert client.post("/api/organisations", json=organisation(accepted), headers=headers).status_code == 201
        assert _organisations(path) == (accepted + 1, accepted + 1)
    finally:
        use_settings(previous_settings)
        use_engine(previous_engine)
