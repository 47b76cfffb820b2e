"""Sending what the outbox holds: claim due rows, send them over one SMTP connection, mark each.

A row is marked sent only after the SMTP server accepted it, and only by the worker holding its
lease: two workers never send the same row, and a crash before the mark means one resend at most
(with the same Message-ID, so clients fold it into the first copy).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from coord.core.settings import current_settings
from coord.mail import outbox
from coord.mail.message import OutgoingMail, build_message
from coord.mail.smtp import SmtpConnection, SmtpPermanentError, SmtpSettings, SmtpTemporaryError

logger = logging.getLogger("coord.mail")


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _mail(row: dict[str, Any]) -> OutgoingMail:
    settings = current_settings()
    return OutgoingMail(
        to_email=row["to_email"],
        to_name=row["to_name"],
        from_email=settings.organiser_email,
        from_name=settings.organiser_name,
        reply_to=settings.organiser_email,
        subject=row["subject"],
        text=row["body_text"],
        html=row["body_html"] or None,
        calendar=row["calendar"].encode("utf-8") if row["calendar"] else None,
        calendar_method=row["calendar_method"] or None,
        message_id=row["message_id"],
    )


async def deliver_due(
    now: dt.datetime | None = None,
    *,
    worker_id: str | None = None,
    smtp_settings: SmtpSettings | None = None,
    limit: int = 50,
) -> DeliveryReport:
    now = now or dt.datetime.now(dt.UTC)
    worker_id = worker_id or default_worker_id()
    report = DeliveryReport()
    rows = await outbox.claim_due(worker_id, now, limit=limit)
    if not rows:
        return report
    smtp = smtp_settings or SmtpSettings.from_settings(current_settings())
    pending = list(rows)
    try:
        async with SmtpConnection(smtp) as connection:
            while pending:
                row = pending[0]
                attempts = int(row["attempts"]) + 1
                try:
                    message = build_message(_mail(row))
                except ValueError as exc:  # a mail that can never be built: do not retry forever
                    await outbox.mark_failed(row["id"], worker_id, f"message invalide : {exc}", attempts)
                    report.failed += 1
                    pending.pop(0)
                    continue
                try:
                    await connection.send(message)
                except SmtpPermanentError as exc:
                    await outbox.mark_failed(row["id"], worker_id, str(exc), attempts)
                    report.failed += 1
                else:
                    await outbox.mark_sent(row["id"], worker_id, dt.datetime.now(dt.UTC))
                    report.sent += 1
                pending.pop(0)
    except (SmtpTemporaryError, OSError) as exc:
        logger.warning("SMTP unavailable, %d message(s) will be retried: %s", len(pending), exc)
        for row in pending:
            await outbox.mark_retry(row["id"], worker_id, now, str(exc), int(row["attempts"]) + 1)
            report.retried += 1
    return report


async def deliver_all_now(*, smtp_settings: SmtpSettings | None = None) -> DeliveryReport:
    """Send everything due, batch after batch (CLI and tests)."""
    total = DeliveryReport()
    while True:
        report = await deliver_due(smtp_settings=smtp_settings)
        total.sent, total.retried, total.failed = (
            total.sent + report.sent,
            total.retried + report.retried,
            total.failed + report.failed,
        )
        if report.sent + report.failed == 0:
            return total


class OutboxDispatcher:
    """A background loop delivering the outbox every `interval` seconds, or sooner after `notify()`."""

    def __init__(self, interval: float = 30.0, smtp_settings: SmtpSettings | None = None) -> None:
        self.interval = interval
        self.smtp_settings = smtp_settings
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="coord-outbox")

    def notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await deliver_due(smtp_settings=self.smtp_settings)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the loop alive; the rows stay queued and are retried
                logger.exception("outbox delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
