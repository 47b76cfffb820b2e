"""In a real headless Chromium, under Coord's Content-Security-Policy: the pages work without any
inline script or style (confirmations, progress bars, the API documentation) and the browser reports
no refused script, style or frame."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, run

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

REPORT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


def _login(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def _violations(page: Any) -> list[str]:
    return page.evaluate("window.__csp || []")


async def _department_id(code: str) -> int:
    from coord.territory.tables import Department

    row = await Department.select(Department.id).where(Department.code == code).first()
    return int(row["id"])


def test_pages_work_under_the_policy(live_url, browser_page, make_user):
    import httpx

    agent = make_user("prefecture", "34")
    national = make_user("national", None)
    api = httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {agent.token}"})
    feed = api.post("/api/feeds", json={"kind": "department", "target_id": run(_department_id("34"))})
    assert feed.status_code == 201, feed.text

    page = browser_page
    page.add_init_script(REPORT_VIOLATIONS)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    _login(page, live_url, agent.email)
    page.goto(f"{live_url}/d/34/calendriers")
    assert _violations(page) == []
    revoke = page.get_by_role("button", name="Révoquer")
    assert revoke.count() == 1
    # A subscription URL is selected whole when its field gets the focus, ready to copy.
    field = page.locator("input[data-select-on-focus]").first
    field.focus()
    assert field.evaluate("f => f.value.length > 0 && f.selectionStart === 0 && f.selectionEnd === f.value.length")

    # The confirmation is DSFR's modal, opened by /static/coord.js: cancelling it keeps the link...
    revoke.click()
    dialog = page.get_by_role("dialog")
    assert "Révoquer ce lien ?" in dialog.inner_text()
    dialog.get_by_role("button", name="Annuler").click()
    dialog.wait_for(state="hidden")
    assert page.url.endswith("/d/34/calendriers") and page.get_by_role("button", name="Révoquer").count() == 1
    # ...accepting it revokes the link.
    page.get_by_role("button", name="Révoquer").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirmer").click()
    assert page.get_by_role("button", name="Révoquer").count() == 0

    page.goto(f"{live_url}/schema")
    page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI rendered from Coord's own files
    assert page.locator(".opblock").count() > 10
    assert _violations(page) == []

    page.context.clear_cookies()
    _login(page, live_url, national.email)
    page.goto(f"{live_url}/actions")
    assert _violations(page) == []
    assert refused == []
