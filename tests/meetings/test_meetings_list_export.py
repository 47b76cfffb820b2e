"""An agent exports the meetings list as a French spreadsheet opens it: the filters of the list,
local times, the answers of the invitees; only the département's meetings."""

from __future__ import annotations

import csv
import io

from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    return list(csv.reader(io.StringIO(raw.decode("utf-8").lstrip("\ufeff")), delimiter=";"))


def test_the_export_follows_the_list_filters_with_local_times_and_answers(api_as, web, make_user):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    first = new_meeting(api, seed["committee"]["id"], local_in(10, hour=9, minute=30), title="=Séance ordinaire")
    assert first.status_code == 201, first.text
    second = new_meeting(api, seed["committee"]["id"], local_in(20, hour=14), title="Séance de suivi").json()
    convened = api.post(f"/api/meetings/{second['id']}/convene", json={"version": second["version"]})
    assert convened.status_code in (200, 201), convened.text
    web.login(make_user("observer", "34").email)
    listing = web.get("/d/34/reunions")
    assert 'href="/d/34/reunions/export.csv?' in listing.text or 'href="/d/34/reunions/export.csv"' in listing.text
    header, *rows = _csv(web.get("/d/34/reunions/export.csv"))
    assert header[:6] == ["N°", "Date", "Début", "Fin", "Fuseau horaire", "Intitulé"]
    assert [r[5] for r in rows] == ["'=Séance ordinaire", "Séance de suivi"]  # no formula runs
    assert rows[0][2:5] == ["09:30", "11:30", "Europe/Paris"]
    by_title = {r[5]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_title["Séance de suivi"]["Invités"] == "3" and by_title["Séance de suivi"]["Sans réponse"] == "3"
    convened_only = _csv(web.get("/d/34/reunions/export.csv", params={"statut": "convened"}))
    assert [r[5] for r in convened_only[1:]] == ["Séance de suivi"]
    assert _csv(web.get("/d/34/reunions/export.csv", params={"periode": "passees"}))[1:] == []


def test_another_department_exports_none_of_these_meetings(api_as, web, make_user):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    new_meeting(api, seed["committee"]["id"], local_in(10))
    web.login(make_user("prefecture", "93").email)
    assert _csv(web.get("/d/93/reunions/export.csv"))[1:] == []
    assert web.get("/d/34/reunions/export.csv").status_code in (403, 404)
