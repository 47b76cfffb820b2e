"""In a real headless Chromium: an agent plans a meeting and sends the convocation; the partner opens
the captured mail's answer link and accepts; the organiser's page shows the answer."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import PASSWORD

# SQLite only, like the other browser walks: what Chromium shows is the same on either engine, and the
# services behind each step are tested on both (tests/browser/test_accessibility.py says why).
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")


@pytest.fixture
def demo_url(db: Any, settings: Any) -> Any:
    from coord.app.factory import create_app
    from tests.support.live_server import free_port, live_server

    port = free_port()
    demo_settings = replace(
        settings, smtp_port=free_port(), scheduler_enabled=True, base_url=f"http://127.0.0.1:{port}"
    )
    app = create_app(demo_settings, engine=db.engine, demo=True)
    with live_server(app, port=port) as url:
        yield url


def test_plan_convene_and_accept_from_the_mail(demo_url, browser_page, make_user):
    import httpx

    agent = make_user("prefecture", "34")
    api = httpx.Client(base_url=demo_url, headers={"Authorization": f"Bearer {agent.token}"})
    org = api.post("/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet"}).json()
    contact = api.post(
        "/api/contacts",
        json={
            "organisation": org["id"],
            "first_name": "Hélène",
            "last_name": "Dubois",
            "email": "helene.dubois@justice.fr",
        },
    ).json()
    committee = api.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere"}).json()
    api.post(f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": "membre"})

    page = browser_page
    page.goto(f"{demo_url}/connexion")
    page.get_by_label("Adresse électronique professionnelle").fill(agent.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{demo_url}/d/34")

    page.goto(f"{demo_url}/d/34/reunions")
    page.get_by_role("link", name="Planifier une réunion").click()
    page.get_by_label("Instance réunie").select_option(label="CDPD")
    page.get_by_label("Intitulé").fill("Séance annuelle traite")
    from coord.territory.working_days import is_working_day, next_working_day

    day = dt.date.today() + dt.timedelta(days=20)
    day = day if is_working_day(day, "34") else next_working_day(day, "34")  # no confirmation to tick
    page.locator("#f-date").fill(day.isoformat())
    page.get_by_label("Heure de début").fill("09:30")
    page.get_by_label("Heure de fin").fill("12:00")
    page.get_by_label("Adresse et salle").fill("Préfecture de l'Hérault, salle des commissions")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("button", name="Envoyer la convocation").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirmer").click()  # the DSFR modal asks first
    page.wait_for_selector(".fr-alert--success")
    meeting_url = page.url

    # The background dispatcher delivers to the demo SMTP sink; the demo page lists what was sent.
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{demo_url}/demo/courriels")
        if page.locator("table tbody tr a").count():
            break
        assert time.monotonic() < deadline, "no mail captured"
        time.sleep(1)
    page.locator("table tbody tr a").first.click()
    text = page.locator("pre.mail-text").first.inner_text()
    link = re.search(r"http://127\.0\.0\.1:\d+/r/invitation/\S+", text).group(0)
    assert "METHOD:REQUEST" in page.content()

    page.goto(link)
    page.get_by_label("J'accepte").check(force=True)  # DSFR draws the radio on the label
    page.get_by_role("button", name="Envoyer ma réponse").click()
    page.wait_for_selector("text=votre réponse est enregistrée")

    page.goto(meeting_url)
    row = page.locator("tr", has_text="Dubois")
    assert "Accepté" in row.first.inner_text()
