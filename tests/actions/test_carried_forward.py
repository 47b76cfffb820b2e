"""No item is forgotten between two meetings: the committee's open items appear in the next
meeting's agenda and in its convocation."""

from __future__ import annotations

import datetime as dt
import html

from tests.actions.support import due, seed
from tests.conftest import run


def test_the_next_meeting_lists_the_committee_open_items_in_its_agenda_and_convocation(
    api_as, web, make_user, smtp_sink
):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    api = api_as("prefecture", "34")
    world = seed(api)
    for member in (world["contact"], world["other"]):
        api.post(f"/api/committees/{world['committee']['id']}/members", json={"contact": member["id"]})
    items = api.post(
        f"/api/actions/from-decisions/{world['meeting']['id']}",
        json={
            "decisions": [d["id"] for d in world["decisions"]],
            "owner_contact": world["contact"]["id"],
            "due_on": due(30),
        },
    ).json()
    api.post(f"/api/actions/{items[1]['id']}/transition", json={"status": "fait"})  # closed: not carried

    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    following = api.post(
        "/api/meetings",
        json={
            "committee": world["committee"]["id"],
            "title": "Commission TEH de printemps",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # days counted from today may be a weekend
        },
    ).json()

    agent = make_user("prefecture", "34")
    web.login(agent.email)
    agenda_page = html.unescape(web.get(f"/d/34/reunions/{following['id']}").text)
    assert "Suivi des actions (1 en cours)" in agenda_page
    assert items[0]["title"] in agenda_page and items[1]["title"] not in agenda_page
    printable = html.unescape(web.get(f"/d/34/reunions/{following['id']}/imprimer/ordre-du-jour").text)
    assert "Suivi des actions (1 en cours)" in printable
    assert items[0]["title"] in printable and items[1]["title"] not in printable
    pdf = web.get(f"/d/34/reunions/{following['id']}/imprimer/ordre-du-jour.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    convened = api.post(f"/api/meetings/{following['id']}/convene", json={"version": following["version"]})
    assert convened.status_code in (200, 201), convened.text
    run(deliver_all_now(smtp_settings=SmtpSettings(port=smtp_sink.port)))
    assert smtp_sink.messages
    for message in smtp_sink.messages:
        text = message.get_body(preferencelist=("plain",)).get_content()
        html_body = message.get_body(preferencelist=("html",)).get_content()
        assert "SUIVI DES ACTIONS (1 en cours)" in text and items[0]["title"] in text
        assert items[1]["title"] not in text
        assert "Suivi des actions" in html_body


def test_items_of_the_meeting_itself_or_another_committee_are_not_carried(api_as):
    from coord.actions.carry import open_items_for

    api = api_as("prefecture", "34")
    world = seed(api)
    api.post(f"/api/actions/from-decisions/{world['meeting']['id']}", json={"decisions": [world["decisions"][0]["id"]]})
    other = api.post("/api/committees", json={"name": "CLAV", "kind": "clav"}).json()
    api.post("/api/actions", json={"title": "Action du CLAV", "committee": other["id"]})
    meeting = {
        "id": world["meeting"]["id"],
        "committee": world["committee"]["id"],
        "starts_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    }
    assert run(open_items_for(meeting)) == []
    later = {**meeting, "id": 0}
    assert [i["title"] for i in run(open_items_for(later))] == [world["decisions"][0]["text"]]
