"""The journal in a real headless Chromium: on a 390 px phone and a 1280 px screen it does not
scroll sideways (the before/after tables scroll inside their own frame) and axe finds nothing, with
entries and with a filter error shown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.audit.test_readable_journal import _agent
from tests.support.axe import WIDTHS, axe_context, horizontal_overflow, run_axe, widest_elements
from tests.support.live_server import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(
    not __import__("coord.app.factory", fromlist=["DSFR_DIST"]).DSFR_DIST.joinpath("dsfr.min.css").exists(),
    reason="the State design system is not installed (tools/dsfr: run tests/run.py)",
)


def _sign_in(page: Any, url: str, email: str) -> None:
    from tests.conftest import PASSWORD

    page.goto(f"{url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def test_the_journal_fits_a_phone_and_a_screen_and_passes_axe(live_url, make_user, client):
    from playwright.sync_api import sync_playwright

    email, api = _agent(make_user, client, "Élodie Grondin", "974")
    long_name = "Association départementale d'aide aux victimes de la traite et de l'exploitation " * 2
    org = api.post("/api/organisations", json={"name": long_name.strip()[:200], "kind": "association"}).json()
    api.patch(
        f"/api/organisations/{org['id']}",
        json={"name": "ADAVTE", "email": "accueil.adavte@une-adresse-assez-longue.example.re", "notes": "x" * 300},
    )
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                with axe_context(browser, width=width) as context:
                    page = context.new_page()
                    page.set_default_timeout(20_000)
                    _sign_in(page, live_url, email)
                    for path in ("/journal", "/journal?du=31/02/2026&objet=organisation"):
                        page.goto(live_url + path)
                        page.wait_for_load_state("load")
                        assert page.locator("h1").inner_text() == "Journal des modifications"
                        if overflow := horizontal_overflow(page):
                            problems.append(f"{path} @ {width}px scrolls {overflow}px: {widest_elements(page)}")
                        problems += [v.describe() for v in run_axe(page, width)]
                    assert page.get_by_text("n'existe pas").first.is_visible()
        finally:
            browser.close()
    assert problems == []
