"""Canary data for the isolation tests: two départements whose every free-text and name field carries
a marker naming its département, `CANARI34-<field>` or `CANARI974-<field>` (e-mail local parts carry
it in lower case, `canari974-<field>@...`).

The data is made by the real services, as an agent of each département would make it, so the audit
log, the outbox (convocations, cancellations, reminders, answers' delegations, digests, signature
requests, cycle proposals) and every kind of partner link exist too. A marker of one département in
anything a principal of the other département receives is a leak.

The helpers below also enumerate the application's routes, fill their path parameters from the seed
and extract the text of every kind of response (HTML, JSON, CSV, XLSX, PDF, iCalendar).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import PASSWORD

MAINLAND, OVERSEAS = "34", "974"
DEPARTMENTS = (MAINLAND, OVERSEAS)
MARKER_RE = re.compile(r"canari(\d{2,3}|2[ab])-[a-z0-9-]*", re.IGNORECASE)
LINK_RE = re.compile(r"/r/(invitation|action|signature|document|sondage)/([A-Za-z0-9_.\-]+)")
UNKNOWN_TOKEN = "jeton-inconnu"

# Routes the walk leaves out, each for a reason (a new route is walked the day it is added):
SKIPPED_PREFIXES = (
    "/static/",  # stylesheets and scripts shipped with the code: no data
    "/schema",  # the OpenAPI description (and its viewers): built from the code, no data
)
SKIPPED_ROUTES = {
    ("POST", "/deconnexion"),  # ends the session the walk runs in
    ("POST", "/connexion"),  # a failed login counts against the client's IP (throttling) and would lock it out
    ("POST", "/compte/sessions/terminer"),  # ends every session of the walker, this one included
}

# Which partner link each public route expects in its {token} parameter.
TOKEN_ROUTES = {
    "/r/invitation/": "invitation",
    "/r/action/": "action",
    "/r/signature/": "signature",
    "/r/document/": "document",  # a convocation annex, linked from the convocation mail
    "/r/sondage/": "sondage",  # a date poll's answer page, linked from the poll's invitation
    "/r/calendrier/": "feed",
}
LINK_KINDS = ("invitation", "action", "signature", "sondage", "feed_department", "feed_committee", "feed_contact")


def marker_prefix(code: str) -> str:
    return f"canari{code}-"


# -- the seed ------------------------------------------------------------------------------------


@dataclass
class Account:
    role: str
    email: str
    token: str
    user_id: int


@dataclass
class Seeded:
    """What one département holds, with the ids the walk puts in path parameters."""

    code: str
    department_id: int
    accounts: dict[str, Account] = field(default_factory=dict)
    # Each group lists alternatives (dicts of path parameters that go together, e.g. a meeting and one
    # of its agenda items); the first of each group makes the base set.
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)  # link kind -> tokens
    emails: set[str] = field(default_factory=set)  # the département's people: contacts and users
    markers: set[str] = field(default_factory=set)  # every marker seeded (lower case)
    ids: dict[str, int] = field(default_factory=dict)  # named records, for the self-checks
    contact_feeds: dict[int, str] = field(default_factory=dict)  # contact id -> token of their feed
    holders: dict[str, str] = field(default_factory=dict)  # token -> whose link it is (for the messages)

    def mark(self, name: str) -> str:
        value = f"CANARI{self.code}-{name}"
        self.markers.add(value.lower())
        return value

    def address(self, name: str, domain: str = "partenaire.example.fr") -> str:
        value = f"canari{self.code}-{name}@{domain}"
        self.markers.add(f"canari{self.code}-{name}")
        self.emails.add(value)
        return value

    def base(self) -> dict[str, Any]:
        values: dict[str, Any] = {"code": self.code}
        for alternatives in self.groups.values():
            values.update(alternatives[0])
        return values

    def variants(self) -> list[dict[str, Any]]:
        """The base set, then the base with each alternative of each group in turn."""
        base = self.base()
        found = [base]
        for alternatives in self.groups.values():
            found += [{**base, **alternative} for alternative in alternatives[1:]]
        return found


async def _account(seeded: Seeded, role: str) -> Account:
    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_token, create_user

    email = f"canari{seeded.code}-{role}@prefecture.example.gouv.fr"
    seeded.markers.add(f"canari{seeded.code}-{role}")
    seeded.emails.add(email)
    user = await create_user(
        Scope(SYSTEM),
        {
            "email": email,
            "password": PASSWORD,
            "role": role,
            "department": seeded.code,
            "full_name": seeded.mark(f"{role}-nom-complet"),
            # The prefecture agent is the département's account referent: the account pages are walked too.
            "manages_accounts": role == "prefecture",
        },
    )
    return Account(role, email, await create_token(email, seeded.mark(f"{role}-jeton")), user["id"])


async def seed_department(code: str, now: dt.datetime) -> Seeded:
    """Everything a département owns, made by its prefecture agent through the services."""
    from coord.access import Scope
    from coord.accounts import admin as accounts_admin
    from coord.accounts.service import load_principal
    from coord.accounts.tables import ApiToken
    from coord.actions import partner as action_links
    from coord.actions import service as actions
    from coord.calendar import feeds
    from coord.committees import service as committees
    from coord.conventions import service as conventions
    from coord.core.clock import FrozenClock
    from coord.meetings import agenda, answers, attendance, invitees, minutes
    from coord.meetings import service as meetings
    from coord.partners import service as partners
    from coord.pilot_sites import service as pilot_sites
    from coord.scheduling import service as cycle
    from coord.territory.tables import Department

    department = await Department.select(Department.id, Department.timezone).where(Department.code == code).first()
    seeded = Seeded(code, department["id"])
    for role in ("prefecture", "coordinator", "observer"):
        seeded.accounts[role] = await _account(seeded, role)
    principal = await load_principal(seeded.accounts["prefecture"].user_id)
    assert principal is not None
    scope = Scope(principal)
    mark = seeded.mark

    # A colleague invited by the referent, not yet arrived.
    invited = seeded.address("invitee")
    invitation = await accounts_admin.invite(
        scope,
        {"email": invited, "full_name": mark("invitee-nom"), "role": "observer", "department": code},
        base_url="http://testserver.local",
    )
    seeded.groups["invitation"] = [{"invitation_id": invitation["id"], "id": invitation["id"]}]
    token_ids = {
        row["user"]: row["id"]
        for row in await ApiToken.select(ApiToken.id, ApiToken.user).where(
            ApiToken.user.is_in([a.user_id for a in seeded.accounts.values()])
        )
    }
    # Ending a session is walked on an id no session has: the walk must not sign its own walker out.
    seeded.groups["account"] = [
        {"user_id": a.user_id, "token_id": token_ids[a.user_id], "session_id": 2_000_000_000}
        for a in seeded.accounts.values()
    ]
    today = now.date()

    # Partners: one organisation of each kind a convention needs, one contact in each.
    organisations: dict[str, dict[str, Any]] = {}
    contacts: dict[str, dict[str, Any]] = {}
    for kind in ("prefecture", "parquet", "police", "gendarmerie", "association"):
        organisations[kind] = await partners.create_organisation(
            scope,
            {
                "department": code,
                "name": mark(f"{kind}-nom"),
                "kind": kind,
                "acronym": mark(f"{kind}-sigle")[:40],
                "address": mark(f"{kind}-adresse"),
                "email": seeded.address(f"{kind}-accueil"),
                "notes": mark(f"{kind}-notes"),
            },
        )
        contacts[kind] = await partners.create_contact(
            scope,
            {
                "organisation": organisations[kind]["id"],
                "first_name": mark(f"{kind}-prenom"),
                "last_name": mark(f"{kind}-nom-contact"),
                "function": mark(f"{kind}-fonction"),
                "email": seeded.address(f"{kind}-contact"),
            },
        )
    seeded.groups["organisation"] = [{"organisation_id": o["id"]} for o in organisations.values()]

    # Committees and their members.
    plenary = await committees.create_committee(
        scope,
        {
            "department": code,
            "name": mark("cdpd-nom"),
            "kind": "cdpd_pleniere",
            "description": mark("cdpd-description"),
        },
    )
    commission = await committees.create_committee(
        scope,
        {
            "department": code,
            "name": mark("commission-nom"),
            "kind": "cdpd_commission_teh",
            "description": mark("commission-description"),
        },
    )
    members: dict[int, list[int]] = {plenary["id"]: [], commission["id"]: []}
    for committee, kind, role in (
        (plenary, "prefecture", "president"),
        (plenary, "parquet", "membre"),
        (plenary, "association", "membre"),
        (commission, "police", "president"),
        (commission, "gendarmerie", "membre"),
    ):
        member = await committees.add_member(scope, committee["id"], {"contact": contacts[kind]["id"], "role": role})
        members[committee["id"]].append(member["id"])
    seeded.groups["committee"] = [
        {"committee_id": c["id"], "member_id": members[c["id"]][0]} for c in (plenary, commission)
    ]

    pilot = await pilot_sites.create_pilot_site(
        scope,
        {
            "department": code,
            "plan": "2014-2016",
            "scheme": "protection_mineurs",
            "designated_on": "2015-01-15",
            "notes": mark("site-pilote-notes"),
        },
    )
    seeded.groups["pilot_site"] = [{"pilot_site_id": pilot["id"]}]

    # Meetings: one held (agenda, attendance, decisions, published minutes), one convened (answers,
    # a delegation, a reminder), one convened then cancelled, one draft.
    async def meeting(name: str, committee: dict[str, Any], start: dt.datetime) -> dict[str, Any]:
        created = await meetings.create_meeting(
            scope,
            {
                "committee": committee["id"],
                "title": mark(f"{name}-titre"),
                "kind": "annuelle_teh",
                "place": mark(f"{name}-lieu"),
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=2),
                "confirm_day": True,
            },
        )
        item = await agenda.add_item(
            scope,
            created["id"],
            {
                "title": mark(f"{name}-point"),
                "presenter": mark(f"{name}-intervenant"),
                "notes": mark(f"{name}-point-notes"),
                "duration_minutes": 30,
            },
        )
        created["agenda_item_id"] = item["id"]
        return created

    hour = now.replace(minute=0, second=0, microsecond=0)
    held = await meeting("reunion-tenue", plenary, hour - dt.timedelta(days=3))
    await meetings.convene(scope, held["id"], {}, clock=FrozenClock(hour - dt.timedelta(days=13)))
    await meetings.mark_held(scope, held["id"], {})
    decisions = [await minutes.add_decision(scope, held["id"], {"text": mark(f"decision-{n}")}) for n in (1, 2)]
    held_invitations = await invitees.list_invitations(scope, held["id"])
    await attendance.record_attendance(
        scope,
        held["id"],
        {held_invitations[0]["id"]: {"attendance": "present"}, held_invitations[1]["id"]: {"attendance": "excused"}},
    )
    version = (await meetings.get_meeting(scope, held["id"]))["version"]
    await minutes.update_minutes(scope, held["id"], {"version": version, "minutes": mark("compte-rendu")})
    await minutes.publish(scope, held["id"], {})

    convened = await meeting("reunion-convoquee", plenary, hour + dt.timedelta(days=20))
    # Annexes of the convocation (named with the marker), so their links go out with it.
    from coord.documents.demo_seed import simple_pdf, store_generated

    annexes = [
        await store_generated(
            scope,
            "meeting",
            row["id"],
            seeded.department_id,
            "annexe_convocation",
            f"{mark(f'annexe-{n}')}.pdf",
            simple_pdf(mark(f"annexe-{n}-titre"), [mark(f"annexe-{n}-texte")]),
        )
        for n, row in (("tenue", held), ("convoquee", convened))
    ]
    await meetings.convene(scope, convened["id"], {})
    by_contact = {i["contact"]: i for i in await invitees.list_invitations(scope, convened["id"])}
    await answers.record_answer(
        by_contact[contacts["parquet"]["id"]]["id"], "ACCEPTED", source="link", comment=mark("reponse-commentaire")
    )
    await answers.record_answer(
        by_contact[contacts["association"]["id"]]["id"],
        "DELEGATED",
        source="link",
        delegate_email=seeded.address("delegue"),
        delegate_name=f"{mark('delegue-prenom')} {mark('delegue-nom')}",
    )
    await meetings.remind(scope, convened["id"])
    # A mail a partner sent about the meeting, as the calendar listener files it (coord.meetings.inbox).
    from coord.access import system_principal
    from coord.meetings import inbox

    await inbox.receive(
        {"id": convened["id"], "department": seeded.department_id},
        inbox.Received(
            kind="message",
            sender=seeded.address("expediteur"),
            subject=mark("courrier-objet"),
            body=mark("courrier-texte"),
        ),
        actor=system_principal("réception iMIP (canari)", seeded.department_id),
    )

    cancelled = await meeting("reunion-annulee", commission, hour + dt.timedelta(days=30))
    await meetings.convene(scope, cancelled["id"], {})
    await meetings.cancel(scope, cancelled["id"], {})
    draft = await meeting("reunion-brouillon", commission, hour + dt.timedelta(days=40))
    # A date poll on the draft: two slots, a key member, a partner's answer with a comment.
    from coord.polls import service as polls
    from coord.polls.tables import PollParticipant

    form: dict[str, Any] = {
        "deadline_date": (today + dt.timedelta(days=10)).isoformat(),
        "deadline_time": "18:00",
        "reminder_days": "2",
        "confirm_days": "on",
        "message": mark("sondage-message"),
    }
    for n, days in enumerate((44, 45)):
        form |= {f"slot_date_{n}": (today + dt.timedelta(days=days)).isoformat(), f"slot_time_{n}": "10:00"}
        form[f"slot_duration_{n}"] = "120"
    poll = await polls.create_poll(scope, draft["id"], form, now=now)
    person = await PollParticipant.select().where(PollParticipant.poll == poll["id"]).first()
    view = await polls.answer_view(person)
    await polls.answer(
        person,
        {f"slot_{slot['id']}": "yes" for slot in view["slots"]} | {"comment": mark("sondage-commentaire")},
        now=now,
    )

    seeded.groups["meeting"] = []
    for row in (held, convened, cancelled, draft):
        invitations = await invitees.list_invitations(scope, row["id"])
        seeded.groups["meeting"].append(
            {
                "meeting_id": row["id"],
                "item_id": row["agenda_item_id"],
                "invitation_id": invitations[0]["id"] if invitations else 0,
                "decision_id": decisions[0]["id"],
                "document_id": annexes[0 if row is held else 1]["id"],
                "poll_id": poll["id"],
            }
        )
    seeded.ids.update(held=held["id"], convened=convened["id"], plenary=plenary["id"], commission=commission["id"])

    # Action items: from the held meeting's decisions, and one standalone with tags, comments, a status.
    due = (today + dt.timedelta(days=7)).isoformat()
    from_decisions = await actions.create_from_decisions(
        scope,
        held["id"],
        {"decisions": [d["id"] for d in decisions], "owner_contact": contacts["parquet"]["id"], "due_on": due},
    )
    standalone = await actions.create_item(
        scope,
        {
            "department": code,
            "title": mark("action-titre"),
            "description": mark("action-description"),
            "committee": commission["id"],
            "owner_contact": contacts["police"]["id"],
            "due_on": (today + dt.timedelta(days=10)).isoformat(),
            "priority": "haute",
            "tags": [mark("etiquette").lower()],
        },
    )
    await actions.comment(scope, standalone["id"], {"comment": mark("action-commentaire")})
    await actions.transition(scope, standalone["id"], {"status": "en_cours", "comment": mark("action-transition")})
    action_link = await action_links.issue_link(scope, standalone["id"])
    seeded.holders[action_link["url"].rsplit("/", 1)[1]] = f"action link of item #{standalone['id']}"
    seeded.groups["action"] = [{"action_id": standalone["id"]}, *({"action_id": i["id"]} for i in from_decisions)]
    seeded.links["action"] = [action_link["url"].rsplit("/r/action/", 1)[1]]
    seeded.ids.update(action=standalone["id"], police=contacts["police"]["id"])

    # Conventions: one being signed (a request sent), one in force then amended (a new request sent),
    # one terminated while being signed.
    protection = await conventions.create_convention(
        scope,
        {
            "department": code,
            "model": "protection-mineurs",
            "title": mark("convention-titre"),
            "notes": mark("convention-notes"),
            "pilot_site": pilot["id"],
        },
    )
    procureur = await conventions.add_signatory(
        scope,
        protection["id"],
        {
            "organisation": organisations["parquet"]["id"],
            "contact": contacts["parquet"]["id"],
            "role": "procureur",
            "signer_name": mark("signataire-nom"),
            "signer_title": mark("signataire-qualite"),
            "document_ref": mark("signataire-reference"),
        },
    )
    await conventions.send_request(scope, protection["id"], procureur["id"])

    partnership = await conventions.create_convention(
        scope, {"department": code, "model": "clav-partenariat", "title": mark("convention-clav-titre")}
    )
    signatories = []
    for kind, role in (
        ("prefecture", "prefet"),
        ("parquet", "procureur"),
        ("police", "police"),
        ("gendarmerie", "gendarmerie"),
        ("association", "association"),
    ):
        signatory = await conventions.add_signatory(
            scope,
            partnership["id"],
            {
                "organisation": organisations[kind]["id"],
                "contact": contacts[kind]["id"],
                "role": role,
                "signer_name": mark(f"clav-{role}-signataire"),
            },
        )
        signatories.append(signatory)
    for signatory in signatories:
        await conventions.sign(scope, partnership["id"], signatory["id"], {"signed_on": today.isoformat()})
    await conventions.amend(scope, partnership["id"], {"subject": mark("avenant-objet")})
    renewed = await conventions.list_signatories(scope, partnership["id"])
    pending = [s for s in renewed if s["status"] == "to_send"]
    await conventions.send_request(scope, partnership["id"], pending[0]["id"])

    ended = await conventions.create_convention(
        scope, {"department": code, "model": "clav-partenariat", "title": mark("convention-resiliee-titre")}
    )
    ended_signatory = await conventions.add_signatory(
        scope,
        ended["id"],
        {
            "organisation": organisations["association"]["id"],
            "contact": contacts["association"]["id"],
            "role": "association",
        },
    )
    await conventions.send_request(scope, ended["id"], ended_signatory["id"])
    await conventions.terminate(
        scope, ended["id"], {"terminated_on": today.isoformat(), "reason": mark("resiliation-motif")}
    )
    seeded.groups["convention"] = [
        {"convention_id": protection["id"], "signatory_id": procureur["id"]},
        {"convention_id": partnership["id"], "signatory_id": pending[0]["id"]},
        {"convention_id": ended["id"], "signatory_id": ended_signatory["id"]},
    ]

    # Calendar feeds of every kind: the département, each committee, each contact.
    feed_links: dict[str, list[Any]] = {"department": [], "committee": [], "contact": []}
    feed_links["department"].append(await feeds.create_feed_link(scope, "department", department["id"]))
    for committee in (plenary, commission):
        feed_links["committee"].append(await feeds.create_feed_link(scope, "committee", committee["id"]))
    for contact in contacts.values():
        feed_links["contact"].append(await feeds.create_feed_link(scope, "contact", contact["id"]))
        seeded.contact_feeds[contact["id"]] = feed_links["contact"][-1].url.rsplit("/", 1)[1].removesuffix(".ics")
    for kind, created in feed_links.items():
        seeded.links[f"feed_{kind}"] = []
        for link in created:
            token = link.url.rsplit("/r/calendrier/", 1)[1].removesuffix(".ics")
            seeded.links[f"feed_{kind}"].append(token)
            seeded.holders[token] = f"feed of {kind} #{link.target_id}"
    seeded.groups["feed"] = [{"feed_id": link.id} for created in feed_links.values() for link in created]

    # Contacts last: the delegate was added by the answer above.
    from coord.partners.tables import Contact

    every_contact = await Contact.select(Contact.id).where(Contact.department == department["id"])
    seeded.groups["contact"] = [{"contact_id": c["id"]} for c in sorted(every_contact, key=lambda c: c["id"])]

    await cycle.mark_unavailable(scope, code, {"date": f"{now.year}-10-19", "reason": mark("indisponible")}, now)

    # A quarterly series of the plenary (its draft meetings, one occurrence per quarter ahead).
    from coord.series import service as series

    quarterly = await series.create_series(
        scope,
        await Department.select().where(Department.id == department["id"]).first(),
        plenary["id"],
        {
            "title": mark("serie-titre"),
            "place": mark("serie-lieu"),
            "freq": "quarterly",
            "mode": "weekday",
            "nth": "2",
            "weekday": "1",
            "start_date": (today + dt.timedelta(days=60)).isoformat(),
            "start_time": "14:00",
            "duration_minutes": "120",
        },
        now,
    )
    seeded.groups["series"] = [{"series_id": quarterly["id"]}]
    return seeded


async def outbox_rows() -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return await OutboxMessage.select().order_by(OutboxMessage.id)


async def _from_outbox(world: dict[str, Seeded]) -> None:
    """The tokens partners received by mail (answers, action updates, signatures), and the numbers
    the demo mailbox gives each département's mails (it receives the outbox in id order)."""
    by_id = {seeded.department_id: seeded for seeded in world.values()}
    for number, row in enumerate(await outbox_rows(), start=1):
        seeded = by_id.get(row["department"])
        if seeded is None:
            continue
        mails = seeded.groups.setdefault("mail", [])
        if not mails or (row["calendar"] and len(mails) == 1):  # the first mail, the first invitation
            mails.append({"number": number})
        for kind, token in LINK_RE.findall(row["body_text"] or ""):
            tokens = seeded.links.setdefault(kind, [])
            if token not in tokens:
                tokens.append(token)
                seeded.holders[token] = f"{kind} link mailed to {row['to_email']}"


