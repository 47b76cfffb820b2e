"""In a real headless Chromium: an agent clicks « S'identifier avec ProConnect », types their address
at the (loopback) ProConnect provider and lands on their département's page in Coord; logging out
of Coord ends the ProConnect session too and comes back to Coord's login page."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from coord.accounts import proconnect
from tests.support.live_server import live_server

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

EMAIL = "sonia.benali@herault.gouv.fr"


@pytest.fixture
def coord_url(db: Any, settings: Any, make_user: Any, oidc_provider: Any) -> Iterator[str]:
    """Coord served on the port whose redirect URI the provider knows, with an agent of the 34."""
    from coord.app.factory import create_app

    oidc_provider.reset()
    proconnect.clear_cache()
    make_user("prefecture", "34", email=EMAIL)
    base_url = oidc_provider.browser_base_url
    app = create_app(dataclasses.replace(settings, **oidc_provider.settings_overrides(base_url)), engine=db.engine)
    with live_server(app, port=urllib.parse.urlparse(base_url).port) as url:
        yield url


def sign_in(page: Any, url: str, issuer: str) -> None:
    page.goto(f"{url}/d/34")
    assert "/connexion" in page.url
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.wait_for_url(f"{issuer}/interaction/**")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{url}/d/34")


def test_an_agent_signs_in_with_proconnect_in_the_browser(coord_url, browser_page, oidc_provider):
    sign_in(browser_page, coord_url, oidc_provider.issuer)
    assert "Hérault" in browser_page.locator("h1").inner_text()
    assert browser_page.get_by_role("button", name="Se déconnecter").count() == 1


def test_logging_out_in_the_browser_ends_the_proconnect_session(coord_url, browser_page, oidc_provider):
    page = browser_page
    sign_in(page, coord_url, oidc_provider.issuer)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{oidc_provider.issuer}/session/end**")
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{coord_url}/connexion?state=**")
    page.goto(f"{coord_url}/d/34")
    assert "/connexion" in page.url
    # The provider's session is over too: signing in again asks for the address.
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    assert page.get_by_label("Adresse électronique").count() == 1
