"""Every reminder of the cycle: a pure plan of what is due at an instant, then queuing it in the outbox.

`plan(now)` only reads; `queue_plan(plan, now)` writes (proposals, outbox rows). The dry run prints
the plan, the tick queues it. Each reminder has a dedupe key per (kind, target, occurrence, recipient):
the outbox's unique index makes it exactly once, even when two workers or a restart meet.

    cycle_proposal:{dept}:{kind}:{year}:{slot}:{day}:{user}  date proposed to the prefecture
    cycle_not_planned:{dept}:{kind}:{year}:{slot}:{user}   proposed date not accepted N days before it
    cycle_convocation_due:{meeting}:{user}                 yearly meeting not convened N days before
    cycle_minutes_due:{meeting}:{user}                     minutes not published N days after
    reminder:{meeting}:{invitation}:nudge                  invitee who has not answered (notify.py)
    reminder:{meeting}:{invitation}:agenda                 invitee who has not declined, with the agenda

Reminders go out on working days of their département: one whose nominal day is a weekend or a
public holiday of the département goes out on the previous working day, at its local hour brought
within office hours, never at or after the meeting it announces (`dates.reminder_send_at`). Its
instant is computed from the data alone, and no dedupe key holds a sending day, so a reminder moved
to an earlier day is not sent again on its nominal day.

Every query is bounded by a time window on an indexed column (meeting: status/kind + starts_at), so a
tick costs what is due, not the history: the windows reach `LONGEST_ADVANCE` further ahead for the
reminders moved earlier, and the lookback lets a worker that was down catch up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import system_scope
from coord.accounts.tables import User
from coord.committees.kinds import COMMITTEE_KINDS
from coord.core.db import transaction
from coord.core.french import date_fr
from coord.core.settings import current_settings
from coord.mail import outbox
from coord.mail import render as mails
from coord.meetings import notify
from coord.meetings.tables import Invitation, Meeting
from coord.scheduling.config import CycleConfig, cycle_config
from coord.scheduling.cycle import CYCLE_MEETING_KIND, Slot, build_slots, load_departments
from coord.scheduling.dates import LONGEST_ADVANCE, office_opening, reminder_send_at, shift_days
from coord.scheduling.tables import CycleProposal
from coord.territory.working_days import holiday_name

logger = logging.getLogger("coord.scheduling")

KINDS: dict[str, str] = {
    "cycle_proposal": "Date proposée à la préfecture",
    "cycle_not_planned": "Relance : date non retenue",
    "cycle_convocation_due": "Relance : convocation non envoyée",
    "cycle_minutes_due": "Relance : compte rendu non publié",
    "invitee_nudge": "Relance des invités sans réponse",
    "invitee_agenda": "Rappel avec l'ordre du jour",
}
PREFECTURE_KINDS = ("cycle_proposal", "cycle_not_planned", "cycle_convocation_due", "cycle_minutes_due")


@dataclass(frozen=True)
class DueReminder:
    kind: str
    dedupe_key: str
    department_id: int
    department_code: str
    to_email: str
    to_name: str
    summary: str  # one French line for the dry run and the logs
    meeting_id: int | None = None
    send_at: dt.datetime | None = field(default=None, compare=False)  # when it is due, local
    context: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Plan:
    now: dt.datetime
    proposals: list[Slot] = field(default_factory=list)  # slots whose proposal is to be stored
    reminders: list[DueReminder] = field(default_factory=list)


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date()


def _send_at(
    department: dict[str, Any],
    nominal: dt.datetime,
    *,
    not_before: dt.datetime | None = None,
    event: dt.datetime | None = None,
) -> dt.datetime:
    """When a reminder nominally due at `nominal` goes out in `department`: on a working day."""
    subdivision = department["holiday_subdivision"] or None
    return reminder_send_at(nominal, department["timezone"], subdivision, not_before=not_before, event=event)


def _timing_note(department: dict[str, Any], nominal: dt.datetime, send_at: dt.datetime) -> str:
    """What the dry run and the logs say of a reminder that does not go out on its nominal day."""
    tz = department["timezone"]
    day = nominal.astimezone(ZoneInfo(tz)).date()
    sent = send_at.astimezone(ZoneInfo(tz)).date()
    holiday = holiday_name(day, department["holiday_subdivision"] or None)
    if sent < day and (holiday or day.weekday() >= 5):
        off = f"férié ({holiday})" if holiday else "non ouvré"
        return f" – avancé au {date_fr(send_at, tz, True)} : {date_fr(day)} {off}"
    if sent != day:
        return f" – envoyé le {date_fr(send_at, tz, True)}, premier moment ouvré possible"
    return ""


async def _prefecture_agents(dept_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not dept_ids:
        return {}
    rows = (
        await system_scope()
        .across(dept_ids)
        .select(User, User.id, User.email, User.full_name, User.department)
        .where((User.role == "prefecture") & User.active.eq(True))
        .order_by(User.id)
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[row["department"]].append(row)
    return found


def _slot_context(slot: Slot) -> dict[str, Any]:
    department = slot.department
    start = slot.planned_start
    return {
        "department": department,
        "year": slot.year,
        "committee_kind": COMMITTEE_KINDS.get(slot.committee_kind, slot.committee_kind),
        "slot": slot.slot + 1,
        "slots": None,
        "proposed": date_fr(start, department["timezone"], True) if start else "",
        "zone": notify.zone_label(department["timezone"], start) if start else "",
        "window_start": date_fr(slot.window[0]),
        "window_end": date_fr(slot.window[1]),
        "url": f"{current_settings().base_url}/d/{department['code']}/cycle?annee={slot.year}",
    }


async def _plan_slots(plan: Plan, config: CycleConfig, agents: dict[int, list[dict[str, Any]]] | None) -> None:
    """Proposals to store and prefecture reminders about slots that have no meeting yet."""
    now, today = plan.now, _day(plan.now)
    years = []
    for year in (today.year, today.year + 1):
        opens = min(
            config.rule(k, s).anchor(year) - dt.timedelta(days=config.window_days_before + config.propose_days_before)
            for k, n in config.minimum_meetings.items()
            for s in range(n)
        )
        if opens - LONGEST_ADVANCE <= today:
            years.append(year)
    if not years:
        return
    slots = await build_slots(config, years, now)
    # Only slots whose proposal period is open (its first day, or the working day before it, has
    # come in the département) and whose window has not ended need anything.
    due: list[tuple[Slot, dict[str, tuple[dt.datetime, dt.datetime]]]] = []
    for slot in slots:
        if slot.meeting is not None or slot.proposed_start is None or now >= slot.window_end_instant():
            continue
        timing = _slot_timing(slot, config)
        if timing["cycle_proposal"][1] <= now:
            due.append((slot, {kind: times for kind, times in timing.items() if times[1] <= now}))
    if agents is None:
        agents = await _prefecture_agents(sorted({s.department["id"] for s, _ in due}))
    for slot, timing in due:
        if slot.proposal is None:
            plan.proposals.append(slot)
        department = slot.department
        base = f"{department['id']}:{slot.committee_kind}:{slot.year}:{slot.slot}"
        context = _slot_context(slot)
        assert slot.proposed_start is not None
        # A proposal moved off a day marked unavailable is a new proposal: a new mail.
        suffix = {"cycle_proposal": f"{slot.proposed_start.date().isoformat()}:", "cycle_not_planned": ""}
        for kind, (nominal, send_at) in timing.items():
            for agent in agents.get(department["id"], []):
                plan.reminders.append(
                    DueReminder(
                        kind=kind,
                        dedupe_key=f"{kind}:{base}:{suffix[kind]}{agent['id']}",
                        department_id=department["id"],
                        department_code=department["code"],
                        to_email=agent["email"],
                        to_name=agent["full_name"],
                        summary=f"{KINDS[kind]} – {department['code']} {context['committee_kind']} "
                        f"{slot.year} n°{slot.slot + 1} : {context['proposed']}"
                        f"{_timing_note(department, nominal, send_at)}",
                        context=context,
                        send_at=send_at,
                    )
                )


def _slot_timing(slot: Slot, config: CycleConfig) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """{kind: (nominal instant, sending instant)} of the prefecture's reminders about `slot`: the
    proposal when its period opens (at the office's opening), the « not planned » nudge N days
    before the proposed date (at its hour); both before the proposed date."""
    department, start = slot.department, slot.proposed_start
    assert start is not None
    opening = office_opening(slot.window[0] - dt.timedelta(days=config.propose_days_before), slot.tz)
    nudge = shift_days(start, -config.not_planned_days_before, slot.tz)
    return {
        "cycle_proposal": (opening, _send_at(department, opening, event=start)),
        "cycle_not_planned": (nudge, _send_at(department, nudge, event=start)),
    }


_MEETING_COLUMNS = (
    Meeting.id,
    Meeting.department,
    Meeting.title,
    Meeting.kind,
    Meeting.status,
    Meeting.starts_at,
    Meeting.ends_at,
    Meeting.convened_at,
    Meeting.sequence,
    Meeting.answers_sequence,
    Meeting.committee.name.as_alias("committee_name"),
)


async def _meetings(condition: Any) -> list[dict[str, Any]]:
    return await Meeting.select(*_MEETING_COLUMNS).where(condition).order_by(Meeting.starts_at).order_by(Meeting.id)


def _meeting_context(meeting: dict[str, Any], department: dict[str, Any], **extra: Any) -> dict[str, Any]:
    tz = department["timezone"]
    return {
        "department": department,
        "meeting": meeting,
        "committee": meeting["committee_name"],
        "when": notify.when_fr(meeting["starts_at"], meeting["ends_at"], tz),
        "zone": notify.zone_label(tz, meeting["starts_at"]),
        "url": f"{current_settings().base_url}/d/{department['code']}/reunions/{meeting['id']}",
    } | extra


def _meeting_timing(
    kind: str, meeting: dict[str, Any], department: dict[str, Any], config: CycleConfig
) -> tuple[dt.datetime, dt.datetime]:
    """(nominal instant, sending instant) of a prefecture reminder about a meeting: « not convened »
    N days before it (at its hour, before it), « minutes not published » N days after it (after its
    end)."""
    tz, starts = department["timezone"], meeting["starts_at"]
    if kind == "cycle_convocation_due":
        nominal = shift_days(starts, -config.convocation_days_before, tz)
        return nominal, _send_at(department, nominal, event=starts)
    nominal = shift_days(starts, config.minutes_days_after, tz)
    return nominal, _send_at(department, nominal, not_before=meeting["ends_at"])


async def _plan_meetings(plan: Plan, config: CycleConfig) -> None:
    now = plan.now
    lookback = dt.timedelta(days=config.lookback_days)
    convocation = await _meetings(
        (Meeting.kind == CYCLE_MEETING_KIND)
        & (Meeting.status == "draft")
        & (Meeting.starts_at > now)
        & (Meeting.starts_at <= now + dt.timedelta(days=config.convocation_days_before) + LONGEST_ADVANCE)
    )
    minutes_after = dt.timedelta(days=config.minutes_days_after)
    minutes = await _meetings(
        Meeting.status.is_in(["held", "convened"])
        & (Meeting.starts_at <= now - minutes_after + LONGEST_ADVANCE)
        & (Meeting.starts_at > now - minutes_after - lookback)
        & Meeting.minutes_published_at.is_null()
    )
    horizon = max(config.answer_nudge_days_before, config.agenda_days_before)
    upcoming = await _meetings(
        (Meeting.status == "convened")
        & (Meeting.starts_at > now)
        & (Meeting.starts_at <= now + dt.timedelta(days=horizon) + LONGEST_ADVANCE)
    )
    dept_ids = sorted({m["department"] for m in (*convocation, *minutes, *upcoming)})
    departments = {d["id"]: d for d in await load_departments(ids=dept_ids)} if dept_ids else {}
    # The windows read a few days ahead for the reminders moved earlier: keep those due now.
    prefecture: list[tuple[str, dict[str, Any], tuple[dt.datetime, dt.datetime]]] = []
    for kind, rows in (("cycle_convocation_due", convocation), ("cycle_minutes_due", minutes)):
        for meeting in rows:
            timing = _meeting_timing(kind, meeting, departments[meeting["department"]], config)
            if timing[1] <= now:
                prefecture.append((kind, meeting, timing))
    agents = await _prefecture_agents(sorted({m["department"] for _, m, _ in prefecture}))
    for kind, meeting, (nominal, send_at) in prefecture:
        department = departments[meeting["department"]]
        context = _meeting_context(
            meeting,
            department,
            deadline=date_fr(meeting["starts_at"] - dt.timedelta(days=5), department["timezone"]),
        )
        for agent in agents.get(meeting["department"], []):
            plan.reminders.append(
                DueReminder(
                    kind=kind,
                    dedupe_key=f"{kind}:{meeting['id']}:{agent['id']}",
                    department_id=department["id"],
                    department_code=department["code"],
                    to_email=agent["email"],
                    to_name=agent["full_name"],
                    meeting_id=meeting["id"],
                    summary=f"{KINDS[kind]} – {department['code']} « {meeting['title']} » ({context['when']})"
                    f"{_timing_note(department, nominal, send_at)}",
                    context=context,
                    send_at=send_at,
                )
            )
    await _plan_invitees(plan, config, upcoming, departments)


async def _plan_invitees(
    plan: Plan, config: CycleConfig, meetings: list[dict[str, Any]], departments: dict[int, dict[str, Any]]
) -> None:
    """Invitee reminders, only when the convocation went out before the reminder's point in time
    (a meeting convened three days ahead needs no « J-10 » nudge). A point on a day off goes out on
    the working day before, or, when that day is behind the convocation, at the first working moment
    after it that is still before the meeting (else right after the convocation)."""
    now = plan.now
    wanted: dict[int, list[tuple[str, str, dt.datetime, dt.datetime]]] = defaultdict(list)
    for meeting in meetings:
        department = departments[meeting["department"]]
        convened = meeting["convened_at"]
        if convened is None:
            continue
        for tag, days in (("nudge", config.answer_nudge_days_before), ("agenda", config.agenda_days_before)):
            point = shift_days(meeting["starts_at"], -days, department["timezone"])
            if convened > point:
                continue
            send_at = _send_at(department, point, not_before=convened, event=meeting["starts_at"])
            if send_at <= now:
                wanted[meeting["id"]].append((tag, f"invitee_{tag}", point, send_at))
    if not wanted:
        return
    invitations = (
        await Invitation.select(
            Invitation.id,
            Invitation.meeting,
            Invitation.answer,
            Invitation.answer_sequence,
            Invitation.contact.email.as_alias("email"),
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
        )
        .where(
            Invitation.meeting.is_in(list(wanted))
            & Invitation.removed_at.is_null()
            & Invitation.contact.active.eq(True)  # a deactivated or erased contact gets no more mail
        )
        .order_by(Invitation.id)
    )
    by_meeting = {m["id"]: m for m in meetings}
    for invitation in invitations:
        meeting = by_meeting[invitation["meeting"]]
        department = departments[meeting["department"]]
        answer = notify.current_answer(invitation, meeting["answers_sequence"])
        for tag, kind, point, send_at in wanted[meeting["id"]]:
            if answer == "declined" or (tag == "nudge" and answer != "needs_action"):
                continue
            plan.reminders.append(
                DueReminder(
                    kind=kind,
                    dedupe_key=f"reminder:{meeting['id']}:{invitation['id']}:{tag}",
                    department_id=department["id"],
                    department_code=department["code"],
                    to_email=invitation["email"],
                    to_name=f"{invitation['first_name']} {invitation['last_name']}".strip(),
                    meeting_id=meeting["id"],
                    summary=f"{KINDS[kind]} – {department['code']} « {meeting['title']} »"
                    f"{_timing_note(department, point, send_at)}",
                    context={"tag": tag},
                    send_at=send_at,
                )
            )


async def plan(now: dt.datetime, config: CycleConfig | None = None) -> Plan:
    """What is due at `now` and not sent yet. Reads only."""
    config = config or cycle_config()
    result = Plan(now=now)
    await _plan_slots(result, config, None)
    await _plan_meetings(result, config)
    sent = await outbox.already_queued_many(r.dedupe_key for r in result.reminders)
    result.reminders = [r for r in result.reminders if r.dedupe_key not in sent]
    return result


async def plan_reminders(now: dt.datetime, config: CycleConfig | None = None) -> list[DueReminder]:
    return (await plan(now, config)).reminders


# -- queuing ------------------------------------------------------------------------------------


async def store_proposal(slot: Slot, now: dt.datetime) -> bool:
    """Store the proposed date of `slot`; a concurrent worker storing it first makes this a no-op."""
    assert slot.proposed_start is not None and slot.proposed_end is not None
    row = CycleProposal(
        department=slot.department["id"],
        committee_kind=slot.committee_kind,
        year=slot.year,
        slot=slot.slot,
        proposed_start=slot.proposed_start.astimezone(dt.UTC),
        proposed_end=slot.proposed_end.astimezone(dt.UTC),
        proposed_at=now,
    )
    inserted = await CycleProposal.insert(row).on_conflict(action="DO NOTHING").returning(CycleProposal.id)
    return bool(inserted)


async def _queue_prefecture_mail(reminder: DueReminder) -> bool:
    settings = current_settings()
    context = {
        **reminder.context,
        "recipient": reminder.to_name,
        "organiser_name": settings.organiser_name,
        "organiser_email": settings.organiser_email,
    }
    mail = mails.render(reminder.kind, context)  # templates/mails/cycle_*.subject.txt, .txt, .html
    return await outbox.queue(
        dedupe_key=reminder.dedupe_key,
        kind=reminder.kind,
        to_email=reminder.to_email,
        to_name=reminder.to_name,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=reminder.department_id,
        entity="meeting" if reminder.meeting_id else "cycle",
        entity_id=reminder.meeting_id,
    )


async def queue_plan(result: Plan) -> dict[str, int]:
    """Store the proposals and queue the reminders of `result`, each in its own short transaction
    (safe to cancel between two: what is done is done, the rest is planned again next tick)."""
    counts: dict[str, int] = defaultdict(int)
    for slot in result.proposals:
        async with transaction():
            counts["proposals"] += int(await store_proposal(slot, result.now))
    invitees: dict[tuple[int, str], str] = {}
    for reminder in result.reminders:
        if reminder.kind in PREFECTURE_KINDS:
            async with transaction():
                counts[reminder.kind] += int(await _queue_prefecture_mail(reminder))
        elif reminder.meeting_id is not None:
            invitees[(reminder.meeting_id, reminder.context["tag"])] = reminder.kind
    for (meeting_id, tag), kind in invitees.items():
        async with transaction():
            counts[kind] += await notify.queue_reminder(
                meeting_id, only_unanswered=tag == "nudge", now=result.now, key=tag
            )
    return dict(counts)
