"""What every request costs: probes and assets skip the session and the CSRF cookie, a page view does
not rewrite an unchanged session cookie, and the account behind a session is read afresh each time."""

from __future__ import annotations

from coord.accounts.tables import User
from tests.conftest import run


def _set_cookies(response) -> list[str]:
    return [value for name, value in response.headers.multi_items() if name == "set-cookie"]


def test_probes_and_assets_set_no_cookie_even_for_a_signed_in_browser(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    for url in ("/health", "/ready", "/static/coord.js"):
        response = web.get(url)
        assert response.status_code == 200, url
        assert _set_cookies(response) == [], url
    assert web.get("/d/34").status_code == 200  # the session is still there


def test_a_page_view_does_not_resend_an_unchanged_session_cookie(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    web.get("/")  # the welcome message is shown, and leaves the session
    page = web.get("/d/34/partenaires")
    assert page.status_code == 200
    assert not any(cookie.startswith("coord_session=") for cookie in _set_cookies(page))
    assert web.get("/d/34/partenaires").status_code == 200


def test_a_message_for_the_next_page_still_reaches_it(web, make_user):
    user = make_user("prefecture", "34")
    response = web.login(user.email)
    assert any(cookie.startswith("coord_session=") for cookie in _set_cookies(response))
    home = web.get("/", follow_redirects=True)
    assert "Bienvenue" in home.text
    assert "Bienvenue" not in web.get("/d/34").text  # shown once, then gone from the session


def test_signing_out_clears_the_session_cookie(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    web.get("/")
    response = web.post("/deconnexion", follow_redirects=False)
    assert any(cookie.startswith("coord_session=null") for cookie in _set_cookies(response))
    assert web.get("/d/34", follow_redirects=False).headers["location"].startswith("/connexion")


def test_a_change_to_the_account_shows_on_the_next_page(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    assert "Agente Renommée" not in web.get("/d/34").text
    run(User.update({User.full_name: "Agente Renommée"}).where(User.email == user.email))
    assert "Agente Renommée" in web.get("/d/34").text


def test_a_deactivated_account_is_refused_on_its_next_page_and_form(web, make_user):
    user = make_user("prefecture", "34")
    web.login(user.email)
    assert web.get("/d/34").status_code == 200
    run(User.update({User.active: False}).where(User.email == user.email))
    page = web.get("/d/34", follow_redirects=False)
    assert page.headers["location"].startswith("/connexion")
    form = web.post("/d/34/partenaires/nouvelle", {"name": "X", "kind": "autre"}, follow_redirects=False)
    assert form.status_code in (302, 303, 307, 401)
