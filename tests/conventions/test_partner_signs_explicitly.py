"""A partner signing a convention from their link reads its text and parties, ticks « J'ai lu la
convention et je la signe au nom de … » and gives the day they signed: nothing is pre-filled, and a
day in the future or before the convention existed is refused."""

from __future__ import annotations

import datetime as dt
import html
import re

from coord.conventions import service
from coord.conventions.tables import Convention
from coord.core import clock
from tests.conftest import run
from tests.conventions.support import link_from_mail as _link_from_mail
from tests.conventions.support import minors_convention as _minors_convention

UTC = dt.UTC


def _requested(herault) -> tuple[dict, dict, str]:
    convention, signatories = _minors_convention(herault)
    run(
        Convention.update({Convention.notes: "Article 1 : repérage des mineurs.\nArticle 2 : mise à l'abri."}).where(
            Convention.id == convention["id"]
        )
    )
    first = signatories[0]
    run(service.send_request(herault.scope, convention["id"], first["id"], now=dt.datetime.now(UTC)))
    return convention, first, _link_from_mail(first["id"])


def test_the_page_shows_the_convention_and_prefills_nothing(client, herault):
    _, first, token = _requested(herault)
    page = html.unescape(client.get(f"/r/signature/{token}").text)
    assert "Parties signataires" in page and f"{first['organisation_name']} (votre organisation)" in page
    assert "Article 1 : repérage des mineurs." in page and "Article 2 : mise à l'abri." in page
    assert "J'ai lu la convention et je la signe au nom" in page
    date_input = re.search(r'<input[^>]*name="signed_on"[^>]*>', page).group(0)
    assert 'value=""' in date_input and "max=" in date_input and "min=" in date_input
    assert 'name="confirm"' in page and "checked" not in re.search(r'<input[^>]*name="confirm"[^>]*>', page).group(0)


def test_signing_needs_the_box_ticked_and_a_date(client, herault):
    convention, first, token = _requested(herault)
    response = client.post(f"/r/signature/{token}", data={})
    text = html.unescape(response.text)
    assert response.status_code == 422
    assert "Cochez la case pour confirmer que vous avez lu la convention et que vous la signez." in text
    assert "Indiquez la date à laquelle vous avez signé." in text
    assert run(service.get_signatory(herault.scope, convention["id"], first["id"]))["status"] == "sent"


def test_a_date_in_the_future_or_before_the_convention_is_refused(client, herault):
    convention, first, token = _requested(herault)
    today = clock.local_today("Europe/Paris")
    future = client.post(
        f"/r/signature/{token}", data={"signed_on": (today + dt.timedelta(days=1)).isoformat(), "confirm": "1"}
    )
    assert future.status_code == 422 and "postérieure à aujourd'hui" in html.unescape(future.text)
    before = client.post(f"/r/signature/{token}", data={"signed_on": "2020-05-04", "confirm": "1"})
    text = html.unescape(before.text)
    assert before.status_code == 422
    assert f"ne peut pas précéder la création de la convention (le {today:%d/%m/%Y})" in text
    assert 'value="2020-05-04"' in text and 'name="confirm" value="1" required aria-required="true" checked' in text
    assert run(service.get_signatory(herault.scope, convention["id"], first["id"]))["status"] == "sent"


def test_the_signature_is_recorded_on_the_chosen_day(client, herault):
    convention, first, token = _requested(herault)
    today = clock.local_today("Europe/Paris")
    done = client.post(f"/r/signature/{token}", data={"signed_on": today.isoformat(), "confirm": "1"})
    assert done.status_code == 200 and "est enregistrée" in html.unescape(done.text)
    signed = run(service.get_signatory(herault.scope, convention["id"], first["id"]))
    assert signed["status"] == "signed" and signed["signed_on"] == today