async def seed_world(now: dt.datetime | None = None) -> dict[str, Seeded]:
    """Both départements, then the scheduler's work (digests, reminders, the cycle's proposals)."""
    from coord.app.jobs import run_tick

    now = now or dt.datetime.now(dt.UTC)
    world = {code: await seed_department(code, now) for code in DEPARTMENTS}
    await run_tick(now)  # the owners' weekly digests (action links), conventions' reminders
    # Next June: each département's prefecture is proposed a date for the yearly meeting.
    await run_tick(dt.datetime(now.year + 1, 6, 15, 8, 0, tzinfo=dt.UTC))
    await _from_outbox(world)
    await _notifications(world)
    await _cycle_read(now)
    for seeded in world.values():
        missing = [kind for kind in LINK_KINDS if not seeded.links.get(kind)]
        assert not missing, f"the seed of the {seeded.code} made no partner link of kind {missing}"
    await _assert_every_table_seeded(world)
    return world


async def _cycle_read(now: dt.datetime) -> None:
    """The national table of the cycle stores the slots it derives (a yearly meeting's title, with its
    marker): read it for this year and the next, as the national coordination would, so its stored
    rows exist for both départements before the walk reads them (coord.scheduling.readmodel)."""
    from coord.access import system_scope
    from coord.scheduling.service import national_cycle

    for year in (now.year, now.year + 1):
        await national_cycle(system_scope(), year, now)


