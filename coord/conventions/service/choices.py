"""Choices for the convention forms: organisations, contacts, pilot sites of a département."""

from __future__ import annotations

from typing import Any

from coord.access import Scope
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites.service import SCHEMES
from coord.pilot_sites.tables import PilotSite


async def organisation_choices(scope: Scope, department_id: int) -> list[dict[str, Any]]:
    rows = (
        await scope.within(department_id)
        .select(Organisation, Organisation.id, Organisation.name, Organisation.kind)
        .order_by(Organisation.name)
    )
    return rows


async def contact_choices(scope: Scope, department_id: int) -> dict[int, str]:
    rows = (
        await scope.within(department_id)
        .select(
            Contact,
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.organisation.name.as_alias("org"),
        )
        .where(Contact.active.eq(True))
        .order_by(Contact.last_name, Contact.first_name)
    )
    return {r["id"]: f"{r['last_name']} {r['first_name']} – {r['org']}" for r in rows}


async def contact_organisations(scope: Scope, department_id: int) -> dict[int, int]:
    """{contact id: organisation id} of the active contacts: the contact lists follow the chosen
    organisation (static/contact-picker.js)."""
    rows = (
        await scope.within(department_id)
        .select(Contact, Contact.id, Contact.organisation)
        .where(Contact.active.eq(True))
    )
    return {r["id"]: r["organisation"] for r in rows}


async def pilot_site_choices(scope: Scope, department_id: int) -> dict[int, str]:
    rows = (
        await scope.within(department_id)
        .select(PilotSite, PilotSite.id, PilotSite.scheme, PilotSite.plan.code.as_alias("plan"))
        .order_by(PilotSite.id)
    )
    return {r["id"]: f"{SCHEMES.get(r['scheme'], r['scheme'])} (plan {r['plan']})" for r in rows}
