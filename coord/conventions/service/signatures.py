"""Signatures: requests mailed with a signed link, signatures recorded (by an agent or through the
link), and the entry into force once the last required one is in: of the convention for its own
round, of the amendment for an amendment's round (the convention's signature record is untouched)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Principal, Scope, link_principal
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.conventions import lifecycle, mails
from coord.conventions.lifecycle import SIGNATORY_STATUSES, SIGNING
from coord.conventions.models import ConventionModel
from coord.conventions.roles import role_label
from coord.conventions.service.catalogue import _require_model, expiring_days
from coord.conventions.service.listing import get_convention, get_signatory
from coord.conventions.service.records import (
    EARLIEST_DATE,
    SIGNATORY_COLUMNS,
    _convention_row,
    _current_signatories,
    _locked_row,
    _signatory_row,
    _write_convention,
    signatory_out,
)
from coord.conventions.service.rounds import (
    Round,
    retire_round,
    round_of,
    round_signatories,
    write_amendment,
)
from coord.conventions.tables import ConventionSignatory
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.french import organisation_de
from coord.core.validation import Fields


async def _complete_if_signed(
    actor: Principal, convention: dict[str, Any], model: ConventionModel | None, today: dt.date
) -> dict[str, Any]:
    """After a signature: the convention enters into force when every required role has signed.
    Returns the changes made (empty when nothing changed). Runs inside the caller's transaction."""
    if model is None or convention["status"] not in SIGNING:
        return {}
    current = (await _current_signatories([convention]))[convention["id"]]
    done = lifecycle.progress(model, current)
    changes: dict[str, Any] = {}
    if convention["status"] == "draft":
        changes["status"] = "in_signature"
    if done.complete:
        counted = _counted_signatures(model, current)
        signed_on = max(s["signed_on"] for s in counted)
        effective = convention["effective_from"] or signed_on
        ends = convention["ends_on"] or lifecycle.end_of_first_period(effective, model)
        changes.update(signed_on=signed_on, effective_from=effective, ends_on=ends, status="in_force")
        changes.update(lifecycle.settle({**convention, **changes}, model, today, expiring_days=expiring_days()))
    if changes:
        label = "entrée en vigueur" if done.complete else "ouverture à la signature"
        await _write_convention(
            actor,
            convention,
            changes,
            action="update",
            summary=f"Convention « {convention['title']} » : {label}",
        )
    return changes


