"""In a real headless Chromium: an agent records the signatures of a convention one by one; after
two of three it is still « en cours de signature », after the last one it is « en vigueur »."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

SMALL_MODEL = """\
code = "essai-trois-roles"
name = "Convention d'essai à trois signataires"
purpose = "Convention de test du parcours de signature."
scheme = "protection_mineurs"
default_duration_months = 24
tacit_renewal = true
renewal_notice_days = 60

[[signatories]]
role = "prefet"
required = true

[[signatories]]
role = "procureur"
required = true

[[signatories]]
role = "association"
required = true

[[signatories]]
role = "barreau"
required = false

[reminders]
signature_reminder_days = [15]
expiry_reminder_days = [30]
"""


@pytest.fixture
def small_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "modeles"
    folder.mkdir()
    (folder / "essai-trois-roles.toml").write_text(SMALL_MODEL, encoding="utf-8")
    monkeypatch.setenv("COORD_CONVENTIONS_DIR", str(folder))
    return folder


def test_signatures_bring_the_convention_into_force(small_models, live_url, browser_page, make_user, api_as):
    agent = make_user("prefecture", "34")
    api = api_as("prefecture", "34")
    convention = api.post(
        "/api/conventions", json={"model": "essai-trois-roles", "title": "Convention mineurs Hérault"}
    ).json()
    for kind, role, name in (
        ("prefecture", "prefet", "Préfecture de l'Hérault"),
        ("parquet", "procureur", "Parquet de Montpellier"),
        ("association", "association", "Association Enfance 34"),
    ):
        org = api.post("/api/organisations", json={"name": name, "kind": kind}).json()
        response = api.post(
            f"/api/conventions/{convention['id']}/signatories", json={"organisation": org["id"], "role": role}
        )
        assert response.status_code == 201, response.text

    page = browser_page
    url = f"{live_url}/d/34/conventions/{convention['id']}"
    page.goto(url)
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    assert page.locator("#etat-convention").inner_text() == "Brouillon"
    assert "0 signature sur 3 requises" in page.locator("#progression").inner_text()

    today = dt.date.today().isoformat()
    for label, done in (
        ("Préfecture de l'Hérault – Préfet", 1),
        ("Parquet de Montpellier – Procureur de la République", 2),
    ):
        page.get_by_label("Signataire (obligatoire)", exact=True).select_option(label=label)
        page.get_by_label("Date de signature").fill(today)
        page.get_by_role("button", name="Enregistrer la signature").click()
        page.wait_for_selector(f"text=Signature enregistrée : {done} sur 3 requises.")
        assert page.locator("#etat-convention").inner_text() == "En cours de signature"
        assert f"{done} signature" in page.locator("#progression").inner_text()
    assert "Association spécialisée" in page.locator(".missing-roles").inner_text()

    page.get_by_label("Signataire (obligatoire)", exact=True).select_option(
        label="Association Enfance 34 – Association spécialisée"
    )
    page.get_by_label("Date de signature").fill(today)
    page.get_by_label("Référence du document signé numérisé").fill("GED-2026-0042")
    page.get_by_role("button", name="Enregistrer la signature").click()
    page.wait_for_selector("text=La convention est en vigueur.")
    assert page.locator("#etat-convention").inner_text() == "En vigueur"
    assert "3 signatures sur 3 requises" in page.locator("#progression").inner_text()
    assert page.locator(".missing-roles").count() == 0
    assert "GED-2026-0042" in page.locator("table.signatories").inner_text()

    # The département's list shows it in force too.
    page.goto(f"{live_url}/d/34/conventions")
    row = page.locator("table.conventions tbody tr", has_text="Convention mineurs Hérault")
    assert "En vigueur" in row.inner_text()


def test_an_amendment_is_signed_apart_while_the_convention_stays_in_force(
    small_models, live_url, browser_page, make_user, api_as
):
    """An agent opens an amendment on a convention in force: the page shows both states, the
    convention stays « en vigueur » while the amendment collects its own signatures, and the
    amendment's text becomes the one in force with the last of them."""
    agent = make_user("prefecture", "34")
    api = api_as("prefecture", "34")
    convention = api.post("/api/conventions", json={"model": "essai-trois-roles", "title": "Convention avenant"}).json()
    today = dt.date.today().isoformat()
    for kind, role, name in (
        ("prefecture", "prefet", "Préfecture de l'Hérault"),
        ("parquet", "procureur", "Parquet de Montpellier"),
        ("association", "association", "Association Enfance 34"),
    ):
        org = api.post("/api/organisations", json={"name": name, "kind": kind}).json()
        signatory = api.post(
            f"/api/conventions/{convention['id']}/signatories", json={"organisation": org["id"], "role": role}
        ).json()
        api.patch(
            f"/api/conventions/{convention['id']}/signatories/{signatory['id']}",
            json={"status": "signed", "signed_on": today},
        )
    assert api.get(f"/api/conventions/{convention['id']}").json()["status"] == "in_force"

    page = browser_page
    url = f"{live_url}/d/34/conventions/{convention['id']}"
    page.goto(url)
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(url)
    page.get_by_label("Objet de l'avenant").fill("Ajout d'un volet formation")
    page.get_by_role("button", name="Ouvrir l'avenant n° 1").click()
    # The DSFR modal asks before opening the amendment.
    page.get_by_role("dialog").get_by_role("button", name="Confirmer").click()
    page.wait_for_selector("text=Avenant n° 1 ouvert")
    assert page.locator("#etat-convention").inner_text() == "En vigueur"
    assert "3 signatures sur 3 requises" in page.locator("#progression").inner_text()
    assert page.locator("#progression-avenant").inner_text() == "Avenant n° 1 : 0/3 signatures"

    for label, done in (
        ("Préfecture de l'Hérault – Préfet", 1),
        ("Parquet de Montpellier – Procureur de la République", 2),
    ):
        page.get_by_label("Signataire de l'avenant (obligatoire)", exact=True).select_option(label=label)
        page.get_by_label("Date de signature de l'avenant").fill(today)
        page.get_by_role("button", name="Enregistrer la signature de l'avenant").click()
        page.wait_for_selector(f"text=Signature enregistrée sur l'avenant n° 1 : {done} sur 3 requises.")
        assert page.locator("#etat-convention").inner_text() == "En vigueur"
        assert page.locator("#progression-avenant").inner_text() == f"Avenant n° 1 : {done}/3 signatures"

    page.get_by_label("Signataire de l'avenant (obligatoire)", exact=True).select_option(
        label="Association Enfance 34 – Association spécialisée"
    )
    page.get_by_label("Date de signature de l'avenant").fill(today)
    page.get_by_role("button", name="Enregistrer la signature de l'avenant").click()
    page.wait_for_selector("text=l'avenant n° 1 est entré en vigueur")
    assert page.locator("#etat-convention").inner_text() == "En vigueur"
    assert page.locator("#texte-en-vigueur").inner_text().startswith("Avenant n° 1 : Ajout d'un volet formation")
    assert page.locator("#progression-avenant").count() == 0
    assert "Entré en vigueur" in page.locator("table.amendments").inner_text()
