"""Scripts create the first national coordinator and API tokens from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def coord(db, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COORD_DATABASE_URL": db.url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    return subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_create_national_coordinator_then_token_then_call_the_api(db, client):
    result = coord(
        db,
        "user",
        "create",
        "--email",
        "Miprof@Test.gouv.fr",
        "--password",
        "Premier-Compte-2026",
        "--role",
        "national",
    )
    assert result.returncode == 0, result.stderr
    assert "miprof@test.gouv.fr" in result.stdout
    token = coord(db, "token", "create", "--email", "miprof@test.gouv.fr").stdout.strip()
    assert token.startswith("coord_")
    response = client.get("/api/departments", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(response.json()) == 101


def test_cli_reports_invalid_input_in_french(db):
    result = coord(
        db,
        "user",
        "create",
        "--email",
        "x@y.fr",
        "--password",
        "Assez-long-2026",
        "--role",
        "prefecture",
        "--department",
        "99",
    )
    assert result.returncode != 0
    assert "Département « 99 » inconnu" in result.stderr
