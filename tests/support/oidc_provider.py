"""The loopback OpenID Connect provider configured like ProConnect, for the tests.

`oidc_provider` is a session fixture (imported into tests/conftest.py): one `node server.mjs` for the
whole run, with its test control endpoint on. Its client accepts two redirect URIs: the test client's
base URL (`http://testserver.local`, Litestar's TestClient) and `browser_base_url`, a loopback port
chosen at start for the browser test's live server. Each test should start with `reset()`.

The tests play the user agent: `sign_in_at_provider(authorize_url, email)` drives the provider's own
pages with httpx (a fresh client, so no single sign-on from an earlier test) and returns the URL the
provider redirects to on Coord's side, without following it, for Coord's TestClient to open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from coord.app.demo_idp import LoopbackProvider
from tests.support.live_server import free_port

CLIENT_ID = "coord-tests"
CLIENT_SECRET = "secret-du-client-de-test-0123456789"
TEST_BASE_URL = "http://testserver.local"
CALLBACK_PATH = "/connexion/proconnect/retour"
POST_LOGOUT_PATH = "/connexion"
MAX_HOPS = 12


@dataclass
class RunningProvider:
    provider: LoopbackProvider
    browser_base_url: str

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    @property
    def client_id(self) -> str:
        return self.provider.client_id

    @property
    def client_secret(self) -> str:
        return self.provider.client_secret

    def settings_overrides(self, base_url: str = TEST_BASE_URL) -> dict[str, Any]:
        """What `dataclasses.replace(settings, **...)` needs for Coord to use this provider."""
        return {
            "base_url": base_url,
            "proconnect_enabled": True,
            "proconnect_issuer": self.issuer,
            "proconnect_client_id": self.client_id,
            "proconnect_client_secret": self.client_secret,
            "proconnect_redirect_url": f"{base_url}{CALLBACK_PATH}",
        }

    def _control(self, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.provider.origin}/__control__", json=body, timeout=5)
        response.raise_for_status()
        return response.json()

    def set_code_ttl(self, seconds: int) -> None:
        """Authorization codes issued from now on live `seconds` (30 as at ProConnect after reset)."""
        self._control({"code_ttl": seconds})

    def swap_key(self, which: str) -> None:
        """The published JWKS carries another key under the kid of the "id_token" or "userinfo" key."""
        self._control({"swap_key": which})

    def withhold_key(self, which: str) -> None:
        """The published JWKS leaves out the "id_token" or "userinfo" key (as before a key rotation)."""
        self._control({"withhold_key": which})

    def reset(self) -> None:
        self._control({"reset": True})


def start_test_provider() -> RunningProvider:
    browser_base_url = f"http://127.0.0.1:{free_port()}"
    bases = [TEST_BASE_URL, browser_base_url]
    provider = LoopbackProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{base}{CALLBACK_PATH}" for base in bases],
        post_logout_redirect_uris=[f"{base}{POST_LOGOUT_PATH}" for base in bases],
        control=True,
    ).start()
    return RunningProvider(provider, browser_base_url)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[RunningProvider]:
    started = start_test_provider()
    try:
        yield started
    finally:
        started.provider.stop()


class ProviderBrowser:
    """The user agent's side at the provider: its cookies (the provider's session) across calls."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=10, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ProviderBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _walk(self, url: str, *, fill: dict[str, str] | None = None) -> str:
        """Follow the provider's redirects and submit its forms until a redirect leaves it."""
        origin = httpx.URL(url).copy_with(path="/", query=None, fragment=None)
        response = self.http.get(url)
        for _ in range(MAX_HOPS):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if httpx.URL(target).copy_with(path="/", query=None, fragment=None) != origin:
                    return target
                response = self.http.get(target)
                continue
            assert response.status_code == 200, f"{response.status_code} at the provider: {response.text[:500]}"
            form = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
            assert form, f"neither a redirect nor a form at the provider: {response.text[:500]}"
            data = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2))}
            if "email" in response.text and fill:
                data.update(fill)
            # The logout page's buttons live outside its form (form="op.logoutForm"): answer « yes ».
            if "op.logoutForm" in response.text:
                data["logout"] = "yes"
            response = self.http.post(urljoin(str(response.url), unescape(form.group(1))), data=data)
        raise AssertionError(f"more than {MAX_HOPS} steps at the provider")

    def sign_in(self, authorize_url: str, email: str) -> str:
        """Type `email` on the provider's login page; the URL of the redirect back to Coord."""
        return self._walk(authorize_url, fill={"email": email})

    def sign_out(self, end_session_url: str) -> str:
        """Confirm the logout on the provider's page; the URL of the redirect back to Coord."""
        return self._walk(end_session_url)


def sign_in_at_provider(authorize_url: str, email: str) -> str:
    """Sign in as `email` at the provider from a fresh user agent; the callback URL on Coord's side."""
    with ProviderBrowser() as browser:
        return browser.sign_in(authorize_url, email)
