"""Request and response bodies of the action items API."""

from __future__ import annotations

import datetime as dt

import msgspec

from coord.actions.service import NO_VICTIM_DATA
from coord.core.validation import DbInt, Id


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    description: str = msgspec.field(default="")
    department: str | None = None
    committee: Id | None = None
    meeting: Id | None = None
    measure: Id | None = None
    owner_organisation: Id | None = None
    owner_contact: Id | None = None
    due_on: str | None = None
    priority: str = "normale"
    progress: DbInt = 0
    tags: list[str] = msgspec.field(default_factory=list)


class ActionPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    committee: Id | msgspec.UnsetType | None = msgspec.UNSET
    meeting: Id | msgspec.UnsetType | None = msgspec.UNSET
    measure: Id | msgspec.UnsetType | None = msgspec.UNSET
    owner_organisation: Id | msgspec.UnsetType | None = msgspec.UNSET
    owner_contact: Id | msgspec.UnsetType | None = msgspec.UNSET
    due_on: str | msgspec.UnsetType | None = msgspec.UNSET
    priority: str | msgspec.UnsetType = msgspec.UNSET
    progress: DbInt | msgspec.UnsetType = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    version: DbInt | msgspec.UnsetType = msgspec.UNSET


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    reopen: bool = False
    comment: str = ""
    progress: DbInt | None = None
    version: DbInt | None = None


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: str


class DecisionOwnerIn(msgspec.Struct, forbid_unknown_fields=True):
    """The owner and due date of one decision's action (instead of those given for all)."""

    decision: Id
    owner_organisation: Id | None = None
    owner_contact: Id | None = None
    due_on: str | None = None


class FromDecisionsIn(msgspec.Struct, forbid_unknown_fields=True):
    decisions: list[Id]
    owner_organisation: Id | None = None
    owner_contact: Id | None = None
    due_on: str | None = None
    measure: Id | None = None
    priority: str | None = None
    per_decision: list[DecisionOwnerIn] = msgspec.field(default_factory=list)

    def service_data(self) -> dict:
        data = {f: getattr(self, f) for f in self.__struct_fields__ if f != "per_decision"}
        data["per_decision"] = {
            own.decision: {k: getattr(own, k) for k in ("owner_organisation", "owner_contact", "due_on")}
            for own in self.per_decision
        }
        return data


class ActionOut(msgspec.Struct):
    id: int
    department: str
    title: str
    description: str
    status: str
    status_label: str
    progress: int
    priority: str
    tags: list[str]
    due_on: dt.date | None
    done_on: dt.date | None
    created_on: dt.date
    overdue: bool
    committee: int | None
    committee_name: str
    meeting: int | None
    meeting_title: str
    decision: int | None
    measure: int | None
    measure_label: str
    owner_organisation: int | None
    owner_organisation_name: str
    owner_contact: int | None
    owner_name: str
    owner_email: str
    version: int


class EventOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor: str
    kind: str
    from_status: str
    to_status: str
    to_status_label: str
    comment: str
    changes: dict


class LinkOut(msgspec.Struct):
    url: str
    expires_at: dt.datetime


__all__ = ["NO_VICTIM_DATA"]
