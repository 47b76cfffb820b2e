"""The quorum on the attendance sheet, convening again without quorum in one step (with the legal
mention of R.133-10 CRPA), and attendance recorded from the meeting's day in the département's zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coord.core.clock import FrozenClock
from tests.conftest import run
from tests.meetings.test_mail_convocations import _calendar, _deliver
from tests.meetings.test_mail_golden import outbox_rows, seed_meeting_async
from tests.meetings.test_minutes_delivered import agent, clock, held_meeting, mark, pdf_text, plain

__all__ = ["agent", "clock"]  # fixtures shared with the minutes' tests

NO_QUORUM = "la commission délibère valablement sans condition de quorum"


def quorum_row(html: str, label: str) -> str:
    """The value of one row of the printed sheet's quorum table."""
    start = html.index(f'<th scope="row">{label}</th><td>') + len(f'<th scope="row">{label}</th><td>')
    return html[start : html.index("</td>", start)]


def without_quorum(api: Any, clock: FrozenClock, weekday: int | None = None) -> tuple[dict[str, Any], list[Any]]:
    """A held meeting of four voting members where only the chair came."""
    meeting, inv = held_meeting(api, clock, members=4, weekday=weekday)
    mark(api, meeting["id"], inv[0]["id"], attendance="present")
    for other in inv[1:]:
        mark(api, meeting["id"], other["id"], attendance="absent")
    assert api.post(f"/api/meetings/{meeting['id']}/held").status_code == 200
    return meeting, inv


def test_the_attendance_sheet_shows_the_quorum(web, agent, clock):
    meeting, inv = held_meeting(agent, clock, members=4)
    sheet = f"/d/34/reunions/{meeting['id']}/imprimer/emargement"

    before = web.get(sheet).text  # printed before the meeting, to be signed
    assert quorum_row(before, "Membres votants") == "4"
    assert quorum_row(before, "Quorum requis").startswith("2 présent(s) ou représenté(s)")
    assert quorum_row(before, "Quorum") == "à constater en séance (présences non encore enregistrées)"

    mark(agent, meeting["id"], inv[0]["id"], attendance="video")
    mark(agent, meeting["id"], inv[1]["id"], attendance="represented", represented_by=inv[0]["id"])
    reached = web.get(sheet).text
    assert quorum_row(reached, "Présents") == "1 (sur place ou en visioconférence)"
    assert quorum_row(reached, "Représentés") == "1 (par mandat)"
    assert quorum_row(reached, "Quorum") == "atteint (2 présent(s) ou représenté(s) pour 2 requis)"
    text = pdf_text(web.get(f"{sheet}.pdf").content)
    assert "Membres votants : 4" in text and "Quorum : atteint (2 présent(s) ou représenté(s) pour 2 requis)" in text

    mark(agent, meeting["id"], inv[1]["id"], attendance="absent")
    assert quorum_row(web.get(sheet).text, "Quorum") == "non atteint (1 présent(s) ou représenté(s) pour 2 requis)"
    text = pdf_text(web.get(f"{sheet}.pdf").content)
    assert "Quorum : non atteint (1 présent(s) ou représenté(s) pour 2 requis)" in text


def test_without_quorum_the_new_meeting_is_created_and_convened_in_one_step(web, agent, clock, smtp_sink):
    from coord.territory.working_days import is_working_day

    meeting, inv = without_quorum(agent, clock, weekday=4)  # a Friday: fifteen days later is a Saturday
    _deliver(smtp_sink)
    smtp_sink.clear()

    response = agent.post(f"/api/meetings/{meeting['id']}/reconvene")
    assert response.status_code == 201, response.text
    again = response.json()
    assert again["status"] == "convened" and again["convened_at"]
    assert again["reconvened_from"] == meeting["id"] and again["quorum_required"] is False
    start, first = dt.datetime.fromisoformat(again["local_start"]), dt.datetime.fromisoformat(meeting["local_start"])
    assert start.time() == first.time() and start.date() - first.date() >= dt.timedelta(days=15)
    assert is_working_day(start.date(), None)  # moved off the weekend

    assert _deliver(smtp_sink).sent == 4
    assert sorted(r for env in smtp_sink.envelopes for r in env.rcpt_tos) == sorted(i["email"] for i in inv)
    for message in smtp_sink.messages:
        assert message["Subject"].startswith("Convocation : Réunion annuelle TEH (nouvelle convocation) – ")
        body = " ".join(plain(message).split())
        assert "NOUVELLE CONVOCATION FAUTE DE QUORUM" in body and "aucun quorum ne sera exigé" in body
        assert "R.133-10 du code des relations entre le public et l'administration" in body and NO_QUORUM in body
        html = message.get_body(preferencelist=("html",))
        assert html is not None and NO_QUORUM in html.get_content()
        assert _calendar(message)[1] == "REQUEST"

    printed = f"/d/34/reunions/{again['id']}/imprimer/convocation"
    assert NO_QUORUM in web.get(printed).text
    assert NO_QUORUM in pdf_text(web.get(f"{printed}.pdf").content)
    sheet = web.get(f"/d/34/reunions/{again['id']}/imprimer/emargement").text
    assert quorum_row(sheet, "Quorum") == "non exigé"

    # Asking again (a second click, a retry) convenes nobody twice.
    response = agent.post(f"/api/meetings/{meeting['id']}/reconvene")
    assert response.status_code == 409 and "déjà été convoquée à nouveau" in response.json()["detail"]
    assert _deliver(smtp_sink).sent == 0


