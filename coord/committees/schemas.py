"""Request and response bodies of the committees API."""

from __future__ import annotations

import msgspec

from coord.core.validation import Id


class CommitteeIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str
    department: str | None = None
    chair: Id | None = None
    description: str = ""
    active: bool = True


class CommitteePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    kind: str | msgspec.UnsetType = msgspec.UNSET
    chair: Id | msgspec.UnsetType | None = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class CommitteeOut(msgspec.Struct):
    id: int
    department: str
    name: str
    kind: str
    kind_label: str
    description: str
    active: bool
    chair: int | None
    chair_name: str
    member_count: int


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    contact: Id
    role: str = "membre"


class MemberPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: str


class MemberOut(msgspec.Struct):
    id: int
    committee: int
    contact: int
    role: str
    role_label: str
    first_name: str
    last_name: str
    email: str
    function: str
    organisation_name: str
