"""The durable outbox: mails are rows written in the same transaction as the change that causes them.

`queue` inserts a message; a duplicate `dedupe_key` is a no-op, which is how a retried request, a
restarted worker or a second instance never queue the same mail twice. `claim_due` hands due rows to
one sender with a lease: a sender that dies mid-batch loses its lease and the rows are taken again.
The claim query is driven by the status indexes (status, next_attempt_at), so its cost follows what
is pending or being sent, not the history of sent mail.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from coord.core import clock
from coord.core.db import current_engine, is_sqlite, is_unique_violation, transaction
from coord.core.settings import current_settings
from coord.mail.message import Attachment, check_attachment, make_message_id, one_line
from coord.mail.tables import OutboxMessage
from coord.ops.metrics import gauge_family

MAX_ATTEMPTS = 20
MAX_BACKOFF = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=5)
STATUSES = ("pending", "sending", "sent", "failed")
DEDUPE_KEY_LENGTH = 200  # the column's length: longer keys are cut, so two keys alike up to here are one mail
LOOKUP_CHUNK = 500  # keys per `IN (...)` when checking many keys at once


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after `attempts` failed ones: 1, 2, 4, 8 ... minutes, at most one hour."""
    exponent = min(max(0, attempts - 1), 10)  # 2**10 minutes is already above the cap
    return min(MAX_BACKOFF, dt.timedelta(minutes=2**exponent))


def stored_key(key: str) -> str:
    """`key` as stored: cut to the column's length."""
    return key[:DEDUPE_KEY_LENGTH]


async def already_queued(key: str) -> bool:
    """Whether a mail with this dedupe key is already in the outbox (whatever its status)."""
    return await OutboxMessage.exists().where(OutboxMessage.dedupe_key == stored_key(key))


async def already_queued_many(keys: Iterable[str]) -> set[str]:
    """Those of `keys` (as given, before any cut) already in the outbox: one query per `LOOKUP_CHUNK` keys."""
    by_stored: dict[str, list[str]] = {}
    for key in keys:
        by_stored.setdefault(stored_key(key), []).append(key)
    stored = list(by_stored)
    found: set[str] = set()
    for start in range(0, len(stored), LOOKUP_CHUNK):
        chunk = stored[start : start + LOOKUP_CHUNK]
        rows = await OutboxMessage.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.is_in(chunk))
        for row in rows:
            found.update(by_stored[row["dedupe_key"]])
    return found


def encode_attachments(attachments: Sequence[Attachment]) -> str:
    """The `attachments` column of a row: "" for none, else JSON with each file's bytes in base64.

    Each attachment is checked here (name, type), so a bad one fails the change that queues it."""
    if not attachments:
        return ""
    files = []
    for attachment in attachments:
        filename, maintype, subtype = check_attachment(attachment)
        data = base64.b64encode(bytes(attachment.data)).decode("ascii")
        files.append({"filename": filename, "content_type": f"{maintype}/{subtype}", "data": data})
    return json.dumps(files, ensure_ascii=False)


def decode_attachments(stored: str | None) -> tuple[Attachment, ...]:
    """The attachments of a row, as `encode_attachments` stored them."""
    if not stored:
        return ()
    return tuple(
        Attachment(filename=f["filename"], content_type=f["content_type"], data=base64.b64decode(f["data"]))
        for f in json.loads(stored)
    )


class AlreadyQueued(Exception):
    """A mail of a batch was already queued (by a retry or another instance)."""


