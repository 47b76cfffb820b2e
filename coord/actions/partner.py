"""Partners update the items they own without an account: a signed, expiring, revocable link per
item, handed out in a weekly digest mail; the link reaches that item's status, progress and
comments, nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from coord.access import SYSTEM, Principal, Scope, link_principal, link_scope
from coord.access.roles import Permission
from coord.actions import service, transitions
from coord.actions.tables import ActionItem
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, ValidationFailed
from coord.core.settings import current_settings
from coord.links import service as links
from coord.links.pages import invalid_page
from coord.mail import outbox
from coord.mail import render as mails
from coord.mail.tables import OutboxMessage
from coord.partners.tables import Contact
from coord.web.forms import form_data, page

LINK_PURPOSE = "action"
LINK_VALIDITY = dt.timedelta(days=30)
DIGEST_HORIZON = dt.timedelta(days=14)
# Digests commit in groups: one commit per mail would make a national tick wait on the disk
# thousands of times; a group keeps the write lock short enough for the pages meanwhile.
DIGESTS_PER_TRANSACTION = 25


def link_url(token: str) -> str:
    return f"{current_settings().base_url}/r/action/{token}"


async def issue_link(scope: Scope, item_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """A new link for the item's owner contact (staff hand it out by hand, or the digest does)."""
    row = await scope.get(ActionItem, item_id, *service.ITEM_COLUMNS)
    scope.require(Permission.TRACK_ACTIONS, row["department"])
    if not row["owner_contact"]:
        raise ValidationFailed({"owner_contact": "Désignez d'abord un contact responsable de l'action."})
    now = now or clock.now()
    async with transaction():
        token = await links.issue(
            LINK_PURPOSE,
            item_id,
            department_id=row["department"],
            contact_id=row["owner_contact"],
            valid_for=LINK_VALIDITY,
            now=now,
        )
    return {"url": link_url(token), "expires_at": now + LINK_VALIDITY}


async def revoke_links(scope: Scope, item_id: int) -> int:
    row = await scope.get(ActionItem, item_id, ActionItem.id, ActionItem.department)
    scope.require(Permission.TRACK_ACTIONS, row["department"])
    return await links.revoke(LINK_PURPOSE, item_id)


def partner_principal(row: dict[str, Any]) -> Principal:
    name = f"{row.get('owner_name') or row.get('owner_email') or 'partenaire'} (lien partenaire)"
    return link_principal(name, row["department"])


# -- the weekly digest -----------------------------------------------------------------------------


def _week_key(contact_id: int, today: dt.date) -> str:
    year, week, _ = today.isocalendar()
    return f"action-digest:{contact_id}:{year}-W{week:02d}"


def _chunks(values: list[Any], size: int = 500) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def _owners_without_digest(now: dt.datetime, due_condition: Any) -> list[int]:
    """Owner contacts with something to report this week and no digest queued yet: two indexed
    queries whatever the number of owners (the tick runs every few minutes)."""
    owners = (
        await ActionItem.select(ActionItem.owner_contact, ActionItem.department.timezone.as_alias("timezone"))
        .where(due_condition)
        .distinct()
    )
    keys = {
        row["owner_contact"]: _week_key(row["owner_contact"], clock.local_today(row["timezone"], now)) for row in owners
    }
    sent = await outbox.already_queued_many(keys.values())
    return [contact for contact, key in keys.items() if key not in sent]


async def queue_owner_digests(now: dt.datetime) -> int:
    """One mail per owner contact and ISO week listing their open items due within two weeks or
    overdue, each with its link. Reads only open items up to the horizon (indexed on status and
    due date), so the cost follows what is due, not the history. Returns how many were queued."""
    horizon = (now + DIGEST_HORIZON).date()
    due_condition = (
        ActionItem.status.is_in(list(transitions.OPEN))
        & (ActionItem.due_on <= horizon)
        & ActionItem.owner_contact.is_not_null()
        & ActionItem.owner_contact.active.eq(True)  # a contact who left gets no more mail
    )
    waiting = await _owners_without_digest(now, due_condition)
    by_contact: dict[int, list[dict[str, Any]]] = {}
    for chunk in _chunks(waiting):
        rows = (
            await ActionItem.select(*service.ITEM_COLUMNS)
            .where(due_condition & ActionItem.owner_contact.is_in(chunk))
            .order_by(ActionItem.due_on)
        )
        for row in rows:
            by_contact.setdefault(row["owner_contact"], []).append(row)
    queued = 0
    for batch in _chunks(list(by_contact.items()), DIGESTS_PER_TRANSACTION):
        async with transaction() as txn:
            savepoint = await txn.savepoint()
            try:
                queued += await _queue_digests_at_once(batch, now)
                await savepoint.release()
            except outbox.AlreadyQueued:  # another instance queued some meanwhile: one at a time
                await savepoint.rollback_to()
                queued += await _queue_digests_one_by_one(txn, batch, now)
    return queued


Owners = list[tuple[int, list[dict[str, Any]]]]


