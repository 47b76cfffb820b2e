"""`coord worker` stopped by SIGTERM in the middle of its work exits within 10 s, cleanly, and the
next worker finishes that work: every reminder is queued once and sent once.

The slow part is made far longer than the 10 s bound, in ways a deployment meets: an SMTP server
that takes a second per mail for a batch of thirty, or another transaction that keeps the outbox's
write lock (a migration, a long import) while the tick wants to queue its reminders, so the tick
cannot end before the lock is released. The only timing assertion is the requirement itself: the
process has exited 10 s after the signal (`stop_within`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import run
from tests.scheduling import test_worker_process
from tests.scheduling.test_worker_process import (
    INVITEES,
    convened_meeting_in_two_days,
    reminders,
    stop_within,
    wait_until,
)

workers = test_worker_process.workers  # the fixture starting `coord worker` processes

LONG_LEASE = 300.0  # nothing in these tests may come back through an expired lease


def _sent_once(sink: Any) -> None:
    """Every reminder reached the server exactly once."""
    rows = reminders()
    assert len(rows) == INVITEES and len({r["dedupe_key"] for r in rows}) == INVITEES
    received = Counter(m["Message-ID"] for m in sink.messages)
    assert set(received) == {r["message_id"] for r in rows}
    assert set(received.values()) == {1}, received


def test_a_worker_stopped_while_a_slow_server_takes_its_mails_exits_and_none_is_sent_twice(api_as, workers):
    from tests.support.smtp_sink import SmtpSink

    convened_meeting_in_two_days(api_as("prefecture", "75"))

    def slow(raw: bytes) -> None:  # a second per mail: the batch of thirty would take half a minute
        time.sleep(1.0)

    with SmtpSink(host="127.0.0.1", port=0, data_status=slow) as sink:
        first = workers(sink.port, lease=LONG_LEASE)
        wait_until(lambda: sink.received >= 2, 60, "the first mails")
        assert stop_within([first]) == [0]

        rows = reminders()
        assert len(rows) == INVITEES
        # The mail being handed over was finished and marked sent; the others went back to the
        # queue, due at once (no lease to wait for); nothing the server took is left unmarked.
        assert {r["status"] for r in rows} <= {"sent", "pending"}
        assert sum(r["status"] == "sent" for r in rows) == sink.received < INVITEES

        sink.data_status = None  # the server is fast again
        second = workers(sink.port, lease=LONG_LEASE)
        wait_until(lambda: {r["status"] for r in reminders()} == {"sent"}, 90, "every reminder to be sent")
        assert stop_within([second]) == [0]
        _sent_once(sink)


@contextmanager
def _outbox_write_locked(database: Any) -> Iterator[None]:
    """Another transaction keeps the outbox's write lock, as a migration or a long import would:
    reads go on, every insert into the outbox waits. SQLite locks the whole file for writing."""
    if database.name == "sqlite":
        connection = sqlite3.connect(str(database.path), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    locked, release = threading.Event(), threading.Event()

    async def hold() -> None:
        import asyncpg

        connection = await asyncpg.connect(database.url)
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE outbox_message IN EXCLUSIVE MODE")
                locked.set()
                await asyncio.to_thread(release.wait)
        finally:
            await connection.close()

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert locked.wait(30), "the outbox lock could not be taken"
        yield
    finally:
        release.set()
        holder.join(30)


def _tick_waits_for_the_outbox(database: Any, log: Any) -> bool:
    """PostgreSQL shows the tick's insert waiting for the lock. SQLite shows nothing from outside:
    a second after the worker started, its tick has planned and waits to open its write transaction
    (a signal that comes sooner only cuts the tick sooner)."""
    if database.name == "sqlite":
        if "started" not in log.read_text():
            return False
        time.sleep(1.0)
        return True
    from coord.mail.tables import OutboxMessage

    waiting = run(
        OutboxMessage.raw(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE 'insert into%outbox_message%'"
        )
    )
    return waiting[0]["n"] > 0


def test_a_worker_stopped_while_its_tick_waits_for_a_lock_exits_and_the_next_queues_each_reminder_once(
    api_as, workers, database, tmp_path
):
    from tests.support.smtp_sink import SmtpSink

    convened_meeting_in_two_days(api_as("prefecture", "75"))
    with SmtpSink(host="127.0.0.1", port=0) as sink:
        with _outbox_write_locked(database):
            first = workers(sink.port, lease=LONG_LEASE)
            log = tmp_path / "worker-0.log"
            wait_until(lambda: _tick_waits_for_the_outbox(database, log), 60, "the tick to wait for the lock")
            assert stop_within([first]) == [0]
            assert "scheduled job coord-reminders abandoned by the stop" in log.read_text()
        assert reminders() == []  # the abandoned tick's transaction was rolled back: nothing half done

        second = workers(sink.port, lease=LONG_LEASE)  # its tick redoes the whole work
        wait_until(
            lambda: len(reminders()) == INVITEES and {r["status"] for r in reminders()} == {"sent"},
            90,
            "every reminder to be queued and sent",
        )
        assert stop_within([second]) == [0]
        _sent_once(sink)


def test_a_job_cancelled_at_any_instant_gives_its_database_connection_back(database, db):
    """What held the stop on PostgreSQL: Piccolo's transaction takes a pooled connection, then awaits
    BEGIN; a job cancelled in between never gave the connection back, and the pool's close (which
    waits for every connection) waited for ever. Cancelled at a hundred instants, no job keeps one."""
    import random

    import pytest
    from piccolo.engine.postgres import PostgresEngine

    from coord.core.db import transaction, use_engine
    from coord.mail.tables import OutboxMessage

    if database.name != "postgres":
        pytest.skip("SQLite has no connection pool")
    instants = random.Random(20261202)

    async def busy_job() -> None:
        while True:
            async with transaction():
                await OutboxMessage.count()

    async def scenario() -> None:
        engine = PostgresEngine(config={"dsn": database.url})
        await engine.start_connection_pool(min_size=1, max_size=2)
        use_engine(engine)
        try:
            for _ in range(100):
                job = asyncio.create_task(busy_job())
                await asyncio.sleep(instants.uniform(0, 0.004))
                job.cancel()
                await asyncio.wait([job])
            await asyncio.wait_for(engine.close_connection_pool(), 10)  # TimeoutError: a connection kept
        finally:
            use_engine(database.engine)

    run(scenario())
