"""Subscribable calendar feeds (.ics at secret-token URLs) per département, committee and contact.

A feed URL carries a `PartnerLink` token (purpose "feed_department" | "feed_committee" |
"feed_contact", no expiry, revocable): `/r/calendrier/<token>.ics`. The token is deterministic for a
link row, so the page can show the URL of an existing link again. A token Coord never signed (or of
another kind of link) is not found (404); a revoked or expired one is gone (410, `FeedGone`).

Feeds follow calendar-interop.md: METHOD:PUBLISH, cancelled meetings kept with STATUS:CANCELLED, URL
back to the meeting's page. Every VEVENT and VTODO names Coord's own mailbox (settings
`organiser_email` / `organiser_name`) as ORGANIZER, as RFC 5546's PUBLISH table (libical's
restriction check) requires; no ATTENDEE, so no client has anyone to answer for. Draft meetings are
never published; a meeting cancelled before it was ever convened is left out too.

Isolation: a feed is read through the scope of its link's département (`link_scope`), so whatever
its target, it shows nothing of another département.

Cost: one query for the target (département/committee/contact), one for the meetings (indexed on
department, committee or the invitation's contact, and bounded to a window of FEED_PAST before now
to FEED_FUTURE after, so the cost does not grow with history), one for their agenda items, one per
to-do provider and one for the newest relevant audit entry.

Validators (`FeedDocument`): the ETag is a hash of the body, so it changes with anything shown,
to-dos included, and with nothing else. The body is a function of the data only: its DTSTAMPs are
the newest change among the rows shown, never the request time. Last-Modified is the newest of the
shown rows' change times (meetings, their committee, the contact and invitations, the to-dos'
`TodoBatch.changed_at`) and of the newest audit entry of the feed's département about what feeds
show (meetings, agenda items, action items, invitations): a row that left the feed (an item handed
to another owner, an agenda item removed) leaves no time on the rows still shown, but every change is
audited. It may therefore move on a change of the same département that the feed does not show
(clients that send If-None-Match get a 304 all the same). What it cannot see, and the ETag does: the
window sliding with time (a meeting older than FEED_PAST drops out), a write nobody audited that
removes a row, and a second change within the second of the previous one (HTTP dates have whole
seconds).

Extension point for to-dos (VTODO): a domain above this one (action items) registers an async
provider with `register_todo_provider(provider)`. Each provider is called as
`await provider(kind, target_id, department, window_start, window_end)` where `kind` is
"department" | "committee" | "contact" and `department` is the département's row, and returns a
`TodoBatch` (or a plain sequence of `CalendarTodo`s, then without change time) to publish in that
feed. Keep providers to one indexed query each, read within `system_scope(department["id"])`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from coord.access import Scope, belongs_to, is_valid_id, link_scope, system_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.audit.tables import AuditEntry
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import CoordError, NotFound, ValidationFailed
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
# When a feed holds no row, its DTSTAMPs use this fixed instant so the content (and ETag) is stable.
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# The audit entities whose changes can alter a feed of each kind (see "Validators" above).
AUDITED: dict[str, tuple[str, ...]] = {
    "department": ("meeting", "agenda_item", "action_item"),
    "committee": ("meeting", "agenda_item", "action_item"),
    "contact": ("meeting", "agenda_item", "action_item", "invitation"),
}
# Audited actions on those entities that change nothing a feed shows.
UNSHOWN_ACTIONS = ("comment", "remind")

REVOKED = (
    "Ce calendrier n'est plus publié : son lien d'abonnement a été révoqué. Demandez un nouveau lien à la préfecture."
)
EXPIRED = "Ce calendrier n'est plus publié : son lien d'abonnement a expiré. Demandez un nouveau lien à la préfecture."


class FeedGone(CoordError):
    """A feed link Coord issued that no longer opens anything (revoked or expired): 410."""

    status_code = 410


@dataclass(frozen=True)
class TodoBatch:
    """What a to-do provider adds to one feed: its VTODOs and the newest change among the rows they
    were built from (None when there is none), which Last-Modified follows."""

    todos: Sequence[CalendarTodo]
    changed_at: dt.datetime | None = None


class TodoProvider(Protocol):
    def __call__(
        self, kind: str, target_id: int, department: dict[str, Any], start: dt.datetime, end: dt.datetime, /
    ) -> Awaitable[TodoBatch | Sequence[CalendarTodo]]: ...


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
    last_modified: dt.datetime  # whole seconds, UTC: see "Validators" in the module docstring
    count: int  # meetings (VEVENTs)
    todo_count: int = 0


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
)


def _published(meeting: Any = Meeting) -> Any:
    """Convened or held, or cancelled after a convocation went out (subscribers may hold it)."""
    return meeting.status.is_in(list(PUBLISHED_STATUSES)) | (
        (meeting.status == "cancelled") & meeting.convened_at.is_not_null()
    )


def _window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return now - FEED_PAST, now + FEED_FUTURE


def _in_window(meeting: Any, window: tuple[dt.datetime, dt.datetime]) -> Any:
    return (meeting.starts_at >= window[0]) & (meeting.starts_at <= window[1])


def _meeting_columns(prefix: Any = None) -> list[Any]:
    """The meeting's own columns, its committee's name and change time, its département's code and
    zone (`prefix`: the meeting reached through a foreign key, e.g. `Invitation.meeting`)."""
    base = prefix if prefix is not None else Meeting
    columns = [getattr(base, name).as_alias(name) for name in _MEETING_COLUMNS]
    columns += [
        base.department.as_alias("department"),
        base.committee.name.as_alias("committee_name"),
        base.committee.updated_at.as_alias("committee_updated_at"),
        base.department.code.as_alias("department_code"),
        base.department.timezone.as_alias("timezone"),
    ]
    return columns


async def _agendas(scope: Scope, meeting_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not meeting_ids:
        return {}
    rows = (
        await scope.select(
            AgendaItem, AgendaItem.meeting, AgendaItem.title, AgendaItem.presenter, AgendaItem.duration_minutes
        )
        .where(AgendaItem.meeting.is_in(meeting_ids))
        .order_by(AgendaItem.meeting)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
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


def feed_organizer() -> Person:
    """Coord's own mailbox: the ORGANIZER of every published event and to-do."""
    settings = current_settings()
    return Person(email=settings.organiser_email, name=settings.organiser_name)


