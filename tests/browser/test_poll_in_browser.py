"""In a real headless Chromium on a phone (390 px): an invitee opens the link of their « Trouver une
date » mail, answers oui / si besoin / non for each slot and reads the confirmation; the page never
scrolls sideways and passes axe; the answers are stored as given.

Run on SQLite only, like the accessibility walk: the answer page renders the same records whatever
the engine, and the service's queries are tested on both engines in tests/polls/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ApiClient, run
from tests.meetings.test_meetings_api import ensure_meeting_routes
from tests.polls.test_date_poll import _day, _deliver, _draft, _form, _links
from tests.support.axe import axe_context, ensure_axe, run_axe, summarise, widest_elements

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")

PHONE = 390


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


@pytest.fixture
def agent(make_user: Any, web: Any, client: Any, settings: Any) -> Any:
    from coord.core.settings import use_settings

    use_settings(settings)
    account = make_user("prefecture", "34")
    web.login(account.email)
    return ApiClient(client, account.token)


@pytest.fixture
def live_url(db: Any, settings: Any) -> Any:
    from coord.app.factory import create_app
    from tests.support.live_server import live_server

    with live_server(create_app(settings, engine=db.engine)) as url:
        yield url


def test_an_invitee_answers_the_poll_on_a_phone(agent, web, smtp_sink, live_url):
    from coord.polls import service
    from tests.support.seeded_site import chromium

    ensure_axe()
    seed, meeting = _draft(agent)
    base = f"/d/34/reunions/{meeting['id']}"
    slots = [(_day(30), "09:30", 120), (_day(33), "14:00", 90), (_day(35), "10:00", 60)]
    created = web.post(f"{base}/sondage/nouveau", _form(slots, _day(10)), follow_redirects=False)
    assert created.status_code == 303, created.text
    _deliver(smtp_sink)
    invitee = seed["contacts"][0]["email"]
    token = _links(smtp_sink)[invitee]

    wanted = ["Oui", "Si besoin", "Non"]
    with chromium() as browser, axe_context(browser, width=PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_url}/r/sondage/{token}")
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE, widest_elements(page)
        violations = run_axe(page, PHONE)
        assert not violations, summarise(violations)

        groups = page.locator("form fieldset")
        assert groups.count() == len(slots)
        for n, label in enumerate(wanted):
            # DSFR draws the radio on its label: the label is what a thumb taps.
            groups.nth(n).get_by_label(label, exact=True).check(force=True)
        page.get_by_label("Commentaire (facultatif)").fill("Je viendrai avec mon adjoint.")
        page.get_by_role("button", name="Enregistrer mes réponses").click()
        page.wait_for_selector(".fr-alert--success")
        assert "vos réponses sont enregistrées" in page.locator(".fr-alert--success").inner_text()
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE, widest_elements(page)
        violations = run_axe(page, PHONE)
        assert not violations, summarise(violations)

    person = run(service.participant_of(token))
    assert person["answered_at"] is not None and person["comment"] == "Je viendrai avec mon adjoint."
    view = run(service.answer_view(person))
    assert [view["mine"][s["id"]] for s in view["slots"]] == ["yes", "maybe", "no"]
