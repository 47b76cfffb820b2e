"""Action items: creation (standalone or from a meeting's decisions), changes, status moves,
comments, and the timeline that keeps each of them with who and when."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from coord.access import Principal, Scope, belongs_to, department_of, resolve_department
from coord.access.roles import Permission
from coord.actions import transitions
from coord.actions.tables import ActionEvent, ActionItem
from coord.audit import log as audit
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.clock import local_today
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.validation import Fields, is_one_line, parse_id
from coord.meetings.tables import Decision, Meeting
from coord.partners.tables import Contact, Organisation
from coord.plans.tables import Measure
from coord.territory.tables import Department

NO_VICTIM_DATA = (
    "Aucune donnée sur des victimes : ni nom, ni situation, ni élément permettant de les identifier. "
    "Décrivez l'action des institutions."
)

ITEM_COLUMNS = (
    *ActionItem.all_columns(),
    ActionItem.department.code.as_alias("department_code"),
    ActionItem.department.timezone.as_alias("timezone"),
    ActionItem.committee.name.as_alias("committee_name"),
    ActionItem.meeting.title.as_alias("meeting_title"),
    ActionItem.meeting.starts_at.as_alias("meeting_starts_at"),
    ActionItem.measure.number.as_alias("measure_number"),
    ActionItem.measure.plan.code.as_alias("measure_plan"),
    ActionItem.owner_organisation.name.as_alias("owner_organisation_name"),
    ActionItem.owner_contact.first_name.as_alias("owner_first_name"),
    ActionItem.owner_contact.last_name.as_alias("owner_last_name"),
    ActionItem.owner_contact.email.as_alias("owner_email"),
)


def item_out(row: dict[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    today = today or local_today(row.get("timezone"))
    owner = " ".join(p for p in (row.get("owner_first_name"), row.get("owner_last_name")) if p)
    measure = f"{row['measure_plan']} – mesure {row['measure_number']}" if row.get("measure_number") else ""
    return {
        "id": row["id"],
        "department": row["department_code"],
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "status_label": transitions.STATUSES.get(row["status"], row["status"]),
        "progress": row["progress"],
        "priority": row["priority"],
        "tags": [t for t in (row["tags"] or "").split(",") if t],
        "due_on": row["due_on"],
        "done_on": row["done_on"],
        "created_on": row["created_on"],
        "overdue": bool(row["due_on"] and row["due_on"] < today and row["status"] in transitions.OPEN),
        "committee": row["committee"],
        "committee_name": row.get("committee_name") or "",
        "meeting": row["meeting"],
        "meeting_title": row.get("meeting_title") or "",
        "decision": row["decision"],
        "measure": row["measure"],
        "measure_label": measure,
        "owner_organisation": row["owner_organisation"],
        "owner_organisation_name": row.get("owner_organisation_name") or "",
        "owner_contact": row["owner_contact"],
        "owner_name": owner,
        "owner_email": row.get("owner_email") or "",
        "version": row["version"],
    }


async def get_item(scope: Scope, item_id: int) -> dict[str, Any]:
    return item_out(await scope.get(ActionItem, item_id, *ITEM_COLUMNS))


# -- validation --------------------------------------------------------------------------------


def _tags(raw: Any, fields: Fields) -> str | None:
    if raw is None:
        return None
    values = raw if isinstance(raw, list) else str(raw).split(",")
    tags = sorted({str(t).strip().lower() for t in values if str(t).strip()})
    text = ",".join(tags)
    if not all(is_one_line(t) for t in tags):
        fields.error("tags", "Les étiquettes contiennent des caractères non autorisés (retour à la ligne, contrôle).")
        return None
    if len(text) > 300 or any(len(t) > 40 for t in tags):
        fields.error("tags", "Étiquettes trop longues (40 caractères chacune, 300 en tout).")
        return None
    return text


async def _in_department(scope: Scope, table: Any, record_id: int | None, department_id: int | None) -> dict | None:
    if not record_id or department_id is None:
        return None
    try:
        row = await scope.get(table, record_id)
    except NotFound:
        return None
    return row if belongs_to(row, department_id) else None


async def _values(
    scope: Scope, data: dict[str, Any], *, department_id: int | None, created_on: dt.date, partial: bool
) -> dict[str, Any]:
    """The checked columns of `data` (only those present when `partial`)."""
    fields = Fields(data, partial=partial)
    fields.text("title", required=True, max_length=300)  # when changed, never to an empty title
    fields.text("description", max_length=4000, multiline=True)
    fields.choice("priority", transitions.PRIORITIES, required=partial)  # creation defaults to "normale"
    fields.integer("progress", required=partial, minimum=0, maximum=100)
    due_on = fields.date("due_on")
    committee_id = fields.integer("committee", minimum=1)
    meeting_id = fields.integer("meeting", minimum=1)
    measure_id = fields.integer("measure", minimum=1)
    organisation_id = fields.integer("owner_organisation", minimum=1)
    contact_id = fields.integer("owner_contact", minimum=1)
    tags = _tags(data.get("tags"), fields) if "tags" in data else None
    if due_on and due_on < created_on:
        fields.error("due_on", f"L'échéance ne peut pas précéder la création de l'action ({created_on:%d/%m/%Y}).")
    if committee_id and not await _in_department(scope, Committee, committee_id, department_id):
        fields.error("committee", "Choisissez une instance de ce département.")
    meeting = await _in_department(scope, Meeting, meeting_id, department_id) if meeting_id else None
    if meeting_id and meeting is None:
        fields.error("meeting", "Choisissez une réunion de ce département.")
    if measure_id and not await Measure.exists().where(Measure.id == measure_id):
        fields.error("measure", "Mesure du plan inconnue.")
    organisation = await _in_department(scope, Organisation, organisation_id, department_id)
    if organisation_id and organisation is None:
        fields.error("owner_organisation", "Choisissez une organisation partenaire de ce département.")
    contact = await _in_department(scope, Contact, contact_id, department_id)
    if contact_id and contact is None:
        fields.error("owner_contact", "Choisissez un contact de ce département.")
    elif contact and organisation and contact["organisation"] != organisation["id"]:
        fields.error("owner_contact", "Ce contact n'appartient pas à l'organisation responsable.")
    values = fields.check()
    if tags is not None:
        values["tags"] = tags
    if contact and not organisation_id and not partial:
        values["owner_organisation"] = contact["organisation"]
    if meeting and not committee_id and "committee" not in data:
        values["committee"] = meeting["committee"]
    return {k: v for k, v in values.items() if k != "department"}


async def _department_of(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    fields = Fields(data)
    department_id = await resolve_department(scope, data.get("department"), fields)
    fields.check()
    return await Department.select(Department.id, Department.timezone).where(Department.id == department_id).first()


# -- writing -----------------------------------------------------------------------------------


async def _event(actor: Principal, item: dict[str, Any], kind: str, **values: Any) -> None:
    await ActionEvent.insert(
        ActionEvent(department=item["department"], item=item["id"], actor=actor.label[:254], kind=kind, **values)
    )


async def create_item(scope: Scope, data: dict[str, Any], *, now: dt.datetime | None = None) -> dict[str, Any]:
    department = await _department_of(scope, data)
    scope.require(Permission.TRACK_ACTIONS, department["id"])
    today = local_today(department["timezone"], now)
    values = await _values(scope, data, department_id=department["id"], created_on=today, partial=False)
    values.setdefault("priority", None)
    values["priority"] = values["priority"] or "normale"
    values["progress"] = values.get("progress") or 0
    async with transaction():
        row = (
            await ActionItem.insert(
                ActionItem(department=department["id"], status="a_faire", created_on=today, **values)
            ).returning(ActionItem.id)
        )[0]
        item = {"id": row["id"], "department": department["id"]}
        await _event(scope.principal, item, "created", to_status="a_faire")
        await audit.record(
            scope.principal,
            "create",
            "action_item",
            row["id"],
            department_id=department["id"],
            summary=f"Action « {values['title']} »",
            after=audit._jsonable(values),
        )
    return await get_item(scope, row["id"])


async def _locked(scope: Scope, item_id: int, version: Any = None) -> dict[str, Any]:
    row = await scope.get(ActionItem, item_id, *ITEM_COLUMNS)
    scope.require(Permission.TRACK_ACTIONS, row["department"])
    if version not in (None, "") and str(version) != str(row["version"]):
        raise Conflict("Cette action a été modifiée entre-temps : rechargez la page pour voir la version actuelle.")
    return row


async def _write(actor: Principal, row: dict[str, Any], changes: dict[str, Any], *, event: dict[str, Any]) -> None:
    """Apply `changes` if the item is still at the version read (no lost update), with its event."""
    changes = {**changes, "version": row["version"] + 1, "updated_at": clock.now()}
    async with transaction():
        updated = (
            await ActionItem.update({getattr(ActionItem, k): v for k, v in changes.items()})
            .where((ActionItem.id == row["id"]) & (ActionItem.version == row["version"]))
            .returning(ActionItem.id)
        )
        if not updated:
            raise Conflict("Cette action a été modifiée entre-temps : rechargez la page.")
        await _event(actor, row, **event)
        before = {k: row[k] for k in changes if k in row and k not in {"version", "updated_at"}}
        after = {k: v for k, v in changes.items() if k in before}
        await audit.record(
            actor,
            "update",
            "action_item",
            row["id"],
            department_id=row["department"],
            summary=f"Action « {row['title']} »",
            before=audit._jsonable(before),
            after=audit._jsonable(after),
        )


async def update_item(scope: Scope, item_id: int, data: dict[str, Any]) -> dict[str, Any]:
    if "status" in data:
        raise ValidationFailed({"status": "Le statut change par une transition (POST …/transition)."})
    row = await _locked(scope, item_id, data.get("version"))
    values = await _values(scope, data, department_id=row["department"], created_on=row["created_on"], partial=True)
    changes = {k: v for k, v in values.items() if k != "version" and row.get(k) != v}
    if "progress" in changes and row["status"] in transitions.CLOSED:
        raise ValidationFailed({"progress": "L'action est close : rouvrez-la pour changer son avancement."})
    # The contact and the organisation that own the item after the change must still go together.
    organisation_id = values["owner_organisation"] if "owner_organisation" in values else row["owner_organisation"]
    contact_id = values["owner_contact"] if "owner_contact" in values else row["owner_contact"]
    if ("owner_contact" in changes or "owner_organisation" in changes) and organisation_id and contact_id:
        contact = await Contact.select(Contact.organisation).where(Contact.id == contact_id).first()
        if contact is None or contact["organisation"] != organisation_id:
            field = "owner_contact" if "owner_contact" in changes else "owner_organisation"
            raise ValidationFailed(
                {field: "Le contact responsable n'appartient pas à cette organisation : changez aussi le contact."}
            )
    if ("owner_contact" in changes or "owner_organisation" in changes) and contact_id and not organisation_id:
        contact = await Contact.select(Contact.organisation).where(Contact.id == contact_id).first()
        changes["owner_organisation"] = contact["organisation"]  # the contact's own, never none
        if changes["owner_organisation"] == row["owner_organisation"]:
            del changes["owner_organisation"]
    if changes:
        await _write(scope.principal, row, changes, event={"kind": "changed", "changes": audit._jsonable(changes)})
    return await get_item(scope, item_id)


async def apply_transition(actor: Principal, row: dict[str, Any], data: dict[str, Any]) -> None:
    fields = Fields(data)
    target = fields.choice("status", transitions.STATUSES)
    reopen = bool(fields.boolean("reopen", default=False))
    comment = fields.text("comment", max_length=2000, multiline=True) or ""
    progress = fields.integer("progress", minimum=0, maximum=100)
    fields.check()
    assert target is not None
    if problem := transitions.refusal(row["status"], target, reopen=reopen):
        raise ValidationFailed({"status": problem})
    changes: dict[str, Any] = {"status": target}
    if target == "fait":
        changes.update(progress=100, done_on=local_today(row.get("timezone")))
    elif row["status"] in transitions.CLOSED:
        changes.update(done_on=None, progress=0 if target == "a_faire" else min(row["progress"], 90))
    if progress is not None and target != "fait":
        changes["progress"] = progress
    event = {"kind": "status", "from_status": row["status"], "to_status": target, "comment": comment}
    await _write(actor, row, changes, event=event)


async def apply_progress(actor: Principal, row: dict[str, Any], raw: Any, comment_text: Any = None) -> None:
    """A new progress figure on an open item (100 % is reached by marking it done)."""
    fields = Fields({"progress": raw, "comment": comment_text})
    progress = fields.integer("progress", required=True, minimum=0, maximum=99)
    comment_value = fields.text("comment", max_length=2000, multiline=True) or ""
    if row["status"] in transitions.CLOSED:
        fields.error("progress", "L'action est close : rouvrez-la pour changer son avancement.")
    fields.check()
    await _write(
        actor,
        row,
        {"progress": progress},
        event={"kind": "changed", "changes": {"progress": progress}, "comment": comment_value},
    )


async def transition(scope: Scope, item_id: int, data: dict[str, Any]) -> dict[str, Any]:
    row = await _locked(scope, item_id, data.get("version"))
    await apply_transition(scope.principal, row, data)
    return await get_item(scope, item_id)


async def add_comment(actor: Principal, row: dict[str, Any], text: Any) -> None:
    fields = Fields({"comment": text})
    comment = fields.text("comment", required=True, max_length=2000, multiline=True)
    fields.check()
    async with transaction():
        await _event(actor, row, "comment", comment=comment)
        await audit.record(
            actor,
            "comment",
            "action_item",
            row["id"],
            department_id=row["department"],
            summary=f"Commentaire sur « {row['title']} »",
        )


async def comment(scope: Scope, item_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    row = await _locked(scope, item_id)
    await add_comment(scope.principal, row, data.get("comment"))
    return await history(scope, item_id)


async def history(scope: Scope, item_id: int) -> list[dict[str, Any]]:
    await scope.get(ActionItem, item_id, ActionItem.id)
    rows = (
        await ActionEvent.select().where(ActionEvent.item == item_id).order_by(ActionEvent.at).order_by(ActionEvent.id)
    )
    return [
        {
            "id": r["id"],
            "at": r["at"],
            "actor": r["actor"],
            "kind": r["kind"],
            "from_status": r["from_status"],
            "to_status": r["to_status"],
            "to_status_label": transitions.STATUSES.get(r["to_status"], ""),
            "comment": r["comment"],
            "changes": (json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"]) or {},
        }
        for r in rows
    ]


OWN_PER_DECISION = ("owner_organisation", "owner_contact", "due_on")


def row_field(field: str, decision_id: int) -> str:
    """The name of a decision's own field in the form and in the errors, e.g. "due_on_12"."""
    return f"{field}_{decision_id}"


