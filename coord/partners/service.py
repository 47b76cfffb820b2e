"""Partner organisations and their professional contacts."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import Or
from piccolo.query.functions.aggregate import Count

from coord.access import Permission, Scope, is_valid_id, resolve_department, system_scope
from coord.audit import records
from coord.core.errors import Conflict, NotFound
from coord.core.pagination import PageRequest
from coord.core.search import like
from coord.core.validation import Fields
from coord.partners.tables import Contact, Organisation, OrganisationKind

ORG_COLUMNS = (
    Organisation.id,
    Organisation.name,
    Organisation.kind,
    Organisation.acronym,
    Organisation.address,
    Organisation.email,
    Organisation.phone,
    Organisation.notes,
    Organisation.department,
    Organisation.department.code.as_alias("department_code"),
)
CONTACT_COLUMNS = (
    Contact.id,
    Contact.first_name,
    Contact.last_name,
    Contact.function,
    Contact.email,
    Contact.phone,
    Contact.active,
    Contact.erased_at,
    Contact.department,
    Contact.organisation,
    Contact.department.code.as_alias("department_code"),
    Contact.organisation.name.as_alias("organisation_name"),
)


async def kind_labels() -> dict[str, str]:
    rows = await OrganisationKind.select(OrganisationKind.code, OrganisationKind.label).order_by(
        OrganisationKind.position
    )
    return {r["code"]: r["label"] for r in rows}


# -- organisations ----------------------------------------------------------------------------
def organisation_out(row: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "department": row["department_code"],
        "name": row["name"],
        "kind": row["kind"],
        "kind_label": kinds.get(row["kind"], row["kind"]),
        "acronym": row["acronym"],
        "address": row["address"],
        "email": row["email"],
        "phone": row["phone"],
        "notes": row["notes"],
        "contact_count": row.get("contact_count", 0),
    }


async def list_organisations(
    scope: Scope,
    page: PageRequest,
    *,
    department: str | None = None,
    kind: str | None = None,
    q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    scope = await scope.within_code(department)
    conditions = []
    if kind:
        conditions.append(Organisation.kind == kind)
    if q:
        conditions.append(Or(Organisation.name.ilike(like(q)), Organisation.acronym.ilike(like(q))))
    query = scope.select(Organisation, *ORG_COLUMNS)
    count = scope.count(Organisation)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    rows = await query.order_by(Organisation.name).limit(page.per_page).offset(page.offset)
    # One grouped query for the contact counts of the whole page (no query per organisation).
    ids = [r["id"] for r in rows]
    counts: dict[int, int] = {}
    if ids:
        for r in (
            await Contact.select(Contact.organisation, Count(Contact.id, alias="n"))
            .where(Contact.organisation.is_in(ids))
            .group_by(Contact.organisation)
        ):
            counts[r["organisation"]] = r["n"]
    kinds = await kind_labels()
    return [organisation_out({**r, "contact_count": counts.get(r["id"], 0)}, kinds) for r in rows], await count


async def get_organisation(scope: Scope, organisation_id: int) -> dict[str, Any]:
    row = await scope.get(Organisation, organisation_id, *ORG_COLUMNS)
    return organisation_out(row, await kind_labels())


async def _organisation_fields(
    scope: Scope, data: dict[str, Any], *, partial: bool, department_id: int | None, exclude_id: int | None = None
) -> dict[str, Any]:
    fields = Fields(data, partial=partial)
    name = fields.text("name", required=True, max_length=200)
    fields.choice("kind", await kind_labels())
    fields.text("acronym", max_length=40)
    fields.text("address", max_length=500, multiline=True)
    fields.email("email")
    fields.phone("phone")
    fields.text("notes", max_length=2000, multiline=True)
    if not partial:
        department_id = await resolve_department(scope, data.get("department"), fields)
    if name and department_id:
        clash = system_scope(department_id).exists(Organisation).where(Organisation.name.ilike(name))
        if exclude_id:
            clash = clash.where(Organisation.id != exclude_id)
        if await clash:
            fields.error("name", f"Une organisation « {name} » existe déjà dans ce département.")
    values = fields.check()
    if not partial:
        values["department"] = department_id
    return values


async def create_organisation(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    values = await _organisation_fields(scope, data, partial=False, department_id=None)
    row = await records.create(
        scope, Organisation, values, entity="organisation", summary=f"Organisation « {values['name']} »"
    )
    return await get_organisation(scope, row["id"])


async def update_organisation(scope: Scope, organisation_id: int, data: dict[str, Any]) -> dict[str, Any]:
    current = await scope.get(Organisation, organisation_id)
    values = await _organisation_fields(
        scope, data, partial=True, department_id=current["department"], exclude_id=organisation_id
    )
    await records.update(
        scope,
        Organisation,
        organisation_id,
        values,
        entity="organisation",
        summary=f"Organisation « {values.get('name', current['name'])} »",
    )
    return await get_organisation(scope, organisation_id)


async def delete_organisation(scope: Scope, organisation_id: int) -> None:
    current = await scope.get(Organisation, organisation_id)
    await records.delete(
        scope,
        Organisation,
        organisation_id,
        entity="organisation",
        summary=f"Organisation « {current['name']} »",
        in_use="Cette organisation a encore des contacts : supprimez-les ou rattachez-les ailleurs d'abord.",
    )


# -- contacts -----------------------------------------------------------------------------------
def contact_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "department": row["department_code"],
        "organisation": row["organisation"],
        "organisation_name": row["organisation_name"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "function": row["function"],
        "email": row["email"],
        "phone": row["phone"],
        "active": row["active"],
        "erased": row.get("erased_at") is not None,
    }


async def list_contacts(
    scope: Scope,
    page: PageRequest | None,
    *,
    department: str | None = None,
    organisation: int | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> tuple[list[dict[str, Any]], int]:
    scope = await scope.within_code(department)
    conditions = []
    if organisation:
        if not is_valid_id(organisation):
            return [], 0
        conditions.append(Contact.organisation == organisation)
    if active is not None:
        conditions.append(Contact.active == active)
    if q:
        conditions.append(
            Or(
                Or(Contact.last_name.ilike(like(q)), Contact.first_name.ilike(like(q))),
                Or(Contact.email.ilike(like(q)), Contact.function.ilike(like(q))),
            )
        )
    query = scope.select(Contact, *CONTACT_COLUMNS)
    count = scope.count(Contact)
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    query = query.order_by(Contact.last_name).order_by(Contact.first_name)
    if page is None:  # every row (the exports): no count needed
        rows = await query
        return [contact_out(r) for r in rows], len(rows)
    rows = await query.limit(page.per_page).offset(page.offset)
    return [contact_out(r) for r in rows], await count


async def get_contact(scope: Scope, contact_id: int) -> dict[str, Any]:
    return contact_out(await scope.get(Contact, contact_id, *CONTACT_COLUMNS))


async def _contact_fields(
    scope: Scope, data: dict[str, Any], *, partial: bool, organisation_id: int | None, exclude_id: int | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    fields = Fields(data, partial=partial)
    organisation = None
    if not partial:
        organisation_id = fields.integer("organisation", required=True, minimum=1)
    if organisation_id:
        try:
            organisation = await scope.get(Organisation, organisation_id)
        except NotFound:
            fields.error("organisation", "Organisation inconnue ou d'un autre département.")
    fields.text("first_name", required=True, max_length=100)
    fields.text("last_name", required=True, max_length=100)
    email = fields.email("email", required=True)
    fields.text("function", max_length=200)
    fields.phone("phone")
    fields.boolean("active", default=True)
    if email and organisation:
        clash = Contact.exists().where((Contact.organisation == organisation["id"]) & (Contact.email == email))
        if exclude_id:
            clash = clash.where(Contact.id != exclude_id)
        if await clash:
            fields.error("email", f"Un contact avec l'adresse {email} existe déjà dans cette organisation.")
    values = fields.check()
    if organisation and not partial:
        values["department"] = organisation["department"]
        values["organisation"] = organisation["id"]
    return values, organisation


async def create_contact(scope: Scope, data: dict[str, Any]) -> dict[str, Any]:
    values, _ = await _contact_fields(scope, data, partial=False, organisation_id=None)
    row = await records.create(
        scope, Contact, values, entity="contact", summary=f"Contact {values['first_name']} {values['last_name']}"
    )
    return await get_contact(scope, row["id"])


async def update_contact(scope: Scope, contact_id: int, data: dict[str, Any]) -> dict[str, Any]:
    current = await scope.get(Contact, contact_id)
    if current["erased_at"] is not None:
        scope.require(Permission.MANAGE, current["department"])
        raise Conflict("Ce contact a été effacé (RGPD) : il ne peut plus être modifié ni réactivé.")
    values, _ = await _contact_fields(
        scope, data, partial=True, organisation_id=current["organisation"], exclude_id=contact_id
    )
    await records.update(
        scope,
        Contact,
        contact_id,
        values,
        entity="contact",
        summary=f"Contact {current['first_name']} {current['last_name']}",
    )
    return await get_contact(scope, contact_id)


async def delete_contact(scope: Scope, contact_id: int) -> None:
    current = await scope.get(Contact, contact_id)
    await records.delete(
        scope,
        Contact,
        contact_id,
        entity="contact",
        summary=f"Contact {current['first_name']} {current['last_name']}",
        in_use="Ce contact est membre d'une instance ou invité à une réunion : désactivez-le plutôt.",
    )
