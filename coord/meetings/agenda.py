"""The agenda (ordre du jour): ordered items, reordering, and its length against the meeting's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.access import Scope
from coord.audit import log as audit
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.validation import Fields
from coord.meetings import notify, service
from coord.meetings.tables import AgendaItem
from coord.plans.tables import Measure

DIRECTIONS = {"up": "vers le haut", "down": "vers le bas"}

ITEM_COLUMNS = (
    AgendaItem.id,
    AgendaItem.meeting,
    AgendaItem.position,
    AgendaItem.title,
    AgendaItem.presenter,
    AgendaItem.duration_minutes,
    AgendaItem.measure,
    AgendaItem.notes,
    AgendaItem.department,
    AgendaItem.measure.number.as_alias("measure_number"),
    AgendaItem.measure.title.as_alias("measure_title"),
    AgendaItem.measure.plan.code.as_alias("measure_plan"),
)


def item_out(row: Mapping[str, Any]) -> dict[str, Any]:
    measure_label = ""
    if row.get("measure"):
        measure_label = f"Plan {row['measure_plan']} – mesure {row['measure_number']} : {row['measure_title']}"
    return {
        "id": row["id"],
        "meeting": row["meeting"],
        "position": row["position"],
        "title": row["title"],
        "presenter": row["presenter"],
        "duration_minutes": row["duration_minutes"],
        "measure": row["measure"],
        "measure_label": measure_label,
        "notes": row["notes"],
    }


async def list_items(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    await service.load(scope, meeting_id)
    rows = (
        await scope.select(AgendaItem, *ITEM_COLUMNS)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    return [item_out(r) for r in rows]


def summary(items: list[Mapping[str, Any]], meeting: Mapping[str, Any]) -> dict[str, Any]:
    """Planned agenda length against the meeting's: `overrun` is shown as a warning, not refused."""
    agenda_minutes = sum(int(i["duration_minutes"] or 0) for i in items)
    meeting_minutes = int((meeting["ends_at"] - meeting["starts_at"]).total_seconds() // 60)
    return {
        "agenda_minutes": agenda_minutes,
        "meeting_minutes": meeting_minutes,
        "overrun": agenda_minutes > meeting_minutes,
    }


async def agenda(scope: Scope, meeting_id: int) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    items = await list_items(scope, meeting_id)
    return {"items": items, **summary(items, meeting)}


async def _editable(scope: Scope, meeting_id: int) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] == "cancelled":
        raise Conflict("L'ordre du jour d'une réunion annulée ne peut plus être modifié.")
    if meeting["status"] == "held":
        raise Conflict("L'ordre du jour d'une réunion tenue est figé : les corrections se font dans le compte rendu.")
    return meeting


# What the convocation shows of an item: changing anything else (notes) sends nothing.
MAILED_FIELDS = frozenset({"title", "presenter", "duration_minutes"})


async def _announce(meeting: Mapping[str, Any], change: str) -> None:
    """On a convened meeting, every invitee's calendar and mail get the new agenda (answers kept)."""
    if meeting["status"] == "convened":
        await notify.raise_sequence(meeting["id"])
        await notify.queue_convocation(meeting["id"], changes=[f"Ordre du jour modifié : {change}"])


async def _item(scope: Scope, meeting_id: int, item_id: int) -> dict[str, Any]:
    item = await scope.get(AgendaItem, item_id)
    if item["meeting"] != meeting_id:
        raise NotFound()
    return item


async def _fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    fields = Fields(data, partial=partial)
    fields.text("title", required=True, max_length=300)
    fields.text("presenter", max_length=200)
    fields.integer("duration_minutes", minimum=0, maximum=24 * 60)
    fields.text("notes", max_length=2000, multiline=True)
    if not partial or fields.present("measure"):
        measure_id = fields.integer("measure", minimum=1)
        if measure_id and not await Measure.exists().where(Measure.id == measure_id):
            fields.errors["measure"] = "Mesure inconnue : choisissez une mesure d'un plan national."
    values = fields.check()
    if values.get("duration_minutes") is None and "duration_minutes" in values:
        values["duration_minutes"] = 0
    return values


