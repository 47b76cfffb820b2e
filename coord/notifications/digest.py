"""The daily digest: one mail per agent and day with the unread notifications of the kinds they
chose to receive by mail, queued through the outbox.

- When: from `DIGEST_HOUR` in the département's time zone, on its working days only (weekends and
  the public holidays of its calendar, as the reminders do): what came on a Saturday waits for
  Monday's mail, in one digest rather than three.
- Exactly once: the outbox dedupe key names the agent and the local day, and the notifications it
  lists are marked with that day in the same transaction as the mail is queued. A rerun, a restart or
  a second instance queues nothing more (the key exists) and a notification is in one digest only.
- Cost: reads only the notifications waiting for a digest (a partial index on digest = 'pending').
- A notification read in Coord before the mail leaves is dropped from it: the mail is for what the
  agent has not seen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from coord.accounts.tables import User
from coord.core.db import transaction
from coord.core.settings import current_settings
from coord.mail import outbox
from coord.mail import render as mails
from coord.notifications.kinds import KIND_LABELS
from coord.notifications.tables import Notification
from coord.territory.working_days import holiday_subdivision_for, is_working_day

DIGEST_HOUR = 8  # local time: the mail is there when the day starts
PENDING = "pending"


def digest_key(account: int, day: dt.date) -> str:
    return f"notification-digest:{account}:{day.isoformat()}"


def digest_day(code: str, timezone: str, now: dt.datetime) -> dt.date | None:
    """The local day whose digest may leave at `now` in this département, or None (too early, a
    weekend or a public holiday)."""
    local = now.astimezone(ZoneInfo(timezone or "Europe/Paris"))
    if local.hour < DIGEST_HOUR or not is_working_day(local.date(), holiday_subdivision_for(code)):
        return None
    return local.date()


async def _waiting() -> dict[int, list[dict[str, Any]]]:
    rows = (
        await Notification.select(
            Notification.id,
            Notification.recipient,
            Notification.kind,
            Notification.text,
            Notification.link,
            Notification.read_at,
            Notification.created_at,
        )
        .where(Notification.digest == PENDING)
        .order_by(Notification.id)
    )
    by_account: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_account.setdefault(row["recipient"], []).append(row)
    return by_account


async def _accounts(ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = await User.select(
        User.id,
        User.email,
        User.full_name,
        User.active,
        User.department.as_alias("department"),
        User.department.code.as_alias("code"),
        User.department.timezone.as_alias("timezone"),
    ).where(User.id.is_in(ids))
    return {r["id"]: r for r in rows}


def _mail(account: dict[str, Any], items: list[dict[str, Any]], day: dt.date) -> Any:
    base = current_settings().base_url
    groups = []
    for kind, label in KIND_LABELS.items():
        mine = [{**n, "url": f"{base}/notifications/{n['id']}"} for n in items if n["kind"] == kind]
        if mine:
            groups.append({"label": label, "items": mine})
    context = {
        "name": account["full_name"] or account["email"],
        "count": len(items),
        "day": day,
        "groups": groups,
        "list_url": f"{base}/notifications",
        "preferences_url": f"{base}/notifications/preferences",
    }
    mail = mails.render("notification_digest", context)
    return outbox.message(
        dedupe_key=digest_key(account["id"], day),
        kind="notification_digest",
        to_email=account["email"],
        to_name=account["full_name"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=account["department"],
        entity="notification",
        entity_id=items[0]["id"],
    )


async def _settle(ids: list[int], value: str) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        await Notification.update({Notification.digest: value}).where(
            Notification.id.is_in(chunk) & (Notification.digest == PENDING)
        )


async def queue_digests(now: dt.datetime) -> int:
    """Queue the digests due at `now`; returns how many mails were queued."""
    waiting = await _waiting()
    if not waiting:
        return 0
    accounts = await _accounts(list(waiting))
    queued = 0
    for account_id, rows in waiting.items():
        account = accounts.get(account_id)
        if account is None or not account["active"] or account["code"] is None:
            await _settle([r["id"] for r in rows], "")  # nobody to mail any more
            continue
        day = digest_day(account["code"], account["timezone"], now)
        if day is None:
            continue
        unread = [r for r in rows if r["read_at"] is None]
        if unread and await outbox.already_queued(digest_key(account_id, day)):
            continue  # came after today's mail: tomorrow's
        async with transaction():
            if unread and await outbox.queue_message(_mail(account, unread, day)):
                await _settle([r["id"] for r in unread], day.isoformat())
                queued += 1
            # Read meanwhile: seen in Coord, nothing to mail.
            await _settle([r["id"] for r in rows if r["read_at"] is not None], "")
    return queued
