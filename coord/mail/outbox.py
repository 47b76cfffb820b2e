"""The durable outbox: mails are rows written in the same transaction as the change that causes them.

`queue` inserts a message; a duplicate `dedupe_key` is a no-op, which is how a retried request, a
restarted worker or a second instance never queue the same mail twice. `claim_due` hands due rows to
one sender with a lease: a sender that dies mid-batch loses its lease and the rows are taken again.
The claim query reads the (status, next_attempt_at) index, so its cost follows what is due, not the
history of sent mail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.core.db import is_sqlite, transaction
from coord.core.settings import current_settings
from coord.mail.message import make_message_id
from coord.mail.tables import OutboxMessage

MAX_ATTEMPTS = 20
LEASE = dt.timedelta(minutes=5)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes, at most one hour between two tries."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


async def queue(
    *,
    dedupe_key: str,
    kind: str,
    to_email: str,
    to_name: str,
    subject: str,
    text: str,
    html: str = "",
    calendar: bytes = b"",
    calendar_method: str = "",
    department_id: int | None = None,
    entity: str = "",
    entity_id: int | None = None,
    not_before: dt.datetime | None = None,
) -> bool:
    """Queue a mail inside the caller's transaction. Returns False when that mail was already queued."""
    if await OutboxMessage.exists().where(OutboxMessage.dedupe_key == dedupe_key[:200]):
        return False
    await OutboxMessage.insert(
        OutboxMessage(
            department=department_id,
            dedupe_key=dedupe_key[:200],
            kind=kind,
            entity=entity,
            entity_id=entity_id,
            to_email=to_email,
            to_name=to_name[:200],
            subject=subject[:300],
            body_text=text,
            body_html=html,
            calendar=calendar.decode("utf-8") if calendar else "",
            calendar_method=calendar_method,
            message_id=make_message_id(current_settings().mail_domain),
            status="pending",
            next_attempt_at=not_before or dt.datetime.now(dt.UTC),
        )
    )
    return True


CLAIM_POSTGRES = """
UPDATE outbox_message SET status = 'sending', claimed_by = {}, claimed_until = {}
WHERE id IN (
    SELECT id FROM outbox_message
    WHERE (status = 'pending' AND next_attempt_at <= {}) OR (status = 'sending' AND claimed_until < {})
    ORDER BY id LIMIT {} FOR UPDATE SKIP LOCKED
) RETURNING *
"""
CLAIM_SQLITE = """
UPDATE outbox_message SET status = 'sending', claimed_by = {}, claimed_until = {}
WHERE id IN (
    SELECT id FROM outbox_message
    WHERE (status = 'pending' AND next_attempt_at <= {}) OR (status = 'sending' AND claimed_until < {})
    ORDER BY id LIMIT {}
) RETURNING *
"""


async def claim_due(
    worker_id: str, now: dt.datetime, *, limit: int = 50, lease: dt.timedelta = LEASE
) -> list[dict[str, Any]]:
    """Mark up to `limit` due messages as being sent by `worker_id` until the lease ends."""
    sql = CLAIM_SQLITE if is_sqlite() else CLAIM_POSTGRES
    async with transaction():
        rows = await OutboxMessage.raw(sql, worker_id, now + lease, now, now, limit)
    return sorted(rows, key=lambda r: r["id"])


async def mark_sent(message_id: int, worker_id: str, now: dt.datetime) -> bool:
    rows = (
        await OutboxMessage.update(
            {OutboxMessage.status: "sent", OutboxMessage.sent_at: now, OutboxMessage.claimed_until: None}
        )
        .where(
            (OutboxMessage.id == message_id)
            & (OutboxMessage.claimed_by == worker_id)
            & (OutboxMessage.status == "sending")
        )
        .returning(OutboxMessage.id)
    )
    return bool(rows)


async def mark_retry(message_id: int, worker_id: str, now: dt.datetime, error: str, attempts: int) -> str:
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    await OutboxMessage.update(
        {
            OutboxMessage.status: status,
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error[:500],
            OutboxMessage.next_attempt_at: now + backoff(attempts),
            OutboxMessage.claimed_until: None,
        }
    ).where((OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == worker_id))
    return status


async def mark_failed(message_id: int, worker_id: str, error: str, attempts: int) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.status: "failed",
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error[:500],
            OutboxMessage.claimed_until: None,
        }
    ).where((OutboxMessage.id == message_id) & (OutboxMessage.claimed_by == worker_id))
