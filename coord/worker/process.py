"""`coord worker`: the scheduler alone in its own process, and its dry run.

The web then runs with `scheduler_enabled = false`. SIGTERM/SIGINT stop it cleanly within seconds,
even in the middle of a tick (`CoordScheduler.stop`: the tick is abandoned and redone by the next
one, the mail being sent is finished and marked, the others are handed back); a second signal, or
HARD_DEADLINE_SECONDS after the first, ends the process at once. SIGKILL loses nothing either (outbox
leases, idempotent ticks), see README « Scheduler and yearly cycle ».
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from coord.core import clock
from coord.core.db import PooledSQLiteEngine, current_engine, prepare_sqlite
from coord.core.settings import current_settings
from coord.mail.smtp import SmtpSettings
from coord.ops.logs import configure_logging
from coord.scheduling import tasks as cycle_tasks
from coord.scheduling.config import cycle_config
from coord.worker.scheduler import CoordScheduler, PeriodicJob

logger = logging.getLogger("coord.scheduling")

POOL_CLOSE_SECONDS = 2.0  # then the connections still out of the pool are dropped (PostgreSQL rolls them back)
HARD_DEADLINE_SECONDS = 9.0  # from the stop signal to the end of the process, whatever is stuck
EXIT_FORCED = 3  # the exit code when the hard deadline or a second signal ended the process


async def run_worker(
    periodic_jobs: Callable[[float], Sequence[PeriodicJob]],
    *,
    outbox_seconds: float | None = None,
    tick_seconds: float | None = None,
    lease_seconds: float = 300.0,
) -> None:
    """Deliver the outbox and run `periodic_jobs(tick_seconds)` until SIGTERM or SIGINT, then end the
    process (exit code 0 once stopped cleanly, EXIT_FORCED at the hard deadline)."""
    configure_logging()
    settings = current_settings()
    cycle = cycle_config(settings)
    engine = current_engine()
    await prepare_sqlite(engine)
    pooled = isinstance(engine, PostgresEngine) and settings.database_pool
    if pooled:
        await engine.start_connection_pool(min_size=1, max_size=4)
    scheduler = CoordScheduler(
        smtp_settings=SmtpSettings.from_settings(settings),
        outbox_seconds=outbox_seconds or float(cycle.outbox_seconds),
        jobs=periodic_jobs(tick_seconds or 60.0 * cycle.tick_minutes),
        lease=dt.timedelta(seconds=lease_seconds),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_stop_signal, stop)
    scheduler.start()
    logger.info("worker %s started", scheduler.worker_id)
    try:
        await stop.wait()
    finally:
        _arm_hard_deadline(HARD_DEADLINE_SECONDS)
        await scheduler.stop()
        await _close_database(engine, pooled=pooled)
        logger.info("worker %s stopped", scheduler.worker_id)
    _end_process(0)


def _on_stop_signal(stop: asyncio.Event) -> None:
    if not stop.is_set():
        stop.set()
        return
    logger.warning("second stop signal: the worker ends at once")  # the outbox leases cover the rest
    _end_process(EXIT_FORCED)


def _arm_hard_deadline(seconds: float) -> None:
    """The last resort: a thread ends the process `seconds` from now, even if the event loop is stuck."""

    def expire() -> None:
        logger.warning("worker still stopping %.0f s after the signal: it ends at once", seconds)
        _end_process(EXIT_FORCED)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def _end_process(code: int) -> None:
    """End the process now. Once the worker has stopped, the interpreter's teardown does nothing it
    needs (connections closed, logs flushed) and costs 0.3-0.5 s of CPU for the modules it loaded,
    seconds on a loaded machine; nor does a thread a cancelled job left blocked (an SQLite lock
    wait) keep the process alive."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


async def _close_database(engine: Engine, *, pooled: bool) -> None:
    """Close the pools; a connection a cancelled job did not give back must not hold the stop:
    asyncpg's close waits for every connection, so it gets a deadline, then drops them all."""
    if pooled and isinstance(engine, PostgresEngine):
        try:
            await asyncio.wait_for(engine.close_connection_pool(), POOL_CLOSE_SECONDS)
        except TimeoutError:
            logger.warning("database pool still in use %.0f s after the stop: connections dropped", POOL_CLOSE_SECONDS)
            engine.pool = None
    if isinstance(engine, PooledSQLiteEngine):
        await engine.close_pool()


def parse_at(raw: str | None) -> dt.datetime:
    if not raw:
        return clock.now()
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SystemExit(f"--at : date invalide {raw!r} (format ISO 8601, ex. 2026-10-01T08:00+02:00)") from exc
    if at.tzinfo is None:
        raise SystemExit("--at : indiquez le fuseau (ex. 2026-10-01T08:00+02:00 ou 2026-10-01T06:00Z).")
    return at.astimezone(dt.UTC)


async def dry_run(raw_at: str | None) -> str:
    """What the tick would do at `raw_at`, computed by the same plan the real tick queues. Writes nothing."""
    at = parse_at(raw_at)
    current_engine()
    plan = await cycle_tasks.plan(at)
    lines = [f"Simulation au {at.isoformat()} (rien n'est envoyé ni mis en file d'attente)."]
    lines.append(f"{len(plan.proposals)} date(s) à proposer et enregistrer :")
    for slot in plan.proposals:
        start = slot.proposed_start.isoformat() if slot.proposed_start else "?"
        lines.append(f"  - {slot.department['code']} {slot.committee_kind} {slot.year} n°{slot.slot + 1} : {start}")
    lines.append(f"{len(plan.reminders)} courriel(s) à envoyer :")
    for reminder in plan.reminders:
        lines.append(f"  - [{reminder.kind}] {reminder.to_email} : {reminder.summary}")
    lines.append("Les rappels des conventions et des actions ne sont pas simulés (`coord conventions remind`).")
    return "\n".join(lines)