def _event(meeting: dict[str, Any], agenda: list[dict[str, Any]], organizer: Person) -> CalendarEvent:
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
        organizer=organizer,
        location=" ".join((meeting["place"] or "").split()),
        url=f"{current_settings().base_url}/d/{meeting['department_code']}/reunions/{meeting['id']}",
        video_url=meeting["video_url"] or "",
        status="CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED",
        alarm_minutes=None,
        created=meeting["created_at"],
        last_modified=meeting["updated_at"],
    )


async def _todos(
    kind: str, target_id: int, department: dict[str, Any], window: tuple[dt.datetime, dt.datetime]
) -> tuple[list[CalendarTodo], list[dt.datetime | None]]:
    todos: list[CalendarTodo] = []
    changes: list[dt.datetime | None] = []
    for provider in TODO_PROVIDERS:
        batch = await provider(kind, target_id, department, *window)
        if isinstance(batch, TodoBatch):
            todos.extend(batch.todos)
            changes.append(batch.changed_at)
        else:
            todos.extend(batch)
    return todos, changes


async def _audit_stamp(scope: Scope, entities: Sequence[str]) -> dt.datetime | None:
    """When the newest audit entry of the scope's département about `entities` was written: a few
    rows read backwards on the (department, at) index."""
    row = (
        await scope.select(AuditEntry, AuditEntry.at)
        .where(AuditEntry.entity.is_in(list(entities)) & AuditEntry.action.not_in(list(UNSHOWN_ACTIONS)))
        .order_by(AuditEntry.at, ascending=False)
        .first()
    )
    return row["at"] if row else None


def _whole_seconds(value: dt.datetime) -> dt.datetime:
    """HTTP dates have whole seconds: comparing with If-Modified-Since needs the same precision."""
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _newest(changes: Iterable[dt.datetime | None]) -> dt.datetime | None:
    return max((c for c in changes if c is not None), default=None)


async def _document(
    name: str,
    kind: str,
    target_id: int,
    department: dict[str, Any],
    meetings: list[dict[str, Any]],
    window: tuple[dt.datetime, dt.datetime],
    scope: Scope,
    *,
    changes: Iterable[dt.datetime | None] = (),
) -> FeedDocument:
    organizer = feed_organizer()
    agendas = await _agendas(scope, [m["id"] for m in meetings])
    events = [_event(m, agendas.get(m["id"], []), organizer) for m in meetings]
    todos, todo_changes = await _todos(kind, target_id, department, window)
    shown = _newest(
        [
            *(m["updated_at"] for m in meetings),
            *(m["committee_updated_at"] for m in meetings),
            *changes,
            *todo_changes,
        ]
    )
    stamp = _whole_seconds(shown or EPOCH)
    # DTSTAMP is the newest change of what is shown, not the request time: the same data gives the
    # same bytes, hence the same ETag, and clients get 304s.
    body = build_feed(name, events, stamp, todos=todos, organizer=organizer)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    audited = await _audit_stamp(scope, AUDITED[kind])
    last_modified = max(stamp, _whole_seconds(audited)) if audited is not None else stamp
    return FeedDocument(name, body, etag, last_modified, len(events), len(todos))


async def _department_row(department_id: int) -> dict[str, Any]:
    row = await Department.select().where(Department.id == department_id).first()
    if row is None:
        raise NotFound()
    return row


async def department_feed(
    department_id: int, *, now: dt.datetime | None = None, scope: Scope | None = None
) -> FeedDocument:
    """The published meetings and to-dos of a département (`scope`: the link's, else the system's
    for that département)."""
    scope = (scope or system_scope()).within(department_id)
    department = await scope.get(Department, department_id)
    window = _window(now or clock.now())
    meetings = (
        await scope.select(Meeting, *_meeting_columns())
        .where(_in_window(Meeting, window) & _published())
        .order_by(Meeting.starts_at)
        .order_by(Meeting.id)
    )
    name = f"Coord – {department_label(department)}"
    return await _document(name, "department", department_id, department, meetings, window, scope)


