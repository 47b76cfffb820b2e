"""The slots of the yearly cycle, stored so that the national table never derives 101 départements.

`year_slots` returns exactly what `cycle.build_slots(config, [year], now, departments)` returns. It
reads each département's `CycleVersion` (bumped by triggers in every transaction that changes what
the cycle is derived from), then the stored `CycleSlot` rows of the year. A département whose rows
are missing, or were derived under another version or other `[cycle]` rules, is derived again by
`build_slots`, for those départements only (usually none), and stored. Every process reads the same
rows and versions: nothing is cached in memory, nothing expires.

What the clock alone moves (a window ending, a meeting passing without convocation, minutes falling
late) is not stored: `cycle.derive_state` sets each slot's state at the instant of the read, the same
function `build_slots` ends with, so a state changes exactly at its instant.

Why the version is read before the inputs: a stored row then carries a version no newer than the data
it was derived from. A write committed meanwhile bumped the version past it, and the next read derives
the département again; a row can be needlessly derived again, never wrongly taken as exact. Two
processes deriving the same département write the same keys (an upsert): whichever commits last
wins, and if it derived from older data its rows carry the older version, so they are derived again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Scope, system_scope
from coord.core.db import transaction
from coord.scheduling.config import CycleConfig
from coord.scheduling.cycle import CYCLE_MEETING_KIND, Slot, build_slots, derive_state
from coord.scheduling.dates import meeting_window
from coord.scheduling.tables import CycleSlot, CycleVersion

# Part of every row's `config_key`: raise it when `build_slots` derives differently (a new rule, a new
# column), and every stored slot is derived again on its next read.
MODEL_VERSION = 1

_KEY = (CycleSlot.year, CycleSlot.department, CycleSlot.committee_kind, CycleSlot.slot)
_VALUES = [
    CycleSlot.proposal_id,
    CycleSlot.proposal_proposed_at,
    CycleSlot.proposal_accepted_at,
    CycleSlot.proposal_meeting,
    CycleSlot.proposed_start,
    CycleSlot.proposed_end,
    CycleSlot.meeting_id,
    CycleSlot.meeting_title,
    CycleSlot.meeting_status,
    CycleSlot.meeting_starts_at,
    CycleSlot.meeting_ends_at,
    CycleSlot.meeting_convened_at,
    CycleSlot.meeting_minutes_published_at,
    CycleSlot.inputs_version,
    CycleSlot.config_key,
]


_READ = (CycleSlot, CycleSlot.department, CycleSlot.committee_kind, CycleSlot.slot, *_VALUES)


def config_key(config: CycleConfig) -> str:
    """The rules a row was derived under (the configuration is a frozen dataclass: its repr is stable)."""
    return hashlib.sha256(f"{MODEL_VERSION}:{config!r}".encode()).hexdigest()[:32]


async def year_slots(
    scope: Scope, config: CycleConfig, year: int, now: dt.datetime, departments: list[dict[str, Any]]
) -> list[Slot]:
    """`build_slots(config, [year], now, departments)`, from the stored slots where they are exact.
    `scope` reads (at least) `departments`: the rows are read through it."""
    if not departments:
        return []
    versions = {
        row["department"]: row["version"]
        for row in await scope.select(CycleVersion, CycleVersion.department, CycleVersion.version)
    }
    stored: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in await scope.select(*_READ).where(CycleSlot.year == year):
        stored[row["department"]].append(row)
    key = config_key(config)
    stale = [d for d in departments if not _exact(stored.get(d["id"], []), versions.get(d["id"], 0), key)]
    derived: dict[int, list[Slot]] = defaultdict(list)
    if stale:
        for slot in await build_slots(config, [year], now, stale):
            derived[slot.department["id"]].append(slot)
        await _store(derived, versions, key, year)
    order = {kind: position for position, kind in enumerate(config.minimum_meetings)}
    # The same few rules for every département: computed once per read, not per slot.
    rules = {(k, i): config.rule(k, i) for k, n in config.minimum_meetings.items() for i in range(n)}
    windows = {slot: meeting_window(year, rule) for slot, rule in rules.items()}
    slots: list[Slot] = []
    for department in departments:
        if department["id"] in derived:
            slots += derived[department["id"]]
            continue
        zone = ZoneInfo(department["timezone"])
        for row in sorted(stored[department["id"]], key=lambda r: (order[r["committee_kind"]], r["slot"])):
            at = (row["committee_kind"], row["slot"])
            slot = Slot(department, at[0], at[1], year, rules[at], windows[at])
            _fill(slot, row, zone)
            derive_state(slot, config, now)
            slots.append(slot)
    return slots


def _exact(rows: list[dict[str, Any]], version: int, key: str) -> bool:
    # Every département has at least one slot (the primary kind): no row means never derived.
    return bool(rows) and all(r["inputs_version"] == version and r["config_key"] == key for r in rows)


async def _store(derived: dict[int, list[Slot]], versions: dict[int, int], key: str, year: int) -> None:
    """Replace the year's rows of each derived département. One département after the other in id
    order, so two processes storing overlapping sets take PostgreSQL's row locks in the same order."""
    async with transaction():
        for department_id in sorted(derived):
            await system_scope(department_id).delete(CycleSlot).where(CycleSlot.year == year)
            rows = [_row(slot, versions.get(department_id, 0), key) for slot in derived[department_id]]
            # A process storing the same département concurrently inserted rows this DELETE did not see.
            await CycleSlot.insert(*rows).on_conflict(target=_KEY, action="DO UPDATE", values=_VALUES)


