"""Agents sign in with ProConnect: Coord's half of the OpenID Connect flow, against a real provider.

The provider is panva's certified `oidc-provider` on loopback, configured like ProConnect
(tools/oidc-provider, `oidc_provider` fixture); the test plays the browser: Litestar's TestClient on
Coord's side, httpx on the provider's pages (`sign_in_at_provider`).
"""

from __future__ import annotations

import dataclasses
import html
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import pytest

from coord.accounts import proconnect
from coord.accounts.tables import User, UserSession
from coord.accounts.tokens import new_secret
from coord.audit.tables import AuditEntry
from tests.conftest import run
from tests.support.live_server import free_port
from tests.support.oidc_provider import (
    TEST_BASE_URL,
    ProviderBrowser,
    sign_in_at_provider,
)

AGENT_EMAIL = "julie.martin@herault.gouv.fr"


@pytest.fixture(autouse=True)
def fresh_provider(oidc_provider: Any) -> Iterator[None]:
    oidc_provider.reset()
    proconnect.clear_cache()
    yield
    oidc_provider.reset()
    proconnect.clear_cache()


@pytest.fixture
def pc_settings(settings: Any, oidc_provider: Any) -> Any:
    return dataclasses.replace(settings, **oidc_provider.settings_overrides())


@pytest.fixture
def browser(db: Any, pc_settings: Any) -> Iterator[Any]:
    """Coord in a TestClient with ProConnect enabled and pointing at the loopback provider."""
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    with TestClient(create_app(pc_settings, engine=db.engine), base_url=TEST_BASE_URL) as client:
        yield client


def start(browser: Any, target: str | None = None) -> str:
    """Click « S'identifier avec ProConnect »: the authorization URL Coord redirects to."""
    response = browser.get(
        "/connexion/proconnect", params={"suivant": target} if target else None, follow_redirects=False
    )
    assert response.status_code == 302, response.text
    return response.headers["location"]


