"""`coord serve --workers N`: one web process per core, and the scheduler kept to one owner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf", **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'coord.sqlite3'}"
    for args in (("migrate",), ("reference", "load")):
        done = subprocess.run(
            [sys.executable, "-m", "coord.app.cli", *args],
            cwd=ROOT,
            env=_env(url),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
    return url


def test_two_web_processes_share_the_port_and_stop_together(tmp_path):
    url = _migrated(tmp_path)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=_env(url, COORD_SCHEDULER_ENABLED="false", COORD_BASE_URL=f"http://127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("the service never became ready")
        # uvicorn's supervisor runs the two workers as its children.
        while len(_children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert len(_children(server.pid)) >= 2
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            answers = [client.get("/connexion").status_code for _ in range(20)]
        assert answers == [200] * 20
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0


def test_several_processes_on_sqlite_need_the_scheduler_apart(tmp_path):
    url = _migrated(tmp_path)
    refused = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(_free_port()), "--workers", "2"],
        cwd=ROOT,
        env=_env(url, COORD_SCHEDULER_ENABLED="true"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "coord worker" in refused.stderr
    too_many = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "serve", "--workers", "0"],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert too_many.returncode != 0 and "--workers" in too_many.stderr
