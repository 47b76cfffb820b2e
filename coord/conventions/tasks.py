"""The periodic work on conventions: status changes that come with dates (expiring, end of a
period: renewed, expired or terminated) and reminders (signature reminders, expiry reminders).

`due_reminders(now)` is idempotent and safe to cancel midway: each convention or signatory is
handled in its own transaction, and every mail has a dedupe key, so a second run (or a second
instance) queues nothing twice. Its queries read only due rows, through the indexes on
`convention.next_transition_on`, `convention.next_reminder_on` and
`convention_signatory.next_reminder_at`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from coord.access import SYSTEM
from coord.conventions import lifecycle, mails, service
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core import clock
from coord.core.db import transaction

logger = logging.getLogger("coord.conventions")

# The furthest a département's calendar day can be ahead of UTC (overseas zones included): rows
# due "tomorrow" in UTC are read, then checked against their own département's day.
AHEAD = dt.timedelta(days=1)


async def advance_statuses(now: dt.datetime) -> int:
    """Apply the status changes whose date has come. Returns how many conventions changed."""
    horizon = (now + AHEAD).date()
    candidates = await Convention.select(Convention.id).where(Convention.next_transition_on <= horizon)
    catalogue = service.models()
    changed = 0
    for candidate in candidates:
        async with transaction():
            row = await service._locked_row(candidate["id"])
            today = clock.local_today(row["timezone"], now)
            if row["next_transition_on"] is None or row["next_transition_on"] > today:
                continue
            model = catalogue.get(row["model_code"])
            values = lifecycle.settle(row, model, today, expiring_days=service.expiring_days())
            changes = {k: v for k, v in values.items() if row.get(k) != v}
            if not changes:
                continue
            status = values["status"]
            await service._write_convention(
                SYSTEM,
                row,
                changes,
                action="update",
                summary=f"Convention « {row['title']} » : {lifecycle.STATUSES.get(status, status).lower()}",
            )
            changed += 1
    return changed


async def _expiry_reminders(now: dt.datetime) -> int:
    horizon = (now + AHEAD).date()
    candidates = await Convention.select(Convention.id).where(Convention.next_reminder_on <= horizon)
    catalogue = service.models()
    queued = 0
    for candidate in candidates:
        async with transaction():
            row = await service._locked_row(candidate["id"])
            today = clock.local_today(row["timezone"], now)
            if row["next_reminder_on"] is None or row["next_reminder_on"] > today:
                continue
            model = catalogue.get(row["model_code"])
            if model is not None and row["status"] in lifecycle.ACTIVE and row["ends_on"]:
                day = lifecycle.due_expiry_reminder(model, row["ends_on"], today)
                if day is not None:
                    queued += await mails.queue_expiry_mail(row, model, day)
                following = next(
                    (d for _, d in lifecycle.expiry_reminder_dates(model, row["ends_on"]) if d > today), None
                )
            else:
                following = None
            await Convention.update({Convention.next_reminder_on: following}).where(Convention.id == row["id"])
    return queued


async def _signature_reminders(now: dt.datetime) -> int:
    candidates = await ConventionSignatory.select(ConventionSignatory.id).where(
        ConventionSignatory.next_reminder_at <= now
    )
    catalogue = service.models()
    queued = 0
    for candidate in candidates:
        async with transaction():
            signatory = (
                await ConventionSignatory.select(*service.SIGNATORY_COLUMNS)
                .where(ConventionSignatory.id == candidate["id"])
                .first()
            )
            if signatory is None or signatory["next_reminder_at"] is None or signatory["next_reminder_at"] > now:
                continue
            convention = await service._locked_row(signatory["convention"])
            model = catalogue.get(convention["model_code"])
            following: dt.datetime | None = None
            live = (
                model is not None
                and signatory["status"] == "sent"
                and signatory["requested_at"] is not None
                and signatory["amendment"] == convention["amendment"]
                and convention["status"] in lifecycle.SIGNING
            )
            if live:
                assert model is not None
                day, following = lifecycle.signature_reminder_due(model, signatory["requested_at"], now)
                out = service.signatory_out(signatory)
                if day is not None and out["email"]:
                    queued += await mails.queue_signature_mail(convention, out, model, now=now, reminder_day=day)
            await ConventionSignatory.update({ConventionSignatory.next_reminder_at: following}).where(
                ConventionSignatory.id == signatory["id"]
            )
    return queued


async def due_reminders(now: dt.datetime | None = None) -> int:
    """Everything due at `now`: status changes first (a convention that has just become expiring
    gets its reminder in the same run), then expiry and signature reminders. Returns the number of
    mails queued."""
    now = now or clock.now()
    changed = await advance_statuses(now)
    queued = await _expiry_reminders(now) + await _signature_reminders(now)
    if changed or queued:
        logger.info("conventions: %s status change(s), %s reminder(s) queued", changed, queued)
    return queued


def remind(now: dt.datetime | None = None) -> dict[str, Any]:
    """`coord conventions remind`: run the periodic work once from the command line."""
    queued = asyncio.run(due_reminders(now))
    return {"queued": queued}
