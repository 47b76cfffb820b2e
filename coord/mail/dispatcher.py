"""Sending what the outbox holds: claim due rows, send them over one SMTP connection, mark each.

A row is marked sent only after the SMTP server accepted it, and only by the worker holding its
lease: two workers never send the same row. The mark of one message overlaps the sending of the
next, so a crash can leave at most the last two accepted messages unmarked: each is resent once at
most, with the same Message-ID, so clients fold it into the first copy.
A batch stops well before its lease ends and hands the rest back, so a slow server cannot make
another worker take rows this one is still sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from coord.core import clock
from coord.core.settings import current_settings
from coord.mail import outbox
from coord.mail.message import OutgoingMail, build_message, one_line
from coord.mail.smtp import SmtpConnection, SmtpPermanentError, SmtpSettings, SmtpTemporaryError
from coord.ops.metrics import MAILS_FAILED, MAILS_SENT

logger = logging.getLogger("coord.mail")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def outgoing_mail(row: dict[str, Any]) -> OutgoingMail:
    """The mail of an outbox row. From is the organiser mailbox, the ORGANIZER of every invitation
    Coord builds (clients send their replies there), and Reply-To too."""
    settings = current_settings()
    return OutgoingMail(
        to_email=row["to_email"],
        to_name=one_line(row["to_name"] or ""),  # rows queued before subjects and names were folded
        from_email=settings.organiser_email,
        from_name=settings.organiser_name,
        reply_to=settings.organiser_email,
        subject=one_line(row["subject"]),
        text=row["body_text"],
        html=row["body_html"] or None,
        calendar=row["calendar"].encode("utf-8") if row["calendar"] else None,
        calendar_method=row["calendar_method"] or None,
        attachments=outbox.decode_attachments(row.get("attachments")),
        message_id=row["message_id"],
    )


async def deliver_due(
    now: dt.datetime | None = None,
    *,
    worker_id: str | None = None,
    smtp_settings: SmtpSettings | None = None,
    limit: int = 50,
    lease: dt.timedelta = outbox.LEASE,
    stopping: asyncio.Event | None = None,
) -> DeliveryReport:
    """Send one batch of due messages over one SMTP connection.

    Once `stopping` is set (a worker stopping), the batch ends after the message being sent, which
    is marked, and hands the others back: a stop neither cuts a message nor leaves rows leased."""
    now = now or clock.now()
    worker_id = worker_id or default_worker_id()
    report = DeliveryReport()
    rows = await outbox.claim_due(worker_id, now, limit, lease)
    if not rows:
        return report
    smtp = smtp_settings or SmtpSettings.from_settings(current_settings())
    deadline = time.monotonic() + lease.total_seconds() / 2
    pending = list(rows)

    async def retry(row: dict[str, Any], error: str) -> None:
        status = await outbox.mark_retry(row["id"], error, int(row["attempts"]) + 1, worker_id=worker_id, now=now)
        report.retried += 1
        MAILS_FAILED.labels("abandoned" if status == "failed" else "retried").inc()

    marking: asyncio.Task[None] | None = None

    async def mark_sent(row: dict[str, Any]) -> None:
        if not await outbox.mark_sent(row["id"], worker_id):
            logger.warning("outbox message %s was sent after its lease ended", row["id"])
        report.sent += 1
        MAILS_SENT.inc()

    try:
        async with SmtpConnection(smtp) as connection:
            while pending:
                if time.monotonic() > deadline or (stopping is not None and stopping.is_set()):
                    await outbox.release([r["id"] for r in pending], worker_id)
                    pending = []
                    break
                row = pending.pop(0)
                attempts = int(row["attempts"]) + 1
                try:
                    message = build_message(outgoing_mail(row))
                except ValueError as exc:  # a mail that can never be built: do not retry forever
                    await outbox.mark_failed(row["id"], f"message invalide : {exc}", attempts, worker_id=worker_id)
                    report.failed += 1
                    MAILS_FAILED.labels("abandoned").inc()
                    continue
                try:
                    await connection.send(message)
                except SmtpPermanentError as exc:
                    logger.warning("outbox message %s refused for good: %s", row["id"], exc)
                    await outbox.mark_failed(row["id"], str(exc), attempts, worker_id=worker_id)
                    report.failed += 1
                    MAILS_FAILED.labels("abandoned").inc()
                except SmtpTemporaryError as exc:
                    if exc.recipient is None:
                        pending.insert(0, row)
                        raise  # the server or the connection: every remaining row waits
                    await retry(row, str(exc))  # this recipient only (greylisting, mailbox full)
                else:
                    # The mark of a message runs while the next one is sent (the database write
                    # and the SMTP round trip overlap); it is a task of its own, so a cancelled
                    # loop still records what the server has accepted.
                    if marking is not None:
                        await asyncio.shield(marking)
                    marking = asyncio.create_task(mark_sent(row))
    except (SmtpTemporaryError, OSError) as exc:
        logger.warning("SMTP unavailable, %d message(s) will be retried: %s", len(pending), exc)
        for row in pending:
            await retry(row, str(exc))
    except asyncio.CancelledError:
        # Cut short: the rows not handed to the server yet are due again at once. The one being
        # sent keeps its lease (the server may have it): resent after it, at least once.
        await asyncio.shield(outbox.release([r["id"] for r in pending], worker_id))
        raise
    finally:
        if marking is not None:
            await asyncio.shield(marking)
    return report


async def deliver_all_now(*, smtp_settings: SmtpSettings | None = None, worker_id: str | None = None) -> DeliveryReport:
    """Send everything due, batch after batch, until nothing is left to send now (CLI and tests)."""
    total = DeliveryReport()
    while True:
        report = await deliver_due(smtp_settings=smtp_settings, worker_id=worker_id)
        total.add(report)
        if report.sent + report.failed == 0:
            return total


class OutboxDispatcher:
    """A background loop delivering the outbox every `interval` seconds, or sooner after `notify()`.

    Safe to cancel at any point: rows claimed by a cancelled batch stay leased and are taken again
    when the lease ends, and a row is marked sent only after the server accepted it."""

    def __init__(
        self,
        interval: float = 30.0,
        smtp_settings: SmtpSettings | None = None,
        *,
        worker_id: str | None = None,
        limit: int = 50,
    ) -> None:
        self.interval = interval
        self.smtp_settings = smtp_settings
        self.worker_id = worker_id or default_worker_id()
        self.limit = limit
        self.last_report: DeliveryReport | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop on the running event loop (call from the app's lifespan)."""
        if self.running:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="coord-outbox")

    def notify(self) -> None:
        """Something was queued: deliver now rather than at the next tick."""
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                report = await deliver_due(smtp_settings=self.smtp_settings, worker_id=self.worker_id, limit=self.limit)
                self.last_report = report
                if report.sent + report.failed >= self.limit:
                    continue  # a full batch: there may be more due right now
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the loop alive; the rows stay queued and are retried
                logger.exception("outbox delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
