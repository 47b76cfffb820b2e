"""`coord serve --workers N`: one web process per core, and the scheduler kept to one owner."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.coord_server import ROOT, children, coord_env, coord_serve
from tests.support.live_server import free_port


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'coord.sqlite3'}"
    for args in (("migrate",), ("reference", "load")):
        done = subprocess.run(
            [sys.executable, "-m", "coord.app.cli", *args],
            cwd=ROOT,
            env=coord_env(url),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
    return url


def test_two_web_processes_share_the_port_and_stop_together(tmp_path):
    url = _migrated(tmp_path)
    with coord_serve(url, workers=2) as (base, server):
        # uvicorn's supervisor runs the two workers as its children.
        assert len(children(server.pid)) >= 2
        with httpx.Client(base_url=base, timeout=5) as client:
            answers = [client.get("/connexion").status_code for _ in range(20)]
        assert answers == [200] * 20
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0


def test_several_processes_on_sqlite_need_the_scheduler_apart(tmp_path):
    url = _migrated(tmp_path)
    refused = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(free_port()), "--workers", "2"],
        cwd=ROOT,
        env=coord_env(url, COORD_SCHEDULER_ENABLED="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "coord worker" in refused.stderr
    too_many = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "serve", "--workers", "0"],
        cwd=ROOT,
        env=coord_env(url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert too_many.returncode != 0 and "--workers" in too_many.stderr
