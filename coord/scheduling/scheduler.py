"""APScheduler wiring: one `AsyncIOScheduler` per process owns the outbox delivery and the reminder tick.

It runs inside the web process (`scheduler_enabled = true`) or alone in `coord worker` (then the web
runs with `scheduler_enabled = false`). Jobs hold no state: each run reads what is due from the
database, so a restart loses nothing. Both jobs run once at start (catching up), then at their
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
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from coord.mail import outbox
from coord.mail.dispatcher import DeliveryReport, default_worker_id, deliver_due
from coord.mail.smtp import SmtpSettings
from coord.scheduling.jobs import run_tick

logger = logging.getLogger("coord.scheduling")
MISFIRE_GRACE_SECONDS = 600
STOP_TIMEOUT_SECONDS = 10.0


class CoordScheduler:
    def __init__(
        self,
        *,
        smtp_settings: SmtpSettings | None = None,
        outbox_seconds: float = 30.0,
        tick_seconds: float = 900.0,
        lease: dt.timedelta = outbox.LEASE,
        batch: int = 50,
        worker_id: str | None = None,
        reminders: bool = True,
    ) -> None:
        self.smtp_settings = smtp_settings
        self.outbox_seconds = outbox_seconds
        self.tick_seconds = tick_seconds
        self.lease = lease
        self.batch = batch
        self.worker_id = worker_id or default_worker_id()
        self.reminders = reminders
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

    async def tick(self) -> None:
        await run_tick()

    def start(self) -> None:
        """Start on the running event loop (from a lifespan or `coord worker`)."""
        if self.scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        now = dt.datetime.now(dt.UTC)
        options: dict[str, Any] = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "replace_existing": True,
            "next_run_time": now,
        }
        scheduler.add_job(self._tracked("outbox", self.deliver), "interval", seconds=self.outbox_seconds,
                          id="coord-outbox", **options)
        if self.reminders:
            scheduler.add_job(self._tracked("reminders", self.tick), "interval", seconds=self.tick_seconds,
                              id="coord-reminders", **options)
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
