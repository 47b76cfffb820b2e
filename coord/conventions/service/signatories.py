"""The signatories of a convention and of its open amendment: added, updated (signer, status),
removed. A signatory belongs to one round; only the round of the text in force and the open
amendment's can change, earlier rounds are history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Scope, same_department
from coord.access.roles import Permission
from coord.audit import records
from coord.conventions import lifecycle
from coord.conventions.lifecycle import SIGNATORY_STATUSES
from coord.conventions.models import ConventionModel
from coord.conventions.roles import ROLES, role_label
from coord.conventions.service.catalogue import _require_model
from coord.conventions.service.listing import get_signatory
from coord.conventions.service.records import (
    LINK_PURPOSE,
    _convention_row,
    _signatory_row,
)
from coord.conventions.service.rounds import open_amendment, round_of, round_signatories
from coord.conventions.service.signatures import _role_full_message, record_signature
from coord.conventions.tables import ConventionSignatory
from coord.core import clock
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.validation import Fields
from coord.links import service as links
from coord.partners.tables import Contact, Organisation


def _role_check(model: ConventionModel, role: str | None, fields: Fields) -> None:
    if role and model.requirement(role) is None:
        fields.error("role", f"Le modèle « {model.name} » ne prévoit pas le rôle « {role_label(role)} ».")


async def add_signatory(
    scope: Scope,
    convention_id: int,
    data: dict[str, Any],
    *,
    now: dt.datetime | None = None,
    to_amendment: bool = False,
) -> dict[str, Any]:
    """A signatory of the text in force, or with `to_amendment` of the open amendment."""
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    model = _require_model(convention["model_code"])
    if convention["status"] in lifecycle.FINAL:
        raise Conflict("Cette convention n'est plus en vigueur : on ne peut plus y ajouter de signataire.")
    number = convention["amendment"]
    if to_amendment:
        amendment = await open_amendment(convention_id)
        if amendment is None:
            raise Conflict("Aucun avenant n'est en cours de signature sur cette convention.")
        number = amendment["number"]
    fields = Fields(data)
    role = fields.choice("role", {code: r.label for code, r in ROLES.items()})
    _role_check(model, role, fields)
    organisation_id = fields.integer("organisation", required=True, minimum=1)
    organisation = None
    if organisation_id:
        try:
            organisation = await scope.get(Organisation, organisation_id)
        except NotFound:
            organisation = None
        if organisation is None or not same_department(organisation, convention):
            fields.error("organisation", "Choisissez une organisation partenaire de ce département.")
            organisation = None
    if organisation and role and role in ROLES and not ROLES[role].accepts(organisation["kind"]):
        fields.error(
            "organisation",
            f"Une organisation de ce type ne peut pas signer comme « {role_label(role)} ».",
        )
    contact_id = fields.integer("contact", minimum=1)
    if contact_id:
        contact = await Contact.select(Contact.id, Contact.organisation).where(Contact.id == contact_id).first()
        if contact is None or (organisation and contact["organisation"] != organisation["id"]):
            fields.error("contact", "Choisissez un contact de l'organisation signataire.")
    fields.text("signer_name", max_length=200)
    fields.text("signer_title", max_length=200)
    fields.text("document_ref", max_length=300)
    if organisation and role and not fields.errors:
        current = await round_signatories(convention_id, number)
        if any(s["organisation"] == organisation["id"] and s["role"] == role for s in current):
            fields.error("organisation", f"Cette organisation est déjà signataire comme « {role_label(role)} ».")
        requirement = model.requirement(role)
        live = [s for s in current if s["role"] == role and s["status"] == "signed"]
        if requirement and len(live) >= requirement.min_count:
            fields.error("role", _role_full_message(role, requirement.min_count))
    values = fields.check()
    row = await records.create(
        scope,
        ConventionSignatory,
        {
            "department": convention["department"],
            "convention": convention_id,
            "amendment": number,
            "organisation": organisation_id,
            "contact": contact_id,
            "role": role,
            "signer_name": values.get("signer_name") or "",
            "signer_title": values.get("signer_title") or "",
            "document_ref": values.get("document_ref") or "",
            "status": "to_send",
        },
        entity="convention_signatory",
        summary=f"Signataire ajouté à {_round_title(convention, number)} : "
        f"{organisation['name'] if organisation else ''}",
    )
    return await get_signatory(scope, convention_id, row["id"])


def _round_title(convention: dict[str, Any], number: int) -> str:
    """« l'avenant n° 2 de « Titre » » for an amendment's round, « « Titre » » otherwise."""
    title = f"« {convention['title']} »"
    return f"l'avenant n° {number} de {title}" if number > convention["amendment"] else title


async def update_signatory(
    scope: Scope, convention_id: int, signatory_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Signer details, document reference, and status changes: signed (with its date), refused,
    sent (a request sent outside Coord), back to « to send »."""
    now = now or clock.now()
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    fields = Fields(data, partial=True)
    fields.text("signer_name", max_length=200)
    fields.text("signer_title", max_length=200)
    fields.text("document_ref", max_length=300)
    status = fields.choice("status", SIGNATORY_STATUSES)
    fields.date("signed_on")
    refused_on = fields.date("refused_on")
    values = fields.check()
    status = values.pop("status", None)
    signed_on = values.pop("signed_on", None)
    values.pop("refused_on", None)
    today = clock.local_today(convention["timezone"], now)
    if status == "signed" and signatory["status"] != "signed":
        if values:
            await records.update(
                scope, ConventionSignatory, signatory_id, values, entity="convention_signatory", summary="Signataire"
            )
        await record_signature(
            scope.principal, signatory_id, signed_on, document_ref=values.get("document_ref"), now=now
        )
        return await get_signatory(scope, convention_id, signatory_id)
    if status and status != signatory["status"]:
        stage = await round_of(convention, signatory["amendment"])
        if stage.is_history:
            raise Conflict(
                stage.closed_message()
                if stage.amendment
                else "Ce signataire appartient à une version antérieure de la convention."
            )
        if signatory["status"] == "signed" and not stage.collecting(convention):
            raise Conflict("La convention est en vigueur : cette signature ne peut plus être annulée.")
        if status == "refused":
            values.update(status="refused", refused_on=refused_on or today, next_reminder_at=None)
        elif status == "sent":
            requested = signatory["requested_at"] or now
            model = _require_model(convention["model_code"])
            values.update(
                status="sent",
                requested_at=requested,
                next_reminder_at=lifecycle.first_signature_reminder(model, requested),
            )
        elif status == "to_send":
            values.update(status="to_send", signed_on=None, refused_on=None, next_reminder_at=None)
        elif status == "signed":
            pass
    elif signed_on is not None and signatory["status"] == "signed":
        if signed_on > today:
            raise ValidationFailed({"signed_on": "La date de signature ne peut pas être postérieure à aujourd'hui."})
        values["signed_on"] = signed_on
    if values:
        await records.update(
            scope,
            ConventionSignatory,
            signatory_id,
            values,
            entity="convention_signatory",
            summary=f"Signataire {signatory['organisation_name']} "
            f"de {_round_title(convention, signatory['amendment'])}",
        )
        if values.get("status") in {"refused", "to_send"}:
            await links.revoke(LINK_PURPOSE, signatory_id)
    return await get_signatory(scope, convention_id, signatory_id)


async def remove_signatory(scope: Scope, convention_id: int, signatory_id: int) -> None:
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    stage = await round_of(convention, signatory["amendment"])
    if stage.is_history:
        raise Conflict("Ce signataire appartient à l'historique d'une version antérieure : il est conservé.")
    if signatory["status"] == "signed" and not stage.collecting(convention):
        raise Conflict("La convention est en vigueur : un signataire qui a signé ne peut pas être retiré.")
    await links.revoke(LINK_PURPOSE, signatory_id)
    await records.delete(
        scope,
        ConventionSignatory,
        signatory_id,
        entity="convention_signatory",
        summary=f"Signataire retiré de {_round_title(convention, signatory['amendment'])} : "
        f"{signatory['organisation_name']}",
    )
