"""Where the yearly cycle of each département stands, derived from the meetings table.

A département must hold, each year, `minimum_meetings[kind]` meetings of kind « annuelle_teh » per
committee kind (the first kind everywhere, the others where the département has such a committee).
Each required meeting is a *slot*. Its state is computed, never stored, so nothing can drift:

    non_planifiee  no meeting, no date proposed yet
    date_proposee  a date was proposed (or a draft meeting exists), not convened yet
    convoquee      the meeting is convened and to come
    tenue          the meeting took place, minutes not published (yet within the delay)
    cr_publie      minutes published
    en_retard      overdue: no meeting after the window, convocation no longer possible in time, the
                   meeting date passed without convocation, or minutes late

Every query is bounded by the years asked for (meetings by `kind, starts_at`, proposals by `year`),
so the cost follows the number of départements and years shown, not the history.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Scope, system_scope
from coord.committees.tables import Committee
from coord.meetings.service import CONVOCATION_LEAD
from coord.meetings.tables import Meeting
from coord.scheduling.config import CycleConfig
from coord.scheduling.dates import NoDateAvailable, YearlyMeetingRule, meeting_window, propose_meeting_date
from coord.scheduling.tables import CycleProposal, UnavailableDate
from coord.territory.tables import Department

CYCLE_MEETING_KIND = "annuelle_teh"
STATES: dict[str, str] = {
    "non_planifiee": "Non planifiée",
    "date_proposee": "Date proposée",
    "convoquee": "Convoquée",
    "tenue": "Tenue",
    "cr_publie": "Compte rendu publié",
    "en_retard": "En retard",
}
# Worst first: a département's overall state is the worst of its slots.
_SEVERITY = ("en_retard", "non_planifiee", "date_proposee", "convoquee", "tenue", "cr_publie")
DEPARTMENT_COLUMNS = (
    Department.id,
    Department.code,
    Department.name,
    Department.region_code,
    Department.region,
    Department.prefecture,
    Department.timezone,
    Department.holiday_subdivision,
)


@dataclass
class Slot:
    department: dict[str, Any]
    committee_kind: str
    slot: int
    year: int
    rule: YearlyMeetingRule
    window: tuple[dt.date, dt.date]
    proposal: dict[str, Any] | None = None
    proposed_start: dt.datetime | None = None  # local time of the département
    proposed_end: dt.datetime | None = None
    meeting: dict[str, Any] | None = None
    state: str = "non_planifiee"
    late_reason: str = ""
    convocation_deadline: dt.datetime | None = None  # local
    minutes_deadline: dt.datetime | None = None  # local
    reminders: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tz(self) -> str:
        return self.department["timezone"]

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def planned_start(self) -> dt.datetime | None:
        """The meeting's date if there is one, else the proposed date (local)."""
        if self.meeting is not None:
            return self.meeting["starts_at"].astimezone(ZoneInfo(self.tz))
        return self.proposed_start

    def window_end_instant(self) -> dt.datetime:
        """The end of the window's last day, in the département's zone."""
        last = self.window[1] + dt.timedelta(days=1)
        return dt.datetime.combine(last, dt.time(0), tzinfo=ZoneInfo(self.tz))


def worst_state(states: Iterable[str]) -> str:
    found = set(states)
    return next((s for s in _SEVERITY if s in found), "non_planifiee")


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """A UTC range that contains every local instant of `year` in every French zone (UTC-4 to UTC+4)."""
    return (
        dt.datetime(year, 1, 1, tzinfo=dt.UTC) - dt.timedelta(days=1),
        dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=1),
    )


def required_kinds(config: CycleConfig, present_kinds: set[str]) -> list[str]:
    primary = config.primary_kind
    return [primary, *(k for k in config.minimum_meetings if k != primary and k in present_kinds)]


# -- loading ------------------------------------------------------------------------------------


async def load_departments(ids: list[int] | None = None, codes: list[str] | None = None) -> list[dict[str, Any]]:
    query = Department.select(*DEPARTMENT_COLUMNS).order_by(Department.id)
    if ids is not None:
        query = query.where(Department.id.is_in(ids or [0]))
    if codes is not None:
        query = query.where(Department.code.is_in(codes or [""]))
    return await query


def _reading(dept_ids: list[int] | None) -> Scope:
    """The départements the caller chose (every one when None): the cycle reads for the system, its
    callers having picked the départements through their own scope."""
    return system_scope() if dept_ids is None else system_scope().across(dept_ids)


