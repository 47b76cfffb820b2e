"""The cycle as users see it: a département's year, the national table, and the prefecture's actions
(accept a proposed date, mark dates unavailable). Every read goes through the `Scope`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import DepartmentRow, Scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.committees.kinds import COMMITTEE_KINDS
from coord.committees.tables import Committee
from coord.core.db import transaction
from coord.core.errors import Conflict, Forbidden, ValidationFailed
from coord.core.validation import Fields
from coord.mail.tables import OutboxMessage
from coord.meetings import service as meetings
from coord.scheduling import readmodel, tasks
from coord.scheduling.config import CycleConfig, cycle_config
from coord.scheduling.cycle import STATES, Slot, build_slots, worst_state, year_bounds
from coord.scheduling.tables import CycleProposal, UnavailableDate

MIN_YEAR, MAX_YEAR = 2014, 2100  # the first national plan; meetings are planned up to 2100


def read_year(raw: Any, now: dt.datetime) -> int:
    if raw in (None, ""):
        return now.year
    try:
        year = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({"year": "Année invalide (exemple : 2026)."}) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed({"year": f"L'année doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."})
    return year


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def slot_out(slot: Slot) -> dict[str, Any]:
    meeting = slot.meeting
    return {
        "committee_kind": slot.committee_kind,
        "committee_kind_label": COMMITTEE_KINDS.get(slot.committee_kind, slot.committee_kind),
        "slot": slot.slot,
        "year": slot.year,
        "state": slot.state,
        "state_label": slot.state_label,
        "late_reason": slot.late_reason,
        "window_start": slot.window[0].isoformat(),
        "window_end": slot.window[1].isoformat(),
        "proposed_start": _iso(slot.proposed_start),
        "proposed_end": _iso(slot.proposed_end),
        "proposal_stored": slot.proposal is not None,
        "meeting": None
        if meeting is None
        else {
            "id": meeting["id"],
            "title": meeting["title"],
            "status": meeting["status"],
            "starts_at": _iso(meeting["starts_at"].astimezone(ZoneInfo(slot.tz))),
            "minutes_published_at": _iso(meeting["minutes_published_at"]),
        },
        "convocation_deadline": _iso(slot.convocation_deadline),
        "minutes_deadline": _iso(slot.minutes_deadline),
        "reminders": slot.reminders,
    }


async def _reminders_sent(scope: Scope, year: int) -> list[dict[str, Any]]:
    """The cycle's reminders queued for the département of `scope` in `year` (by the outbox's
    department index)."""
    start, end = year_bounds(year)
    rows = (
        await scope.select(
            OutboxMessage,
            OutboxMessage.kind,
            OutboxMessage.to_email,
            OutboxMessage.status,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
            OutboxMessage.dedupe_key,
            OutboxMessage.entity_id,
        )
        .where(
            OutboxMessage.kind.is_in(list(tasks.PREFECTURE_KINDS))
            & (OutboxMessage.created_at >= start - dt.timedelta(days=366))
            & (OutboxMessage.created_at < end)
        )
        .order_by(OutboxMessage.id)
    )
    return [
        {**r, "kind_label": tasks.KINDS.get(r["kind"], r["kind"])}
        for r in rows
        if r["kind"] in ("cycle_convocation_due", "cycle_minutes_due") or f":{year}:" in r["dedupe_key"]
    ]


async def department_cycle(
    access: Scope, code: str, year: int, now: dt.datetime, config: CycleConfig | None = None
) -> dict[str, Any]:
    config = config or cycle_config()
    department = await access.department(code)
    slots = await readmodel.year_slots(access.within(department), config, year, now, [department])
    sent = await _reminders_sent(access.within(department), year)
    meeting_ids = {s.meeting["id"] for s in slots if s.meeting}
    for slot in slots:
        slot.reminders = [
            r
            for r in sent
            if (slot.meeting and r["entity_id"] == slot.meeting["id"])
            or f":{slot.committee_kind}:{year}:{slot.slot}:" in r["dedupe_key"]
        ]
    unavailable = (
        await access.within(department)
        .select(UnavailableDate, UnavailableDate.day, UnavailableDate.reason)
        .where((UnavailableDate.day >= dt.date(year, 1, 1)) & (UnavailableDate.day <= dt.date(year, 12, 31)))
        .order_by(UnavailableDate.day)
    )
    return {
        "department": department,
        "year": year,
        "state": worst_state(s.state for s in slots),
        "slots": slots,
        "meeting_ids": meeting_ids,
        "unavailable": unavailable,
    }


def cycle_out(data: Mapping[str, Any]) -> dict[str, Any]:
    department = data["department"]
    return {
        "department": department["code"],
        "department_name": department["name"],
        "region": department["region"],
        "timezone": department["timezone"],
        "year": data["year"],
        "state": data["state"],
        "state_label": STATES[data["state"]],
        "slots": [slot_out(s) for s in data["slots"]],
        "unavailable_dates": [{"date": u["day"].isoformat(), "reason": u["reason"]} for u in data["unavailable"]],
    }


async def national_cycle(
    access: Scope,
    year: int,
    now: dt.datetime,
    *,
    state: str | None = None,
    region: str | None = None,
    config: CycleConfig | None = None,
) -> list[dict[str, Any]]:
    """One row per département visible to `access`: overall state and its slots, read from the stored
    slots (`readmodel`), exact at `now`."""
    if state and state not in STATES:
        raise ValidationFailed({"state": f"État inconnu « {state} » (valeurs : {', '.join(STATES)})."})
    return await _national_cycle(access, year, now, state, region, config or cycle_config())


async def _national_cycle(
    access: Scope, year: int, now: dt.datetime, state: str | None, region: str | None, config: CycleConfig
) -> list[dict[str, Any]]:
    departments = await access.departments()
    if region:
        departments = [d for d in departments if region in (d["region_code"], d["region"])]
    slots = await readmodel.year_slots(access, config, year, now, departments)
    return national_rows(departments, slots, year, state)


def national_rows(
    departments: list[dict[str, Any]], slots: list[Slot], year: int, state: str | None = None
) -> list[dict[str, Any]]:
    """The national table's rows from the slots of `departments` (as `build_slots` makes them)."""
    by_department: dict[int, list[Slot]] = {}
    for slot in slots:
        by_department.setdefault(slot.department["id"], []).append(slot)
    rows = []
    for department in departments:
        own = by_department.get(department["id"], [])
        overall = worst_state(s.state for s in own)
        if state and overall != state:
            continue
        rows.append(
            {
                "department": department["code"],
                "department_name": department["name"],
                "region": department["region"],
                "region_code": department["region_code"],
                "year": year,
                "state": overall,
                "state_label": STATES[overall],
                "slots": [slot_out(s) for s in own],
            }
        )
    return rows