def _row(slot: Slot, version: int, key: str) -> CycleSlot:
    proposal = slot.proposal or {}
    meeting = slot.meeting or {}
    return CycleSlot(
        department=slot.department["id"],
        year=slot.year,
        committee_kind=slot.committee_kind,
        slot=slot.slot,
        proposal_id=proposal.get("id"),
        proposal_proposed_at=proposal.get("proposed_at"),
        proposal_accepted_at=proposal.get("accepted_at"),
        proposal_meeting=proposal.get("meeting"),
        proposed_start=slot.proposed_start,
        proposed_end=slot.proposed_end,
        meeting_id=meeting.get("id"),
        meeting_title=meeting.get("title", ""),
        meeting_status=meeting.get("status", ""),
        meeting_starts_at=meeting.get("starts_at"),
        meeting_ends_at=meeting.get("ends_at"),
        meeting_convened_at=meeting.get("convened_at"),
        meeting_minutes_published_at=meeting.get("minutes_published_at"),
        inputs_version=version,
        config_key=key,
    )


def _fill(slot: Slot, row: dict[str, Any], zone: ZoneInfo) -> None:
    """Give `slot` the proposal, dates and meeting `build_slots` gave it from the same inputs."""
    department, kind = slot.department, slot.committee_kind
    if row["proposal_id"] is not None:
        slot.proposal = {
            "id": row["proposal_id"],
            "department": department["id"],
            "committee_kind": kind,
            "year": slot.year,
            "slot": slot.slot,
            "proposed_start": row["proposed_start"],
            "proposed_end": row["proposed_end"],
            "proposed_at": row["proposal_proposed_at"],
            "accepted_at": row["proposal_accepted_at"],
            "meeting": row["proposal_meeting"],
        }
    if row["proposed_start"] is not None:
        slot.proposed_start = row["proposed_start"].astimezone(zone)
        slot.proposed_end = row["proposed_end"].astimezone(zone)
    if row["meeting_id"] is not None:
        slot.meeting = {
            "id": row["meeting_id"],
            "department": department["id"],
            "title": row["meeting_title"],
            "kind": CYCLE_MEETING_KIND,
            "status": row["meeting_status"],
            "starts_at": row["meeting_starts_at"],
            "ends_at": row["meeting_ends_at"],
            "convened_at": row["meeting_convened_at"],
            "minutes_published_at": row["meeting_minutes_published_at"],
            "committee_kind": kind,
        }
