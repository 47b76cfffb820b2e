"""A convention's own record: create, update, delete a draft; termination (amendments are in
`amendments.py`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Scope, belongs_to, resolve_department
from coord.access.roles import Permission
from coord.audit import records
from coord.conventions import lifecycle
from coord.conventions.lifecycle import ACTIVE
from coord.conventions.service.catalogue import expiring_days, models
from coord.conventions.service.listing import get_convention
from coord.conventions.service.records import (
    EARLIEST_DATE,
    LINK_PURPOSE,
    _convention_row,
    _current_signatories,
    _locked_row,
    _write_convention,
)
from coord.conventions.service.rounds import close_open_amendment
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.validation import Fields
from coord.links import service as links
from coord.pilot_sites.tables import PilotSite


async def _pilot_site_field(scope: Scope, fields: Fields, department_id: int | None) -> int | None:
    value = fields.integer("pilot_site", minimum=1)
    if not value:
        fields.values["pilot_site"] = None
        return None
    try:
        site = await scope.get(PilotSite, value)
    except NotFound:
        site = None
    if site is None or department_id is None or not belongs_to(site, department_id):
        fields.error("pilot_site", "Choisissez un site pilote de ce département.")
        return None
    return value


async def create_convention(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    catalogue = models()
    fields = Fields(data)
    code = fields.choice("model", {c: m.name for c, m in catalogue.items()})
    title = fields.text("title", max_length=300)
    fields.text("notes", max_length=4000, multiline=True)
    department_id = await resolve_department(scope, data.get("department"), fields)
    await _pilot_site_field(scope, fields, department_id)
    values = fields.check()
    model = catalogue[code or ""]
    row = await records.create(
        scope,
        Convention,
        {
            "department": department_id,
            "pilot_site": values.get("pilot_site"),
            "model_code": model.code,
            "title": title or model.name,
            "notes": values.get("notes") or "",
            "status": "draft",
        },
        entity="convention",
        summary=f"Convention « {title or model.name} »",
    )
    return await get_convention(scope, row["id"])


async def update_convention(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Title, notes, pilot site; the model while still a draft without signatories; the dates of an
    active convention (a convention signed before Coord, an end date set by its text)."""
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    catalogue = models()
    fields = Fields(data, partial=True)
    fields.text("title", required=True, max_length=300)
    fields.text("notes", max_length=4000, multiline=True)
    if fields.present("pilot_site"):
        await _pilot_site_field(scope, fields, current["department"])
    if fields.present("model"):
        code = fields.choice("model", {c: m.name for c, m in catalogue.items()})
        if code and code != current["model_code"]:
            has_signatories = await ConventionSignatory.exists().where(ConventionSignatory.convention == convention_id)
            if current["status"] != "draft" or has_signatories:
                fields.error("model", "Le modèle ne peut plus être changé : la convention a déjà des signataires.")
        if code:
            fields.values["model_code"] = fields.values.pop("model")
    for name in ("effective_from", "ends_on"):
        if fields.present(name):
            value = fields.date(name)
            if value is not None and current["status"] not in ACTIVE:
                fields.error(name, "Les dates de validité se règlent une fois la convention en vigueur.")
            elif value is None and current["status"] in ACTIVE:
                fields.error(name, "Ce champ est obligatoire pour une convention en vigueur.")
    values = fields.check()
    effective = values.get("effective_from", current["effective_from"])
    ends = values.get("ends_on", current["ends_on"])
    if effective and ends and ends <= effective:
        raise ValidationFailed({"ends_on": "La date de fin doit être postérieure à la date d'effet."})
    if "effective_from" in values or "ends_on" in values:
        model = catalogue.get(values.get("model_code", current["model_code"]))
        today = clock.local_today(current["timezone"], now)
        values.update(
            lifecycle.settle(
                {**current, **values, "status": current["status"]}, model, today, expiring_days=expiring_days()
            )
        )
    await records.update(
        scope, Convention, convention_id, values, entity="convention", summary=f"Convention « {current['title']} »"
    )
    return await get_convention(scope, convention_id)


async def delete_convention(scope: Scope, convention_id: int) -> None:
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    if current["status"] != "draft":
        raise Conflict(
            "Seule une convention en brouillon peut être supprimée : résiliez-la plutôt, son historique est conservé."
        )
    signatory_ids = [
        r["id"]
        for r in await ConventionSignatory.select(ConventionSignatory.id).where(
            ConventionSignatory.convention == convention_id
        )
    ]
    for signatory_id in signatory_ids:
        await links.revoke(LINK_PURPOSE, signatory_id)
    await records.delete(
        scope, Convention, convention_id, entity="convention", summary=f"Convention « {current['title']} »"
    )


async def terminate(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Termination (résiliation, dénonciation) at a date: at once if the date has come, else the
    convention stays in force until then and is not renewed."""
    now = now or clock.now()
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    fields = Fields(data)
    day = fields.date("terminated_on", required=True)
    reason = fields.text("reason", max_length=2000, multiline=True)
    if day and day < EARLIEST_DATE:
        fields.error("terminated_on", "Date invalide (avant l'an 2000).")
    fields.check()
    assert day is not None
    async with transaction():
        convention = await _locked_row(convention_id)
        if convention["status"] not in ACTIVE and convention["status"] != "in_signature":
            raise Conflict(
                "Seule une convention en vigueur ou en cours de signature peut être résiliée"
                + (" (un brouillon se supprime)." if convention["status"] == "draft" else ".")
            )
        today = clock.local_today(convention["timezone"], now)
        changes: dict[str, Any] = {"terminated_on": day, "termination_reason": reason or ""}
        if day <= today or convention["status"] == "in_signature":
            changes.update(status="terminated", next_transition_on=None, next_reminder_on=None)
        else:
            if convention["ends_on"] and day > convention["ends_on"]:
                raise ValidationFailed(
                    {
                        "terminated_on": f"La convention prend fin le {convention['ends_on']:%d/%m/%Y} : "
                        "choisissez une date antérieure ou égale."
                    }
                )
            changes["ends_on"] = day
            model = models().get(convention["model_code"])
            changes.update(lifecycle.settle({**convention, **changes}, model, today, expiring_days=expiring_days()))
        for s in (await _current_signatories([convention]))[convention_id]:
            await links.revoke(LINK_PURPOSE, s["id"], now=now)
            if s["status"] == "sent":
                await ConventionSignatory.update({ConventionSignatory.next_reminder_at: None}).where(
                    ConventionSignatory.id == s["id"]
                )
        if changes.get("status") == "terminated":
            # An amendment not yet signed can no longer take effect; one being signed for a
            # termination still ahead stays open until that date (it may still enter into force).
            await close_open_amendment(
                scope.principal,
                convention,
                status="lapsed",
                day=min(day, today),
                reason=f"La convention a été résiliée au {day:%d/%m/%Y} avant la signature de l'avenant.",
                now=now,
            )
        await _write_convention(
            scope.principal,
            convention,
            changes,
            action="terminate",
            summary=f"Résiliation de « {convention['title']} » au {day:%d/%m/%Y}",
        )
    return await get_convention(scope, convention_id)