def test_reconvening_keeps_the_five_day_lead_of_a_convocation(agent, clock, smtp_sink):
    meeting, _ = without_quorum(agent, clock)
    before = len(outbox_rows(kind="convocation"))
    soon = dt.datetime.fromisoformat(meeting["local_start"]).replace(tzinfo=None) + dt.timedelta(days=3)

    response = agent.post(
        f"/api/meetings/{meeting['id']}/reconvene",
        json={"starts_at": soon.isoformat(), "ends_at": (soon + dt.timedelta(hours=2)).isoformat()},
    )

    assert response.status_code == 422
    assert "au moins cinq jours avant la réunion" in response.json()["errors"]["starts_at"]
    assert len(outbox_rows(kind="convocation")) == before  # nothing sent
    titles = [m["title"] for m in agent.get("/api/meetings", params={"department": "34"}).json()["items"]]
    assert titles == ["Réunion annuelle TEH"]  # and no draft left behind
    response = agent.post(f"/api/meetings/{meeting['id']}/reconvene")
    assert response.status_code == 201 and response.json()["status"] == "convened"


@pytest.mark.parametrize(
    ("code", "local_start", "midnight_utc"),
    [
        # Guyane, UTC−3: the meeting's day begins at 03:00 UTC, when Paris is already on that day.
        ("973", dt.datetime(2027, 1, 12, 9, 30), dt.datetime(2027, 1, 12, 3, 0, tzinfo=dt.UTC)),
        # La Réunion, UTC+4: it begins at 20:00 UTC the day before, when Paris is still on the eve.
        ("974", dt.datetime(2027, 1, 12, 9, 30), dt.datetime(2027, 1, 11, 20, 0, tzinfo=dt.UTC)),
        # Paris, the day summer time starts: midnight is still UTC+1, the meeting is at UTC+2.
        ("34", dt.datetime(2027, 3, 28, 9, 30), dt.datetime(2027, 3, 27, 23, 0, tzinfo=dt.UTC)),
        # Paris, the day summer time ends: midnight is still UTC+2, the meeting is at UTC+1.
        ("34", dt.datetime(2027, 10, 31, 9, 30), dt.datetime(2027, 10, 30, 22, 0, tzinfo=dt.UTC)),
    ],
    ids=["guyane", "la-reunion", "paris-summer-time-starts", "paris-summer-time-ends"],
)
def test_attendance_opens_at_midnight_of_the_meeting_day_in_the_departement_zone(
    api_as, clock, code, local_start, midnight_utc
):
    api = api_as("prefecture", code)
    meeting = run(seed_meeting_async(code=code, start=local_start, status="convened"))
    zone = ZoneInfo(meeting["department"]["timezone"])
    assert dt.datetime.combine(local_start.date(), dt.time(0), tzinfo=zone) == midnight_utc
    url = f"/api/meetings/{meeting['id']}/invitations/{meeting['invitations'][0]['id']}"

    clock.set(midnight_utc - dt.timedelta(seconds=1))  # 23:59:59 local the day before
    response = api.patch(url, json={"attendance": "present"})
    assert response.status_code == 409
    assert "à partir du jour de la réunion" in response.json()["detail"]

    clock.set(midnight_utc)  # 00:00 local, hours before the meeting starts
    response = api.patch(url, json={"attendance": "present"})
    assert response.status_code == 200, response.text
    assert response.json()["attendance"] == "present"
