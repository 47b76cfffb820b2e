"""In a real headless Chromium: the national coordinator invites a prefecture's referent; the referent
opens the mailed link, chooses a password and invites a colleague as « Observateur »; the colleague
joins, signs in again later, and can read but change nothing."""

from __future__ import annotations

import re

import pytest

from coord.mail.tables import OutboxMessage
from tests.conftest import PASSWORD, run

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

REFERENT = "referente.teh@herault.gouv.fr"
COLLEAGUE = "observateur.teh@herault.gouv.fr"
NEW_PASSWORD = "Lavande-Garrigue-Mistral-2026"


def _mailed_link(email: str, live_url: str) -> str:
    row = run(
        OutboxMessage.select(OutboxMessage.body_text)
        .where(OutboxMessage.to_email == email)
        .order_by(OutboxMessage.id, ascending=False)
        .first()
    )
    assert row is not None, f"no invitation mailed to {email}"
    link = re.search(r"https?://\S+/invitation/\S+", row["body_text"])
    assert link, row["body_text"]
    # The mailed link carries the configured base URL, not the live server's.
    return live_url + "/invitation/" + link.group(0).split("/invitation/", 1)[1]


def _join(page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Prénom et nom").fill(name)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()


def test_an_invited_referent_brings_in_an_observer_who_can_change_nothing(live_url, browser_page, make_user):
    national = make_user("national", None)
    page = browser_page
    page.goto(f"{live_url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(national.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_url}/comptes")
    page.get_by_label("Adresse électronique professionnelle").fill(REFERENT)
    page.get_by_label("Prénom et nom").fill("Claire Roux")
    page.get_by_label("Rôle").select_option(label="Agent de préfecture")
    page.get_by_label("Département (vide pour la coordination nationale)").select_option(value="34")
    page.get_by_label("Gère les comptes du département").check(force=True)  # DSFR draws the box on the label
    page.get_by_role("button", name="Envoyer l'invitation").click()
    page.wait_for_selector(f"text={REFERENT}")

    referent = page.context.browser.new_context(locale="fr-FR").new_page()
    _join(referent, _mailed_link(REFERENT, live_url), "Claire Roux")
    referent.wait_for_url(f"{live_url}/d/34")
    referent.goto(f"{live_url}/d/34/comptes")
    referent.get_by_label("Adresse électronique professionnelle").fill(COLLEAGUE)
    referent.get_by_label("Rôle").select_option(label="Observateur")
    referent.get_by_role("button", name="Envoyer l'invitation").click()
    referent.wait_for_selector(f"text={COLLEAGUE}")

    colleague_context = page.context.browser.new_context(locale="fr-FR")
    colleague = colleague_context.new_page()
    _join(colleague, _mailed_link(COLLEAGUE, live_url), "Paul Martin")
    colleague.wait_for_url(f"{live_url}/d/34")
    colleague.get_by_role("button", name="Se déconnecter").click()
    colleague.goto(f"{live_url}/connexion")
    colleague.get_by_label("Adresse électronique professionnelle").fill(COLLEAGUE)
    colleague.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    colleague.get_by_role("button", name="Se connecter").click()
    colleague.wait_for_url(f"{live_url}/d/34")

    # Reading works; nothing offers a change, and a change typed by hand is refused.
    colleague.goto(f"{live_url}/d/34/partenaires")
    assert "Ajouter une organisation" not in colleague.content()
    token = colleague.locator("input[name=_csrf_token]").first.get_attribute("value")
    refused = colleague.request.post(
        f"{live_url}/d/34/partenaires/nouvelle",
        form={"_csrf_token": token or "", "name": "Organisation ajoutée par un observateur", "kind": "autre"},
        max_redirects=0,
    )
    assert refused.status == 403
    response = colleague.goto(f"{live_url}/d/34/comptes")
    assert response is not None and response.status in (403, 404)
    colleague_context.close()
