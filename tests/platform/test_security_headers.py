"""Every response carries the security headers: what a browser may load, frame, cache and send as
Referer, on pages behind the login, partners' pages, the API, static files, errors and unknown paths."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run

CSP_REQUIRED = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'")


def assert_common_headers(response: Any) -> None:
    policy = response.headers["content-security-policy"]
    for directive in CSP_REQUIRED:
        assert directive in policy, (directive, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers  # the test base URL is http


def test_a_logged_in_page_is_never_cached_nor_framed(web, make_user):
    web.login(make_user("prefecture", "34").email)
    page = web.get("/d/34")
    assert page.status_code == 200
    assert_common_headers(page)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "same-origin"


def test_the_api_data_is_never_cached(api_as):
    api = api_as("prefecture", "34")
    response = api.get("/api/departments")
    assert response.status_code == 200
    assert_common_headers(response)
    assert response.headers["cache-control"] == "no-store"
    refused = api.get("/api/departments", headers={"Authorization": "Bearer faux"})
    assert refused.status_code == 401 and refused.headers["cache-control"] == "no-store"
    assert_common_headers(refused)


def test_static_files_keep_their_caching(client):
    response = client.get("/static/coord.css")
    assert response.status_code == 200
    assert_common_headers(response)
    assert "no-store" not in response.headers.get("cache-control", "")
    assert response.headers.get("etag") or response.headers.get("last-modified")


@pytest.mark.parametrize("path", ["/nexiste-pas", "/d/34/reunions/abc", "/d/34%00"])
def test_errors_and_unknown_paths_carry_the_headers_too(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303, 400, 401, 404)
    assert_common_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_a_partner_page_sends_no_referer_and_is_not_cached(client, api_as):
    """The token is in the URL of partners' pages: no Referer may carry it to another site (a
    video-conference link on the page), no cache may keep the page."""
    # An invalid link still renders a page (403) with the same protections.
    refused = client.get("/r/invitation/pas-un-jeton")
    assert refused.status_code == 403
    assert_common_headers(refused)
    assert refused.headers["referrer-policy"] == "no-referrer"
    assert refused.headers["cache-control"] == "no-store"

    # A calendar feed: no Referer either, and its own caching (calendar apps revalidate with the ETag).
    from coord.territory.tables import Department

    api = api_as("prefecture", "34")
    department = run(Department.select(Department.id).where(Department.code == "34").first())
    feed = api.post("/api/feeds", json={"kind": "department", "target_id": department["id"]}).json()
    response = client.get(re.sub(r"^https?://[^/]+", "", feed["url"]))
    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, max-age=900"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_only_when_the_base_url_is_https(db, settings):
    from litestar.testing import TestClient

    from coord.app.factory import create_app

    https = create_app(dataclasses.replace(settings, base_url="https://coord.prefecture.gouv.fr"), engine=db.engine)
    with TestClient(https, base_url="https://coord.prefecture.gouv.fr") as client:
        for path in ("/connexion", "/static/coord.css", "/nexiste-pas"):
            response = client.get(path)
            assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    plain = create_app(settings, engine=db.engine)
    with TestClient(plain, base_url="http://testserver.local") as client:
        assert "strict-transport-security" not in client.get("/connexion").headers


# -- the templates hold nothing the policy would refuse ----------------------------------------

INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_of_a_page_has_inline_script_or_style():
    """The CSP refuses inline scripts, handlers and styles: a page template using one would break in
    the browser. (Mail templates are not pages: the demo frames them under a policy of their own.)"""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.relative_to(ROOT / "templates").parts[0] == "mails":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            found += [f"{path.relative_to(ROOT)}: {what}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, "\n".join(found)


def test_the_pages_load_their_script_from_coord(web, make_user):
    web.login(make_user("prefecture", "34").email)
    page = web.get("/d/34")
    assert '<script src="/static/coord.js" defer></script>' in page.text
    script = web.get("/static/coord.js")
    assert script.status_code == 200 and "data-confirm" in script.text


# -- the API documentation works without Internet access ---------------------------------------


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def test_the_api_documentation_loads_only_from_coord(client):
    page = client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_common_headers(page)
    references = _references(page.text)
    assert any(ref.endswith(".js") for ref in references) and any(ref.endswith(".css") for ref in references)
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), f"{ref} is not on Coord's origin"
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert "no-store" not in asset.headers.get("cache-control", "")
    assert re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page.text) is None  # no inline script
    spec = re.search(r'data-spec-url="([^"]+)"', page.text)
    assert spec and client.get(spec.group(1)).json()["info"]["title"] == "Coord API"
    assert client.get("/schema/swagger").status_code == 200


def test_the_viewer_files_come_from_the_installed_package():
    from swagger_ui_bundle import swagger_ui_path

    assert (Path(str(swagger_ui_path)) / "swagger-ui-bundle.js").is_file()
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"swagger-ui-bundle-v2' in pyproject


def test_the_middleware_passes_other_scopes_through():
    """Lifespan and websocket messages are not HTTP responses: left untouched."""
    from coord.web.security import SecurityHeaders

    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "lifespan.startup.complete"})

    async def send(message: Any) -> None:
        seen.append(message)

    async def receive() -> Any:
        return {}

    run(SecurityHeaders(inner, https=True)({"type": "lifespan"}, receive, send))
    assert seen == [{"type": "lifespan.startup.complete"}]