async def _notifications(world: dict[str, Seeded]) -> None:
    """The agents' notifications the ticks derived from the partners' answers, one route variant each."""
    from coord.notifications.tables import Notification

    for seeded in world.values():
        rows = await Notification.select(Notification.id).where(Notification.department == seeded.department_id)
        assert rows, f"the partners' answers of the {seeded.code} notified no agent"
        seeded.groups["notification"] = [{"notification_id": row["id"]} for row in rows[:2]]


async def _assert_every_table_seeded(world: dict[str, Seeded]) -> None:
    """Each table a département owns holds rows of both: a new table fails here until seeded."""
    from coord.access import is_department_owned
    from coord.core.db import all_tables

    empty = []
    for table in all_tables():
        if not is_department_owned(table):
            continue
        for seeded in world.values():
            if not await table.exists().where(table.department == seeded.department_id):
                empty.append(f"{table._meta.tablename} ({seeded.code})")
    assert not empty, f"département-owned tables the canary seed leaves empty (seed them in {__name__}): {empty}"


async def fingerprint() -> tuple[int, int]:
    """Changes whenever the seeded data is wiped or changed (a truncation, a write that got through)."""
    from coord.audit.tables import AuditEntry
    from coord.partners.tables import Organisation

    last = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    organisations = await Organisation.count().where(Organisation.name.like("CANARI%"))
    return (last["id"] if last else 0, organisations)


