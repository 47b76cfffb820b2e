"""Every account lists its API tokens (name, created, last used, expiry), creates one (shown once,
90 days by default) and revokes it: a revoked token gets 401 at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.conftest import ApiClient, run


def _days_from_now(value: str) -> float:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment - dt.datetime.now(dt.UTC)).total_seconds() / 86400


def _audit(entity: str) -> list[dict[str, Any]]:
    from coord.audit.tables import AuditEntry

    return run(
        AuditEntry.select(
            AuditEntry.action, AuditEntry.entity_id, AuditEntry.ip, AuditEntry.department.code.as_alias("department")
        )
        .where(AuditEntry.entity == entity)
        .order_by(AuditEntry.id)
    )


def test_my_token_list_shows_name_creation_last_use_and_expiry(client, make_user):
    user = make_user("observer", "34")
    mine = ApiClient(client, user.token)
    created = mine.post("/api/me/tokens", json={"name": "Tableau de bord", "days": 30})
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["token"].startswith(token["prefix"]) and len(token["token"]) > 40
    assert 29.9 < _days_from_now(token["expires_at"]) <= 30
    assert ApiClient(client, token["token"]).get("/api/organisations").status_code == 200
    listed = {t["name"]: t for t in mine.get("/api/me/tokens").json()["items"]}
    assert set(listed) == {"tests", "Tableau de bord"}
    new = listed["Tableau de bord"]
    assert new["created_at"] and new["last_used_at"] is not None and new["status"] == "active"
    assert new["prefix"] == token["prefix"] and "token" not in new  # never the secret again
    assert listed["tests"]["last_used_at"] is not None  # this very listing used it


def test_a_token_gets_90_days_unless_told_otherwise(client, make_user):
    from coord.accounts.service import create_token, principal_for_token

    user = make_user("prefecture", "34")
    created = ApiClient(client, user.token).post("/api/me/tokens", json={"name": "Script"}).json()
    assert 89.9 < _days_from_now(created["expires_at"]) <= 90
    # The command line's tokens too (`coord token create`), the fixture's included.
    listed = ApiClient(client, user.token).get("/api/me/tokens").json()["items"]
    assert all(89.9 < _days_from_now(t["expires_at"]) <= 90 for t in listed)
    assert run(principal_for_token(run(create_token(user.email, "cli", days=7)))).email == user.email


def test_a_token_created_on_my_account_page_is_shown_once_and_works(client, web, make_user):
    user = make_user("coordinator", "34")
    web.login(user.email)
    page = web.get("/compte")
    assert page.status_code == 200 and "Mes jetons d'API" in page.text and "tests" in page.text
    response = web.post("/compte/jetons", {"name": "Suivi des actions", "days": "10"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    token = re.search(r'value="(coord_[A-Za-z0-9_-]+)"', response.text).group(1)
    assert "il ne sera plus jamais affiché" in response.text
    assert token not in web.get("/compte").text
    assert ApiClient(client, token).get("/api/organisations").status_code == 200
    listed = {t["name"]: t for t in ApiClient(client, token).get("/api/me/tokens").json()["items"]}
    assert 9.9 < _days_from_now(listed["Suivi des actions"]["expires_at"]) <= 10


def test_a_token_needs_a_name_and_a_bounded_validity(client, web, make_user):
    user = make_user("observer", "34")
    mine = ApiClient(client, user.token)
    nameless = mine.post("/api/me/tokens", json={"name": " "})
    assert nameless.status_code == 422 and nameless.json()["errors"]["name"] == "Ce champ est obligatoire."
    for days in (0, 367, -5):
        refused = mine.post("/api/me/tokens", json={"name": "x", "days": days})
        assert refused.status_code == 422 and "La valeur doit être" in refused.json()["errors"]["days"]
    web.login(user.email)
    form = web.post("/compte/jetons", {"name": "", "days": "abc"})
    assert form.status_code == 422 and "Ce champ est obligatoire" in form.text and "nombre entier" in form.text
    assert [t["name"] for t in mine.get("/api/me/tokens").json()["items"]] == ["tests"]


def test_a_revoked_token_gets_401_at_once(client, web, make_user):
    user = make_user("prefecture", "34")
    mine = ApiClient(client, user.token)
    spare = mine.post("/api/me/tokens", json={"name": "À révoquer"}).json()
    assert mine.delete(f"/api/me/tokens/{spare['id']}").status_code == 204
    assert ApiClient(client, spare["token"]).get("/api/organisations").status_code == 401
    assert mine.delete(f"/api/me/tokens/{spare['id']}").status_code == 204  # twice: nothing more happens
    listed = {t["id"]: t for t in mine.get("/api/me/tokens").json()["items"]}
    assert listed[spare["id"]]["status"] == "revoked" and listed[spare["id"]]["revoked_at"]
    # From the page, after its confirmation; the token in use revokes itself too.
    web.login(user.email)
    own_id = next(t["id"] for t in listed.values() if t["name"] == "tests")
    page = web.get("/compte").text
    assert f'action="/compte/jetons/{own_id}/revoquer"' in page and "data-confirm" in page
    assert web.post(f"/compte/jetons/{own_id}/revoquer", follow_redirects=False).status_code == 303
    assert mine.get("/api/me/tokens").status_code == 401
    entries = _audit("api_token")
    revoked = [e for e in entries if e["action"] == "revoke"]
    assert [e["entity_id"] for e in revoked] == [spare["id"], own_id]
    assert all(e["department"] == "34" and e["ip"] for e in revoked)
    assert [e["entity_id"] for e in entries if e["action"] == "create"][-1] == spare["id"]


def test_another_accounts_token_cannot_be_revoked(client, web, make_user):
    owner = make_user("prefecture", "34")
    other = make_user("prefecture", "34")
    owned = ApiClient(client, owner.token).post("/api/me/tokens", json={"name": "Le mien"}).json()
    intruder = ApiClient(client, other.token)
    refused = intruder.delete(f"/api/me/tokens/{owned['id']}")
    assert refused.status_code == 404 and "introuvable" in refused.json()["detail"]
    assert intruder.delete("/api/me/tokens/99999999999").status_code == 404
    web.login(other.email)
    assert web.post(f"/compte/jetons/{owned['id']}/revoquer").status_code == 404
    assert "Le mien" not in web.get("/compte").text
    assert ApiClient(client, owned["token"]).get("/api/organisations").status_code == 200
    assert [e for e in _audit("api_token") if e["action"] == "revoke"] == []


def test_the_national_coordinator_may_revoke_anyones_token(client, web, make_user):
    agent = make_user("observer", "30")
    national = make_user("national", None)
    agent_token = ApiClient(client, agent.token).post("/api/me/tokens", json={"name": "Export"}).json()
    assert ApiClient(client, national.token).delete(f"/api/me/tokens/{agent_token['id']}").status_code == 204
    assert ApiClient(client, agent_token["token"]).get("/api/organisations").status_code == 401
    [entry] = [e for e in _audit("api_token") if e["action"] == "revoke"]
    assert entry["department"] == "30"  # in the journal of the token's département
    # And from the account's page, which lists the account's tokens.
    from coord.accounts.tables import User

    agent_id = run(User.select(User.id).where(User.email == agent.email).first())["id"]
    web.login(national.email)
    page = web.get(f"/comptes/{agent_id}").text
    assert "Export" in page and "tests" in page
    fixture_token = next(
        t["id"] for t in ApiClient(client, agent.token).get("/api/me/tokens").json()["items"] if t["name"] == "tests"
    )
    assert web.post(f"/comptes/{agent_id}/jetons/{fixture_token}/revoquer", follow_redirects=False).status_code == 303
    assert ApiClient(client, agent.token).get("/api/organisations").status_code == 401