async def _complete_amendment_if_signed(
    actor: Principal,
    convention: dict[str, Any],
    amendment: dict[str, Any],
    model: ConventionModel,
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """After a signature of an amendment's round: when every required role has signed it, the
    amendment enters into force and its text becomes the convention's (status, dates and the
    signatures of the text it replaces are left as they are). Returns the convention's changes."""
    signatories = await round_signatories(convention["id"], amendment["number"])
    if not lifecycle.progress(model, signatories).complete:
        return {}
    signed_on = max(s["signed_on"] for s in _counted_signatures(model, signatories))
    number = amendment["number"]
    await write_amendment(
        actor,
        amendment,
        {"status": "in_force", "signed_on": signed_on, "in_force_from": signed_on},
        action="update",
        summary=f"Avenant n° {number} à « {convention['title']} » : entrée en vigueur",
    )
    # Requests still pending on the replaced text are of no use any more.
    await retire_round(await round_signatories(convention["id"], convention["amendment"]), now=now)
    changes = {"amendment": number, "amendment_subject": amendment["subject"]}
    await _write_convention(
        actor,
        convention,
        changes,
        action="update",
        summary=f"Convention « {convention['title']} » : texte de l'avenant n° {number} en vigueur",
    )
    return changes


def _round_words(stage: Round) -> str:
    """« sur l'avenant n° 2 de » or « sur », for the audit summaries."""
    return f"sur l'avenant n° {stage.number} de" if stage.is_amendment else "sur"


def _counted_signatures(model: ConventionModel, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The signatures that make the convention complete: the first `min_count` of each required role."""
    counted: list[dict[str, Any]] = []
    for requirement in model.signatories:
        if requirement.required:
            signed = sorted(
                (s for s in current if s["role"] == requirement.role and s["status"] == "signed"),
                key=lambda s: (s["signed_on"], s["id"]),
            )
            counted.extend(signed[: requirement.min_count])
    return counted


def _role_full_message(role: str, count: int) -> str:
    if count == 1:
        return f"Le rôle « {role_label(role)} » a déjà signé cette convention : une seule signature est prévue."
    return f"Le rôle « {role_label(role)} » a déjà ses {count} signatures prévues par le modèle."


def signer_principal(email: str, department_id: int) -> Principal:
    """Who signs through the mailed link (for the audit log)."""
    return link_principal(f"lien de signature : {email}", department_id)


async def record_signature(
    actor: Principal,
    signatory_id: int,
    signed_on: Any,
    *,
    document_ref: str | None = None,
    now: dt.datetime | None = None,
    field: str = "signed_on",
) -> dict[str, Any]:
    """Record the signature of one signatory (by an agent or through the signed link) and bring
    the convention into force when it was the last one required. Returns the convention's changes."""
    now = now or clock.now()
    fields = Fields({field: signed_on, "document_ref": document_ref})
    day = fields.date(field, required=True)
    fields.text("document_ref", max_length=300)
    fields.check()
    async with transaction():
        signatory = (
            await ConventionSignatory.select(*SIGNATORY_COLUMNS).where(ConventionSignatory.id == signatory_id).first()
        )
        if signatory is None:
            raise NotFound()
        convention = await _locked_row(signatory["convention"])
        today = clock.local_today(convention["timezone"], now)
        errors: dict[str, str] = {}
        if day and day > today:
            errors[field] = "La date de signature ne peut pas être postérieure à aujourd'hui."
        elif day and day < EARLIEST_DATE:
            errors[field] = "Date de signature invalide (avant l'an 2000)."
        stage = await round_of(convention, signatory["amendment"])
        if stage.is_history:
            raise Conflict(stage.closed_message())
        if convention["status"] in lifecycle.FINAL:
            raise Conflict("Cette convention n'est plus en vigueur : la signature ne peut plus être enregistrée.")
        if signatory["status"] == "signed":
            raise Conflict(f"Cette signature est déjà enregistrée (signée le {signatory['signed_on']:%d/%m/%Y}).")
        model = _require_model(convention["model_code"])
        requirement = model.requirement(signatory["role"])
        if requirement is None:
            errors["role"] = f"Le modèle « {model.name} » ne prévoit pas le rôle « {role_label(signatory['role'])} »."
        else:
            already = await ConventionSignatory.count().where(
                (ConventionSignatory.convention == convention["id"])
                & (ConventionSignatory.amendment == signatory["amendment"])
                & (ConventionSignatory.role == signatory["role"])
                & (ConventionSignatory.status == "signed")
            )
            if already >= requirement.min_count:
                errors["role"] = _role_full_message(signatory["role"], requirement.min_count)
        if errors:
            raise ValidationFailed(errors)
        changes = {
            ConventionSignatory.status: "signed",
            ConventionSignatory.signed_on: day,
            ConventionSignatory.refused_on: None,
            ConventionSignatory.next_reminder_at: None,
            ConventionSignatory.updated_at: now,
        }
        if document_ref:
            changes[ConventionSignatory.document_ref] = document_ref.strip()
        await ConventionSignatory.update(changes).where(ConventionSignatory.id == signatory_id)
        await audit.record(
            actor,
            "sign",
            "convention_signatory",
            signatory_id,
            department_id=convention["department"],
            summary=f"Signature {organisation_de(signatory['organisation_name'])} ({role_label(signatory['role'])}) "
            f"{_round_words(stage)} « {convention['title']} »",
            before={"status": signatory["status"]},
            after={"status": "signed", "signed_on": day.isoformat() if day else None},
        )
        if stage.is_amendment:
            assert stage.amendment is not None
            return await _complete_amendment_if_signed(actor, convention, stage.amendment, model, now=now)
        return await _complete_if_signed(actor, convention, model, today)


async def sign(
    scope: Scope, convention_id: int, signatory_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """An agent records a signature received on paper (date, optional reference of the scan)."""
    await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    await record_signature(
        scope.principal, signatory_id, data.get("signed_on"), document_ref=data.get("document_ref") or None, now=now
    )
    return await get_convention(scope, convention_id)


async def send_request(
    scope: Scope, convention_id: int, signatory_id: int, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Mail the signatory a signed link where the date of signature is confirmed; the convention
    goes from draft to « in signature ». A signatory of the open amendment signs the amendment."""
    now = now or clock.now()
    signatory = await _signatory_row(scope, convention_id, signatory_id)
    convention = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, convention["department"])
    model = _require_model(convention["model_code"])
    stage = await round_of(convention, signatory["amendment"])
    if stage.is_history:
        raise Conflict(stage.closed_message())
    if not stage.collecting(convention):
        raise Conflict(
            "Les demandes de signature ne s'envoient que pour une convention en cours de signature "
            "ou pour un avenant ouvert."
        )
    if signatory["status"] != "to_send":
        when = signatory["requested_at"]
        raise Conflict(
            "La demande a déjà été envoyée"
            + (f" le {when:%d/%m/%Y}" if when else "")
            + " : les relances partent automatiquement."
            if signatory["status"] == "sent"
            else f"Ce signataire est à l'état « {SIGNATORY_STATUSES[signatory['status']]} »."
        )
    out = signatory_out(signatory)
    if not out["email"]:
        raise ValidationFailed(
            {"contact": "Aucune adresse électronique : choisissez un contact de l'organisation signataire."}
        )
    async with transaction():
        # The mail names the text to sign: the amendment's number for an amendment's round.
        await mails.queue_signature_mail(
            {**convention, "amendment": stage.number}, out, model, now=now, reminder_day=None
        )
        await ConventionSignatory.update(
            {
                ConventionSignatory.status: "sent",
                ConventionSignatory.requested_at: now,
                ConventionSignatory.next_reminder_at: lifecycle.first_signature_reminder(model, now),
                ConventionSignatory.updated_at: now,
            }
        ).where(ConventionSignatory.id == signatory_id)
        await audit.record(
            scope.principal,
            "send",
            "convention_signatory",
            signatory_id,
            department_id=convention["department"],
            summary=f"Demande de signature envoyée à {out['email']} "
            + (f"pour l'avenant n° {stage.number} de" if stage.is_amendment else "pour")
            + f" « {convention['title']} »",
        )
        if convention["status"] == "draft" and not stage.is_amendment:
            await _write_convention(
                scope.principal,
                convention,
                {"status": "in_signature"},
                action="update",
                summary=f"Convention « {convention['title']} » : ouverture à la signature",
            )
    return await get_signatory(scope, convention_id, signatory_id)
