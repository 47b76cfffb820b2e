"""Operations: backups that can be restored, clear 503s when the database is gone, JSON logs."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.support.coord_server import coord_command

ROOT = Path(__file__).resolve().parents[2]


def _coord(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return coord_command(*args, url=url, timeout=180)


def test_sqlite_backup_and_restore_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'coord.sqlite3'}"
    assert _coord(url, "migrate").returncode == 0
    assert _coord(url, "reference", "load").returncode == 0
    created = _coord(
        url, "user", "create", "--email", "a@b.gouv.fr", "--password", "Sauvegarde-2026", "--role", "national"
    )
    assert created.returncode == 0, created.stderr
    backup = tmp_path / "copie.sqlite3"
    result = _coord(url, "backup", "--output", str(backup))
    assert result.returncode == 0, result.stderr
    # Damage the live database, then restore.
    connection = sqlite3.connect(tmp_path / "coord.sqlite3")
    connection.execute("DELETE FROM coord_user")
    connection.commit()
    connection.close()
    result = _coord(url, "restore", str(backup))
    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(tmp_path / "coord.sqlite3")
    assert connection.execute("SELECT email FROM coord_user").fetchall() == [("a@b.gouv.fr",)]
    assert connection.execute("SELECT count(*) FROM department").fetchone()[0] == 101
    connection.close()


def test_a_corrupt_backup_is_refused(tmp_path):
    from coord.ops.backup import BackupError, restore_sqlite

    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises((BackupError, sqlite3.DatabaseError)):
        restore_sqlite(bad, tmp_path / "coord.sqlite3")
    assert not (tmp_path / "coord.sqlite3").exists()


def test_database_unavailable_gives_a_clear_503(db, settings):
    from dataclasses import replace

    from litestar.testing import TestClient
    from piccolo.engine.postgres import PostgresEngine

    from coord.app.factory import create_app
    from coord.core.db import use_engine

    dead = PostgresEngine(config={"dsn": "postgresql://postgres@127.0.0.1:1/none", "timeout": 2})
    app = create_app(replace(settings, database_url="postgresql://postgres@127.0.0.1:1/none"), engine=dead)
    try:
        with TestClient(app, base_url="http://testserver.local") as client:
            assert client.get("/health").status_code == 200
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            response = client.get("/api/departments", headers={"Authorization": "Bearer coord_x"})
            assert response.status_code == 503
            assert "indisponible" in response.json()["detail"]
            page = client.get("/connexion")
            assert page.status_code == 200
            login = client.post(
                "/connexion",
                data={"email": "a@b.fr", "password": "x", "_csrf_token": client.cookies.get("coord_csrf", "")},
            )
            assert login.status_code == 503
            assert "indisponible" in login.text
    finally:
        use_engine(db.engine)


def test_logs_are_json_lines(capsys):
    from coord.ops.logs import JsonFormatter

    record = logging.makeLogRecord(
        {"name": "coord.test", "levelname": "WARNING", "msg": "envoi %s", "args": ("ok",), "meeting_id": 7}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "envoi ok" and line["meeting_id"] == 7 and line["level"] == "warning"