async def _committee_kinds(config: CycleConfig, dept_ids: list[int] | None) -> dict[int, set[str]]:
    query = (
        _reading(dept_ids)
        .select(Committee, Committee.department, Committee.kind)
        .where(
            (Committee.active == True) & Committee.kind.is_in(list(config.minimum_meetings))  # noqa: E712
        )
    )
    found: dict[int, set[str]] = defaultdict(set)
    for row in await query:
        found[row["department"]].add(row["kind"])
    return found


async def _cycle_meetings_between(
    start: dt.datetime, end: dt.datetime, dept_ids: list[int] | None
) -> list[dict[str, Any]]:
    query = (
        _reading(dept_ids)
        .select(
            Meeting,
            Meeting.id,
            Meeting.department,
            Meeting.title,
            Meeting.kind,
            Meeting.status,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.convened_at,
            Meeting.minutes_published_at,
            Meeting.committee.kind.as_alias("committee_kind"),
        )
        .where(
            (Meeting.starts_at >= start)
            & (Meeting.starts_at < end)
            & (Meeting.status != "cancelled")
            & (Meeting.kind == CYCLE_MEETING_KIND)
        )
    )
    return await query.order_by(Meeting.starts_at).order_by(Meeting.id)


async def _starts_in_windows(
    windows: list[tuple[dt.date, dt.date]], dept_ids: list[int] | None
) -> list[dict[str, Any]]:
    """Start instants of the meetings (of any kind) inside the proposal windows: a proposal avoids
    their days. Only the windows are read, not the whole year (the national table asks for 101)."""
    condition = None
    for first, last in sorted(set(windows)):
        part = (Meeting.starts_at >= dt.datetime.combine(first, dt.time(), dt.UTC) - dt.timedelta(days=1)) & (
            Meeting.starts_at < dt.datetime.combine(last, dt.time(), dt.UTC) + dt.timedelta(days=2)
        )
        condition = part if condition is None else condition | part
    query = (
        _reading(dept_ids).select(Meeting, Meeting.department, Meeting.starts_at).where(Meeting.status != "cancelled")
    )
    if condition is not None:
        query = query.where(condition)
    return await query


async def _proposals(years: list[int], dept_ids: list[int] | None) -> dict[tuple[int, str, int, int], dict[str, Any]]:
    query = _reading(dept_ids).select(CycleProposal).where(CycleProposal.year.is_in(years))
    return {(r["department"], r["committee_kind"], r["year"], r["slot"]): r for r in await query}


async def unavailable_days(dept_ids: list[int] | None, start: dt.date, end: dt.date) -> dict[int, set[dt.date]]:
    query = (
        _reading(dept_ids)
        .select(UnavailableDate, UnavailableDate.department, UnavailableDate.day)
        .where((UnavailableDate.day >= start) & (UnavailableDate.day <= end))
    )
    found: dict[int, set[dt.date]] = defaultdict(set)
    for row in await query:
        found[row["department"]].add(row["day"])
    return found


# -- derivation ---------------------------------------------------------------------------------


def compute_proposal(
    slot: Slot, unavailable: Iterable[dt.date], taken: Iterable[dt.datetime]
) -> tuple[dt.datetime, dt.datetime] | None:
    """The date Coord proposes for `slot` (local), or None when the window has no free working day."""
    department = slot.department
    return _proposal(
        slot.year,
        department["timezone"],
        department["holiday_subdivision"] or None,
        slot.rule,
        frozenset(unavailable),
        frozenset(taken),
    )


@functools.lru_cache(maxsize=8192)
def _proposal(
    year: int,
    tz: str,
    subdivision: str | None,
    rule: Any,
    unavailable: frozenset[dt.date],
    taken: frozenset[dt.datetime],
) -> tuple[dt.datetime, dt.datetime] | None:
    """Pure in its arguments, so remembered: the national table asks it for every département on
    each request, and it walks the window's days with the public holidays."""
    try:
        return propose_meeting_date(year, tz, subdivision, rule, unavailable=unavailable, taken=taken)
    except NoDateAvailable:
        return None