def message(
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
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """The row of one mail to queue. The Message-ID is chosen now and kept for every attempt, so a
    resend after a crash is recognised by clients as the same message. `attachments` are sent after
    the body (and after the invitation, when there is one)."""
    return OutboxMessage(
        department=department_id,
        dedupe_key=stored_key(dedupe_key),
        kind=kind[:40],
        entity=entity[:40],
        entity_id=entity_id,
        to_email=to_email,
        to_name=one_line(to_name)[:200],
        subject=one_line(subject)[:300],
        body_text=text,
        body_html=html,
        calendar=calendar.decode("utf-8") if calendar else "",
        calendar_method=calendar_method,
        attachments=encode_attachments(attachments),
        message_id=make_message_id(current_settings().mail_domain),
        status="pending",
        attempts=0,
        next_attempt_at=not_before or clock.now(),
    )


async def _insert(*rows: OutboxMessage) -> None:
    """Insert `rows`; inside a transaction a savepoint keeps the caller's transaction usable when the
    unique index refuses one (PostgreSQL aborts the whole transaction on an error otherwise)."""
    current = current_engine().current_transaction.get()
    if current is None:
        await OutboxMessage.insert(*rows)
        return
    savepoint = await current.savepoint()
    try:
        await OutboxMessage.insert(*rows)
    except BaseException:
        await savepoint.rollback_to()
        raise
    await savepoint.release()


async def queue(**fields: Any) -> bool:
    """Queue a mail (the fields of `message`) inside the caller's transaction. Returns False when
    that mail was already queued. The row commits or rolls back with the caller's change."""
    return await queue_message(message(**fields))


async def queue_message(row: OutboxMessage) -> bool:
    """`queue` for a row built with `message`."""
    if await already_queued(row.dedupe_key):
        return False
    # A concurrent transaction may insert the same key between the check and the insert.
    try:
        await _insert(row)
    except Exception as exc:
        if is_unique_violation(exc):
            return False
        raise
    return True


async def queue_all(rows: list[OutboxMessage]) -> int:
    """Queue many mails in one insert, all or none: raises `AlreadyQueued` (and inserts nothing)
    when one of them was queued already. For batches whose keys the caller has just checked."""
    if not rows:
        return 0
    try:
        await _insert(*rows)
    except Exception as exc:
        if is_unique_violation(exc):
            raise AlreadyQueued() from exc
        raise
    return len(rows)


CLAIM_POSTGRES = """
UPDATE outbox_message SET status = 'sending', claimed_by = {}, claimed_until = {}
WHERE id IN (
    SELECT id FROM outbox_message
    WHERE (status = 'pending' AND next_attempt_at <= {}) OR (status = 'sending' AND claimed_until < {})
    ORDER BY id LIMIT {} FOR UPDATE SKIP LOCKED
) RETURNING *
"""
# SQLite has one writer: the IMMEDIATE transaction of `transaction()` serialises claimers, so no
# row lock is needed. Its planner answers the OR above with a scan in id order (through the whole
# history); one indexed branch per status keeps the cost to what is pending or being sent.
CLAIM_SQLITE = """
UPDATE outbox_message SET status = 'sending', claimed_by = {}, claimed_until = {}
WHERE id IN (
    SELECT id FROM (
        SELECT id FROM outbox_message WHERE status = 'pending' AND next_attempt_at <= {}
        UNION ALL
        SELECT id FROM outbox_message WHERE status = 'sending' AND claimed_until < {}
    ) ORDER BY id LIMIT {}
) RETURNING *
"""


async def claim_due(
    worker_id: str, now: dt.datetime, limit: int = 50, lease: dt.timedelta = LEASE
) -> list[dict[str, Any]]:
    """Mark up to `limit` due messages as being sent by `worker_id` until `now + lease`.

    Due means pending with `next_attempt_at <= now`, or claimed by a sender whose lease ended
    (it crashed). Rows come back ordered by id."""
    sql = CLAIM_SQLITE if is_sqlite() else CLAIM_POSTGRES
    async with transaction():
        rows = await OutboxMessage.raw(sql, worker_id[:100], now + lease, now, now, max(1, int(limit)))
    return sorted(rows, key=lambda r: r["id"])


def _claimed(message_id: int, worker_id: str | None) -> Any:
    condition = (OutboxMessage.id == message_id) & (OutboxMessage.status == "sending")
    if worker_id is not None:
        condition &= OutboxMessage.claimed_by == worker_id
    return condition


async def mark_sent(message_id: int, worker_id: str, now: dt.datetime | None = None) -> bool:
    """Record a message the SMTP server accepted, if `worker_id` still holds it. False otherwise."""
    rows = (
        await OutboxMessage.update(
            {
                OutboxMessage.status: "sent",
                OutboxMessage.sent_at: now or clock.now(),
                OutboxMessage.claimed_until: None,
                OutboxMessage.last_error: "",
            }
        )
        .where(_claimed(message_id, worker_id))
        .returning(OutboxMessage.id)
    )
    return bool(rows)


async def mark_retry(
    message_id: int,
    error: str,
    attempts: int,
    *,
    worker_id: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """After a temporary failure: try again after the back-off, or give up after MAX_ATTEMPTS.

    `attempts` counts this failed try. Returns the new status ("pending" or "failed")."""
    now = now or clock.now()
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    await OutboxMessage.update(
        {
            OutboxMessage.status: status,
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error[:500],
            OutboxMessage.next_attempt_at: now + backoff(attempts),
            OutboxMessage.claimed_until: None,
        }
    ).where(_claimed(message_id, worker_id))
    return status


async def mark_failed(message_id: int, error: str, attempts: int, *, worker_id: str | None = None) -> None:
    """After a permanent failure (5xx, a message that cannot be built): never retried."""
    await OutboxMessage.update(
        {
            OutboxMessage.status: "failed",
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error[:500],
            OutboxMessage.claimed_until: None,
        }
    ).where(_claimed(message_id, worker_id))


async def release(message_ids: list[int], worker_id: str) -> None:
    """Hand claimed rows back untouched (the sender stops before their lease could run out)."""
    if not message_ids:
        return
    await OutboxMessage.update({OutboxMessage.status: "pending", OutboxMessage.claimed_until: None}).where(
        OutboxMessage.id.is_in(message_ids)
        & (OutboxMessage.status == "sending")
        & (OutboxMessage.claimed_by == worker_id)
    )


async def counts() -> dict[str, int]:
    """How many messages per status (health pages, CLI)."""
    rows = await OutboxMessage.raw("SELECT status, COUNT(*) AS n FROM outbox_message GROUP BY status")
    found = {r["status"]: int(r["n"]) for r in rows}
    return {status: found.get(status, 0) for status in STATUSES}


# What is queued, for a metrics scrape: one pass over the status index's ranges of the unsent mails
# (the history of sent ones is not read). The oldest waiting mail is the one due for the longest:
# since its due time if never tried (a reminder queued for a later working hour is not late before
# then), since its creation once tried (a retried mail's due time moves on with the back-off).
QUEUE_STATE = """
SELECT status, COUNT(*) AS n,
    MIN(CASE WHEN attempts > 0 THEN created_at WHEN next_attempt_at <= {} THEN next_attempt_at END) AS oldest
FROM outbox_message WHERE status IN ('pending', 'sending', 'failed') GROUP BY status
"""
QUEUED_STATUSES = ("pending", "sending", "failed")


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, str):  # SQLite: the ISO text stored (the CASE loses the column's type)
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value if isinstance(value, dt.datetime) else None


async def metric_families(now: dt.datetime | None = None) -> list[Any]:
    """`coord_outbox_messages{status}` and `coord_outbox_oldest_pending_age_seconds`, read now."""
    now = now or clock.now()
    rows = await OutboxMessage.raw(QUEUE_STATE, now)
    depth = {status: 0 for status in QUEUED_STATUSES}
    oldest: dt.datetime | None = None
    for row in rows:
        depth[row["status"]] = int(row["n"])
        instant = _instant(row["oldest"]) if row["status"] != "failed" else None
        if instant is not None and (oldest is None or instant < oldest):
            oldest = instant
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return [
        gauge_family(
            "coord_outbox_messages",
            "Mails in the outbox not sent (yet): pending, being sent, failed for good.",
            (((status,), float(n)) for status, n in depth.items()),
            labels=("status",),
        ),
        gauge_family(
            "coord_outbox_oldest_pending_age_seconds",
            "How long the mail waiting longest to be sent has been due (0 when none is).",
            [((), age)],
        ),
    ]
