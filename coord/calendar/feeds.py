"""Subscribable calendar feeds (.ics at secret-token URLs) per département, committee and contact.

A feed URL carries a `PartnerLink` token (purpose "feed_department" | "feed_committee" |
"feed_contact", no expiry, revocable): `/r/calendrier/<token>.ics`. The token is deterministic for a
link row, so the page can show the URL of an existing link again.

Feeds follow calendar-interop.md: METHOD:PUBLISH, no ORGANIZER/ATTENDEE, cancelled meetings kept with
STATUS:CANCELLED, URL back to the meeting's page. Draft meetings are never published; a meeting
cancelled before it was ever convened is left out too.

Cost: one query for the target (département/committee/contact), one for the meetings (indexed on
department, committee or the invitation's contact, and bounded to a window of FEED_PAST before now
to FEED_FUTURE after, so the cost does not grow with history), one for their agenda items.

Extension point for to-dos (VTODO): a later feature (action items) registers an async provider with
`register_todo_provider(provider)`. Each provider is called as
`await provider(kind, target_id, department, window_start, window_end)` where `kind` is
"department" | "committee" | "contact" and `department` is the département's row, and returns
`CalendarTodo`s to publish in that feed. Keep providers to one indexed query each. The feed's
ETag is a hash of the content, so new to-dos change it; `Last-Modified` only follows meetings, so a
provider whose items change should also be reflected there if clients rely on If-Modified-Since
(see `FeedDocument.last_modified`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Scope, is_valid_id, system_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.ics.build import build_feed
from coord.ics.models import CalendarEvent, CalendarTodo, Person
from coord.links import service as links
from coord.links.tables import PartnerLink
from coord.meetings.tables import AgendaItem, Invitation, Meeting
from coord.partners.tables import Contact
from coord.territory.tables import Department

FEED_PAST = dt.timedelta(days=365)
FEED_FUTURE = dt.timedelta(days=730)
KINDS: dict[str, str] = {
    "department": "feed_department",
    "committee": "feed_committee",
    "contact": "feed_contact",
}
PURPOSES: dict[str, str] = {purpose: kind for kind, purpose in KINDS.items()}
KIND_LABELS = {"department": "Département", "committee": "Instance", "contact": "Contact"}
PUBLISHED_STATUSES = ("convened", "held")
# When a feed holds no meeting, its DTSTAMPs use this fixed instant so the content (and ETag) is stable.
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

TodoProvider = Callable[[str, int, dict[str, Any], dt.datetime, dt.datetime], Awaitable[Sequence[CalendarTodo]]]
TODO_PROVIDERS: list[TodoProvider] = []


def register_todo_provider(provider: TodoProvider) -> TodoProvider:
    """Add a source of VTODOs to every feed (usable as a decorator)."""
    if provider not in TODO_PROVIDERS:
        TODO_PROVIDERS.append(provider)
    return provider


@dataclass(frozen=True)
class FeedDocument:
    name: str
    body: bytes
    etag: str  # strong validator, quoted: a hash of the body
    last_modified: dt.datetime  # the latest change of an included meeting (or invitation)
    count: int


# -- building --------------------------------------------------------------------------------


def department_label(department: dict[str, Any]) -> str:
    return f"{department['name']} ({department['code']})"


_MEETING_COLUMNS = (
    "id",
    "uid",
    "sequence",
    "title",
    "status",
    "starts_at",
    "ends_at",
    "place",
    "video_url",
    "created_at",
    "updated_at",
    "organiser_email",
    "organiser_name",
)


def _published() -> Any:
    return Meeting.status.is_in(list(PUBLISHED_STATUSES)) | (
        (Meeting.status == "cancelled") & Meeting.convened_at.is_not_null()
    )


def _window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - FEED_PAST, now + FEED_FUTURE


async def _agendas(meeting_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not meeting_ids:
        return {}
    rows = (
        await AgendaItem.select(AgendaItem.meeting, AgendaItem.title, AgendaItem.presenter, AgendaItem.duration_minutes)
        .where(AgendaItem.meeting.is_in(meeting_ids))
        .order_by(AgendaItem.meeting)
        .order_by(AgendaItem.position)
    )
    agendas: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        agendas.setdefault(row["meeting"], []).append(row)
    return agendas


def _description(meeting: dict[str, Any], agenda: list[dict[str, Any]]) -> str:
    lines = [meeting.get("committee_name") or ""]
    if agenda:
        lines.append("Ordre du jour :")
        for number, item in enumerate(agenda, start=1):
            extra = ", ".join(
                p
                for p in (item["presenter"], f"{item['duration_minutes']} min" if item["duration_minutes"] else "")
                if p
            )
            lines.append(f"{number}. {item['title']}" + (f" ({extra})" if extra else ""))
    return "\n".join(line for line in lines if line)


def _event(meeting: dict[str, Any], agenda: list[dict[str, Any]]) -> CalendarEvent:
    settings = current_settings()
    tzid = meeting["timezone"]
    zone = ZoneInfo(tzid)
    return CalendarEvent(
        uid=meeting["uid"],
        sequence=meeting["sequence"],
        summary=meeting["title"],
        description=_description(meeting, agenda),
        start=meeting["starts_at"].astimezone(zone),
        end=meeting["ends_at"].astimezone(zone),
        tzid=tzid,
        # Not written in feeds (build_feed leaves ORGANIZER out); CalendarEvent requires one.
        organizer=Person(
            email=meeting["organiser_email"] or settings.organiser_email,
            name=meeting["organiser_name"] or settings.organiser_name,
        ),
        location=" ".join((meeting["place"] or "").split()),
        url=f"{settings.base_url}/d/{meeting['department_code']}/reunions/{meeting['id']}",
        video_url=meeting["video_url"] or "",
        status="CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED",
        alarm_minutes=None,
        created=meeting["created_at"],
        last_modified=meeting["updated_at"],
    )


async def _document(
    name: str,
    kind: str,
    target_id: int,
    department: dict[str, Any],
    meetings: list[dict[str, Any]],
    window: tuple[dt.datetime, dt.datetime],
    *,
    extra_changes: Sequence[dt.datetime | None] = (),
) -> FeedDocument:
    agendas = await _agendas([m["id"] for m in meetings])
    events = [_event(m, agendas.get(m["id"], [])) for m in meetings]
    todos: list[CalendarTodo] = []
    for provider in TODO_PROVIDERS:
        todos.extend(await provider(kind, target_id, department, *window))
    changes = [m["updated_at"] for m in meetings if m["updated_at"] is not None]
    changes += [c for c in extra_changes if c is not None]
    last_modified = max(changes, default=EPOCH).astimezone(dt.UTC).replace(microsecond=0)
    # DTSTAMP is the feed's last change, not the request time: the same data gives the same bytes,
    # hence the same ETag, and clients get 304s.
    body = build_feed(name, events, last_modified, todos=todos)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return FeedDocument(name, body, etag, last_modified, len(events))


def _meeting_columns(prefix: Any = None) -> list[Any]:
    def col(name: str) -> Any:
        return getattr(prefix, name) if prefix is not None else getattr(Meeting, name)

    base = prefix if prefix is not None else Meeting
    columns = [col(name).as_alias(name) for name in _MEETING_COLUMNS]
    columns += [
        base.committee.name.as_alias("committee_name"),
        base.department.code.as_alias("department_code"),
        base.department.timezone.as_alias("timezone"),
    ]
    return columns


async def _department_row(department_id: int) -> dict[str, Any]:
    row = await Department.select().where(Department.id == department_id).first()
    if row is None:
        raise NotFound()
    return row


async def department_feed(department_id: int, *, now: dt.datetime | None = None) -> FeedDocument:
    department = await _department_row(department_id)
    window = _window(now or clock.now())
    meetings = (
        await system_scope(department_id)
        .select(Meeting, *_meeting_columns())
        .where((Meeting.starts_at >= window[0]) & (Meeting.starts_at <= window[1]) & _published())
        .order_by(Meeting.starts_at)
    )
    name = f"Coord – {department_label(department)}"
    return await _document(name, "department", department_id, department, meetings, window)


async def committee_feed(committee_id: int, *, now: dt.datetime | None = None) -> FeedDocument:
    committee = (
        await Committee.select(Committee.id, Committee.name, Committee.department)
        .where(Committee.id == committee_id)
        .first()
    )
    if committee is None:
        raise NotFound()
    department = await _department_row(committee["department"])
    window = _window(now or clock.now())
    meetings = (
        await Meeting.select(*_meeting_columns())
        .where(
            (Meeting.committee == committee_id)
            & (Meeting.starts_at >= window[0])
            & (Meeting.starts_at <= window[1])
            & _published()
        )
        .order_by(Meeting.starts_at)
    )
    name = f"Coord – {committee['name']} – {department_label(department)}"
    return await _document(name, "committee", committee_id, department, meetings, window)


async def contact_feed(contact_id: int, *, now: dt.datetime | None = None) -> FeedDocument:
    """The meetings the contact is invited to (an invitation not removed)."""
    contact = (
        await Contact.select(Contact.id, Contact.first_name, Contact.last_name, Contact.department, Contact.active)
        .where(Contact.id == contact_id)
        .first()
    )
    if contact is None or not contact["active"]:  # deactivated or erased: the feed stops with the contact
        raise NotFound()
    department = await _department_row(contact["department"])
    window = _window(now or clock.now())
    m = Invitation.meeting
    rows = (
        await Invitation.select(
            *_meeting_columns(m),
            Invitation.created_at.as_alias("invited_at"),
        )
        .where(
            (Invitation.contact == contact_id)
            & Invitation.removed_at.is_null()
            & (m.starts_at >= window[0])
            & (m.starts_at <= window[1])
            & (m.status.is_in(list(PUBLISHED_STATUSES)) | ((m.status == "cancelled") & m.convened_at.is_not_null()))
        )
        .order_by(m.starts_at)
    )
    # One meeting may hold two invitations of the same contact (delegation back and forth).
    seen: set[int] = set()
    meetings = [r for r in rows if not (r["id"] in seen or seen.add(r["id"]))]  # type: ignore[func-returns-value]
    name = f"Coord – réunions de {contact['first_name']} {contact['last_name']}".strip()
    return await _document(
        name,
        "contact",
        contact_id,
        department,
        meetings,
        window,
        extra_changes=[r["invited_at"] for r in rows],
    )


async def build_department_feed(department_id: int) -> bytes:
    return (await department_feed(department_id)).body


async def build_committee_feed(committee_id: int) -> bytes:
    return (await committee_feed(committee_id)).body


async def build_contact_feed(contact_id: int) -> bytes:
    return (await contact_feed(contact_id)).body


_BUILDERS: dict[str, Callable[[int], Awaitable[FeedDocument]]] = {
    "department": department_feed,
    "committee": committee_feed,
    "contact": contact_feed,
}


async def feed_for_token(token: str) -> FeedDocument:
    """The feed a public URL token opens; `NotFound` for anything invalid, revoked or gone (no
    difference is shown, so a guessed token does not learn whether a feed exists)."""
    if token.endswith(".ics"):
        token = token[: -len(".ics")]
    carried = links.read_token(token)
    if carried is None:
        raise NotFound()
    purpose = carried[1]
    kind = PURPOSES.get(purpose)
    if kind is None:
        raise NotFound()
    try:
        link = await links.resolve(token, purpose)
    except links.LinkInvalid as exc:
        raise NotFound() from exc
    return await _BUILDERS[kind](link.target_id)


# -- managing the links ----------------------------------------------------------------------


def feed_url(link_id: int, purpose: str) -> str:
    """The https URL of a feed link (deterministic: the same row always gives the same token)."""
    token = links.token_for(link_id, purpose)
    return f"{current_settings().base_url}/r/calendrier/{token}.ics"


def webcal_url(url: str) -> str:
    """Calendar apps subscribe (rather than import once) when given webcal://."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url


