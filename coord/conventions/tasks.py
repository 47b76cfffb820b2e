"""The periodic work on conventions: status changes that come with dates (expiring, end of a
period: renewed, expired or terminated) and reminders (signature reminders, expiry reminders).

An open amendment changes none of this: the convention is renewed or expires on its own dates, and
its amendment's signatories get their reminders too. A convention that ends (expired, terminated)
takes its open amendment with it: the amendment lapses.

`due_reminders(now)` is idempotent and safe to cancel midway: each convention or signatory is
handled in its own transaction, and every mail has a dedupe key, so a second run (or a second
instance) queues nothing twice. Its queries read only due rows, through the indexes on
`convention.next_transition_on`, `convention.next_reminder_on` and
`convention_signatory.next_reminder_at`.

Reminders go out on working days of the convention's département: one whose date falls on a
weekend or a public holiday there (Good Friday and 26 December in Alsace-Moselle, the abolition of
slavery overseas) goes out on the working day before it, never after the convention's end. The
indexed columns keep the nominal dates; the queries read `EARLIER` further ahead for that.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import SYSTEM
from coord.conventions import lifecycle, mails, service
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core import clock
from coord.core.db import transaction
from coord.territory import working_days

logger = logging.getLogger("coord.conventions")

# The furthest a département's calendar day can be ahead of UTC (overseas zones included): rows
# due "tomorrow" in UTC are read, then checked against their own département's day.
AHEAD = dt.timedelta(days=1)
# How much earlier than its date a reminder may go out: the longest run of days off in any
# département is four (Good Friday to Easter Monday in Alsace-Moselle), a week bounds it.
EARLIER = dt.timedelta(days=7)


def _last_reminder_day(today: dt.date, department_code: str) -> dt.date:
    """The last reminder date that goes out on `today`: a working day sends the reminders of the
    days off that follow it too (and a day off catches up those its working day has missed)."""
    return working_days.next_working_day(today, department_code) - dt.timedelta(days=1)


def _due_expiry_reminder(model: Any, ends_on: dt.date, today: dt.date, last_day: dt.date) -> int | None:
    """`lifecycle.due_expiry_reminder` on working days: the latest reminder whose date is up to
    `last_day` (see `_last_reminder_day`), while the convention has not ended."""
    due = [d for d, day in lifecycle.expiry_reminder_dates(model, ends_on) if day <= last_day and today <= ends_on]
    return min(due) if due else None


def _signature_send_at(nominal: dt.datetime, requested_at: dt.datetime, tz: str, department_code: str) -> dt.datetime:
    """When a signature reminder due at `nominal` goes out: at its local hour, on its day if that
    is a working day, else on the working day before; when that is not after the request, on the
    first working day after the request's day."""
    zone = ZoneInfo(tz)
    local = nominal.astimezone(zone)
    day = local.date()
    if not working_days.is_working_day(day, department_code):
        day = working_days.previous_working_day(day, department_code)
    # Working days are never the Sundays summer time changes on: the local hour exists.
    moved = dt.datetime.combine(day, local.time(), zone)
    if moved <= requested_at:
        after = working_days.next_working_day(requested_at.astimezone(zone).date(), department_code)
        moved = dt.datetime.combine(after, local.time(), zone)
    return moved


def _signature_reminder_due(
    model: Any, requested_at: dt.datetime, now: dt.datetime, tz: str, department_code: str
) -> tuple[int | None, dt.datetime | None]:
    """`lifecycle.signature_reminder_due` on working days: (the reminder to send now, in days after
    the request, or None; the nominal instant of the next one, as `next_reminder_at` stores it)."""
    sends = {
        d: _signature_send_at(requested_at + dt.timedelta(days=d), requested_at, tz, department_code)
        for d in model.signature_reminder_days
    }
    due = [d for d, at in sends.items() if at <= now]
    later = [d for d, at in sends.items() if at > now]
    next_at = requested_at + dt.timedelta(days=min(later)) if later else None
    return (max(due) if due else None), next_at


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
            if status in lifecycle.FINAL:
                # An amendment still being signed when the convention ends can no longer apply.
                await service.close_open_amendment(
                    SYSTEM,
                    row,
                    status="lapsed",
                    day=today,
                    reason=f"La convention a pris fin ({lifecycle.STATUSES[status].lower()}) "
                    "avant la signature de l'avenant.",
                    now=now,
                )
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
    horizon = (now + AHEAD + EARLIER).date()
    rows = await Convention.select(
        Convention.id,
        Convention.next_reminder_on,
        Convention.department.code.as_alias("code"),
        Convention.department.timezone.as_alias("timezone"),
    ).where(Convention.next_reminder_on <= horizon)
    candidates = [
        r for r in rows if r["next_reminder_on"] <= _last_reminder_day(clock.local_today(r["timezone"], now), r["code"])
    ]
    catalogue = service.models()
    queued = 0
    for candidate in candidates:
        async with transaction():
            row = await service._locked_row(candidate["id"])
            today = clock.local_today(row["timezone"], now)
            last_day = _last_reminder_day(today, row["department_code"])
            if row["next_reminder_on"] is None or row["next_reminder_on"] > last_day:
                continue
            model = catalogue.get(row["model_code"])
            if model is not None and row["status"] in lifecycle.ACTIVE and row["ends_on"]:
                day = _due_expiry_reminder(model, row["ends_on"], today, last_day)
                if day is not None:
                    queued += await mails.queue_expiry_mail(row, model, day)
                following = next(
                    (d for _, d in lifecycle.expiry_reminder_dates(model, row["ends_on"]) if d > last_day), None
                )
            else:
                following = None
            await Convention.update({Convention.next_reminder_on: following}).where(Convention.id == row["id"])
    return queued


async def _signature_reminders(now: dt.datetime) -> int:
    rows = await ConventionSignatory.select(
        ConventionSignatory.id,
        ConventionSignatory.next_reminder_at,
        ConventionSignatory.requested_at,
        ConventionSignatory.department.code.as_alias("code"),
        ConventionSignatory.department.timezone.as_alias("timezone"),
    ).where(ConventionSignatory.next_reminder_at <= now + EARLIER)
    candidates = [
        r
        for r in rows
        if r["requested_at"] is None
        or _signature_send_at(r["next_reminder_at"], r["requested_at"], r["timezone"], r["code"]) <= now
    ]
    catalogue = service.models()
    queued = 0
    for candidate in candidates:
        async with transaction():
            signatory = (
                await ConventionSignatory.select(*service.SIGNATORY_COLUMNS)
                .where(ConventionSignatory.id == candidate["id"])
                .first()
            )
            if (
                signatory is None
                or signatory["next_reminder_at"] is None
                or signatory["next_reminder_at"] > now + EARLIER
            ):
                continue
            convention = await service._locked_row(signatory["convention"])
            model = catalogue.get(convention["model_code"])
            following: dt.datetime | None = None
            stage = await service.round_of(convention, signatory["amendment"])
            # The convention's own round while it is being signed, or the open amendment's.
            live = (
                model is not None
                and signatory["status"] == "sent"
                and signatory["requested_at"] is not None
                and stage.collecting(convention)
                and convention["status"] not in lifecycle.FINAL
            )
            if live:
                assert model is not None
                day, following = _signature_reminder_due(
                    model, signatory["requested_at"], now, convention["timezone"], convention["department_code"]
                )
                out = service.signatory_out(signatory)
                if day is not None and out["email"]:
                    queued += await mails.queue_signature_mail(
                        {**convention, "amendment": stage.number}, out, model, now=now, reminder_day=day
                    )
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
