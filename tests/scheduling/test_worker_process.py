"""`coord worker` as a real process against the test database and a loopback SMTP server.

Killed in the middle of a batch and restarted, it loses nothing and queues nothing twice. SMTP
delivery itself is at-least-once: a kill after the server accepted a message but before the outbox
row was marked sent makes the next worker send it again, with the same Message-ID (clients fold the
copies). The dispatcher overlaps the mark of one message with the sending of the next, so at most the
last two accepted messages can be resent: that is what the assertions allow, and nothing more.

Two workers at once (PostgreSQL): each reminder is queued once and delivered once, and SIGTERM stops
both within STOP_BOUND_SECONDS (what a stop in the middle of work does: test_worker_stop.py).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run
from tests.scheduling.support import outbox_rows, seed_cdpd

INVITEES = 30
STOP_BOUND_SECONDS = 10.0  # the requirement: a worker has exited this long after SIGTERM


def convened_meeting_in_two_days(api: Any) -> int:
    """A meeting convened twelve days ago (every invitee got the convocation), two days ahead,
    everyone has accepted: the agenda reminder (and only it) is due for every invitee."""
    from coord.meetings.tables import Invitation, Meeting

    committee = seed_cdpd(api, "75", members=INVITEES)["committee"]
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # days counted from today may be a weekend
        },
    ).json()
    run(
        Meeting.update({Meeting.status: "convened", Meeting.convened_at: start - dt.timedelta(days=12)}).where(
            Meeting.id == meeting["id"]
        )
    )
    sequence = run(Meeting.select(Meeting.sequence).where(Meeting.id == meeting["id"]).first())["sequence"]
    run(
        Invitation.update({Invitation.answer: "accepted", Invitation.sent_sequence: sequence}).where(
            Invitation.meeting == meeting["id"]
        )
    )
    return meeting["id"]


@pytest.fixture
def workers(database: Any, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `coord worker` processes; every one still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []

    def start(smtp_port: int, *, lease: float = 4.0) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "COORD_DATABASE_URL": database.url,
            "PICCOLO_CONF": "coord.app.piccolo_conf",
            "COORD_SMTP_HOST": "127.0.0.1",
            "COORD_SMTP_PORT": str(smtp_port),
            "COORD_SECRET_KEY": "test-secret-key-0123456789",
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coord.app.cli",
                "worker",
                "--outbox-seconds",
                "0.5",
                "--tick-seconds",
                "3600",
                "--lease",
                str(lease),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def reminders() -> list[dict[str, Any]]:
    return [r for r in outbox_rows() if r["kind"] == "reminder"]


def stop_within(processes: list[subprocess.Popen[bytes]], seconds: float = STOP_BOUND_SECONDS) -> list[int]:
    """SIGTERM to every process, then their exit codes; fails if one is still running `seconds` after."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + seconds
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker {process.pid} still running {seconds:.0f} s after SIGTERM") from None
    return codes


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_queues_nothing_twice(api_as, workers):
    from tests.support.smtp_sink import SmtpSink

    convened_meeting_in_two_days(api_as("prefecture", "75"))

    def slow(raw: bytes) -> None:  # a slow server: the kill lands in the middle of the batch
        time.sleep(0.15)

    with SmtpSink(host="127.0.0.1", port=0, data_status=slow) as sink:
        first = workers(sink.port)
        wait_until(lambda: sink.received >= 5, 60, "the first mails")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        sent_before = sink.received
        assert sent_before < INVITEES, "the kill came too late to test anything"
        assert len(reminders()) == INVITEES  # the tick had queued everything before the kill

        workers(sink.port)  # restarts: its tick finds every reminder already queued
        wait_until(lambda: {r["status"] for r in reminders()} == {"sent"}, 90, "every reminder to be sent")
        rows = reminders()
        assert len(rows) == INVITEES and len({r["dedupe_key"] for r in rows}) == INVITEES
        received = Counter(m["Message-ID"] for m in sink.messages)
        assert set(received) == {r["message_id"] for r in rows}  # nothing lost
        resent = [mid for mid, n in received.items() if n > 1]
        assert all(n <= 2 for n in received.values()) and len(resent) <= 2, received  # at-least-once, bounded


def test_two_workers_at_once_send_each_reminder_once(api_as, workers, database):
    from tests.support.smtp_sink import SmtpSink

    if database.name != "postgres":
        pytest.skip("SQLite: Coord supports a single worker (one writer); see README")
    convened_meeting_in_two_days(api_as("prefecture", "75"))
    with SmtpSink(host="127.0.0.1", port=0, data_status=lambda raw: time.sleep(0.02)) as sink:
        one, two = workers(sink.port, lease=300), workers(sink.port, lease=300)
        wait_until(
            lambda: len(reminders()) == INVITEES and {r["status"] for r in reminders()} == {"sent"},
            90,
            "every reminder to be sent",
        )
        assert stop_within([one, two]) == [0, 0]  # SIGTERM: a clean stop
        rows = reminders()
        assert len(rows) == INVITEES
        received = Counter(m["Message-ID"] for m in sink.messages)
        assert set(received) == {r["message_id"] for r in rows} and set(received.values()) == {1}


def test_a_tick_running_elsewhere_makes_this_one_stand_aside(db):
    """The advisory lock: while another instance scans, this one skips its scan (PostgreSQL)."""
    from coord.app.jobs import run_tick
    from coord.core.db import is_sqlite
    from coord.worker.locks import tick_lock

    async def scenario() -> tuple[bool, bool]:
        async with tick_lock("reminders") as held:
            inside = await run_tick(dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
        return held, inside.skipped

    held, skipped = run(scenario())
    assert held
    assert skipped is (not is_sqlite())
