"""The cycle pages and API as a prefecture agent and as the national coordinator see them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run
from tests.scheduling.support import seed_cdpd

JUNE = dt.datetime(2026, 6, 15, 8, tzinfo=dt.UTC)


@pytest.fixture
def june() -> Iterator[None]:
    """The pages read the process clock: mid-June 2026, the yearly meeting is still to plan."""
    from coord.core.clock import FrozenClock, use_clock

    use_clock(FrozenClock(JUNE))
    try:
        yield
    finally:
        use_clock(None)


def test_a_prefecture_agent_accepts_the_proposed_date_and_gets_a_draft_yearly_meeting(june, web, make_user, api_as):
    agent = make_user("prefecture", "75")
    seed_cdpd(api_as("prefecture", "75"), "75")
    web.login(agent.email)
    page = web.get("/d/75/cycle?annee=2026")
    assert page.status_code == 200
    assert "lundi 19 octobre 2026 à 09 h 30" in page.text and "Non planifiée" in page.text
    response = web.post(
        "/d/75/cycle/accepter",
        {"year": "2026", "committee_kind": "cdpd_pleniere", "slot": "0", "place": "Préfecture de police, salle 2"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    meeting_id = int(response.headers["location"].rsplit("/", 1)[-1])
    meeting = api_as("national", None).get(f"/api/meetings/{meeting_id}").json()["meeting"]
    assert meeting["kind"] == "annuelle_teh" and meeting["status"] == "draft"
    start = dt.datetime.fromisoformat(meeting["starts_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert (start.date(), start.time()) == (dt.date(2026, 10, 19), dt.time(9, 30))
    again = web.get("/d/75/cycle?annee=2026")
    assert "Date proposée" in again.text and f"/d/75/reunions/{meeting_id}" in again.text
    # A second acceptance finds the meeting already there.
    twice = web.post("/d/75/cycle/accepter", {"year": "2026", "committee_kind": "cdpd_pleniere", "place": "x"})
    assert twice.status_code == 422 and "existe déjà" in twice.text


def test_without_a_cdpd_committee_the_agent_is_told_to_create_it(june, web, make_user):
    agent = make_user("prefecture", "75")
    web.login(agent.email)
    response = web.post("/d/75/cycle/accepter", {"year": "2026", "committee_kind": "cdpd_pleniere", "place": "P"})
    assert response.status_code == 422 and "Créez d&#39;abord l&#39;instance" in response.text


def test_marking_and_unmarking_an_unavailable_day_from_the_page(june, web, make_user):
    agent = make_user("prefecture", "57")
    web.login(agent.email)
    response = web.post(
        "/d/57/cycle/indisponibilites", {"date": "2026-10-19", "reason": "Congrès"}, follow_redirects=True
    )
    assert response.status_code == 200 and "Congrès" in response.text
    assert "lundi 19 octobre 2026 à 09 h 30" not in response.text
    bad = web.post("/d/57/cycle/indisponibilites", {"date": "19/10/2026"})
    assert bad.status_code == 422 and "AAAA-MM-JJ" in bad.text
    response = web.post("/d/57/cycle/indisponibilites/retirer", {"date": "2026-10-19"}, follow_redirects=True)
    assert "Aucune date indisponible" in response.text


def test_an_observer_sees_the_cycle_but_cannot_act(june, web, make_user):
    observer = make_user("observer", "75")
    web.login(observer.email)
    assert "Retenir cette date" not in web.get("/d/75/cycle?annee=2026").text
    assert web.post("/d/75/cycle/indisponibilites", {"date": "2026-10-19"}).status_code == 403


def test_another_departments_cycle_is_not_found(june, web, make_user, api_as):
    intruder = make_user("prefecture", "93")
    web.login(intruder.email)
    assert web.get("/d/75/cycle").status_code == 404
    assert web.post("/d/75/cycle/indisponibilites", {"date": "2026-10-19"}).status_code == 404
    api = api_as("prefecture", "93")
    assert api.get("/api/departments/75/cycle").status_code == 404
    assert api.post("/api/departments/75/cycle/unavailable-dates", json={"date": "2026-10-19"}).status_code == 404
    own = api.get("/api/cycle").json()
    assert [row["department"] for row in own] == ["93"]


def test_the_national_table_filters_by_state_and_region_and_is_for_the_national_role(june, web, make_user, api_as):
    seed_cdpd(api_as("prefecture", "75"), "75")
    national = make_user("national", None)
    web.login(national.email)
    page = web.get("/cycle?annee=2026")
    assert page.status_code == 200 and page.text.count('href="/d/') >= 101
    idf = web.get("/cycle?annee=2026&region=11")
    assert "75 · Paris" in idf.text and "13 · Bouches-du-Rhône" not in idf.text
    api = api_as("national", None)
    rows = api.get("/api/cycle", params={"year": 2026}).json()
    assert len(rows) == 101 and {r["state"] for r in rows} == {"non_planifiee"}
    assert api.get("/api/cycle", params={"year": 2026, "state": "convoquee"}).json() == []
    assert api.get("/api/cycle", params={"state": "inconnu"}).status_code == 422
    late = api.get("/api/cycle", params={"year": 2025}).json()
    assert {r["state"] for r in late} == {"en_retard"}  # 2025 is over and no yearly meeting was held
    agent = make_user("prefecture", "75")
    other = type(web)(web.http)
    other.http.cookies.clear()
    other.login(agent.email)
    assert other.get("/cycle").status_code == 403


def test_the_national_table_shows_at_once_what_changed_since_the_last_look(june, api_as):
    """The table is cached for a while; a date the scheduler proposed (which no one audits) or a meeting
    an agent planned shows on the next look all the same."""
    from coord.app.jobs import run_tick

    seed_cdpd(api_as("prefecture", "75"), "75")
    national = api_as("national", None)

    def paris() -> dict:
        rows = national.get("/api/cycle", params={"year": 2026}).json()
        return next(r for r in rows if r["department"] == "75")

    assert not paris()["slots"][0]["proposal_stored"]
    run(run_tick(JUNE))
    assert paris()["slots"][0]["proposal_stored"]
    agent = api_as("prefecture", "75")
    accepted = agent.post(
        "/api/departments/75/cycle/accept", json={"year": 2026, "committee_kind": "cdpd_pleniere", "place": "Salle 2"}
    )
    assert accepted.status_code in (200, 201), accepted.text
    assert paris()["slots"][0]["meeting"]