# -- routes --------------------------------------------------------------------------------------


def app_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every route the application declares, less the skipped ones."""
    found = []
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        for method in sorted(set(getattr(route, "methods", ())) - {"HEAD", "OPTIONS"}):
            if (method, route.path) not in SKIPPED_ROUTES:
                found.append((method, route.path))
    return found


PARAMETER_RE = re.compile(r"\{(\w+)(?::\w+)?\}")


def token_purpose(template: str) -> str:
    for prefix, purpose in TOKEN_ROUTES.items():
        if template.startswith(prefix):
            return purpose
    pytest.fail(f"route {template}: a {{token}} of an unknown kind; add it to TOKEN_ROUTES in {__name__}")


def fill(template: str, values: dict[str, Any], token: str = UNKNOWN_TOKEN) -> str:
    """The path with its parameters replaced; an unknown parameter fails, naming the route."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "token":
            return token + (".ics" if token_purpose(template) == "feed" else "")
        if name == "secret":  # invitation and reset links: one-time secrets only their mail holds
            return UNKNOWN_TOKEN
        if name not in values:
            pytest.fail(f"route {template}: unknown path parameter {name!r}; add it to the canary seed ({__name__})")
        return str(values[name])

    return PARAMETER_RE.sub(value, template)


def paths(template: str, seeded: Seeded) -> list[str]:
    """The distinct paths of a route over the seed's variants (one per meeting, convention, ...)."""
    found: list[str] = []
    for values in seeded.variants():
        path = fill(template, values)
        if path not in found:
            found.append(path)
    return found


