"""Every role walks every route: nobody reads another département's data, nobody changes what their
role does not allow, and someone without an account reaches nothing but the partners' links.

Like the other isolation test, the routes are enumerated from the application, so a new route is
covered the day it is added.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run
from tests.isolation.test_department_isolation import MARK, _fill, _routes, _seed_herault

REFUSED = (400, 401, 403, 404, 405, 422)
# Routes a local coordinator may write to: the action items they follow.
COORDINATOR_WRITES = "/actions"
PUBLIC_PREFIXES = ("/r/", "/accessibilite", "/mentions-legales", "/donnees-personnelles", "/plan-du-site")
# Pages for people who are not signed in yet: ProConnect's sign-in, invitation and reset links.
SIGN_IN_PREFIXES = ("/connexion/", "/invitation/", "/mot-de-passe")


def _audit_entities() -> list[tuple[str, str]]:
    from coord.audit.tables import AuditEntry

    rows = run(AuditEntry.select(AuditEntry.entity, AuditEntry.action).order_by(AuditEntry.id))
    return [(row["entity"], row["action"]) for row in rows]


def _walk(app: Any, client: Any, web: Any, token: str | None, ids: dict[str, Any], *, writes_only: bool = False):
    """Request every route as one user; yield (method, path, response)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for method, template in _routes(app):
        if writes_only and method == "GET":
            continue
        path = _fill(template, ids)
        if path.startswith("/api/"):
            body = {"name": "x", "role": "membre", "title": "x"} if method in {"POST", "PATCH", "PUT"} else None
            response = client.request(method, path, headers=headers, params={"department": "34"}, json=body)
        elif method == "GET":
            response = web.get(path)
        else:
            response = web.post(path, {"name": "intrus", "kind": "autre", "title": "intrus"})
        yield method, template, path, response


@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_no_role_of_another_department_reads_or_changes_anything(app, client, web, make_user, api_as, role):
    ids = _seed_herault(api_as("prefecture", "34"))
    intruder = make_user(role, "93")
    web.login(intruder.email)
    before = _audit_entities()
    walked = 0
    for method, _template, path, response in _walk(app, client, web, intruder.token, ids):
        walked += 1
        assert response.status_code < 500, f"{role} {method} {path} answered {response.status_code}"
        assert MARK not in response.text, f"{role} of the 93: {method} {path} leaked data of the Hérault"
    assert walked > 20
    assert _audit_entities() == before, "a user of another département changed something"


def test_an_observer_changes_nothing_anywhere_in_their_department(app, client, web, make_user, api_as):
    ids = _seed_herault(api_as("prefecture", "34"))
    observer = make_user("observer", "34")
    web.login(observer.email)
    before = _audit_entities()
    for method, _template, path, response in _walk(app, client, web, observer.token, ids, writes_only=True):
        if path.startswith(PUBLIC_PREFIXES):
            continue  # partners' links: the token, not the role, decides (an unknown token here)
        assert response.status_code in REFUSED, f"observer {method} {path} answered {response.status_code}"
    assert _audit_entities() == before, "an observer changed something"


def test_a_local_coordinator_changes_only_action_items(app, client, web, make_user, api_as):
    ids = _seed_herault(api_as("prefecture", "34"))
    coordinator = make_user("coordinator", "34")
    web.login(coordinator.email)
    before = len(_audit_entities())
    for method, template, path, response in _walk(app, client, web, coordinator.token, ids, writes_only=True):
        if path.startswith(PUBLIC_PREFIXES) or COORDINATOR_WRITES in template:
            continue
        assert response.status_code in REFUSED, f"coordinator {method} {path} answered {response.status_code}"
    changed = {entity for entity, _action in _audit_entities()[before:]}
    assert all(entity.startswith("action") for entity in changed), f"a coordinator changed {changed}"


def test_without_an_account_only_partner_links_answer(app, client, api_as):
    ids = _seed_herault(api_as("prefecture", "34"))
    before = _audit_entities()
    anonymous = type(client)(app, base_url="http://testserver.local")
    with anonymous:
        for method, template in _routes(app):
            path = _fill(template, ids)
            if path.startswith(PUBLIC_PREFIXES):
                continue
            response = anonymous.request(method, path, follow_redirects=False)
            if path.startswith(SIGN_IN_PREFIXES):
                # Public by design; they must still show no data and refuse an unknown link.
                assert MARK not in response.text, f"anonymous {method} {path} leaked data"
                assert response.status_code < 500, f"anonymous {method} {path} answered {response.status_code}"
                continue
            assert MARK not in response.text, f"anonymous {method} {path} leaked data"
            if path.startswith("/api/"):
                assert response.status_code == 401, f"anonymous {method} {path} answered {response.status_code}"
            elif method == "GET" and response.status_code in (302, 303):
                assert "/connexion" in response.headers["location"], path
            else:
                assert response.status_code in (*REFUSED, 302, 303), f"anonymous {method} {path}"
    assert _audit_entities() == before
