"""Request and response bodies of the partners API (msgspec: Piccolo's pydantic models break the
OpenAPI schema)."""

from __future__ import annotations

import msgspec

from coord.core.validation import Id

NO_VICTIM_DATA = "Ne jamais saisir de données concernant des victimes (noms, âges, situations)."


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str
    department: str | None = None
    acronym: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    notes: str = msgspec.field(default="")


class OrganisationPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    kind: str | msgspec.UnsetType = msgspec.UNSET
    acronym: str | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    email: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET


class OrganisationOut(msgspec.Struct):
    id: int
    department: str
    name: str
    kind: str
    kind_label: str
    acronym: str
    address: str
    email: str
    phone: str
    notes: str
    contact_count: int = 0


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    organisation: Id
    first_name: str
    last_name: str
    email: str
    function: str = ""
    phone: str = ""
    active: bool = True


class ContactPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    first_name: str | msgspec.UnsetType = msgspec.UNSET
    last_name: str | msgspec.UnsetType = msgspec.UNSET
    email: str | msgspec.UnsetType = msgspec.UNSET
    function: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class ContactOut(msgspec.Struct):
    id: int
    department: str
    organisation: int
    organisation_name: str
    first_name: str
    last_name: str
    function: str
    email: str
    phone: str
    active: bool
    erased: bool = False  # erased on request (GDPR): the personal fields are a tombstone


class ImportReport(msgspec.Struct):
    organisations_created: int
    contacts_created: int
    rejected: list[RejectedRow]
    dry_run: bool = False


class RejectedRow(msgspec.Struct):
    line: int
    reason: str


def to_dict(struct: msgspec.Struct) -> dict:
    """The fields the caller actually sent (UNSET ones are left out)."""
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not msgspec.UNSET}