def cross_references(victim: Seeded) -> dict[str, Any]:
    """Query parameters and bodies that name the victim's records (filters, form fields)."""
    base = victim.base()
    return {
        "department": victim.code,
        "organisation": base["organisation_id"],
        "owner_organisation": base["organisation_id"],
        "contact": base["contact_id"],
        "owner_contact": base["contact_id"],
        "committee": base["committee_id"],
        "meeting": base["meeting_id"],
        "convention": base["convention_id"],
        "pilot_site": base["pilot_site_id"],
        "target_id": base["committee_id"],
        "entity_id": base["meeting_id"],
        "tag": f"canari{victim.code}-etiquette",
        "q": f"CANARI{victim.code}",
    }


# -- what a response says ------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return text + "\n" + re.sub(r"\s+", "", text)  # a marker wrapped at the end of a line, glued back


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    cells = [
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    workbook.close()
    return "\n".join(cells)


def unfold(ics: str) -> str:
    """iCalendar folds lines at 75 octets, possibly inside a marker (RFC 5545 §3.1)."""
    return re.sub(r"\r?\n[ \t]", "", ics)


def response_text(response: Any) -> str:
    content = response.content
    kind = response.headers.get("content-type", "")
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    if content.startswith(b"%PDF"):
        body = pdf_text(content)
    elif content.startswith(b"PK"):
        body = xlsx_text(content)
    else:
        # Search results mark the words found (« <mark>CANARI974</mark>-nom »): unmarked, a marker
        # is whole again.
        body = content.decode("utf-8", "replace").replace("<mark>", "").replace("</mark>", "")
        if "calendar" in kind or body.startswith("BEGIN:VCALENDAR"):
            body = unfold(body)
    return headers + "\n" + body


def markers_in(text: str, code: str) -> list[str]:
    """The markers of département `code` found in `text` (lower case, each once)."""
    prefix = marker_prefix(code)
    found = []
    for match in MARKER_RE.finditer(text):
        value = match.group(0).lower()
        if value.startswith(prefix) and value not in found:
            found.append(value)
    return found


def mail_text(row: dict[str, Any]) -> str:
    parts = [row.get(name) or "" for name in ("to_name", "subject", "body_text", "body_html")]
    return "\n".join([*parts, unfold(row.get("calendar") or "")])


@dataclass
class Finding:
    principal: str
    method: str
    route: str  # the route's path template (or what was read, for mails)
    path: str  # what was requested
    status: int
    what: str  # the markers leaked, or what went wrong

    def __str__(self) -> str:
        shown = self.route if self.path in ("", self.route) else f"{self.route} as {self.path}"
        return f"{self.principal}: {self.method} {shown} ({self.status}) -> {self.what}"


def report(findings: list[Finding], title: str, limit: int = 40) -> str:
    lines = [f"{title}: {len(findings)} finding(s)"]
    lines += [f"  - {finding}" for finding in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more")
    return "\n".join(lines)
