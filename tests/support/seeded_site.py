"""A served Coord with the Hérault seeded once, one account per role and real partner links: for the
browser tests that walk many pages (accessibility, keyboard journeys, screenshots).

The page walks need every kind of record to exist, which is what the isolation tests seed
(`_seed_herault`): reusing it means a page added with a new path parameter is walked as soon as the
isolation map knows it. The seed runs once per module (a module-scoped fixture): the usual `db` and
`make_user` fixtures are per test and would truncate and re-seed for each page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import PASSWORD, ApiClient, Database, run

HOME_DEPARTMENT = "34"
FULL_NAME = "Camille Martin"


@dataclass(frozen=True)
class Person:
    """One signed-in role of the walks; `key` names it in reports."""

    key: str
    role: str
    department: str | None
    manages_accounts: bool = False


PEOPLE = (
    Person("national", "national", None),
    Person("agent", "prefecture", HOME_DEPARTMENT),
    Person("gestionnaire", "prefecture", HOME_DEPARTMENT, manages_accounts=True),
    Person("coordinateur", "coordinator", HOME_DEPARTMENT),
    Person("observateur", "observer", HOME_DEPARTMENT),
)


@dataclass
class Site:
    url: str
    app: Any
    emails: dict[str, str]
    tokens: dict[str, str]
    ids: dict[str, Any]
    partner_paths: dict[str, str] = field(default_factory=dict)  # kind -> /r/... path
    routes: list[tuple[str, str]] = field(default_factory=list)

    def email(self, key: str) -> str:
        return self.emails[key]


def _create_account(person: Person) -> tuple[str, str]:
    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_token, create_user

    email = f"{person.key}@{person.department or 'national'}.test.gouv.fr"
    run(
        create_user(
            Scope(SYSTEM),
            {
                "email": email,
                "password": PASSWORD,
                "role": person.role,
                "department": person.department or "",
                "full_name": FULL_NAME,
                "manages_accounts": person.manages_accounts,
            },
        )
    )
    return email, run(create_token(email, "tests"))


def _future_working_day(days: int) -> dt.date:
    from coord.territory.working_days import is_working_day, next_working_day

    day = dt.date.today() + dt.timedelta(days=days)
    return day if is_working_day(day, HOME_DEPARTMENT) else next_working_day(day, HOME_DEPARTMENT)


def seed_convened_meeting(api: Any, ids: dict[str, Any]) -> dict[str, Any]:
    """A meeting of the seeded committee in three weeks, convened: its invitees hold answer links."""
    day = _future_working_day(21)
    start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": ids["committee_id"],
            "title": "Séance plénière du CDPD",
            "kind": "annuelle_teh",
            "place": "Préfecture de l'Hérault, salle des commissions",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        },
    ).json()
    assert "id" in meeting, meeting
    api.post(f"/api/meetings/{meeting['id']}/agenda", json={"title": "Bilan de l'année"})
    convened = api.post(f"/api/meetings/{meeting['id']}/convene")
    assert convened.status_code == 200, convened.text
    return meeting


def _partner_paths(api: Any, ids: dict[str, Any], meeting: dict[str, Any]) -> dict[str, str]:
    """The `/r/` links partners receive, issued the way Coord issues them."""
    from coord.conventions.service.records import LINK_PURPOSE as SIGNATURE
    from coord.links import service as links
    from coord.links.tables import PartnerLink
    from coord.territory.tables import Department

    department = run(Department.select(Department.id).where(Department.code == HOME_DEPARTMENT).first())
    invitation = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"][0]
    row = run(
        PartnerLink.select(PartnerLink.id)
        .where((PartnerLink.purpose == "invitation") & (PartnerLink.target_id == invitation["id"]))
        .first()
    )
    assert row, "the convocation issued no answer link"
    signature = run(
        links.issue(SIGNATURE, ids["signatory_id"], department_id=department["id"], contact_id=ids["contact_id"])
    )
    action = api.post(f"/api/actions/{ids['action_id']}/link").json()
    feed = api.get("/api/feeds", params={"department": HOME_DEPARTMENT}).json()[0]["url"]
    local = re.compile(r"^https?://[^/]+")
    return {
        "invitation": f"/r/invitation/{links.token_for(row['id'], 'invitation')}",
        "signature": f"/r/signature/{signature}",
        "action": local.sub("", action["url"]),
        "feed": local.sub("", feed),
    }


def _answer_as_partner(http: Any, invitation_path: str, ids: dict[str, Any], api: Any) -> None:
    """The invitee answers through their link, as from the mail: the agents get a notification, so
    the notification pages have one to show (its id fills `{notification_id}` unless the isolation
    seed already does)."""
    answered = http.post(invitation_path, data={"answer": "tentative", "comment": "Sous réserve."})
    assert answered.status_code == 200, answered.text
    listing = api.get("/api/notifications")
    items = listing.json().get("items", []) if listing.status_code == 200 else []
    if items:
        ids.setdefault("notification_id", items[0]["id"])


@contextmanager
def seeded_site(database: Database) -> Iterator[Site]:
    """Truncate once, serve the app on loopback, create the accounts and the Hérault's records."""
    import httpx

    from coord.app.factory import create_app
    from coord.core.db import use_engine
    from coord.core.settings import Settings
    from tests.isolation.test_department_isolation import _routes, _seed_herault
    from tests.support.live_server import free_port, live_server

    use_engine(database.engine)
    database.truncate()
    port = free_port()
    settings = Settings(
        database_url=database.url,
        database_pool=False,
        base_url=f"http://127.0.0.1:{port}",
        secret_key="test-secret-key-0123456789",
        scheduler_enabled=False,
        organiser_email="coord-test@prefecture.example.gouv.fr",
        smtp_port=1,
    )
    app = create_app(settings, engine=database.engine)
    with live_server(app, port=port) as url:
        emails, tokens = {}, {}
        for person in PEOPLE:
            emails[person.key], tokens[person.key] = _create_account(person)
        with httpx.Client(base_url=url, timeout=30) as http:
            api = ApiClient(http, tokens["agent"])
            ids = _seed_herault(api)
            meeting = seed_convened_meeting(api, ids)
            partner_paths = _partner_paths(api, ids, meeting)
            _answer_as_partner(http, partner_paths["invitation"], ids, api)
        ids["convened_meeting_id"] = meeting["id"]
        yield Site(url, app, emails, tokens, ids, partner_paths, _routes(app))


def sign_in(page: Any, url: str, email: str) -> None:
    """Through the sign-in form, as a person would; lands on the role's home page."""
    page.goto(f"{url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda u: "/connexion" not in u)


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Debian Chromium for a whole module (contexts are cheap, browsers are not)."""
    from playwright.sync_api import sync_playwright

    from tests.support.live_server import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
