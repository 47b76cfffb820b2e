"""Staff send an action item's partner link by mail from the item page, instead of copying it by
hand: to the owner contact or to a colleague of the owner organisation, through the outbox (once per
form sent), audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from coord.access import Scope
from coord.access.roles import Permission
from coord.actions import partner, service
from coord.actions.tables import ActionItem
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.links import service as links
from coord.mail import outbox
from coord.mail import render as mails
from coord.partners.tables import Contact

SEND_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KIND = "action_link"


async def recipients(scope: Scope, department_id: int, item: dict[str, Any]) -> dict[int, str]:
    """Who may receive the item's link: the active contacts with an address of the owner organisation
    (the owner contact first), « Prénom Nom – adresse »."""
    if not item["owner_organisation"]:
        return {}
    rows = (
        await scope.within(department_id)
        .select(Contact, Contact.id, Contact.first_name, Contact.last_name, Contact.email)
        .where(
            (Contact.organisation == item["owner_organisation"])
            & Contact.active.eq(True)
            & Contact.erased_at.is_null()
            & (Contact.email != "")
        )
        .order_by(Contact.last_name, Contact.first_name)
    )
    ordered = sorted(rows, key=lambda r: r["id"] != item["owner_contact"])
    return {r["id"]: f"{r['first_name']} {r['last_name']} – {r['email']}" for r in ordered}


def _key(item_id: int, contact_id: int, send_key: str) -> str:
    return f"{KIND}:{item_id}:{contact_id}:{send_key}"


async def send_link(
    scope: Scope, item_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Queue the mail carrying a new link of the item to the chosen contact (the owner contact by
    default). `data["send_key"]`, drawn when the page was shown, makes a form sent twice (a double
    click, a retried request) one mail. Returns {"queued": bool, "to": name, "expires_at": …}."""
    row = await scope.get(ActionItem, item_id, *service.ITEM_COLUMNS)
    scope.require(Permission.TRACK_ACTIONS, row["department"])
    item = service.item_out(row)
    fields = Fields(data)
    contact_id = fields.integer("contact", minimum=1) or row["owner_contact"]
    send_key = str(data.get("send_key") or "")
    if not SEND_KEY.match(send_key):
        fields.error("form", "Le formulaire a expiré : rechargez la page puis envoyez de nouveau le lien.")
    if not row["owner_organisation"]:
        fields.error("contact", "Désignez d'abord l'organisation responsable de l'action.")
    elif not contact_id and "contact" not in fields.errors:
        fields.error("contact", "Choisissez le contact à qui envoyer le lien.")
    contact = None
    if contact_id and row["owner_organisation"]:
        contact = (
            await scope.within(row["department"])
            .select(Contact, *Contact.all_columns())
            .where(Contact.id == contact_id)
            .first()
        )
        if contact is None or contact["organisation"] != row["owner_organisation"]:
            fields.error("contact", "Choisissez un contact de l'organisation responsable de l'action.")
        elif not contact["active"] or contact["erased_at"] is not None:
            fields.error("contact", "Ce contact n'est plus actif : choisissez-en un autre.")
        elif not contact["email"]:
            fields.error("contact", "Ce contact n'a pas d'adresse électronique : complétez sa fiche.")
    fields.check()
    assert contact is not None
    now = now or clock.now()
    name = f"{contact['first_name']} {contact['last_name']}"
    expires_at = now + partner.LINK_VALIDITY
    key = _key(item_id, contact["id"], send_key)
    async with transaction():
        if await outbox.already_queued(key):
            return {"queued": False, "to": name, "expires_at": expires_at}
        # The link names the owner contact, so it stops working when the item changes hands; with no
        # owner contact it names the colleague it was sent to.
        token = await links.issue(
            partner.LINK_PURPOSE,
            item_id,
            department_id=row["department"],
            contact_id=row["owner_contact"] or contact["id"],
            valid_for=partner.LINK_VALIDITY,
            now=now,
        )
        settings = current_settings()
        mail = mails.render(
            KIND,
            {
                "name": name,
                "item": item,
                "for_owner": contact["id"] == row["owner_contact"],
                "url": partner.link_url(token),
                "expires_on": clock.local_today(row["timezone"], expires_at),
                "validity_days": partner.LINK_VALIDITY.days,
                "sender": scope.principal.full_name or scope.principal.email,
                "organiser_name": settings.organiser_name,
                "organiser_email": settings.organiser_email,
            },
        )
        queued = await outbox.queue(
            dedupe_key=key,
            kind=KIND,
            to_email=contact["email"],
            to_name=name,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            department_id=row["department"],
            entity="action_item",
            entity_id=item_id,
        )
        if queued:
            await audit.record(
                scope.principal,
                "send",
                "action_item",
                item_id,
                department_id=row["department"],
                summary=f"Lien de mise à jour de « {row['title']} » envoyé à {name}"[:300],
                after={"to": contact["email"], "expires_at": expires_at.isoformat()},
            )
    return {"queued": queued, "to": name, "expires_at": expires_at}