def replace_param(url: str, name: str, value: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[name] = value
    return urlunparse(parts._replace(query=urlencode(query)))


def text(response: Any) -> str:
    return html.unescape(response.text)  # the pages escape apostrophes


def users() -> int:
    return run(User.count())


def failures() -> list[dict[str, Any]]:
    """The audited failed sign-ins, oldest first: what the audit's `after` says."""
    rows = run(AuditEntry.select(AuditEntry.after).where(AuditEntry.action == "sign_in_failed").order_by(AuditEntry.id))
    return [json.loads(row["after"]) if isinstance(row["after"], str) else row["after"] for row in rows]


def signed_in(browser: Any) -> bool:
    return browser.get("/", follow_redirects=False).headers.get("location", "").startswith("/d/")


def test_the_login_page_shows_the_proconnect_button_only_when_it_is_enabled(browser, client):
    with_button = text(browser.get("/connexion"))
    assert "S'identifier avec" in with_button and "ProConnect</span>" in with_button
    assert 'href="https://www.proconnect.gouv.fr/"' in with_button and "Qu'est-ce que ProConnect ?" in with_button
    assert 'name="password"' in with_button  # the password stays available
    without = client.get("/connexion").text  # the suite's default settings: ProConnect off
    assert "proconnect-button" not in without
    assert client.get("/connexion/proconnect", follow_redirects=False).status_code == 404


def test_coord_sends_exactly_the_parameters_proconnect_accepts(browser, pc_settings):
    url = urlparse(start(browser))
    query = parse_qs(url.query)
    assert set(query) == {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce"}
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [pc_settings.proconnect_client_id]
    assert query["redirect_uri"] == [f"{TEST_BASE_URL}/connexion/proconnect/retour"]
    assert query["scope"] == ["openid given_name usual_name email uid siret idp_id"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["state"] != query["nonce"]


def test_an_agent_signs_in_with_proconnect_and_lands_on_their_departement(browser, make_user):
    agent = make_user("prefecture", "34", email=AGENT_EMAIL)
    before = users()
    # The identity provider gives the address in capitals: Coord matches it lower-cased.
    callback = sign_in_at_provider(start(browser), AGENT_EMAIL.upper())
    assert callback.startswith(f"{TEST_BASE_URL}/connexion/proconnect/retour?")
    response = browser.get(callback, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    assert browser.get("/", follow_redirects=False).headers["location"] == "/d/34"
    page = browser.get("/d/34")
    assert page.status_code == 200 and "Hérault" in page.text
    assert users() == before
    session = run(
        UserSession.select(UserSession.method, UserSession.id_token)
        .where(UserSession.user.email == agent.email)
        .first()
    )
    assert session["method"] == "proconnect" and session["id_token"].count(".") == 2
    assert run(AuditEntry.exists().where((AuditEntry.action == "sign_in") & (AuditEntry.summary.like("%ProConnect%"))))


def test_after_signing_in_the_agent_gets_the_page_they_asked_for(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    callback = sign_in_at_provider(start(browser, "/d/34/reunions"), AGENT_EMAIL)
    assert browser.get(callback, follow_redirects=False).headers["location"] == "/d/34/reunions"


def test_an_address_without_account_or_invitation_is_told_whom_to_ask(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    before = users()
    response = browser.get(sign_in_at_provider(start(browser), "inconnu@herault.gouv.fr"), follow_redirects=False)
    assert response.status_code == 403
    assert "Aucun compte Coord" in text(response)
    assert "référent de votre préfecture" in text(response) and "coordination nationale" in text(response)
    assert users() == before and not signed_in(browser)
    assert [f["reason"] for f in failures()] == ["unknown"]


def test_a_deactivated_account_cannot_sign_in_with_proconnect(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    run(User.update({User.active: False}).where(User.email == AGENT_EMAIL))
    response = browser.get(sign_in_at_provider(start(browser), AGENT_EMAIL), follow_redirects=False)
    assert response.status_code == 403
    assert "désactivé" in text(response) and "référent de votre préfecture" in text(response)
    assert not signed_in(browser)
    assert [f["reason"] for f in failures()] == ["inactive"]


def test_a_return_with_another_state_is_refused(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    callback = sign_in_at_provider(start(browser), AGENT_EMAIL)
    forged = replace_param(callback, "state", new_secret())
    response = browser.get(forged, follow_redirects=False)
    assert response.status_code == 400
    assert "n'est pas ou plus valable" in text(response)
    assert not signed_in(browser)
    # A forged return does not spoil the sign-in this browser did start.
    assert browser.get(callback, follow_redirects=False).status_code == 303


def test_a_return_opened_in_another_browser_is_refused(browser, make_user, db, pc_settings):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    make_user("prefecture", "34", email=AGENT_EMAIL)
    callback = sign_in_at_provider(start(browser), AGENT_EMAIL)
    with TestClient(create_app(pc_settings, engine=db.engine), base_url=TEST_BASE_URL) as other:
        assert other.get(callback, follow_redirects=False).status_code == 400
        assert not signed_in(other)


def test_a_return_after_ten_minutes_is_refused(browser, make_user):
    from coord.core.clock import FrozenClock, now, use_clock

    make_user("prefecture", "34", email=AGENT_EMAIL)
    frozen = FrozenClock(now())
    use_clock(frozen)
    try:
        callback = sign_in_at_provider(start(browser), AGENT_EMAIL)
        frozen.advance(minutes=10)
        response = browser.get(callback, follow_redirects=False)
    finally:
        use_clock(None)
    assert response.status_code == 400
    assert "expiré" in text(response)
    assert not signed_in(browser)


def test_a_replayed_return_is_refused(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    callback = sign_in_at_provider(start(browser), AGENT_EMAIL)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    sessions = run(UserSession.count())
    again = browser.get(callback, follow_redirects=False)
    assert again.status_code == 400
    assert "déjà servi" in text(again)
    assert run(UserSession.count()) == sessions


def test_an_id_token_for_another_nonce_is_refused(browser, make_user):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    # The user agent changes the nonce on its way to the provider: the ID token carries that one.
    tampered = replace_param(start(browser), "nonce", new_secret())
    response = browser.get(sign_in_at_provider(tampered, AGENT_EMAIL), follow_redirects=False)
    assert response.status_code == 401
    assert "n'a pas pu être vérifiée" in text(response)
    assert not signed_in(browser)
    assert "nonce" in failures()[0]["detail"]


def test_an_expired_code_is_refused(browser, make_user, oidc_provider):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    oidc_provider.set_code_ttl(1)
    callback = sign_in_at_provider(start(browser), AGENT_EMAIL)
    time.sleep(1.1)  # the provider counts whole seconds: the code has expired now
    response = browser.get(callback, follow_redirects=False)
    assert response.status_code == 400
    assert "le délai est dépassé" in text(response)
    assert not signed_in(browser)
    assert failures()[0]["reason"] == "CodeRefused"


@pytest.mark.parametrize("which", ["id_token", "userinfo"])
def test_a_token_signed_with_another_key_is_refused(browser, make_user, oidc_provider, which):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    # The provider keeps signing with its key; the key set it publishes holds another one under that kid.
    oidc_provider.swap_key(which)
    response = browser.get(sign_in_at_provider(start(browser), AGENT_EMAIL), follow_redirects=False)
    assert response.status_code == 401
    assert "n'a pas pu être vérifiée" in text(response)
    assert not signed_in(browser)
    [failure] = failures()
    assert failure["reason"] == "IdentityInvalid"
    assert failure["detail"].startswith(f"{which}: bad_signature")  # the ID token passed when userinfo failed


def test_a_key_the_provider_publishes_later_is_used_at_once(browser, make_user, oidc_provider):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    # Coord reads a key set without the ID token's key: unknown even after fetching it again, refused.
    oidc_provider.withhold_key("id_token")
    refused = browser.get(sign_in_at_provider(start(browser), AGENT_EMAIL), follow_redirects=False)
    assert refused.status_code == 401
    assert "unknown kid" in failures()[0]["detail"]
    # The provider now publishes it (a rotation): Coord's cached set lacks it, so it fetches the set again.
    oidc_provider.reset()
    response = browser.get(sign_in_at_provider(start(browser), AGENT_EMAIL), follow_redirects=False)
    assert response.status_code == 303 and signed_in(browser)


def test_proconnect_down_gives_a_french_page_and_creates_nothing(db, settings, make_user):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    make_user("prefecture", "34", email=AGENT_EMAIL)
    before = users()
    down = dataclasses.replace(
        settings,
        proconnect_enabled=True,
        proconnect_issuer=f"http://127.0.0.1:{free_port()}/api/v2",  # nothing listens there
        proconnect_client_id="coord",
        proconnect_client_secret="secret",
    )
    with TestClient(create_app(down, engine=db.engine), base_url=TEST_BASE_URL) as client:
        response = client.get("/connexion/proconnect", follow_redirects=False)
        assert response.status_code == 502
        assert "ProConnect ne répond pas pour le moment" in text(response)
        assert "mot de passe" in text(response)
        assert not signed_in(client)
    assert users() == before


def test_a_return_with_an_error_from_proconnect_gets_a_french_page(browser):
    state = parse_qs(urlparse(start(browser)).query)["state"][0]
    response = browser.get(
        "/connexion/proconnect/retour",
        params={"error": "access_denied", "error_description": "User cancelled", "state": state},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "La connexion avec ProConnect a été interrompue" in text(response)
    assert not signed_in(browser)


def test_logging_out_ends_the_proconnect_session_too(browser, make_user, pc_settings, oidc_provider):
    make_user("prefecture", "34", email=AGENT_EMAIL)
    with ProviderBrowser() as at_provider:
        assert browser.get(at_provider.sign_in(start(browser), AGENT_EMAIL), follow_redirects=False).status_code == 303
        csrf = browser.cookies["coord_csrf"]
        response = browser.post("/deconnexion", data={"_csrf_token": csrf}, follow_redirects=False)
        assert response.status_code in (302, 303)
        logout = urlparse(response.headers["location"])
        assert f"{logout.scheme}://{logout.netloc}{logout.path}" == f"{oidc_provider.issuer}/session/end"
        query = parse_qs(logout.query)
        assert set(query) == {"id_token_hint", "state", "post_logout_redirect_uri"}
        assert query["post_logout_redirect_uri"] == [f"{TEST_BASE_URL}/connexion"]
        assert len(query["state"][0]) >= 32
        # The provider ends its session and sends the browser back to Coord's login page.
        back = at_provider.sign_out(response.headers["location"])
        assert back == f"{TEST_BASE_URL}/connexion?state={query['state'][0]}"
        assert browser.get(back).status_code == 200
        assert not signed_in(browser)
        # No single sign-on left at the provider: the next sign-in asks for the address again.
        login_form = at_provider.http.get(start(browser), follow_redirects=True)
        assert "Adresse électronique" in login_form.text


def test_without_an_id_token_or_proconnect_the_logout_stays_local(pc_settings, settings):
    assert run(proconnect.logout_redirect(pc_settings, "")) is None
    assert run(proconnect.logout_redirect(settings, "a.b.c")) is None
