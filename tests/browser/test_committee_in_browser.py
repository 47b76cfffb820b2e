"""In a real headless Chromium: an agent logs in, opens their département, creates a committee with
members, and sees it."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


def test_agent_creates_a_committee_with_members(live_url, browser_page, make_user, api_as):
    agent = make_user("prefecture", "34")
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet"}).json()
    for first, last, email in (("Hélène", "Dubois", "helene.dubois"), ("Karim", "Saïdi", "karim.saidi")):
        response = api.post(
            "/api/contacts",
            json={"organisation": org["id"], "first_name": first, "last_name": last, "email": f"{email}@justice.fr"},
        )
        assert response.status_code == 201, response.text
    page = browser_page
    page.goto(f"{live_url}/d/34")
    assert "/connexion" in page.url
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_url}/d/34")
    assert "Hérault" in page.locator("h1").inner_text()

    page.get_by_role("link", name="Instances").first.click()
    page.get_by_role("link", name="Créer une instance").click()
    page.get_by_label("Nom de l'instance").fill("Commission prostitution et traite")
    page.get_by_label("Type d'instance").select_option("cdpd_commission_teh")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Commission prostitution et traite")
    assert page.locator(".fr-alert--success").count() == 1

    for name in ("Dubois Hélène", "Saïdi Karim"):
        page.get_by_label("Contact").select_option(label=f"{name} – Parquet de Montpellier")
        page.get_by_label("Rôle").select_option("membre")
        page.get_by_role("button", name="Ajouter le membre").click()
        page.wait_for_selector(f"text={name.split()[1]} {name.split()[0]}")
    members = page.locator("table.members tbody tr")
    assert members.count() == 2

    page.get_by_role("link", name="Instances").first.click()
    row = page.locator("table tbody tr", has_text="Commission prostitution et traite")
    assert row.count() == 1
    assert "2" in row.inner_text()
