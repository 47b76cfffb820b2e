"""Minutes (compte rendu), the list of decisions (relevé de décisions) and their publication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.access import Scope
from coord.audit import log as audit
from coord.core.clock import Clock, now
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.validation import Fields
from coord.meetings import service
from coord.meetings.tables import Decision

NO_VICTIM_DATA = (
    "Ne jamais saisir de données concernant des victimes (noms, âges, situations) : le compte rendu "
    "ne mentionne que des institutions, des fonctions et des données agrégées."
)
MAX_MINUTES = 100_000

DECISION_COLUMNS = (Decision.id, Decision.meeting, Decision.position, Decision.text, Decision.department)


def decision_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "meeting": row["meeting"], "position": row["position"], "text": row["text"]}


async def _meeting_after_start(scope: Scope, meeting_id: int, clock: Clock | None = None) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] == "cancelled":
        raise Conflict("La réunion a été annulée : elle n'a pas de compte rendu.")
    if meeting["starts_at"] > now(clock):
        raise Conflict("Le compte rendu et les décisions s'enregistrent une fois la réunion commencée.")
    return meeting


async def update_minutes(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    fields = Fields(data)
    fields.integer("version", required=True, minimum=1)
    fields.text("minutes", max_length=MAX_MINUTES, multiline=True)
    values = fields.check()
    async with transaction():
        await service.write_meeting(
            scope,
            meeting,
            {"minutes": values["minutes"] or ""},
            version=values["version"],
            summary=f"Compte rendu de « {meeting['title']} »",
            action="minutes",
        )
    return await service.get_meeting(scope, meeting_id)


async def publish(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    data = data or {}
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    version = service.read_version(data, required=False)
    if not meeting["minutes"].strip():
        raise ValidationFailed({"minutes": "Rédigez le compte rendu avant de le publier."}, "Le compte rendu est vide.")
    changes: dict[str, Any] = {"minutes_published_at": now(clock)}
    if meeting["status"] == "convened":
        changes["status"] = "held"
        changes["sequence"] = meeting["sequence"] + 1
    async with transaction():
        await service.write_meeting(
            scope,
            meeting,
            changes,
            version=version,
            summary=f"Publication du compte rendu de « {meeting['title']} »",
            action="publish",
        )
    return await service.get_meeting(scope, meeting_id)


async def list_decisions(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    await service.load(scope, meeting_id)
    rows = (
        await scope.select(Decision, *DECISION_COLUMNS)
        .where(Decision.meeting == meeting_id)
        .order_by(Decision.position)
        .order_by(Decision.id)
    )
    return [decision_out(r) for r in rows]


def _text(data: Mapping[str, Any]) -> str:
    fields = Fields(data)
    text = fields.text("text", required=True, max_length=4000, multiline=True)
    fields.check()
    assert text is not None
    return text


async def _decision(scope: Scope, meeting_id: int, decision_id: int) -> dict[str, Any]:
    row = await scope.get(Decision, decision_id, *DECISION_COLUMNS)
    if row["meeting"] != meeting_id:
        raise NotFound()
    return row


async def add_decision(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    text = _text(data)
    async with transaction():
        last = (
            await Decision.select(Decision.position)
            .where(Decision.meeting == meeting_id)
            .order_by(Decision.position, ascending=False)
            .first()
        )
        row = (
            await Decision.insert(
                Decision(
                    department=meeting["department"],
                    meeting=meeting_id,
                    text=text,
                    position=(last["position"] if last else 0) + 1,
                )
            ).returning(*DECISION_COLUMNS)
        )[0]
        await audit.record(
            scope.principal,
            "create",
            "decision",
            row["id"],
            department_id=meeting["department"],
            summary=f"Décision n° {row['position']} de « {meeting['title']} »",
            after={"text": text},
        )
    return decision_out(row)


async def update_decision(
    scope: Scope, meeting_id: int, decision_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    before = await _decision(scope, meeting_id, decision_id)
    text = _text(data)
    async with transaction():
        row = (
            await Decision.update({Decision.text: text}).where(Decision.id == decision_id).returning(*DECISION_COLUMNS)
        )[0]
        await audit.record(
            scope.principal,
            "update",
            "decision",
            decision_id,
            department_id=meeting["department"],
            summary=f"Décision n° {before['position']} de « {meeting['title']} »",
            before={"text": before["text"]},
            after={"text": text},
        )
    return decision_out(row)


async def delete_decision(scope: Scope, meeting_id: int, decision_id: int, *, clock: Clock | None = None) -> None:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    before = await _decision(scope, meeting_id, decision_id)
    async with transaction():
        await Decision.delete().where(Decision.id == decision_id)
        rows = (
            await Decision.select(Decision.id)
            .where(Decision.meeting == meeting_id)
            .order_by(Decision.position)
            .order_by(Decision.id)
        )
        for position, row in enumerate(rows, start=1):
            await Decision.update({Decision.position: position}).where(Decision.id == row["id"])
        await audit.record(
            scope.principal,
            "delete",
            "decision",
            decision_id,
            department_id=meeting["department"],
            summary=f"Décision n° {before['position']} de « {meeting['title']} » supprimée",
            before={"text": before["text"]},
        )
