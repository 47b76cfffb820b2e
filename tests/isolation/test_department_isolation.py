"""A prefecture agent of another département walks every route and finds nothing of this one.

The test enumerates the application's routes itself, so a new route is covered the day it is added:
a path parameter the test does not know makes it fail until the map below is completed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.conftest import run
from tests.support.meeting_extras import seed_meeting_extras

MARK = "SECRET34"


def _seed_herault(api: Any) -> dict[str, Any]:
    org = api.post("/api/organisations", json={"name": f"Parquet {MARK}", "kind": "parquet", "notes": MARK}).json()
    contact = api.post(
        "/api/contacts",
        json={"organisation": org["id"], "first_name": "Anne", "last_name": MARK, "email": "secret34@justice.fr"},
    ).json()
    committee = api.post(
        "/api/committees", json={"name": f"CDPD {MARK}", "kind": "cdpd_pleniere", "description": MARK}
    ).json()
    member = api.post(
        f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": "membre"}
    ).json()
    pilot = api.post(
        "/api/pilot-sites", json={"department": "34", "plan": "2014-2016", "scheme": "coordination", "notes": MARK}
    ).json()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": f"Réunion {MARK}",
            "kind": "annuelle_teh",
            "place": MARK,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # days counted from today may be a weekend
        },
    ).json()
    agenda_item = api.post(f"/api/meetings/{meeting['id']}/agenda", json={"title": f"Point {MARK}"}).json()
    decision = api.post(f"/api/meetings/{meeting['id']}/decisions", json={"text": f"Décision {MARK}"}).json()
    invitation = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"][0]
    convention = api.post(
        "/api/conventions", json={"model": "protection-mineurs", "title": f"Convention {MARK}", "notes": MARK}
    ).json()
    signatory = api.post(
        f"/api/conventions/{convention['id']}/signatories",
        json={"organisation": org["id"], "role": "procureur", "signer_name": MARK},
    ).json()
    feed = api.post("/api/feeds", json={"kind": "committee", "target_id": committee["id"]}).json()
    action = api.post(
        "/api/actions",
        json={"title": f"Action {MARK}", "description": MARK, "owner_contact": contact["id"], "meeting": meeting["id"]},
    ).json()
    assert "id" in action, action
    unavailable = api.post("/api/departments/34/cycle/unavailable-dates", json={"date": "2026-10-19", "reason": MARK})
    assert unavailable.status_code == 201, unavailable.text
    for record in (org, contact, committee, member, pilot, meeting, agenda_item, decision, invitation, feed):
        assert "id" in record, record
    assert "id" in convention and "id" in signatory, (convention, signatory)
    from coord.accounts.tables import ApiToken, User

    agent = run(User.select(User.id).where(User.role == "prefecture").first())
    token = run(ApiToken.select(ApiToken.id).where(ApiToken.user == agent["id"]).first())
    return {
        "user_id": agent["id"],
        "token_id": token["id"],
        "session_id": 2_000_000_000,  # no session has it: ending "it" must not sign the walker out
        "secret": "inconnu",  # invitation and reset links: one-time secrets only their mail holds
        "feed_id": feed["id"],
        "action_id": action["id"],
        "number": 1,
        "token": "jeton-inconnu",
        "meeting_id": meeting["id"],
        "item_id": agenda_item["id"],
        "decision_id": decision["id"],
        "invitation_id": invitation["id"],
        "code": "34",
        "organisation_id": org["id"],
        "contact_id": contact["id"],
        "committee_id": committee["id"],
        "member_id": member["id"],
        "pilot_site_id": pilot["id"],
        "convention_id": convention["id"],
        "signatory_id": signatory["id"],
        "notification_id": 1,  # notifications are the agent's own: another's answers 404 like a missing one
        **run(seed_meeting_extras("34", meeting["id"], committee["id"], MARK)),
    }


def _own_account(method: str, path: str) -> bool:
    """Changes anyone signed in makes to their own account (their password, sessions, API tokens):
    the walks' "every write is refused" does not hold there, and they touch no département's data."""
    own = path == "/compte" or path.startswith(("/compte/", "/api/me/"))
    return own and method != "GET"


def _routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        path = route.path
        if path.startswith(("/static", "/schema")) or path in {"/connexion", "/deconnexion", "/health", "/ready"}:
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            if not _own_account(method, path):
                found.append((method, path))
    return found


def _fill(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"route {path}: unknown path parameter {name!r}; add it to the isolation test's seed")
        return str(ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def test_an_agent_of_another_department_sees_nothing_on_any_route(app, client, web, make_user, api_as):
    ids = _seed_herault(api_as("prefecture", "34"))
    intruder = make_user("prefecture", "93")
    api_headers = {"Authorization": f"Bearer {intruder.token}"}
    web.login(intruder.email)
    checked = 0
    for method, template in _routes(app):
        path = _fill(template, ids)
        if path.startswith("/api/"):
            params = {"department": "34"}
            response = client.request(
                method,
                path,
                headers=api_headers,
                params=params,
                json={"name": "x", "role": "membre"} if method in {"POST", "PATCH", "PUT"} else None,
            )
        elif method == "GET":
            response = web.get(path)
        else:
            response = web.post(path, {"name": "intrus", "kind": "autre"})
        checked += 1
        assert MARK not in response.text, f"{method} {path} leaked data of the Hérault ({response.status_code})"
        if method != "GET" or path.startswith("/d/34") or re.search(r"/\d+", path):
            assert response.status_code in (400, 403, 404, 405, 422), f"{method} {path} answered {response.status_code}"
    assert checked > 20
    # Nothing was changed by the attempts.
    national = api_as("national", None)
    assert national.get(f"/api/organisations/{ids['organisation_id']}").json()["name"] == f"Parquet {MARK}"
    assert national.get(f"/api/committees/{ids['committee_id']}").json()["name"] == f"CDPD {MARK}"
    assert national.get("/api/contacts", params={"department": "34"}).json()["total"] == 1


def test_lists_filtered_on_another_department_are_refused(api_as):
    _seed_herault(api_as("prefecture", "34"))
    other = api_as("prefecture", "93")
    for path in ("/api/organisations", "/api/contacts", "/api/committees", "/api/pilot-sites", "/api/audit"):
        assert other.get(path, params={"department": "34"}).status_code == 404, path
        body = other.get(path).text
        assert MARK not in body, path


def test_a_national_coordinator_sees_every_department(api_as):
    _seed_herault(api_as("prefecture", "34"))
    api_as("prefecture", "93").post("/api/organisations", json={"name": "Parquet de Bobigny", "kind": "parquet"})
    national = api_as("national", None)
    assert national.get("/api/organisations").json()["total"] == 2
    assert len(national.get("/api/departments").json()) == 101


def test_every_department_owned_table_goes_through_the_scope():
    """The isolation rule relies on a `department` column: every table that holds département data has one."""
    from coord.access import is_department_owned
    from coord.core.db import all_tables

    national_tables = {
        "department",
        "plan",
        "measure",
        "institution_kind",
        "coord_user",
        "api_token",
        "login_attempt",
        "user_session",
        "password_reset",
        "audit_entry",
        "outbox_message",
        "partner_link",
        "notification_preference",  # an account's own setting, not département data
        "notification_cursor",  # where the notification feed stands in the audit log (one row)
        "document_blob",  # content-addressed bytes, reached only through a département's document row
        "action_measure_tally",  # national totals per measure, read only by a scope that sees every département
    }
    for table in all_tables():
        name = table._meta.tablename
        if name in national_tables:
            continue
        assert is_department_owned(table), f"table {name} has no department column: the Scope cannot isolate it"
