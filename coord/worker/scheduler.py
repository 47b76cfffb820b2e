"""APScheduler wiring: one `AsyncIOScheduler` per process owns the outbox delivery and the periodic
jobs the composition root hands it (`coord.app.jobs.periodic_jobs`: the reminder tick, the daily mail
retention).

It runs inside the web process (`scheduler_enabled = true`) or alone in `coord worker` (then the web
runs with `scheduler_enabled = false`). Jobs hold no state: each run reads what is due from the
database, so a restart loses nothing. Every job runs once at start (catching up), then at its
interval, with `max_instances=1` and `coalesce=True`; a long `misfire_grace_time` keeps a run that
waited on the SQLite lock from being skipped.

APScheduler's shutdown cancels running coroutine jobs without waiting (stack-notes): `stop()` then
cancels and awaits the job tasks it tracks itself, so a cancelled delivery records what the SMTP
server already accepted before the database pool closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from coord.core import clock
from coord.mail import outbox
from coord.mail.dispatcher import DeliveryReport, default_worker_id, deliver_due
from coord.mail.smtp import SmtpSettings

logger = logging.getLogger("coord.scheduling")  # the name operators already filter on
MISFIRE_GRACE_SECONDS = 600
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class PeriodicJob:
    """Work run at start, then every `seconds`; idempotent, it reads what is due from the database."""

    id: str
    seconds: float
    run: Callable[[], Awaitable[Any]]


class CoordScheduler:
    def __init__(
        self,
        *,
        smtp_settings: SmtpSettings | None = None,
        outbox_seconds: float = 30.0,
        jobs: Sequence[PeriodicJob] = (),
        lease: dt.timedelta = outbox.LEASE,
        batch: int = 50,
        worker_id: str | None = None,
    ) -> None:
        self.smtp_settings = smtp_settings
        self.outbox_seconds = outbox_seconds
        self.jobs = list(jobs)
        self.lease = lease
        self.batch = batch
        self.worker_id = worker_id or default_worker_id()
        self.scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[Any]] = set()

    def _tracked(self, name: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next run retries; the work is idempotent
                logger.exception("scheduled job %s failed", name)
            finally:
                self._running.discard(task)

        return run

    async def deliver(self) -> DeliveryReport:
        """Send what is due, batch after batch, while batches come back full."""
        total = DeliveryReport()
        while True:
            report = await deliver_due(
                smtp_settings=self.smtp_settings, worker_id=self.worker_id, limit=self.batch, lease=self.lease
            )
            total.add(report)
            if report.sent + report.failed < self.batch:
                return total

    def start(self) -> None:
        """Start on the running event loop (from a lifespan or `coord worker`)."""
        if self.scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        now = clock.now()
        options: dict[str, Any] = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "replace_existing": True,
            "next_run_time": now,
        }
        scheduler.add_job(
            self._tracked("outbox", self.deliver), "interval", seconds=self.outbox_seconds, id="coord-outbox", **options
        )
        for job in self.jobs:
            scheduler.add_job(self._tracked(job.id, job.run), "interval", seconds=job.seconds, id=job.id, **options)
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is None:
            return
        scheduler.shutdown(wait=False)
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS)
