"""`coord demo` refuses to start when a port it needs is taken (its mails would otherwise go to
whatever holds the SMTP sink's port), says which port and how to choose another, and its help lists
its ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def coord(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coord.app.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def listening() -> Iterator[int]:
    """A port some other program listens on, for the test's duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_taken_smtp_sink_port_stops_the_demo_with_a_clear_message():
    with listening() as taken:
        result = coord("demo", "--port", str(free_port()), "--smtp-port", str(taken))
    assert result.returncode != 0
    assert f"Le port {taken} (puits SMTP de la démonstration" in result.stderr
    assert "--smtp-port" in result.stderr and "COORD_SMTP_PORT" in result.stderr
    assert "Coord (démonstration)" not in result.stdout  # it never started


def test_the_port_of_the_environment_is_checked_too():
    with listening() as taken:
        result = coord("demo", "--port", str(free_port()), COORD_SMTP_PORT=str(taken))
    assert result.returncode != 0 and f"Le port {taken} (puits SMTP" in result.stderr


def test_a_taken_web_port_stops_the_demo_too():
    with listening() as taken:
        result = coord("demo", "--port", str(taken), "--smtp-port", str(free_port()))
    assert result.returncode != 0
    assert f"Le port {taken} (site web de la démonstration" in result.stderr and "--port" in result.stderr


def test_the_help_lists_the_ports_and_their_defaults():
    result = coord("demo", "--help", COORD_SMTP_PORT="2626")
    assert result.returncode == 0
    for expected in (
        "Ports utilisés",
        "--port (défaut 8000)",
        "--smtp-port ou COORD_SMTP_PORT (défaut 2626)",
        "ProConnect",
    ):
        assert expected in result.stdout