async def committee_feed(
    committee_id: int, *, now: dt.datetime | None = None, scope: Scope | None = None
) -> FeedDocument:
    scope = scope or system_scope()
    committee = await scope.get(Committee, committee_id, Committee.name, Committee.department, Committee.updated_at)
    scope = scope.within(committee["department"])
    department = await _department_row(committee["department"])
    window = _window(now or clock.now())
    meetings = (
        await scope.select(Meeting, *_meeting_columns())
        .where((Meeting.committee == committee_id) & _in_window(Meeting, window) & _published())
        .order_by(Meeting.starts_at)
        .order_by(Meeting.id)
    )
    name = f"Coord – {committee['name']} – {department_label(department)}"
    return await _document(
        name, "committee", committee_id, department, meetings, window, scope, changes=[committee["updated_at"]]
    )


async def contact_feed(contact_id: int, *, now: dt.datetime | None = None, scope: Scope | None = None) -> FeedDocument:
    """The meetings the contact is invited to (an invitation not removed) and the to-dos they own."""
    scope = scope or system_scope()
    contact = await scope.get(
        Contact,
        contact_id,
        Contact.first_name,
        Contact.last_name,
        Contact.department,
        Contact.active,
        Contact.updated_at,
    )
    if not contact["active"]:  # deactivated or erased: the feed stops with the contact
        raise NotFound()
    scope = scope.within(contact["department"])
    department = await _department_row(contact["department"])
    window = _window(now or clock.now())
    m = Invitation.meeting
    # Removed invitations too: when one was removed is a change of this feed.
    rows = (
        await scope.select(
            Invitation,
            *_meeting_columns(m),
            Invitation.created_at.as_alias("invited_at"),
            Invitation.removed_at.as_alias("removed_at"),
        )
        .where((Invitation.contact == contact_id) & _in_window(m, window) & _published(m))
        .order_by(m.starts_at)
        .order_by(m.id)
    )
    # One meeting may hold two invitations of the same contact (delegation back and forth).
    meetings: list[dict[str, Any]] = []
    seen: set[int] = set()
    for row in rows:
        if row["removed_at"] is None and row["id"] not in seen and belongs_to(row, department["id"]):
            seen.add(row["id"])
            meetings.append(row)
    name = f"Coord – réunions de {contact['first_name']} {contact['last_name']}".strip()
    changes = [contact["updated_at"], *(r["invited_at"] for r in rows), *(r["removed_at"] for r in rows)]
    return await _document(name, "contact", contact_id, department, meetings, window, scope, changes=changes)


async def build_department_feed(department_id: int) -> bytes:
    return (await department_feed(department_id)).body


async def build_committee_feed(committee_id: int) -> bytes:
    return (await committee_feed(committee_id)).body


async def build_contact_feed(contact_id: int) -> bytes:
    return (await contact_feed(contact_id)).body


class _Builder(Protocol):
    def __call__(self, target_id: int, /, *, scope: Scope | None = None) -> Awaitable[FeedDocument]: ...


_BUILDERS: dict[str, _Builder] = {
    "department": department_feed,
    "committee": committee_feed,
    "contact": contact_feed,
}


async def _gone_or_unknown(link_id: int, purpose: str) -> CoordError:
    """Why a signed token of a feed did not resolve: gone (410) when Coord revoked or let expire the
    link it names, else not found (404: no such link, or a link of another kind)."""
    row = (
        await PartnerLink.select(PartnerLink.purpose, PartnerLink.revoked_at, PartnerLink.expires_at)
        .where(PartnerLink.id == link_id)
        .first()
    )
    if row is None or row["purpose"] != purpose:
        return NotFound()
    if row["revoked_at"] is not None:
        return FeedGone(REVOKED)
    if row["expires_at"] is not None and row["expires_at"] <= clock.now():
        return FeedGone(EXPIRED)
    return NotFound()


async def feed_for_token(token: str) -> FeedDocument:
    """The feed a public URL token opens. `NotFound` for a token Coord did not sign as a feed's (or
    whose target is gone), `FeedGone` for a revoked or expired link: only a holder of a genuine URL
    learns that it once worked."""
    token = token.removesuffix(".ics")
    carried = links.read_token(token)
    if carried is None:
        raise NotFound()
    link_id, purpose = carried
    kind = PURPOSES.get(purpose)
    if kind is None:
        raise NotFound()
    try:
        link = await links.resolve(token, purpose)
    except links.LinkGone as exc:
        raise FeedGone(exc.message) from exc
    except links.LinkInvalid as exc:
        raise await _gone_or_unknown(link_id, purpose) from exc
    return await _BUILDERS[kind](link.target_id, scope=link_scope(link.department_id))


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
    """Revoke one subscription URL: its feed answers 410 Gone from now on."""
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
