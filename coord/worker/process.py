"""`coord worker`: the scheduler alone in its own process, and its dry run.

The web then runs with `scheduler_enabled = false`. SIGTERM/SIGINT stop it cleanly; SIGKILL loses
nothing either (outbox leases, idempotent ticks), see README « Scheduler and yearly cycle ».
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Callable, Sequence

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


async def run_worker(
    periodic_jobs: Callable[[float], Sequence[PeriodicJob]],
    *,
    outbox_seconds: float | None = None,
    tick_seconds: float | None = None,
    lease_seconds: float = 300.0,
) -> None:
    """Deliver the outbox and run `periodic_jobs(tick_seconds)` until SIGTERM or SIGINT."""
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
        loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    logger.info("worker %s started", scheduler.worker_id)
    try:
        await stop.wait()
    finally:
        await scheduler.stop()
        if pooled:
            await engine.close_connection_pool()
        if isinstance(engine, PooledSQLiteEngine):
            await engine.close_pool()
        logger.info("worker %s stopped", scheduler.worker_id)


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
