"""In a real headless Chromium: a coordinator turns two decisions of a meeting into action items;
the partner who owns one marks it done from their link; the board shows it done, with the entry
in its history."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.actions.support import seed
from tests.conftest import PASSWORD

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


def test_decisions_become_items_and_a_partner_link_closes_one(live_url, browser_page, make_user, api_as):
    world = seed(api_as("prefecture", "34"))
    coordinator = make_user("coordinator", "34")
    page = browser_page
    url = f"{live_url}/d/34/reunions/{world['meeting']['id']}/actions"
    page.goto(url)
    page.get_by_label("Adresse électronique professionnelle").fill(coordinator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    for number, decision in enumerate(world["decisions"], start=1):
        # Each decision has its own owner and due date.
        page.get_by_text(decision["text"]).click()  # the DSFR checkbox's label covers the box
        assert page.get_by_label(decision["text"]).is_checked()
        page.get_by_label(f"Contact responsable (décision {number})").select_option(
            label="Isabelle Moreau (Conseil départemental 34)"
        )
        page.get_by_label(f"Échéance (décision {number})").fill(
            (dt.date.today() + dt.timedelta(days=30 * number)).isoformat()
        )
    page.get_by_role("button", name="Créer les actions").click()
    page.wait_for_selector("text=2 action(s) créée(s) à partir des décisions.")

    # The coordinator hands the partner a link to the first item.
    page.get_by_role("link", name=world["decisions"][0]["text"]).click()
    page.get_by_role("button", name="Créer un lien de mise à jour pour Isabelle Moreau").click()
    link = page.locator("#lien").inner_text()
    token = link.split("/r/action/", 1)[1]  # the test settings' base URL is not the live server's

    partner = page.context.browser.new_context().new_page()  # no session: the partner has no account
    partner.goto(f"{live_url}/r/action/{token}")
    partner.get_by_label("Nouveau statut").select_option(label="Fait")
    partner.get_by_label("Commentaire").fill("Formation des éducateurs réalisée.")
    partner.get_by_role("button", name="Enregistrer").click()
    partner.wait_for_selector("text=Merci, votre mise à jour est enregistrée.")

    page.goto(f"{live_url}/d/34/actions?vue=tableau")
    done_column = page.locator("section.board-column", has_text="Fait (1)")
    assert world["decisions"][0]["text"] in done_column.inner_text()
    assert "À faire (1)" in page.content()
    done_column.get_by_role("link", name=world["decisions"][0]["text"]).click()
    timeline = page.locator("ol.timeline").inner_text()
    assert "Isabelle Moreau (lien partenaire)" in timeline and "Formation des éducateurs réalisée." in timeline
    assert page.locator("#statut").text_content().strip() == "Fait"  # a DSFR badge (shown in capitals)
