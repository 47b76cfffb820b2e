"""The reminder tick: everything due at an instant, derived from the database alone.

`run_tick(now)` is the whole periodic work (the benchmark times it): the yearly cycle's proposals and
reminders, then each domain's due work in `DUE_WORK`, the explicit list of the scheduler's jobs. It
is idempotent and safe to cancel midway: a second run, a restart or a second instance queue nothing
twice (outbox dedupe keys).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from coord.accounts import housekeeping
from coord.actions.tasks import queue_owner_digests
from coord.conventions.tasks import due_reminders
from coord.core import clock
from coord.core.db import current_engine
from coord.notifications import digest as notification_digest
from coord.notifications import feed as notification_feed
from coord.ops import metrics
from coord.polls.tasks import due_poll_reminders
from coord.privacy import retention
from coord.scheduling import tasks as cycle_tasks
from coord.scheduling.config import CycleConfig
from coord.series.tasks import extend_series
from coord.worker.locks import tick_lock
from coord.worker.scheduler import PeriodicJob

logger = logging.getLogger("coord.scheduling")

DueWork = Callable[[dt.datetime], Awaitable[int]]
RETENTION_SECONDS = 24 * 3600.0  # the mail retention runs daily (and at start)

# Each job takes the instant and returns how many mails it queued (or records it handled).
DUE_WORK: list[tuple[str, DueWork]] = [
    ("conventions", due_reminders),
    ("actions", queue_owner_digests),
    # Partners' doings become notifications, then the daily digests of those who want them.
    ("notifications", notification_feed.run_feed),
    ("notification_digests", notification_digest.queue_digests),
    # Series whose horizon is getting short get their next occurrences (indexed due date).
    ("series", extend_series),
    # Date polls: one reminder to those who have not answered, before the deadline (open polls only).
    ("polls", due_poll_reminders),
]


@dataclass
class TickReport:
    now: dt.datetime
    skipped: bool = False  # another instance held the lock
    proposals: int = 0
    queued: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def conventions(self) -> int:
        return self.jobs.get("conventions", 0)

    @property
    def actions(self) -> int:
        return self.jobs.get("actions", 0)

    @property
    def total(self) -> int:
        return sum(self.queued.values()) + sum(self.jobs.values())


async def run_tick(
    now: dt.datetime | None = None,
    *,
    config: CycleConfig | None = None,
    due_work: list[tuple[str, DueWork]] | None = None,
) -> TickReport:
    """Run every reminder due at `now` (default: the current instant)."""
    current_engine()  # bind the tables when called standalone (benchmark, shell)
    now = now or clock.now()
    if now.tzinfo is None:
        raise ValueError("run_tick needs an aware datetime")
    report = TickReport(now=now)
    started = time.perf_counter()
    async with tick_lock("reminders") as acquired:
        if not acquired:
            report.skipped = True
            return report
        plan = await cycle_tasks.plan(now, config)
        counts = await cycle_tasks.queue_plan(plan)
        report.proposals = counts.pop("proposals", 0)
        report.queued = counts
        for name, work in DUE_WORK if due_work is None else due_work:
            report.jobs[name] = int(await work(now))
    report.seconds = time.perf_counter() - started
    if report.total or report.proposals:
        logger.info(
            "reminder tick at %s: %s proposal(s), %s mail(s) queued", now.isoformat(), report.proposals, report.total
        )
    return report


async def _tick() -> None:
    """The scheduler's reminder job: `run_tick`, timed in the metrics (not when another instance held the lock)."""
    report = await run_tick()
    if not report.skipped:
        metrics.TICK_DURATION.observe(report.seconds)
        metrics.TICK_LAST_SUCCESS.set(time.time())


def periodic_jobs(*, tick_seconds: float, reminders: bool = True) -> list[PeriodicJob]:
    """The scheduler's jobs besides the outbox delivery: every reminder, and the mail retention."""
    jobs = [
        PeriodicJob("coord-mail-retention", RETENTION_SECONDS, retention.purge_sent),
        PeriodicJob("coord-accounts-housekeeping", RETENTION_SECONDS, housekeeping.purge),
    ]
    if reminders:
        jobs.insert(0, PeriodicJob("coord-reminders", tick_seconds, _tick))
    return jobs