# -- prefecture actions -------------------------------------------------------------------------


async def accept_proposal(
    access: Scope, code: str, data: Mapping[str, Any], now: dt.datetime, config: CycleConfig | None = None
) -> dict[str, Any]:
    """Create the draft meeting (kind « annuelle_teh ») at the proposed date of a slot."""
    config = config or cycle_config()
    department = await access.department(code)
    access.require(Permission.MANAGE, department["id"])
    fields = Fields(data)
    year = read_year(data.get("year"), now)
    kind = fields.choice("committee_kind", {k: k for k in config.minimum_meetings}, required=True)
    index = fields.integer("slot", required=False, minimum=0) or 0
    place = fields.text("place", required=True, max_length=1000, multiline=True)
    fields.check()
    slots = await build_slots(config, [year], now, [department])
    slot = next((s for s in slots if s.committee_kind == kind and s.slot == index), None)
    if slot is None:
        raise ValidationFailed({"slot": "Cette réunion n'est pas prévue pour ce département."})
    if slot.meeting is not None:
        raise Conflict("Une réunion existe déjà pour cette échéance : voyez la page de la réunion.")
    if slot.proposed_start is None or slot.proposed_end is None:
        raise Conflict("Aucune date libre dans la période : créez la réunion à la date de votre choix.")
    if slot.proposed_start <= now + meetings.CONVOCATION_LEAD:
        raise Conflict("La date proposée est trop proche ou passée : créez la réunion à une autre date.")
    committee = (
        await access.within(department)
        .select(Committee, Committee.id)
        .where((Committee.kind == kind) & Committee.active.eq(True))
        .order_by(Committee.id)
        .first()
    )
    if committee is None:
        raise ValidationFailed(
            {"committee_kind": f"Créez d'abord l'instance « {COMMITTEE_KINDS[kind]} » du département (page Instances)."}
        )
    meeting = await meetings.create_meeting(
        access,
        {
            "department": department["code"],
            "committee": committee["id"],
            "title": f"Réunion annuelle de coordination TEH {year}",
            "kind": "annuelle_teh",
            "place": place,
            "starts_at": slot.proposed_start.isoformat(),
            "ends_at": slot.proposed_end.isoformat(),
        },
    )
    async with transaction():
        if slot.proposal is None:
            await tasks.store_proposal(slot, now)
        await (
            access.within(department)
            .update(CycleProposal, {CycleProposal.accepted_at: now, CycleProposal.meeting: meeting["id"]})
            .where(
                (CycleProposal.committee_kind == kind) & (CycleProposal.year == year) & (CycleProposal.slot == index)
            )
        )
    return meeting