@dataclass(frozen=True)
class FeedTarget:
    kind: str
    target_id: int
    department_id: int
    label: str


async def feed_target(scope: Scope, kind: str, target_id: object) -> FeedTarget:
    if kind not in KINDS:
        raise ValidationFailed({"kind": "Type de calendrier inconnu (department, committee ou contact)."})
    if not is_valid_id(target_id):
        raise ValidationFailed({"target_id": "Identifiant invalide."})
    assert isinstance(target_id, int)
    if kind == "department":
        row = await scope.get(Department, target_id)
        return FeedTarget(kind, target_id, row["id"], department_label(row))
    if kind == "committee":
        row = await scope.get(Committee, target_id, Committee.id, Committee.name, Committee.department)
        return FeedTarget(kind, target_id, row["department"], row["name"])
    row = await scope.get(Contact, target_id, Contact.id, Contact.first_name, Contact.last_name, Contact.department)
    return FeedTarget(kind, target_id, row["department"], f"{row['first_name']} {row['last_name']}")


@dataclass(frozen=True)
class FeedLinkInfo:
    id: int
    kind: str
    target_id: int
    label: str
    url: str
    webcal_url: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


async def create_feed_link(scope: Scope, kind: str, target_id: object) -> FeedLinkInfo:
    """A new subscription URL for a département, committee or contact (MANAGE on its département)."""
    target = await feed_target(scope, kind, target_id)
    scope.require(Permission.MANAGE, target.department_id)
    purpose = KINDS[kind]
    async with transaction():
        token = await links.issue(purpose, target.target_id, department_id=target.department_id, valid_for=None)
        carried = links.read_token(token)
        assert carried is not None  # a token just issued
        link_id = carried[0]
        await audit.record(
            scope.principal,
            "create",
            "feed_link",
            link_id,
            department_id=target.department_id,
            summary=f"Lien d'abonnement au calendrier créé : {KIND_LABELS[kind]} {target.label}",
            after={"kind": kind, "target_id": target.target_id},
        )
    row = await PartnerLink.select().where(PartnerLink.id == link_id).first()
    assert row is not None
    return FeedLinkInfo(
        link_id,
        kind,
        target.target_id,
        target.label,
        feed_url(link_id, purpose),
        webcal_url(feed_url(link_id, purpose)),
        row["created_at"],
        None,
    )