async def _issue_links(owners: Owners, now: dt.datetime) -> dict[int, str]:
    """{item id: token} for every item of `owners`, each link naming its owner."""
    targets = [links.LinkTarget(row["id"], row["department"], contact) for contact, owned in owners for row in owned]
    return await links.issue_many(LINK_PURPOSE, targets, valid_for=LINK_VALIDITY, now=now)


async def _queue_digests_at_once(owners: Owners, now: dt.datetime) -> int:
    """The digests of `owners` in two inserts: every link, then every mail (all or none)."""
    tokens = await _issue_links(owners, now)
    return await outbox.queue_all([_digest(contact, owned, tokens, now) for contact, owned in owners])


async def _queue_digests_one_by_one(txn: Any, owners: Owners, now: dt.datetime) -> int:
    """The slow path after a clash: each digest in its own savepoint, skipping those already queued
    (their links are rolled back with them)."""
    queued = 0
    for contact, owned in owners:
        savepoint = await txn.savepoint()
        tokens = await _issue_links([(contact, owned)], now)
        if await outbox.queue_message(_digest(contact, owned, tokens, now)):
            await savepoint.release()
            queued += 1
        else:
            await savepoint.rollback_to()
    return queued


def _digest(contact: int, owned: list[dict[str, Any]], tokens: dict[int, str], now: dt.datetime) -> OutboxMessage:
    """The digest mail of one owner (their items share a département, hence a time zone)."""
    today = clock.local_today(owned[0]["timezone"], now)
    items = [{**service.item_out(row, today), "url": link_url(tokens[row["id"]])} for row in owned]
    first = items[0]
    overdue = sum(1 for i in items if i["overdue"])
    context = {
        "name": first["owner_name"],
        "items": items,
        "overdue": overdue,
        "today": today,
        "validity_days": LINK_VALIDITY.days,
    }
    mail = mails.render("action_digest", context)
    return outbox.message(
        dedupe_key=_week_key(contact, today),
        kind="action_digest",
        to_email=first["owner_email"],
        to_name=first["owner_name"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=owned[0]["department"],
        entity="action_item",
        entity_id=first["id"],
    )


# -- the partner's page --------------------------------------------------------------------------


async def _resolve(token: str) -> dict[str, Any]:
    link = await links.resolve(token, LINK_PURPOSE)
    row = (
        await link_scope(link.department_id)
        .select(ActionItem, *service.ITEM_COLUMNS)
        .where(ActionItem.id == link.target_id)
        .first()
    )
    if row is None:
        raise links.LinkInvalid("Cette action n'existe plus.", department_id=link.department_id)
    # Handed to another owner: the former owner's links stop working at once. An item owned by an
    # organisation alone takes the link of any of its contacts it was sent to (coord.actions.link_mail).
    if link.contact_id not in (None, row["owner_contact"]) and (
        row["owner_contact"] is not None or not await _of_organisation(link.contact_id, row["owner_organisation"])
    ):
        raise links.LinkInvalid(
            "Cette action a changé de responsable : ce lien n'est plus valable.", department_id=link.department_id
        )
    return row


async def _of_organisation(contact_id: int, organisation_id: int | None) -> bool:
    if organisation_id is None:
        return False
    return await Contact.exists().where((Contact.id == contact_id) & (Contact.organisation == organisation_id))


async def _view(row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    item = service.item_out(row)
    timeline = await service.history(Scope(SYSTEM), row["id"])
    choices = {k: v for k, v in transitions.STATUSES.items() if not transitions.refusal(row["status"], k, reopen=False)}
    return {"item": item, "timeline": timeline, "choices": choices, "values": {}, "errors": {}, "done": None, **extra}


async def _invalid(exc: links.LinkInvalid) -> Template:
    return await invalid_page(exc)


@get("/r/action/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def action_page(token: str) -> Template:
    """Shows the item and the form; never changes anything (mail scanners open links)."""
    try:
        row = await _resolve(token)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
    return page("actions/partner.html", **await _view(row))


@post("/r/action/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def action_update(token: str, request: Request) -> Template:
    try:
        row = await _resolve(token)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
    data = await form_data(request)
    actor = partner_principal(service.item_out(row))
    try:
        if data.get("status") and data.get("status") != row["status"]:
            await service.apply_transition(actor, row, {k: data.get(k) for k in ("status", "comment", "progress")})
        elif data.get("progress") not in (None, "") and str(data.get("progress")) != str(row["progress"]):
            await service.apply_progress(actor, row, data.get("progress"), data.get("comment"))
        elif (data.get("comment") or "").strip():
            await service.add_comment(actor, row, data.get("comment"))
        else:
            raise ValidationFailed({"comment": "Choisissez un nouveau statut ou écrivez un commentaire."})
    except ValidationFailed as exc:
        return page("actions/partner.html", status=422, **await _view(row, values=data, errors=exc.errors))
    except Conflict as exc:
        return page("actions/partner.html", status=409, **await _view(row, values=data, errors={"form": exc.message}))
    fresh = await _resolve(token)
    return page("actions/partner.html", **await _view(fresh, done=True))


ROUTES: list[Any] = [action_page, action_update]