async def create_from_decisions(
    scope: Scope, meeting_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """One item per chosen decision of the meeting, in one transaction. Each decision may have its
    own owner and due date (`data["per_decision"]`: {decision id: {field: value}}), else those given
    for all. Every row is checked before anything is written: an error in one row stores none, and
    the errors name the row's field (`row_field`)."""
    meeting = await scope.get(Meeting, meeting_id)
    scope.require(Permission.TRACK_ACTIONS, meeting["department"])
    raw = data.get("decisions") or []
    raw = raw if isinstance(raw, list) else [raw]
    fields = Fields({})
    ids: list[int] = []
    for value in raw:
        decision_id = parse_id(value)
        if decision_id is None:
            fields.error("decisions", "Décision inconnue.")
        else:
            ids.append(decision_id)
    if not ids:
        fields.error("decisions", "Cochez au moins une décision.")
    fields.check()
    decisions = await Decision.select().where((Decision.meeting == meeting_id) & Decision.id.is_in(ids))
    if len(decisions) != len(set(ids)):
        raise ValidationFailed({"decisions": "Ces décisions ne sont pas toutes de cette réunion."})
    department = await department_of(meeting, Department.code, Department.timezone)
    today = local_today(department["timezone"], now)
    shared = {k: data.get(k) for k in ("owner_organisation", "owner_contact", "due_on", "measure", "priority")}
    own = data.get("per_decision") or {}
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    errors: dict[str, str] = {}
    for decision in sorted(decisions, key=lambda d: d["position"]):
        mine = own.get(decision["id"]) or own.get(str(decision["id"])) or {}
        values = {**shared, **{k: mine[k] for k in OWN_PER_DECISION if mine.get(k) not in (None, "")}}
        item_data = {
            **{k: v for k, v in values.items() if v not in (None, "")},
            "department": department["code"],
            "title": decision["text"][:300],
            "description": decision["text"] if len(decision["text"]) > 300 else "",
            "meeting": meeting_id,
            "committee": meeting["committee"],
        }
        try:
            await _values(scope, item_data, department_id=meeting["department"], created_on=today, partial=False)
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                key = row_field(field, decision["id"]) if field in OWN_PER_DECISION and own else field
                errors[key] = message
        rows.append((decision, item_data))
    if errors:
        raise ValidationFailed(errors)
    created = []
    async with transaction():
        for decision, item_data in rows:
            item = await create_item(scope, item_data, now=now)
            await ActionItem.update({ActionItem.decision: decision["id"]}).where(ActionItem.id == item["id"])
            created.append({**item, "decision": decision["id"]})
    return created
