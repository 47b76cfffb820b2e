"""Committees of a département and their members."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count

from coord.access import Scope, belongs_to, resolve_department, system_scope
from coord.access.roles import Permission
from coord.audit import records
from coord.committees.kinds import COMMITTEE_KINDS, MEMBER_ROLES
from coord.committees.tables import Committee, CommitteeMember
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.search import like
from coord.core.validation import Fields
from coord.partners.tables import Contact

COLUMNS = (
    Committee.id,
    Committee.name,
    Committee.kind,
    Committee.description,
    Committee.active,
    Committee.department,
    Committee.chair,
    Committee.department.code.as_alias("department_code"),
    Committee.chair.first_name.as_alias("chair_first_name"),
    Committee.chair.last_name.as_alias("chair_last_name"),
)
MEMBER_COLUMNS = (
    CommitteeMember.id,
    CommitteeMember.committee,
    CommitteeMember.contact,
    CommitteeMember.role,
    CommitteeMember.department,
    CommitteeMember.contact.first_name.as_alias("first_name"),
    CommitteeMember.contact.last_name.as_alias("last_name"),
    CommitteeMember.contact.email.as_alias("email"),
    CommitteeMember.contact.function.as_alias("function"),
    CommitteeMember.contact.organisation.name.as_alias("organisation_name"),
)


def committee_out(row: dict[str, Any], member_count: int = 0) -> dict[str, Any]:
    chair = " ".join(p for p in (row.get("chair_first_name"), row.get("chair_last_name")) if p)
    return {
        "id": row["id"],
        "department": row["department_code"],
        "name": row["name"],
        "kind": row["kind"],
        "kind_label": COMMITTEE_KINDS.get(row["kind"], row["kind"]),
        "description": row["description"],
        "active": row["active"],
        "chair": row["chair"],
        "chair_name": chair,
        "member_count": member_count,
    }


def member_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "committee": row["committee"],
        "contact": row["contact"],
        "role": row["role"],
        "role_label": MEMBER_ROLES.get(row["role"], row["role"]),
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "function": row["function"],
        "organisation_name": row["organisation_name"],
    }


async def _member_counts(committee_ids: list[int]) -> dict[int, int]:
    if not committee_ids:
        return {}
    rows = (
        await CommitteeMember.select(CommitteeMember.committee, Count(CommitteeMember.id, alias="n"))
        .where(CommitteeMember.committee.is_in(committee_ids))
        .group_by(CommitteeMember.committee)
    )
    return {r["committee"]: r["n"] for r in rows}


async def list_committees(
    scope: Scope,
    page: PageRequest,
    *,
    department: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    if kind and kind not in COMMITTEE_KINDS:
        raise ValidationFailed({"kind": f"Type d'instance inconnu « {kind[:40]} »."})
    scope = await scope.within_code(department)
    conditions = []
    if kind:
        conditions.append(Committee.kind == kind)
    if active is not None:
        conditions.append(Committee.active == active)
    if q:
        conditions.append(Committee.name.ilike(like(q)))
    query, count = scope.select(Committee, *COLUMNS), scope.count(Committee)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    rows = await query.order_by(Committee.name).limit(page.per_page).offset(page.offset)
    counts = await _member_counts([r["id"] for r in rows])
    return [committee_out(r, counts.get(r["id"], 0)) for r in rows], await count


async def get_committee(scope: Scope, committee_id: int) -> dict[str, Any]:
    row = await scope.get(Committee, committee_id, *COLUMNS)
    return committee_out(row, (await _member_counts([committee_id])).get(committee_id, 0))


async def _same_department_contact(
    scope: Scope, department_id: int | None, fields: Fields, field: str, message: str
) -> int | None:
    value = fields.integer(field, minimum=1)
    if not value:
        return None
    try:
        contact = await scope.get(Contact, value)
    except NotFound:
        contact = None
    if contact is None or not belongs_to(contact, department_id):
        fields.errors[field] = message
        return None
    return value


async def _name_taken(department_id: int, name: str, exclude_id: int | None) -> bool:
    """Case-insensitive comparison in Python: LIKE would read `_` and `%` as wildcards, and SQLite
    only folds the case of ASCII letters (« Économie » and « économie » must clash)."""
    wanted = name.casefold()
    rows = await system_scope(department_id).select(Committee, Committee.id, Committee.name)
    return any(r["name"].casefold() == wanted and r["id"] != exclude_id for r in rows)


async def _committee_fields(
    scope: Scope, data: dict[str, Any], *, partial: bool, department_id: int | None, exclude_id: int | None = None
) -> dict[str, Any]:
    fields = Fields(data, partial=partial)
    name = fields.text("name", required=True, max_length=200)
    fields.choice("kind", COMMITTEE_KINDS)
    fields.text("description", max_length=4000, multiline=True)
    fields.boolean("active", default=True)
    if not partial:
        department_id = await resolve_department(scope, data.get("department"), fields)
    if not fields.partial or fields.present("chair"):
        fields.values["chair"] = await _same_department_contact(
            scope, department_id, fields, "chair", "Le président doit être un contact de ce département."
        )
    if name and department_id and await _name_taken(department_id, name, exclude_id):
        fields.error("name", f"Une instance « {name} » existe déjà dans ce département.")
    values = fields.check()
    if not partial:
        values["department"] = department_id
    return values


async def create_committee(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    values = await _committee_fields(scope, data, partial=False, department_id=None)
    async with transaction():
        row = await records.create(
            scope, Committee, values, entity="committee", summary=f"Instance « {values['name']} »"
        )
        await _seat_chair(scope, row)
    return await get_committee(scope, row["id"])


CHAIR_ROLE = "president"
FORMER_CHAIR_ROLE = "membre"
CHAIR_MUST_STAY = (
    "Cette personne préside l'instance : choisissez d'abord un autre président (ou aucun) dans la fiche de l'instance."
)


async def _seat_chair(scope: Scope, committee: dict[str, Any]) -> None:
    """The chair is a member of the committee, as its president: choosing a chair who is not yet a
    member adds them (what agents expect when they name the chair on a new committee, which has no
    members yet); a former president who no longer chairs stays a member. Call inside the transaction
    that sets the chair."""
    chair = committee["chair"]
    presidents = await CommitteeMember.select(CommitteeMember.id, CommitteeMember.contact).where(
        (CommitteeMember.committee == committee["id"]) & (CommitteeMember.role == CHAIR_ROLE)
    )
    for former in presidents:
        if former["contact"] != chair:
            await records.update(
                scope,
                CommitteeMember,
                former["id"],
                {"role": FORMER_CHAIR_ROLE},
                entity="committee_member",
                summary=f"Ancien président de « {committee['name']} » : membre titulaire",
            )
    if not chair:
        return
    seat = (
        await CommitteeMember.select(CommitteeMember.id, CommitteeMember.role)
        .where((CommitteeMember.committee == committee["id"]) & (CommitteeMember.contact == chair))
        .first()
    )
    if seat is None:
        await records.create(
            scope,
            CommitteeMember,
            {"committee": committee["id"], "contact": chair, "role": CHAIR_ROLE, "department": committee["department"]},
            entity="committee_member",
            summary=f"Président(e) ajouté(e) aux membres de « {committee['name']} »",
        )
    elif seat["role"] != CHAIR_ROLE:
        await records.update(
            scope,
            CommitteeMember,
            seat["id"],
            {"role": CHAIR_ROLE},
            entity="committee_member",
            summary=f"Président(e) de « {committee['name']} »",
        )


async def update_committee(scope: Scope, committee_id: int, data: dict[str, Any]) -> dict[str, Any]:
    current = await scope.get(Committee, committee_id)
    scope.require(Permission.MANAGE, current["department"])
    values = await _committee_fields(
        scope, data, partial=True, department_id=current["department"], exclude_id=committee_id
    )
    async with transaction():
        row = await records.update(
            scope,
            Committee,
            committee_id,
            values,
            entity="committee",
            summary=f"Instance « {values.get('name', current['name'])} »",
        )
        if "chair" in values:
            await _seat_chair(scope, row)
    return await get_committee(scope, committee_id)


async def delete_committee(scope: Scope, committee_id: int) -> None:
    current = await scope.get(Committee, committee_id)
    scope.require(Permission.MANAGE, current["department"])
    await records.delete(
        scope,
        Committee,
        committee_id,
        entity="committee",
        summary=f"Instance « {current['name']} »",
        in_use="Cette instance a des réunions : désactivez-la plutôt que de la supprimer.",
    )


# -- members ------------------------------------------------------------------------------------
async def list_members(scope: Scope, committee_id: int) -> list[dict[str, Any]]:
    await scope.get(Committee, committee_id)
    rows = (
        await scope.select(CommitteeMember, *MEMBER_COLUMNS)
        .where(CommitteeMember.committee == committee_id)
        .order_by(CommitteeMember.contact.last_name)
    )
    order = list(MEMBER_ROLES)
    return sorted((member_out(r) for r in rows), key=lambda m: order.index(m["role"]) if m["role"] in order else 99)


async def add_member(scope: Scope, committee_id: int, data: dict[str, Any]) -> dict[str, Any]:
    committee = await scope.get(Committee, committee_id)
    scope.require(Permission.MANAGE, committee["department"])
    fields = Fields(data)
    role = fields.choice("role", MEMBER_ROLES)
    contact_id = await _same_department_contact(
        scope, committee["department"], fields, "contact", "Choisissez un contact de ce département."
    )
    if not contact_id and "contact" not in fields.errors:
        fields.errors["contact"] = "Ce champ est obligatoire."
    if contact_id and await CommitteeMember.exists().where(
        (CommitteeMember.committee == committee_id) & (CommitteeMember.contact == contact_id)
    ):
        fields.error("contact", "Ce contact est déjà membre de cette instance.")
    if role == CHAIR_ROLE and contact_id and committee["chair"] not in (None, contact_id):
        fields.error("role", "L'instance a déjà un président : changez le président dans la fiche de l'instance.")
    fields.check()
    async with transaction():
        row = await records.create(
            scope,
            CommitteeMember,
            {"committee": committee_id, "contact": contact_id, "role": role, "department": committee["department"]},
            entity="committee_member",
            summary=f"Membre ajouté à « {committee['name']} »",
        )
        if role == CHAIR_ROLE and not committee["chair"]:
            await _name_chair(scope, committee, contact_id)
    return await get_member(scope, committee_id, row["id"])


async def _name_chair(scope: Scope, committee: dict[str, Any], contact_id: int | None) -> None:
    """A member made president of a committee without a chair becomes its chair."""
    await records.update(
        scope,
        Committee,
        committee["id"],
        {"chair": contact_id},
        entity="committee",
        summary=f"Instance « {committee['name']} »",
    )


async def _member_row(scope: Scope, committee_id: int, member_id: int) -> dict[str, Any]:
    row = await scope.get(CommitteeMember, member_id, *MEMBER_COLUMNS)
    if row["committee"] != committee_id:
        raise NotFound()
    return row


async def get_member(scope: Scope, committee_id: int, member_id: int) -> dict[str, Any]:
    return member_out(await _member_row(scope, committee_id, member_id))


async def update_member(scope: Scope, committee_id: int, member_id: int, data: dict[str, Any]) -> dict[str, Any]:
    member = await _member_row(scope, committee_id, member_id)
    scope.require(Permission.MANAGE, member["department"])
    fields = Fields(data, partial=True)
    role = fields.choice("role", MEMBER_ROLES)
    chair = (await Committee.select(Committee.chair).where(Committee.id == committee_id).first())["chair"]
    if role and role != CHAIR_ROLE and member["contact"] == chair:
        fields.error("role", CHAIR_MUST_STAY)
    if role == CHAIR_ROLE and chair not in (None, member["contact"]):
        fields.error("role", "L'instance a déjà un président : changez le président dans la fiche de l'instance.")
    values = fields.check()
    async with transaction():
        await records.update(
            scope,
            CommitteeMember,
            member_id,
            values,
            entity="committee_member",
            summary=f"Rôle de {member['first_name']} {member['last_name']} modifié",
        )
        if role == CHAIR_ROLE and chair is None:
            await _name_chair(scope, await scope.get(Committee, committee_id), member["contact"])
    return await get_member(scope, committee_id, member_id)


async def remove_member(scope: Scope, committee_id: int, member_id: int) -> None:
    member = await _member_row(scope, committee_id, member_id)
    scope.require(Permission.MANAGE, member["department"])
    chair = (await Committee.select(Committee.chair).where(Committee.id == committee_id).first())["chair"]
    if member["contact"] == chair:
        raise ValidationFailed({"member": CHAIR_MUST_STAY}, CHAIR_MUST_STAY)
    await records.delete(
        scope,
        CommitteeMember,
        member_id,
        entity="committee_member",
        summary=f"Membre retiré : {member['first_name']} {member['last_name']}",
    )


async def contact_choices(scope: Scope, department_id: int, keep: int | None = None) -> dict[int, str]:
    """Active contacts of the département for select boxes, « Nom Prénom – Organisation ».

    `keep` (the current chair) stays in the list even if inactive, so saving the form unchanged does
    not silently remove it."""
    active = Contact.active.eq(True)
    rows = (
        await scope.within(department_id)
        .select(Contact, Contact.id, Contact.first_name, Contact.last_name, Contact.organisation.name.as_alias("org"))
        .where((active | (Contact.id == keep)) if keep else active)
        .order_by(Contact.last_name, Contact.first_name)
    )
    return {r["id"]: f"{r['last_name']} {r['first_name']} – {r['org']}" for r in rows}