async def revoke_feed_link(scope: Scope, link_id: int) -> None:
    """Revoke one subscription URL: its feed answers 404 from now on."""
    row = await scope.get(PartnerLink, link_id)
    if row["purpose"] not in PURPOSES or row["revoked_at"] is not None:
        raise NotFound()
    scope.require(Permission.MANAGE, row["department"])
    async with transaction():
        await PartnerLink.update({PartnerLink.revoked_at: clock.now()}).where(PartnerLink.id == link_id)
        await audit.record(
            scope.principal,
            "revoke",
            "feed_link",
            link_id,
            department_id=row["department"],
            summary=f"Lien d'abonnement au calendrier révoqué ({KIND_LABELS[PURPOSES[row['purpose']]]})",
            before={"kind": PURPOSES[row["purpose"]], "target_id": row["target_id"]},
        )


async def list_feed_links(scope: Scope, department_id: int) -> list[FeedLinkInfo]:
    """The live subscription URLs of a département (MANAGE: the URLs are secrets)."""
    scope.require(Permission.MANAGE, department_id)
    rows = (
        await scope.within(department_id)
        .select(PartnerLink)
        .where(PartnerLink.purpose.is_in(list(PURPOSES)) & PartnerLink.revoked_at.is_null())
        .order_by(PartnerLink.id)
    )
    committee_ids = [r["target_id"] for r in rows if r["purpose"] == "feed_committee"]
    contact_ids = [r["target_id"] for r in rows if r["purpose"] == "feed_contact"]
    committees = {
        c["id"]: c["name"]
        for c in (
            await Committee.select(Committee.id, Committee.name).where(Committee.id.is_in(committee_ids))
            if committee_ids
            else []
        )
    }
    contacts = {
        c["id"]: f"{c['first_name']} {c['last_name']}"
        for c in (
            await Contact.select(Contact.id, Contact.first_name, Contact.last_name).where(Contact.id.is_in(contact_ids))
            if contact_ids
            else []
        )
    }
    department = await _department_row(department_id)
    result = []
    for row in rows:
        kind = PURPOSES[row["purpose"]]
        if kind == "department":
            label = department_label(department)
        elif kind == "committee":
            label = committees.get(row["target_id"], "Instance supprimée")
        else:
            label = contacts.get(row["target_id"], "Contact supprimé")
        url = feed_url(row["id"], row["purpose"])
        result.append(
            FeedLinkInfo(
                row["id"], kind, row["target_id"], label, url, webcal_url(url), row["created_at"], row["last_used_at"]
            )
        )
    return result
