"""Erasing a contact, the confirmation page of the contact (`/d/{code}/contacts/{id}/effacer`)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from coord.access import DepartmentRow, Permission, Scope
from coord.partners import service as partners
from coord.privacy import erasure
from coord.web.forms import department_context, form_data, page, redirect


class ErasurePages(Controller):
    path = "/d/{code:str}/contacts"

    async def _erasable(self, access: Scope, department: DepartmentRow, contact_id: int) -> dict[str, Any]:
        contact = await partners.get_contact(access, contact_id)
        access.require_in(contact, department)
        access.require(Permission.MANAGE, department["id"])
        return contact

    @get("/{contact_id:int}/effacer")
    async def confirm(
        self, access: Scope, department: DepartmentRow, code: str, contact_id: int, request: Request
    ) -> Response:
        """What an erasure does, and the box to tick; an erased contact goes back to its page."""
        contact = await self._erasable(access, department, contact_id)
        if contact["erased"]:
            return redirect(request, f"/d/{department['code']}/contacts/{contact_id}/modifier")
        return page(
            "privacy/erase_contact.html",
            **department_context(access, department, "contacts"),
            contact=contact,
            errors={},
        )

    @post("/{contact_id:int}/effacer")
    async def erase(
        self, access: Scope, department: DepartmentRow, code: str, contact_id: int, request: Request
    ) -> Response:
        contact = await self._erasable(access, department, contact_id)
        data = await form_data(request)
        if not contact["erased"] and data.get("confirmation") != "oui":
            return page(
                "privacy/erase_contact.html",
                status=422,
                **department_context(access, department, "contacts"),
                contact=contact,
                errors={"confirmation": "Cochez la case pour confirmer l'effacement définitif."},
            )
        await erasure.erase_contact(access, contact_id)
        return redirect(
            request,
            f"/d/{department['code']}/partenaires/{contact['organisation']}",
            "Contact effacé : ses données personnelles ont été remplacées partout dans Coord.",
        )


ROUTES: list[Any] = [ErasurePages]
