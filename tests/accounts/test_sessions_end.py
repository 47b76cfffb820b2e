"""A session ends for every copy of its cookie: at logout, at deactivation, when all sessions are
ended; and the CSRF token of one session is refused in another."""

from __future__ import annotations

from coord.accounts import sessions
from coord.accounts.tables import User, UserSession
from tests.conftest import run


def _copy_of(web, new_web):
    """Another browser holding a copy of `web`'s session cookie (a stolen or leaked cookie)."""
    thief = new_web()
    thief.http.cookies.set("coord_session", web.http.cookies["coord_session"], domain="testserver.local")
    return thief


def _signed_out(client) -> bool:
    response = client.get("/d/34", follow_redirects=False)
    return response.status_code in (302, 303, 307) and response.headers["location"].startswith("/connexion")


def test_a_copied_cookie_stops_working_after_logout(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    thief = _copy_of(web, new_web)
    assert thief.get("/d/34").status_code == 200
    web.post("/deconnexion", follow_redirects=False)
    assert _signed_out(thief)
    assert _signed_out(web)
    assert thief.get("/connexion").status_code == 200  # the login page, not an error


def test_a_copied_cookie_stops_working_when_the_account_is_deactivated(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    thief = _copy_of(web, new_web)
    run(User.update({User.active: False}).where(User.email == user.email))
    assert _signed_out(thief)


def test_ending_all_sessions_of_an_account_signs_out_every_browser(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    other = new_web()
    other.login(user.email)
    user_id = run(User.select(User.id).where(User.email == user.email).first())["id"]
    assert len(run(sessions.active_sessions(user_id))) == 2
    assert run(sessions.active_session_counts([user_id])) == {user_id: 2}
    assert run(sessions.end_sessions_of(user_id, reason="test")) == 2
    assert _signed_out(web) and _signed_out(other)
    assert run(sessions.active_sessions(user_id)) == []


def test_an_expired_session_is_refused(web, make_user):
    import datetime as dt

    user = make_user("prefecture", "34")
    web.login(user.email)
    run(
        UserSession.update({UserSession.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
            UserSession.id > 0
        )
    )
    assert _signed_out(web)


def test_sign_in_issues_a_new_csrf_token_bound_to_the_session(web, make_user):
    user = make_user("prefecture", "34")
    before = web.csrf()
    web.login(user.email)
    after = web.http.cookies["coord_csrf"]
    assert after != before
    # A form posted with the token of the anonymous visit (or of another session) is refused.
    web.http.cookies.set("coord_csrf", before, domain="testserver.local")
    refused = web.http.post("/deconnexion", data={"_csrf_token": before}, follow_redirects=False)
    assert refused.status_code == 403
    web.http.cookies.set("coord_csrf", after, domain="testserver.local")
    assert web.http.post("/deconnexion", data={"_csrf_token": after}, follow_redirects=False).status_code == 303


def test_sign_in_and_out_are_audited_with_the_address(web, make_user):
    from coord.audit.tables import AuditEntry

    user = make_user("prefecture", "34")
    web.login(user.email)
    web.post("/deconnexion", follow_redirects=False)
    rows = run(
        AuditEntry.select(AuditEntry.action, AuditEntry.ip, AuditEntry.actor)
        .where(AuditEntry.entity == "user")
        .order_by(AuditEntry.id)
    )
    actions = [r["action"] for r in rows if r["actor"] == user.email]
    assert actions[-2:] == ["sign_in", "sign_out"]
    assert all(r["ip"] for r in rows if r["actor"] == user.email)


def test_housekeeping_forgets_sessions_a_month_after_they_end(web, make_user):
    import datetime as dt

    from coord.accounts import housekeeping

    user = make_user("prefecture", "34")
    web.login(user.email)
    web.post("/deconnexion", follow_redirects=False)
    now = dt.datetime.now(dt.UTC)
    assert run(housekeeping.purge(now)) == 0  # ended today: still listed on the account's page
    assert run(housekeeping.purge(now + dt.timedelta(days=31))) >= 1
    assert run(UserSession.count()) == 0


def test_changing_the_password_on_my_account_page_signs_out_every_copy_but_this_browser(web, new_web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    thief = _copy_of(web, new_web)
    new_password = "Camargue-Flamants-Roses-2027"
    response = web.post(
        "/compte/mot-de-passe",
        {"current_password": "Motdepasse-de-test-2026", "new_password": new_password, "confirm_password": new_password},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/compte"
    assert _signed_out(thief)
    assert web.get("/d/34").status_code == 200


def test_a_revoked_api_token_gets_401_at_once(client, make_user):
    user = make_user("prefecture", "34")
    api = {"Authorization": f"Bearer {user.token}"}
    tokens = client.get("/api/me/tokens", headers=api).json()
    own = tokens["items"][0] if isinstance(tokens, dict) else tokens[0]
    assert client.delete(f"/api/me/tokens/{own['id']}", headers=api).status_code in (200, 204)
    assert client.get("/api/departments", headers=api).status_code == 401
