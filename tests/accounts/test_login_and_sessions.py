"""Agents log in with a password; sessions, CSRF and throttling protect them."""

from __future__ import annotations

import datetime as dt

from tests.conftest import PASSWORD, run


def test_an_agent_logs_in_and_lands_on_their_department(web, make_user):
    user = make_user("prefecture", "34")
    response = web.login(user.email)
    assert response.headers["location"] == "/"
    home = web.get("/", follow_redirects=False)
    assert home.headers["location"] == "/d/34"
    page = web.get("/d/34")
    assert page.status_code == 200
    assert "Hérault" in page.text


def test_pages_require_a_login(web):
    response = web.get("/d/34/partenaires", follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/connexion?suivant=/d/34/partenaires")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(web, make_user):
    user = make_user("prefecture", "34")
    response = web.post("/connexion", {"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect" in response.text
    response = web.post("/connexion", {"email": "nobody@test.gouv.fr", "password": "wrong"})
    assert "Adresse électronique ou mot de passe incorrect" in response.text


def test_repeated_failures_make_the_next_attempt_wait_a_little(web, make_user):
    user = make_user("prefecture", "34")
    for _ in range(5):
        assert web.post("/connexion", {"email": user.email, "password": "nope"}).status_code == 401
    response = web.post("/connexion", {"email": user.email, "password": "nope again"})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_session_cookie_is_httponly_and_samesite(web, make_user):
    user = make_user("prefecture", "34")
    response = web.login(user.email)
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("coord_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie


def test_session_cookie_is_secure_on_https(db, settings):
    from dataclasses import replace

    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from tests.conftest import WebClient

    app = create_app(replace(settings, base_url="https://coord.example.gouv.fr"), engine=db.engine)
    with TestClient(app, base_url="https://testserver.local") as client:
        response = client.get("/connexion")
        assert "Secure" in response.headers["set-cookie"]
        web = WebClient(client)
        assert web.post("/connexion", {"email": "x@y.fr", "password": "z"}).status_code == 401


def test_forms_without_csrf_token_are_refused(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    response = web.http.post("/d/34/partenaires/nouvelle", data={"name": "X", "kind": "autre"})
    assert response.status_code == 403
    assert web.get("/api/organisations").status_code == 401  # the API never accepts the cookie


def test_login_never_redirects_to_another_site(web, make_user):
    user = make_user("prefecture", "34")
    response = web.post(
        "/connexion",
        {"email": user.email, "password": PASSWORD, "suivant": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    assert web.post("/deconnexion", follow_redirects=False).status_code == 303
    assert web.get("/d/34", follow_redirects=False).status_code in (302, 303, 307)


def test_passwords_are_stored_as_argon2_hashes(db, make_user):
    from coord.accounts.tables import User

    user = make_user("observer", "34")
    row = run(User.select(User.password_hash).where(User.email == user.email).first())
    assert row["password_hash"].startswith("$argon2id$")


def test_revoked_and_expired_tokens_stop_working(client, make_user):
    from coord.accounts.tables import ApiToken

    user = make_user("prefecture", "34")
    headers = {"Authorization": f"Bearer {user.token}"}
    assert client.get("/api/departments", headers=headers).status_code == 200
    run(
        ApiToken.update({ApiToken.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(ApiToken.id > 0)
    )
    assert client.get("/api/departments", headers=headers).status_code == 401
    run(
        ApiToken.update({ApiToken.expires_at: None, ApiToken.revoked_at: dt.datetime.now(dt.UTC)}).where(
            ApiToken.id > 0
        )
    )
    assert client.get("/api/departments", headers=headers).status_code == 401


def test_weak_passwords_and_missing_departments_are_refused(db):
    import pytest

    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_user
    from coord.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        run(create_user(Scope(SYSTEM), {"email": "a@b.fr", "password": "short", "role": "prefecture"}))
    assert set(exc.value.errors) == {"password", "department"}


def test_a_deactivated_account_loses_its_tokens_and_sessions(client, web, make_user):
    from coord.accounts.tables import User

    user = make_user("prefecture", "34")
    headers = {"Authorization": f"Bearer {user.token}"}
    web.login(user.email)
    assert client.get("/api/departments/34", headers=headers).json()["code"] == "34"
    run(User.update({User.active: False}).where(User.email == user.email))
    assert client.get("/api/departments", headers=headers).status_code == 401
    assert web.get("/d/34", follow_redirects=False).status_code in (302, 303, 401)


def test_token_use_is_recorded_without_a_write_on_every_request(client, make_user):
    from coord.accounts.tables import ApiToken

    user = make_user("prefecture", "34")
    headers = {"Authorization": f"Bearer {user.token}"}
    client.get("/api/departments", headers=headers)
    first = run(ApiToken.select(ApiToken.last_used_at).first())["last_used_at"]
    assert first is not None
    client.get("/api/departments", headers=headers)
    assert run(ApiToken.select(ApiToken.last_used_at).first())["last_used_at"] == first
    run(ApiToken.update({ApiToken.last_used_at: first - dt.timedelta(hours=1)}).where(ApiToken.id > 0))
    client.get("/api/departments", headers=headers)
    assert run(ApiToken.select(ApiToken.last_used_at).first())["last_used_at"] > first
