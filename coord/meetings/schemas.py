"""Request and response bodies of the meetings API (msgspec Structs).

Datetimes are sent as ISO 8601 strings: with an offset, or naive meaning the département's local time;
they are validated by the service so that errors come back in French, field by field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from coord.core.validation import DbInt, Id

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class MeetingIn(msgspec.Struct, forbid_unknown_fields=True):
    committee: Id
    title: str
    starts_at: str
    ends_at: str
    kind: str = "ordinaire"
    department: str | None = None
    place: str = ""
    video_url: str = ""
    urgent: bool = False
    urgency_reason: str = ""
    # A weekend or a public holiday of the département is refused unless confirmed.
    confirm_day: bool = False


class MeetingPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    version: DbInt
    title: str | Unset = UNSET
    kind: str | Unset = UNSET
    starts_at: str | Unset = UNSET
    ends_at: str | Unset = UNSET
    place: str | Unset = UNSET
    video_url: str | Unset = UNSET
    urgent: bool | Unset = UNSET
    urgency_reason: str | Unset = UNSET
    quorum_required: bool | Unset = UNSET
    confirm_day: bool | Unset = UNSET


class VersionIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Body of the lifecycle actions; `version` is optional there (checked when given)."""

    version: DbInt | Unset = UNSET
    urgent: bool | Unset = UNSET
    urgency_reason: str | Unset = UNSET


class ReconveneIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    starts_at: str | Unset = UNSET
    ends_at: str | Unset = UNSET
    urgent: bool | Unset = UNSET
    urgency_reason: str | Unset = UNSET


class MeetingOut(msgspec.Struct):
    id: int
    department: str
    timezone: str
    committee: int
    committee_name: str
    title: str
    kind: str
    kind_label: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: dt.datetime
    local_end: dt.datetime
    place: str
    video_url: str
    status: str
    status_label: str
    organiser_email: str
    organiser_name: str
    uid: str
    sequence: int
    # Answers given to a SEQUENCE below this one (before the last change of time or place) no longer hold.
    answers_sequence: int
    version: int
    urgent: bool
    urgency_reason: str
    quorum_required: bool
    reconvened_from: int | None
    minutes: str
    minutes_published_at: dt.datetime | None
    convened_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    duration_minutes: int


class AgendaItemIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    presenter: str = ""
    duration_minutes: DbInt = 0
    measure: Id | None = None
    notes: str = ""


class AgendaItemPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: str | Unset = UNSET
    presenter: str | Unset = UNSET
    duration_minutes: DbInt | Unset = UNSET
    measure: Id | Unset | None = UNSET
    notes: str | Unset = UNSET


class MoveIn(msgspec.Struct, forbid_unknown_fields=True):
    direction: str


class AgendaItemOut(msgspec.Struct):
    id: int
    meeting: int
    position: int
    title: str
    presenter: str
    duration_minutes: int
    measure: int | None
    measure_label: str
    notes: str


class AgendaOut(msgspec.Struct):
    items: list[AgendaItemOut]
    agenda_minutes: int
    meeting_minutes: int
    overrun: bool


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    contact: Id | Unset = UNSET
    role: str | Unset = UNSET
    all_members: bool | Unset = UNSET


class InvitationPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    role: str | Unset = UNSET
    attendance: str | Unset = UNSET
    represented_by: Id | Unset | None = UNSET


class InvitationOut(msgspec.Struct):
    id: int
    meeting: int
    contact: int
    name: str
    first_name: str
    last_name: str
    email: str
    function: str
    organisation_name: str
    role: str
    role_label: str
    answer: str  # the answer to the current version of the meeting
    answer_label: str
    outdated_answer: str | None  # an answer given before the last change of time or place
    answered_sequence: int | None
    sent_sequence: int | None  # the last SEQUENCE mailed to this invitee
    answered_at: dt.datetime | None
    comment: str
    delegate_name: str
    delegated_from: int | None  # the invitation of the invitee this one represents
    delegated_from_name: str
    attendance: str
    attendance_label: str
    represented_by: int | None
    removed_at: dt.datetime | None
    voting: bool


class QuorumOut(msgspec.Struct):
    voting_members: int
    present: int
    represented: int
    needed: int
    reached: bool
    quorum_required: bool
    recorded: bool


class InvitationsOut(msgspec.Struct):
    items: list[InvitationOut]
    counts: dict[str, int]
    quorum: QuorumOut


class MeetingDetailOut(msgspec.Struct):
    meeting: MeetingOut
    agenda: AgendaOut
    invitations: list[InvitationOut]
    counts: dict[str, int]
    quorum: QuorumOut
    decisions: list[DecisionOut]


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    text: str


class DecisionOut(msgspec.Struct):
    id: int
    meeting: int
    position: int
    text: str


class MinutesIn(msgspec.Struct, forbid_unknown_fields=True):
    minutes: str
    version: DbInt


class RemindOut(msgspec.Struct):
    queued: int


def to_dict(struct: msgspec.Struct) -> dict[str, Any]:
    """The fields the caller actually sent (UNSET ones are left out)."""
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not UNSET}


def meeting(data: dict[str, Any]) -> MeetingOut:
    return MeetingOut(**{f: data[f] for f in MeetingOut.__struct_fields__})


def invitation(data: dict[str, Any]) -> InvitationOut:
    return InvitationOut(**{f: data[f] for f in InvitationOut.__struct_fields__})


def agenda(data: dict[str, Any]) -> AgendaOut:
    return AgendaOut(
        items=[AgendaItemOut(**i) for i in data["items"]],
        agenda_minutes=data["agenda_minutes"],
        meeting_minutes=data["meeting_minutes"],
        overrun=data["overrun"],
    )
