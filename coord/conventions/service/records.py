"""Rows of conventions and signatories: columns, clock, reading them back, their output, the
convention's update with its audit entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from coord.access import Principal, Scope
from coord.audit import log as audit
from coord.conventions import lifecycle
from coord.conventions.lifecycle import SIGNATORY_STATUSES, STATUSES
from coord.conventions.models import ConventionModel
from coord.conventions.roles import role_label
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core import clock
from coord.core.db import is_sqlite
from coord.core.errors import NotFound

LINK_PURPOSE = "signature"

LINK_VALIDITY = dt.timedelta(days=180)

EARLIEST_DATE = dt.date(2000, 1, 1)

BASE_COLUMNS = (
    Convention.id,
    Convention.department,
    Convention.pilot_site,
    Convention.model_code,
    Convention.title,
    Convention.status,
    Convention.amendment,
    Convention.amendment_subject,
    Convention.signed_on,
    Convention.effective_from,
    Convention.ends_on,
    Convention.period,
    Convention.terminated_on,
    Convention.termination_reason,
    Convention.next_transition_on,
    Convention.next_reminder_on,
    Convention.notes,
)

JOINED_COLUMNS = (
    Convention.department.code.as_alias("department_code"),
    Convention.department.name.as_alias("department_name"),
    Convention.department.timezone.as_alias("timezone"),
)

COLUMNS = BASE_COLUMNS + JOINED_COLUMNS

SIGNATORY_COLUMNS = (
    ConventionSignatory.id,
    ConventionSignatory.department,
    ConventionSignatory.convention,
    ConventionSignatory.amendment,
    ConventionSignatory.organisation,
    ConventionSignatory.contact,
    ConventionSignatory.role,
    ConventionSignatory.signer_name,
    ConventionSignatory.signer_title,
    ConventionSignatory.status,
    ConventionSignatory.requested_at,
    ConventionSignatory.next_reminder_at,
    ConventionSignatory.signed_on,
    ConventionSignatory.refused_on,
    ConventionSignatory.document_ref,
    ConventionSignatory.organisation.name.as_alias("organisation_name"),
    ConventionSignatory.organisation.kind.as_alias("organisation_kind"),
    ConventionSignatory.organisation.email.as_alias("organisation_email"),
    ConventionSignatory.contact.first_name.as_alias("contact_first_name"),
    ConventionSignatory.contact.last_name.as_alias("contact_last_name"),
    ConventionSignatory.contact.email.as_alias("contact_email"),
)


def _model_name(code: str, catalogue: dict[str, ConventionModel]) -> str:
    model = catalogue.get(code)
    return model.name if model else f"Modèle « {code} » (fichier absent)"


def signatory_out(row: dict[str, Any]) -> dict[str, Any]:
    contact = " ".join(p for p in (row.get("contact_first_name"), row.get("contact_last_name")) if p)
    return {
        "id": row["id"],
        "convention": row["convention"],
        "amendment": row["amendment"],
        "organisation": row["organisation"],
        "organisation_name": row["organisation_name"] or "",
        "organisation_kind": row["organisation_kind"] or "",
        "contact": row["contact"],
        "contact_name": contact,
        "email": row.get("contact_email") or row.get("organisation_email") or "",
        "role": row["role"],
        "role_label": role_label(row["role"]),
        "signer_name": row["signer_name"],
        "signer_title": row["signer_title"],
        "status": row["status"],
        "status_label": SIGNATORY_STATUSES.get(row["status"], row["status"]),
        "requested_at": row["requested_at"],
        "signed_on": row["signed_on"],
        "refused_on": row["refused_on"],
        "document_ref": row["document_ref"],
        "version_label": lifecycle.version_label(row["amendment"]),
    }


def convention_out(
    row: dict[str, Any], current: list[dict[str, Any]], catalogue: dict[str, ConventionModel]
) -> dict[str, Any]:
    """`current`: the signatories of the convention's text in force (its round `amendment`).
    `rounds.conventions_out` adds the open amendment's state."""
    model = catalogue.get(row["model_code"])
    done = (
        lifecycle.progress(model, current).as_dict()
        if model
        else {"required_count": 0, "signed_count": 0, "complete": False, "missing_roles": []}
    )
    return {
        "id": row["id"],
        "department": row["department_code"],
        "department_name": row["department_name"],
        "pilot_site": row["pilot_site"],
        "model": row["model_code"],
        "model_name": _model_name(row["model_code"], catalogue),
        "title": row["title"],
        "status": row["status"],
        "status_label": STATUSES.get(row["status"], row["status"]),
        "amendment": row["amendment"],
        "amendment_subject": row["amendment_subject"],
        "signed_on": row["signed_on"],
        "effective_from": row["effective_from"],
        "ends_on": row["ends_on"],
        "period": row["period"],
        "terminated_on": row["terminated_on"],
        "termination_reason": row["termination_reason"],
        "notes": row["notes"],
        **done,
    }


async def _current_signatories(conventions: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Signatories of each convention's current round, by convention id."""
    rounds = {c["id"]: c["amendment"] for c in conventions}
    result: dict[int, list[dict[str, Any]]] = {cid: [] for cid in rounds}
    if not rounds:
        return result
    rows = (
        await ConventionSignatory.select(*SIGNATORY_COLUMNS)
        .where(ConventionSignatory.convention.is_in(list(rounds)))
        .order_by(ConventionSignatory.id)
    )
    for row in rows:
        if row["amendment"] == rounds[row["convention"]]:
            result[row["convention"]].append(row)
    return result


async def _convention_row(scope: Scope, convention_id: int) -> dict[str, Any]:
    return await scope.get(Convention, convention_id, *COLUMNS)


async def _locked_row(convention_id: int) -> dict[str, Any]:
    """The convention read again inside a write transaction: locked on PostgreSQL (without the
    joined columns: FOR UPDATE refuses outer joins); SQLite write transactions are IMMEDIATE,
    hence already exclusive."""
    query = Convention.select(*BASE_COLUMNS).where(Convention.id == convention_id)
    if not is_sqlite():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        raise NotFound()
    joined = await Convention.select(*JOINED_COLUMNS).where(Convention.id == convention_id).first()
    return {**row, **(joined or {})}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in row.items()
        if k not in {"created_at", "updated_at", "department_code", "department_name", "timezone"}
        and not k.startswith(("organisation_", "contact_"))
    }


async def _write_convention(
    actor: Principal,
    before: dict[str, Any],
    changes: dict[str, Any],
    *,
    action: str,
    summary: str,
) -> None:
    """Update a convention inside the caller's transaction, with its audit entry."""
    if not changes:
        return
    values = {**changes, "updated_at": clock.now()}
    await Convention.update({getattr(Convention, k): v for k, v in values.items()}).where(Convention.id == before["id"])
    old, new = audit.changed_fields(_plain(before), changes)
    if new:
        await audit.record(
            actor,
            action,
            "convention",
            before["id"],
            department_id=before["department"],
            summary=summary,
            before=old,
            after=new,
        )


async def _signatory_row(scope: Scope, convention_id: int, signatory_id: int) -> dict[str, Any]:
    row = await scope.get(ConventionSignatory, signatory_id, *SIGNATORY_COLUMNS)
    if row["convention"] != convention_id:
        raise NotFound()
    return row
