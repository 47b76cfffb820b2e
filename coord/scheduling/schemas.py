"""Request and response bodies of the yearly cycle's API."""

from __future__ import annotations

import datetime as dt

import msgspec

from coord.core.validation import DbInt


class MeetingRefOut(msgspec.Struct):
    id: int
    title: str
    status: str
    starts_at: str
    minutes_published_at: str | None


class ReminderOut(msgspec.Struct):
    kind: str
    kind_label: str
    to_email: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class SlotOut(msgspec.Struct):
    committee_kind: str
    committee_kind_label: str
    slot: int
    year: int
    state: str
    state_label: str
    late_reason: str
    window_start: str
    window_end: str
    proposed_start: str | None
    proposed_end: str | None
    proposal_stored: bool
    meeting: MeetingRefOut | None
    convocation_deadline: str | None
    minutes_deadline: str | None
    reminders: list[ReminderOut]


class UnavailableOut(msgspec.Struct):
    date: str
    reason: str


class DepartmentCycleOut(msgspec.Struct):
    department: str
    department_name: str
    region: str
    timezone: str
    year: int
    state: str
    state_label: str
    slots: list[SlotOut]
    unavailable_dates: list[UnavailableOut]


class CycleRowOut(msgspec.Struct):
    department: str
    department_name: str
    region: str
    region_code: str
    year: int
    state: str
    state_label: str
    slots: list[SlotOut]


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    committee_kind: str
    place: str
    year: DbInt | None = None
    slot: DbInt = 0


class UnavailableIn(msgspec.Struct, forbid_unknown_fields=True):
    date: dt.date
    reason: str = ""