def _day(fields: Fields) -> dt.date:
    day = fields.date("date", required=True)
    fields.check()
    assert day is not None
    return day


async def mark_unavailable(access: Scope, code: str, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Record a day the prefecture cannot do; a stored proposal on that day moves to another day."""
    department = await access.department(code)
    access.require(Permission.MANAGE, department["id"])
    fields = Fields(data)
    reason = fields.text("reason", max_length=200) or ""
    day = _day(fields)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValidationFailed({"date": f"La date doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."})
    async with transaction():
        await UnavailableDate.insert(UnavailableDate(department=department["id"], day=day, reason=reason)).on_conflict(
            action="DO NOTHING"
        )
        await audit.record(
            access.principal,
            "create",
            "unavailable_date",
            None,
            department_id=department["id"],
            summary=f"Date indisponible : {day.isoformat()}",
        )
        await _move_proposals_off(access.within(department), department, day, now)
    return {"date": day.isoformat(), "reason": reason}


async def _move_proposals_off(scope: Scope, department: DepartmentRow, day: dt.date, now: dt.datetime) -> None:
    """Pending (not accepted) proposals of `department` (read through `scope`, narrowed to it) on `day`
    are dropped; the next tick proposes another date and mails it (a new proposal, with the day now
    excluded)."""
    zone = ZoneInfo(department["timezone"])
    pending = await scope.select(CycleProposal, CycleProposal.id, CycleProposal.proposed_start).where(
        (CycleProposal.year == day.year) & CycleProposal.meeting.is_null()
    )
    stale = [p["id"] for p in pending if p["proposed_start"].astimezone(zone).date() == day]
    if stale:
        await CycleProposal.delete().where(CycleProposal.id.is_in(stale))


async def unmark_unavailable(access: Scope, code: str, data: Mapping[str, Any]) -> None:
    department = await access.department(code)
    access.require(Permission.MANAGE, department["id"])
    day = _day(Fields(data))
    async with transaction():
        await access.within(department).delete(UnavailableDate).where(UnavailableDate.day == day)
        await audit.record(
            access.principal,
            "delete",
            "unavailable_date",
            None,
            department_id=department["id"],
            summary=f"Date de nouveau disponible : {day.isoformat()}",
        )


def require_national(access: Scope) -> None:
    if not access.principal.is_national:
        raise Forbidden("Le tableau national est réservé à la coordination nationale.")