def derive_state(slot: Slot, config: CycleConfig, now: dt.datetime) -> None:
    """Set `state`, `late_reason` and the deadlines of `slot` at `now`."""
    zone = ZoneInfo(slot.tz)
    meeting = slot.meeting
    start = slot.planned_start
    if start is not None:
        slot.convocation_deadline = start - dt.timedelta(days=config.convocation_days_before)
    if meeting is None:
        if now >= slot.window_end_instant():
            slot.state, slot.late_reason = "en_retard", "Aucune réunion organisée dans la période prévue."
        elif slot.proposal is not None:
            slot.state = "date_proposee"
        else:
            slot.state = "non_planifiee"
        return
    starts, ends = meeting["starts_at"], meeting["ends_at"]
    slot.minutes_deadline = (starts + dt.timedelta(days=config.minutes_days_after)).astimezone(zone)
    if meeting["minutes_published_at"] is not None:
        slot.state = "cr_publie"
    elif meeting["status"] == "held" or (meeting["status"] == "convened" and ends <= now):
        late = now > slot.minutes_deadline
        slot.state = "en_retard" if late else "tenue"
        slot.late_reason = "Compte rendu non publié dans le délai." if late else ""
    elif meeting["status"] == "convened":
        slot.state = "convoquee"
    elif starts <= now:
        slot.state, slot.late_reason = "en_retard", "La date de la réunion est passée sans convocation."
    elif starts - now < CONVOCATION_LEAD:
        slot.state = "en_retard"
        slot.late_reason = "La convocation n'a pas été envoyée cinq jours avant la réunion (R.133-8 CRPA)."
    else:
        slot.state = "date_proposee"


async def build_slots(
    config: CycleConfig,
    years: list[int],
    now: dt.datetime,
    departments: list[dict[str, Any]] | None = None,
    *,
    propose: bool = True,
) -> list[Slot]:
    """Every required slot of `departments` (all when None) for `years`, with its state at `now`.

    With `propose`, a slot without a stored proposal nor a meeting gets the date Coord would propose
    (computed, not stored: storing is the tick's job)."""
    if departments is None:
        departments = await load_departments()
    dept_ids = [d["id"] for d in departments] if len(departments) < 101 else None
    kinds = await _committee_kinds(config, dept_ids)
    proposals = await _proposals(years, dept_ids)
    start, _ = year_bounds(min(years))
    _, end = year_bounds(max(years))
    meetings = await _cycle_meetings_between(start, end, dept_ids)
    by_slot: dict[tuple[int, str, int], list[dict[str, Any]]] = defaultdict(list)
    taken: dict[int, list[dt.datetime]] = defaultdict(list)
    zones = {d["id"]: ZoneInfo(d["timezone"]) for d in departments}
    for proposal in proposals.values():
        if proposal["meeting"] is None:
            taken[proposal["department"]].append(proposal["proposed_start"])
    for meeting in meetings:
        zone = zones.get(meeting["department"])
        if zone is None:
            continue
        local_year = meeting["starts_at"].astimezone(zone).year
        by_slot[(meeting["department"], meeting["committee_kind"], local_year)].append(meeting)
    windows = [
        meeting_window(y, config.rule(k, s))
        for y in years
        for k, n in config.minimum_meetings.items()
        for s in range(n)
    ]
    if propose:
        for meeting in await _starts_in_windows(windows, dept_ids):
            taken[meeting["department"]].append(meeting["starts_at"])
    blocked = await unavailable_days(dept_ids, min(w[0] for w in windows), max(w[1] for w in windows))
    slots: list[Slot] = []
    for department in departments:
        for year in years:
            for kind in required_kinds(config, kinds.get(department["id"], set())):
                found = by_slot.get((department["id"], kind, year), [])
                for index in range(config.minimum_meetings[kind]):
                    rule = config.rule(kind, index)
                    slot = Slot(department, kind, index, year, rule, meeting_window(year, rule))
                    slot.proposal = proposals.get((department["id"], kind, year, index))
                    slot.meeting = found[index] if index < len(found) else None
                    zone = zones[department["id"]]
                    if slot.proposal is not None:
                        slot.proposed_start = slot.proposal["proposed_start"].astimezone(zone)
                        slot.proposed_end = slot.proposal["proposed_end"].astimezone(zone)
                    elif propose and slot.meeting is None:
                        chosen = compute_proposal(slot, blocked.get(department["id"], ()), taken[department["id"]])
                        if chosen is not None:
                            slot.proposed_start, slot.proposed_end = chosen
                            taken[department["id"]].append(chosen[0])  # two slots never share a day
                    derive_state(slot, config, now)
                    slots.append(slot)
    return slots
