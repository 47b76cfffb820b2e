"""Retention of sent mails: their content is cleared `mail_retention_days` after they were sent.

A mail's text, HTML and iCalendar parts hold the partners' names, addresses and agendas; once sent
and old, nothing needs them. Purging blanks those columns and sets `purged_at`, but keeps the row:
its `dedupe_key` is what stops the same mail from being queued again (`outbox.queue`,
`outbox.already_queued`), and its status, recipient, subject and times keep the counts and the record of
what was sent. Pending, sending and failed mails are never purged (they may still be sent, or are
being looked into).

Cost: the index `outbox_message (purged_at, status, sent_at)` holds, under `purged_at IS NULL AND
status = 'sent'`, only the sent mails not purged yet, by sending time; each run reads the range
before the cutoff, that is what became due since the last run, whatever the history. It runs daily
(`coord.app.jobs.periodic_jobs`), in short transactions of `BATCH` rows, and is idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from piccolo.query import Select

from coord.core import clock
from coord.core.db import current_engine, transaction
from coord.core.settings import current_settings
from coord.mail.tables import OutboxMessage

logger = logging.getLogger("coord.mail")
BATCH = 500


def _due(cutoff: dt.datetime) -> Any:
    return (OutboxMessage.status == "sent") & OutboxMessage.purged_at.is_null() & (OutboxMessage.sent_at < cutoff)


def due_query(cutoff: dt.datetime, batch: int = BATCH) -> Select:
    """Up to `batch` sent mails not purged, sent before `cutoff`. No ORDER BY: any due rows will do,
    and the index range alone answers it (no sort)."""
    return OutboxMessage.select(OutboxMessage.id).where(_due(cutoff)).limit(batch)


async def purge_sent(now: dt.datetime | None = None, *, retention_days: int | None = None, batch: int = BATCH) -> int:
    """Clear the content of the mails sent more than the retention ago; returns how many."""
    current_engine()  # bind the tables when called standalone
    days = current_settings().mail_retention_days if retention_days is None else retention_days
    if days <= 0:
        return 0
    now = now or clock.now()
    cutoff = now - dt.timedelta(days=days)
    total = 0
    while True:
        async with transaction():
            rows = await due_query(cutoff, batch)
            ids = [row["id"] for row in rows]
            if ids:
                await OutboxMessage.update(
                    {
                        OutboxMessage.body_text: "",
                        OutboxMessage.body_html: "",
                        OutboxMessage.calendar: "",
                        OutboxMessage.attachments: "",  # the minutes' PDF names the members
                        OutboxMessage.purged_at: now,
                    }
                ).where(OutboxMessage.id.is_in(ids) & _due(cutoff))
        total += len(ids)
        if len(ids) < batch:
            break
    if total:
        logger.info("mail retention: content of %s sent mail(s) older than %s days cleared", total, days)
    return total