async def add_item(scope: Scope, meeting_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    meeting = await _editable(scope, meeting_id)
    values = await _fields(data, partial=False)
    async with transaction():
        last = (
            await AgendaItem.select(AgendaItem.position)
            .where(AgendaItem.meeting == meeting_id)
            .order_by(AgendaItem.position, ascending=False)
            .first()
        )
        position = (last["position"] if last else 0) + 1
        row = (
            await AgendaItem.insert(
                AgendaItem(department=meeting["department"], meeting=meeting_id, position=position, **values)
            ).returning(AgendaItem.id)
        )[0]
        await audit.record(
            scope.principal,
            "create",
            "agenda_item",
            row["id"],
            department_id=meeting["department"],
            summary=f"Point « {values['title']} » à l'ordre du jour de « {meeting['title']} »",
            after=values,
        )
        await _announce(meeting, f"point « {values['title']} » ajouté")
    return await get_item(scope, meeting_id, row["id"])


async def get_item(scope: Scope, meeting_id: int, item_id: int) -> dict[str, Any]:
    await _item(scope, meeting_id, item_id)
    return item_out(await scope.get(AgendaItem, item_id, *ITEM_COLUMNS))


async def update_item(scope: Scope, meeting_id: int, item_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    meeting = await _editable(scope, meeting_id)
    item = await _item(scope, meeting_id, item_id)
    values = await _fields(data, partial=True)
    if values:
        async with transaction():
            await AgendaItem.update({getattr(AgendaItem, k): v for k, v in values.items()}).where(
                AgendaItem.id == item_id
            )
            old, new = audit.changed_fields({k: item.get(k) for k in values}, values)
            await audit.record(
                scope.principal,
                "update",
                "agenda_item",
                item_id,
                department_id=meeting["department"],
                summary=f"Point « {item['title']} » de « {meeting['title']} »",
                before=old,
                after=new,
            )
            if MAILED_FIELDS & set(new):
                await _announce(meeting, f"point « {values.get('title', item['title'])} » modifié")
    return await get_item(scope, meeting_id, item_id)


async def _renumber(meeting_id: int, ordered_ids: list[int]) -> None:
    for position, item_id in enumerate(ordered_ids, start=1):
        await AgendaItem.update({AgendaItem.position: position}).where(AgendaItem.id == item_id)


async def _ordered_ids(meeting_id: int) -> list[int]:
    rows = (
        await AgendaItem.select(AgendaItem.id)
        .where(AgendaItem.meeting == meeting_id)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    return [r["id"] for r in rows]


async def delete_item(scope: Scope, meeting_id: int, item_id: int) -> None:
    meeting = await _editable(scope, meeting_id)
    item = await _item(scope, meeting_id, item_id)
    async with transaction():
        await AgendaItem.delete().where(AgendaItem.id == item_id)
        await _renumber(meeting_id, await _ordered_ids(meeting_id))
        await audit.record(
            scope.principal,
            "delete",
            "agenda_item",
            item_id,
            department_id=meeting["department"],
            summary=f"Point « {item['title']} » retiré de « {meeting['title']} »",
            before={"title": item["title"], "position": item["position"]},
        )
        await _announce(meeting, f"point « {item['title']} » retiré")


async def move_item(scope: Scope, meeting_id: int, item_id: int, direction: Any) -> list[dict[str, Any]]:
    """Swap an item with its neighbour; positions are renumbered 1..n. At an end it stays put."""
    meeting = await _editable(scope, meeting_id)  # permission first: a refusal is a 403, whatever the input
    if direction not in DIRECTIONS:
        raise ValidationFailed({"direction": "Direction attendue : « up » (monter) ou « down » (descendre)."})
    await _item(scope, meeting_id, item_id)
    async with transaction():
        ids = await _ordered_ids(meeting_id)
        index = ids.index(item_id)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            await _renumber(meeting_id, ids)
            await audit.record(
                scope.principal,
                "move",
                "agenda_item",
                item_id,
                department_id=meeting["department"],
                summary=f"Point déplacé {DIRECTIONS[direction]} dans « {meeting['title']} »",
                after={"order": ids},
            )
            await _announce(meeting, "ordre des points changé")
    return await list_items(scope, meeting_id)


async def measure_choices() -> dict[str, str]:
    rows = (
        await Measure.select(Measure.id, Measure.number, Measure.title, Measure.plan.code.as_alias("plan"))
        .order_by(Measure.plan.code)
        .order_by(Measure.number)
    )
    return {str(r["id"]): f"{r['plan']} – mesure {r['number']} : {r['title'][:90]}" for r in rows}
