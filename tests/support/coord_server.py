"""The `coord` command as the operations team runs it, in a process of its own: any command
(`coord_command`), and `coord serve --workers N` on a loopback port, ready once `/ready` answers and
uvicorn's supervisor has spawned every worker (`coord_serve`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def coord_env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf", **extra}


def coord_command(
    *args: str, url: str | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`coord ARGS` in a subprocess (on the database `url` when given), its output captured as text."""
    extra = {**({"COORD_DATABASE_URL": url} if url else {}), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PICCOLO_CONF": "coord.app.piccolo_conf", **extra},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (uvicorn's workers under its supervisor)."""
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


@contextmanager
def coord_serve(
    url: str, *, workers: int = 2, seconds: float = 120, **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Serve the database `url` with `workers` processes; yields the base URL and the supervisor,
    stopped by SIGTERM (as systemd does) on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=coord_env(url, COORD_SCHEDULER_ENABLED="false", COORD_BASE_URL=base, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError("coord serve never became ready")
            time.sleep(0.3)
        while len(children(server.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.3)
        yield base, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
