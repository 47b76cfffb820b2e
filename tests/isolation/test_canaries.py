"""Canary isolation test: two départements (the Hérault and La Réunion) hold data in every table they
own, each free-text and name field carrying a marker of its département (see `canaries.py`). Every
role of one département, and every kind of partner link it hands out, walks every route the
application declares, with the other département's ids and codes in the path parameters (and its own
ids, for the lists and filters): no response (page, JSON, CSV, XLSX, PDF, iCalendar), no mail to its
people, may carry a marker of the other département.

The routes come from the application itself, so a new route is walked the day it is added; a path
parameter the seed does not know fails the test, naming the route. The skipped routes are listed,
with their reason, in `canaries.py`. National coordinators see every département by design: they are
no attacker here.

The data is seeded once per engine and shared by the tests of this module (they only read; a write
that gets through is itself reported, and makes the next test seed again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Database, WebClient, run
from tests.isolation.canaries import (
    DEPARTMENTS,
    LINK_KINDS,
    MAINLAND,
    OVERSEAS,
    Finding,
    Seeded,
    app_routes,
    cross_references,
    fill,
    fingerprint,
    mail_text,
    markers_in,
    outbox_rows,
    paths,
    report,
    response_text,
    seed_world,
    token_purpose,
)

BASE_URL = "http://testserver.local"
ROLES = ("prefecture", "coordinator", "observer")  # every role bound to a département (not "national")
MIN_REQUESTS = {"prefecture": 500, "coordinator": 300, "observer": 300}  # each route with the seed's variants
EXPECTED_MAIL_KINDS = {
    "convocation",
    "cancellation",
    "reminder",
    "action_digest",
    "convention_signature",
    "cycle_proposal",
}


def other(code: str) -> str:
    return OVERSEAS if code == MAINLAND else MAINLAND


@dataclass
class Canary:
    app: Any
    world: dict[str, Seeded]
    database: Database
    routes: list[tuple[str, str]]


_WORLDS: dict[str, tuple[dict[str, Seeded], tuple[int, int]]] = {}  # engine -> seed, its fingerprint
_APPS: dict[str, tuple[Any, Any]] = {}  # engine -> app, settings


@pytest.fixture
def canary(database: Database) -> Canary:
    """The app on the seeded world of this engine, seeded again only if something wiped or changed it
    (another module's test truncating in between, or a write of a walk that got through)."""
    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from coord.core.db import use_engine
    from coord.core.settings import Settings, use_settings

    use_engine(database.engine)
    if database.name not in _APPS:
        settings = Settings(
            database_url=database.url,
            # A pool in the app's event loop: without it each query of a walk opens a PostgreSQL
            # connection, and the walks take minutes. Code of the tests that queries the database
            # meanwhile runs in that loop too (`client.blocking_portal`).
            database_pool=True,
            base_url=BASE_URL,
            secret_key="test-secret-key-0123456789",
            scheduler_enabled=False,
            organiser_email="coord-test@prefecture.example.gouv.fr",
            smtp_port=0,  # demo mode: the mailbox of /demo/courriels on a free port
        )
        _APPS[database.name] = (create_app(settings, engine=database.engine, demo=True), settings)
    app, settings = _APPS[database.name]
    use_settings(settings)  # another test's app may have made its own the current ones
    cached = _WORLDS.get(database.name)
    if cached is None or run(fingerprint()) != cached[1]:
        database.truncate()
        with TestClient(app, base_url=BASE_URL) as client:  # seeds in the app's loop, with its pool
            world = client.blocking_portal.call(seed_world)
            _WORLDS[database.name] = cached = (world, client.blocking_portal.call(fingerprint))
    return Canary(app, cached[0], database, app_routes(app))


def _fill_demo_mailbox(client: Any) -> None:
    """The app runs in demo mode, so that /demo/courriels is walked too: its loopback mailbox (new
    with each client) receives every mail of the outbox, in id order, as the dispatcher sends them."""
    import smtplib

    from coord.mail.dispatcher import outgoing_mail
    from coord.mail.message import build_message

    sink = client.app.state.mail_sink
    assert sink is not None, "the demo mailbox did not start"
    with smtplib.SMTP(sink.host, sink.port) as smtp:
        for row in client.blocking_portal.call(outbox_rows):
            smtp.send_message(build_message(outgoing_mail(row)))


@pytest.fixture
def http(canary: Canary) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(canary.app, base_url=BASE_URL) as client:
        _fill_demo_mailbox(client)
        yield client


class Walk:
    """One principal's requests: what leaked of the victim, what went wrong, and which of the
    principal's own département's markers it saw (proof that the walk reaches the data)."""

    def __init__(self, canary: Canary, principal: str, own: Seeded, victim: Seeded) -> None:
        self.principal = principal
        self.own = own
        self.victim = victim
        self.findings: list[Finding] = []
        self.seen: set[str] = set()
        self.templates: set[tuple[str, str]] = set()
        self.requests = 0
        self.stamp = _WORLDS[canary.database.name][1]

    def check(self, method: str, template: str, path: str, response: Any, sent: Any = None) -> None:
        """`sent`: what the request carried (a marker it names, echoed in a filter field, is no leak)."""
        self.requests += 1
        self.templates.add((method, template))
        if response.status_code >= 500:
            self.findings.append(Finding(self.principal, method, template, path, response.status_code, "server error"))
        text = response_text(response)
        self.seen.update(markers_in(text, self.own.code))
        echoed = set(markers_in(repr(sent), self.victim.code)) if sent else set()
        leaked = [m for m in markers_in(text, self.victim.code) if m not in echoed]
        if leaked:
            self.findings.append(
                Finding(self.principal, method, template, path, response.status_code, ", ".join(leaked))
            )

    def write(
        self, client: Any, method: str, template: str, path: str, sent: Any = None, shown: str = "", **request: Any
    ) -> None:
        """A write attempt: its answer, and the page it redirects to, leak nothing; one that is not
        refused (below 400) must have changed nothing either (the audit log records every change)."""
        response = _send(client, method, path, follow=False, **request)
        path = shown or path
        self.check(method, template, path, response, sent=sent)
        if response.status_code >= 400:
            return
        # In the app's own event loop: on PostgreSQL its connection pool lives there.
        now = client.blocking_portal.call(fingerprint)
        if now != self.stamp:
            self.findings.append(
                Finding(self.principal, method, template, path, response.status_code, "a write was accepted")
            )
            self.stamp = now
        location = response.headers.get("location")
        if response.is_redirect and location:
            self.check("GET", template, f"{path} -> {location}", client.get(location), sent=sent)

    def assert_clean(self, routes: list[tuple[str, str]]) -> None:
        assert not self.findings, report(
            self.findings,
            f"{self.principal} reached data of the {self.victim.code} (markers CANARI{self.victim.code}-*)",
        )
        missed = sorted(set(routes) - self.templates)
        assert not missed, f"{self.principal}: routes not requested: {missed}"


def _send(
    client: Any,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    follow: bool = True,
) -> Any:
    return client.request(method, path, headers=headers, params=params, json=json, data=data, follow_redirects=follow)


def _walk_user(canary: Canary, attacker: Seeded, victim: Seeded, role: str) -> Walk:
    """Every route as a user of `attacker`: GET on the victim's records (with the victim's code as
    `department` too), on their own records (lists that could mix in the victim's; the first variant
    also filtered on the victim's ids), and every write aimed at the victim's records."""
    from litestar.testing import TestClient

    account = attacker.accounts[role]
    walk = Walk(canary, f"{role} of the {attacker.code}", attacker, victim)
    cross = cross_references(victim)
    bearer = {"Authorization": f"Bearer {account.token}"}
    # The prefecture agent renders their own records in every variant (each meeting, convention...);
    # the other roles, whose pages differ only by what they may change, the first variant (cost).
    own_variants = None if role == "prefecture" else 1
    with TestClient(canary.app, base_url=BASE_URL) as client:
        _fill_demo_mailbox(client)
        web = WebClient(client)
        web.login(account.email)
        for method, template in canary.routes:
            is_api = template.startswith("/api/")
            headers = bearer if is_api else {}
            if template.startswith("/r/"):
                # Partners' links: the token is the credential; a user holds only their own département's.
                kind = token_purpose(template)
                tokens = attacker.links["feed_contact" if kind == "feed" else kind]
                path = fill(template, {}, token=tokens[0])
                if method == "GET":
                    walk.check(method, template, path, _send(client, method, path, headers={}))
                else:
                    walk.write(client, method, template, path, headers={}, data={})
                continue
            if method == "GET":
                for path in paths(template, victim):
                    response = _send(client, method, path, headers=headers, params={"department": victim.code})
                    walk.check(method, template, path, response)
                for number, path in enumerate(paths(template, attacker)[:own_variants]):
                    for params in ({}, cross) if number == 0 else ({},):
                        response = _send(client, method, path, headers=headers, params=params)
                        walk.check(method, template, path + ("?…" if params else ""), response, sent=params)
                continue
            # Writes aimed at the victim's records, or at one's own naming the victim's: all refused.
            for path in paths(template, victim):
                if is_api:
                    walk.write(
                        client,
                        method,
                        template,
                        path,
                        cross,
                        headers=headers,
                        params={"department": victim.code},
                        json=cross,
                    )
                else:
                    walk.write(
                        client, method, template, path, cross, headers={}, data={**cross, "_csrf_token": web.csrf()}
                    )
    return walk


def _walk_link(canary: Canary, attacker: Seeded, victim: Seeded, kind: str) -> Walk:
    """A partner without an account holding the links of one kind of the attacker's département: each
    on its route and on the other links' routes; every other route without an account."""
    from litestar.testing import TestClient

    tokens = attacker.links[kind]
    walk = Walk(canary, f"{kind} link of the {attacker.code}", attacker, victim)
    base = victim.base()
    with TestClient(canary.app, base_url=BASE_URL) as client:
        for method, template in canary.routes:
            if template.startswith("/r/"):
                # Every link of this kind (one per invitee, contact, ...), also on the other kinds' routes.
                for token in tokens:
                    path = fill(template, {}, token=token)
                    shown = f"{path} [{attacker.holders.get(token, 'link')}]"  # the message says whose
                    if method == "GET":
                        walk.check(method, template, shown, _send(client, method, path, headers={}))
                    else:
                        walk.write(client, method, template, path, shown=shown, headers={}, data={})
                continue
            path = fill(template, base)
            params = {"department": victim.code}
            if method == "GET":
                walk.check(method, template, path, _send(client, method, path, headers={}, params=params, follow=False))
            else:
                walk.write(client, method, template, path, headers={}, params=params, data={})
    return walk


def _mails_to(seeded: Seeded) -> list[dict[str, Any]]:
    """Every mail of the outbox for the département's people (its contacts and users)."""
    from coord.mail.tables import OutboxMessage

    rows = run(OutboxMessage.select().order_by(OutboxMessage.id))
    return [r for r in rows if r["department"] == seeded.department_id or r["to_email"] in seeded.emails]


# -- the self-checks: the canaries are there and the walks reach them -----------------------------


@pytest.mark.parametrize("code", DEPARTMENTS)
def test_the_own_prefecture_agent_sees_the_canaries(canary, http, code):
    """Without this the other tests could pass on an empty seed, or on responses the test cannot
    read (PDF, XLSX, folded iCalendar lines)."""
    seeded = canary.world[code]
    web = WebClient(http)
    web.login(seeded.accounts["prefecture"].email)
    held, police = seeded.ids["held"], seeded.ids["police"]
    expected = {
        f"/d/{code}/partenaires": "prefecture-nom",
        f"/d/{code}/reunions/{held}": "reunion-tenue-titre",
        f"/d/{code}/reunions/{held}/compte-rendu": "compte-rendu",
        f"/d/{code}/reunions/{held}/imprimer/convocation.pdf": "reunion-tenue-lieu",
        f"/d/{code}/actions": "action-titre",
        f"/d/{code}/actions/export.csv": "etiquette",
        f"/d/{code}/actions/export.xlsx": "action-titre",
        f"/d/{code}/conventions/{seeded.groups['convention'][0]['convention_id']}": "signataire-nom",
        "/journal": "resiliation-motif",
        "/demo/courriels": "reunion-tenue-titre",
        # The search finds the canaries by their marker (the walks search the other département's).
        f"/d/{code}/recherche?q=CANARI{code}": "action-titre",
    }
    for path, name in expected.items():
        response = web.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert f"canari{code}-{name}" in markers_in(response_text(response), code), f"{path} lacks its canary {name}"
    api = http.get(
        f"/api/actions?department={code}", headers={"Authorization": f"Bearer {seeded.accounts['prefecture'].token}"}
    )
    assert f"canari{code}-action-titre" in markers_in(api.text, code)
    # Partners' links and feeds show their own département's data.
    links = {
        "invitation": ("/r/invitation/{}", "reunion-"),
        "action": ("/r/action/{}", "action-titre"),
        "signature": ("/r/signature/{}", "convention"),
        "feed_department": ("/r/calendrier/{}.ics", "reunion-tenue-titre"),
        "feed_committee": ("/r/calendrier/{}.ics", "reunion-convoquee-titre"),
    }
    # (on the same client: the links ignore the session; a second client would start a second pool)
    for kind, (template, name) in links.items():
        response = http.get(template.format(seeded.links[kind][0]))
        assert response.status_code == 200, (kind, response.status_code)
        found = markers_in(response_text(response), code)
        assert any(f.startswith(f"canari{code}-{name}") for f in found), f"the {kind} link lacks {name}: {found}"
    # A contact's feed holds the action items that contact owns (the police contact owns one).
    body = response_text(http.get(f"/r/calendrier/{seeded.contact_feeds[police]}.ics"))
    assert f"canari{code}-action-titre" in markers_in(body, code), "the owner's feed lacks their action item"


# Markers the walk need not see: account fields, which no page lists to the département itself
# (national coordinators manage accounts), short of an audit entry on the journal's first page.
NOT_SHOWN_TO_THE_DEPARTMENT = {
    "coordinator",
    "coordinator-nom-complet",
    "observer",
    "observer-nom-complet",
    "prefecture-jeton",
    "coordinator-jeton",
    "observer-jeton",
}


def _assert_walk_saw_its_own_data(walk: Walk, seeded: Seeded) -> None:
    """Each seeded field was on some page, export, feed or mail the walk or the outbox showed its
    own département: a field the walk never renders could leak unnoticed."""
    seen = set(walk.seen)
    for row in _mails_to(seeded):
        seen.update(markers_in(mail_text(row), seeded.code))
    excused = {f"canari{seeded.code}-{name}" for name in NOT_SHOWN_TO_THE_DEPARTMENT}
    missing = sorted(seeded.markers - seen - excused)
    assert not missing, f"seeded markers that no route nor mail showed to the {seeded.code} itself: {missing}"


# -- the attacks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("attacker", DEPARTMENTS)
def test_no_role_of_the_other_department_sees_a_canary(canary, attacker, role):
    walk = _walk_user(canary, canary.world[attacker], canary.world[other(attacker)], role)
    walk.assert_clean(canary.routes)
    assert walk.requests >= MIN_REQUESTS[role], f"only {walk.requests} requests: the walk lost its variants"
    if role == "prefecture":
        _assert_walk_saw_its_own_data(walk, canary.world[attacker])


@pytest.mark.parametrize("kind", LINK_KINDS)
@pytest.mark.parametrize("attacker", DEPARTMENTS)
def test_no_partner_link_of_the_other_department_shows_a_canary(canary, attacker, kind):
    walk = _walk_link(canary, canary.world[attacker], canary.world[other(attacker)], kind)
    walk.assert_clean(canary.routes)
    assert walk.seen, f"the {kind} link showed nothing of its own département: the walk proves nothing"


@pytest.mark.parametrize("attacker", DEPARTMENTS)
def test_no_mail_to_the_other_department_carries_a_canary(canary, attacker):
    seeded, victim = canary.world[attacker], canary.world[other(attacker)]
    theirs = _mails_to(seeded)
    findings = [
        Finding(f"mail to {row['to_email']}", "MAIL", f"{row['kind']} #{row['id']}", "", 0, ", ".join(leaked))
        for row in theirs
        if (leaked := markers_in(mail_text(row), victim.code))
    ]
    assert not findings, report(findings, f"mails to the {attacker}'s people carry data of the {victim.code}")
    kinds = {row["kind"] for row in theirs}
    assert kinds >= EXPECTED_MAIL_KINDS, f"the seed's mails lack kinds {EXPECTED_MAIL_KINDS - kinds} ({sorted(kinds)})"
