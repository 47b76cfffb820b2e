"""APScheduler wiring: one `AsyncIOScheduler` per process owns the outbox delivery and the periodic
jobs the composition root hands it (`coord.app.jobs.periodic_jobs`: the reminder tick, the daily mail
retention).

It runs inside the web process (`scheduler_enabled = true`) or alone in `coord worker` (then the web
runs with `scheduler_enabled = false`). Jobs hold no state: each run reads what is due from the
database, so a restart loses nothing. Every job runs once at start (catching up), then at its
interval, with `max_instances=1` and `coalesce=True`; a long `misfire_grace_time` keeps a run that
waited on the SQLite lock from being skipped.

Stopping (`stop()`, on SIGTERM/SIGINT in `coord worker`, with the app in the web process) takes at
most STOP_GRACE_SECONDS + CANCEL_GRACE_SECONDS. No job starts any more. The reminder tick and the
other periodic jobs are abandoned at once: cancelled, their transaction rolls back, and the next tick
(of this worker after a restart, or of another one) redoes their work, which is idempotent (outbox
dedupe keys). The outbox delivery is not cut: it ends after the message it is handing to the SMTP
server, which is marked sent, and hands the rest back for the next worker. Only a delivery still
running at the grace's end (a server that does not answer) is cancelled: its message keeps its lease
and is sent again after it, at least once, as after a crash. APScheduler's own shutdown would cancel
every running job at once (stack-notes), so the scheduler is paused first and shut down last.
"""

from __future__ import annotations

import asyncio
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
STOP_GRACE_SECONDS = 4.0  # for a delivery to end the message it is sending, for abandoned jobs to roll back
CANCEL_GRACE_SECONDS = 1.5  # for what is still running then to end once cancelled


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
        self._stopping = asyncio.Event()
        # Running job tasks, each with whether a stop abandons it at once (True) or lets it finish.
        self._running: dict[asyncio.Task[Any], bool] = {}

    def _tracked(
        self, name: str, job: Callable[[], Awaitable[Any]], *, abandon_on_stop: bool = True
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self._stopping.is_set():
                return  # submitted just before the stop
            task = asyncio.current_task()
            assert task is not None
            self._running[task] = abandon_on_stop
            try:
                await job()
            except asyncio.CancelledError:
                if not self._stopping.is_set():
                    raise
                logger.info("scheduled job %s abandoned by the stop: its next run redoes it", name)
            except Exception:  # the next run retries; the work is idempotent
                logger.exception("scheduled job %s failed", name)
            finally:
                self._running.pop(task, None)

        return run

    async def deliver(self) -> DeliveryReport:
        """Send what is due, batch after batch, while batches come back full."""
        total = DeliveryReport()
        while not self._stopping.is_set():
            report = await deliver_due(
                smtp_settings=self.smtp_settings,
                worker_id=self.worker_id,
                limit=self.batch,
                lease=self.lease,
                stopping=self._stopping,
            )
            total.add(report)
            if report.sent + report.failed < self.batch:
                break
        return total

    def start(self) -> None:
        """Start on the running event loop (from a lifespan or `coord worker`)."""
        if self.scheduler is not None:
            return
        self._stopping = asyncio.Event()
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
            self._tracked("outbox", self.deliver, abandon_on_stop=False),
            "interval",
            seconds=self.outbox_seconds,
            id="coord-outbox",
            **options,
        )
        for job in self.jobs:
            scheduler.add_job(self._tracked(job.id, job.run), "interval", seconds=job.seconds, id=job.id, **options)
        scheduler.start()
        self.scheduler = scheduler

    async def stop(self) -> None:
        """Abandon the periodic jobs, let the delivery end its message, within the graces (module doc)."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is None:
            return
        self._stopping.set()
        scheduler.pause()  # no job starts any more; the running ones go on until told
        for task, abandon in list(self._running.items()):
            if abandon:
                task.cancel()
        if await self._still_running_after(STOP_GRACE_SECONDS):
            for task in list(self._running):
                task.cancel()
            left = await self._still_running_after(CANCEL_GRACE_SECONDS)
            if left:
                logger.warning("%d scheduled job(s) still running after the stop's deadline: left behind", left)
        scheduler.shutdown(wait=False)

    async def _still_running_after(self, seconds: float) -> int:
        """Wait at most `seconds` for the running jobs to end; how many are still running then."""
        tasks = list(self._running)
        if tasks:
            await asyncio.wait(tasks, timeout=seconds)
        return len(self._running)
