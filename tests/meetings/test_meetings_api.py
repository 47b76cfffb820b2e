"""Meetings through the JSON API: creation, local times, optimistic locking, convocation rules."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest


def ensure_meeting_routes(app: Any) -> Any:
    """Until `coord.app.routes` lists the meetings routes, register them on the test app."""
    from coord.meetings import api, pages

    if not any(route.path.startswith("/api/meetings") for route in app.routes):
        for handler in (*api.ROUTES, *pages.ROUTES):
            app.register(handler)
    return app


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


def seed_committee(api: Any, members: int = 3, president: bool = True) -> dict[str, Any]:
    org = api.post("/api/organisations", json={"name": "Préfecture", "kind": "prefecture"}).json()
    contacts = []
    for i in range(members):
        contacts.append(
            api.post(
                "/api/contacts",
                json={
                    "organisation": org["id"],
                    "first_name": f"Prénom{i}",
                    "last_name": f"Nom{i}",
                    "email": f"membre{i}@example.gouv.fr",
                },
            ).json()
        )
    committee = api.post("/api/committees", json={"name": "CDPD plénière", "kind": "cdpd_pleniere"}).json()
    for i, contact in enumerate(contacts):
        role = "president" if i == 0 and president else "membre"
        response = api.post(f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": role})
        assert response.status_code == 201, response.text
    return {"organisation": org, "contacts": contacts, "committee": committee}


def local_in(days: int, hour: int = 9, minute: int = 30, tz: str = "Europe/Paris") -> dt.datetime:
    day = dt.datetime.now(ZoneInfo(tz)).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute))


def local_working_in(days: int, code: str = "34", hour: int = 9, minute: int = 30) -> dt.datetime:
    """The first working day of the département at least `days` from today: a date a move can take unconfirmed."""
    from coord.territory.working_days import is_working_day, next_working_day

    start = local_in(days, hour, minute)
    day = start.date() if is_working_day(start.date(), code) else next_working_day(start.date(), code)
    return dt.datetime.combine(day, start.time())


def new_meeting(api: Any, committee_id: int, start: dt.datetime, minutes: int = 120, **extra: Any) -> Any:
    body = {
        "committee": committee_id,
        "title": "Réunion annuelle TEH",
        "kind": "annuelle_teh",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(minutes=minutes)).isoformat(),
        "place": "Préfecture, salle des commissions",
        # Days counted from today may fall on a weekend: tests of that rule pass confirm_day=False.
        "confirm_day": True,
        **extra,
    }
    return api.post("/api/meetings", json=body)


def test_create_with_default_agenda_and_committee_members_invited(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    response = new_meeting(api, seed["committee"]["id"], local_in(20))
    assert response.status_code == 201, response.text
    meeting = response.json()
    assert meeting["status"] == "draft" and meeting["version"] == 1 and meeting["sequence"] == 0
    assert meeting["uid"].endswith("@prefecture.example.gouv.fr")
    assert meeting["organiser_email"] == "coord-test@prefecture.example.gouv.fr"
    assert meeting["kind_label"].startswith("Réunion annuelle de coordination TEH")

    detail = api.get(f"/api/meetings/{meeting['id']}").json()
    titles = [i["title"] for i in detail["agenda"]["items"]]
    assert titles[0] == "Ouverture" and titles[-1] == "Date de la prochaine réunion"
    assert "Données départementales (agrégées, jamais nominatives)" in titles
    assert [i["position"] for i in detail["agenda"]["items"]] == list(range(1, 8))
    roles = sorted(i["role"] for i in detail["invitations"])
    assert roles == ["chair", "required", "required"]
    assert detail["counts"]["needs_action"] == 3
    assert all(i["voting"] for i in detail["invitations"])


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        ("2026-10-26T09:30:00", "2026-10-26T08:30:00+00:00"),  # after the switch to winter time (UTC+1)
        ("2026-10-23T09:30:00", "2026-10-23T07:30:00+00:00"),  # still summer time (UTC+2)
    ],
)
def test_local_paris_time_is_stored_in_utc_across_dst(api_as, local, expected_utc):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    start = dt.datetime.fromisoformat(local)
    meeting = new_meeting(api, seed["committee"]["id"], start, minutes=60).json()
    assert dt.datetime.fromisoformat(meeting["starts_at"]) == dt.datetime.fromisoformat(expected_utc)
    assert meeting["local_start"].startswith(local)


def test_overseas_department_uses_its_own_zone(api_as):
    api = api_as("prefecture", "973")
    seed = seed_committee(api, members=1)
    meeting = new_meeting(api, seed["committee"]["id"], dt.datetime(2026, 10, 26, 9, 30)).json()
    assert meeting["timezone"] == "America/Cayenne"
    assert dt.datetime.fromisoformat(meeting["starts_at"]) == dt.datetime(2026, 10, 26, 12, 30, tzinfo=dt.UTC)
    assert meeting["local_start"].endswith("-03:00")
    # An explicit offset is taken as is.
    meeting = new_meeting(api, seed["committee"]["id"], dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)).json()
    assert meeting["local_start"].startswith("2026-11-02T11:00:00")


def test_a_time_skipped_by_dst_is_refused_in_french(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    response = new_meeting(api, seed["committee"]["id"], dt.datetime(2027, 3, 28, 2, 30))
    assert response.status_code == 422
    assert "heure d'été" in response.json()["errors"]["starts_at"]


def test_two_edits_with_the_same_version_the_second_gets_409(api_as):
    first, second = api_as("prefecture", "34"), api_as("prefecture", "34")
    seed = seed_committee(first)
    meeting = new_meeting(first, seed["committee"]["id"], local_in(30)).json()
    url = f"/api/meetings/{meeting['id']}"
    response = first.patch(url, json={"version": 1, "title": "Titre de la première"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    response = second.patch(url, json={"version": 1, "title": "Titre de la seconde"})
    assert response.status_code == 409
    assert "modifiée entre-temps par prefecture" in response.json()["detail"]
    assert first.get(url).json()["meeting"]["title"] == "Titre de la première"
    # Missing version: a clear 4xx.
    assert second.patch(url, json={"title": "Sans version"}).status_code == 400


def test_sequence_rises_with_each_change_mailed_and_answers_reset_only_on_time_or_place(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(30)).json()
    url = f"/api/meetings/{meeting['id']}"
    # Before the convocation nothing is mailed: the SEQUENCE stays.
    changed = api.patch(url, json={"version": 1, "title": "Autre titre"}).json()
    assert (changed["version"], changed["sequence"]) == (2, 0)
    start = local_in(31)
    moved = api.patch(
        url,
        json={
            "version": 2,
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,
        },
    ).json()
    assert (moved["version"], moved["sequence"]) == (3, 0)
    convened = api.post(f"{url}/convene", json={}).json()
    assert convened["status"] == "convened" and (convened["sequence"], convened["answers_sequence"]) == (1, 1)
    retitled = api.patch(url, json={"version": convened["version"], "title": "Titre définitif"}).json()
    assert (retitled["sequence"], retitled["answers_sequence"]) == (2, 1)  # answers kept
    placed = api.patch(url, json={"version": retitled["version"], "place": "Sous-préfecture de Béziers"}).json()
    assert (placed["sequence"], placed["answers_sequence"]) == (3, 3)  # asked again
    cancelled = api.post(f"{url}/cancel", json={"version": placed["version"]}).json()
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 4
    assert api.patch(url, json={"version": cancelled["version"], "title": "x"}).status_code == 409


def test_convocation_needs_five_days_unless_urgent(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(4)).json()
    url = f"/api/meetings/{meeting['id']}"
    response = api.post(f"{url}/convene")
    assert response.status_code == 422
    assert "cinq jours" in response.json()["errors"]["starts_at"]
    assert api.get(url).json()["meeting"]["status"] == "draft"
    response = api.post(f"{url}/convene", json={"urgent": True})
    assert response.status_code == 422 and "motif" in response.json()["errors"]["urgency_reason"]
    response = api.post(f"{url}/convene", json={"urgent": True, "urgency_reason": "Arrêté préfectoral à prendre"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "convened" and response.json()["urgent"] is True
    assert response.json()["urgency_reason"] == "Arrêté préfectoral à prendre"
    assert response.json()["convened_at"]
    assert api.post(f"{url}/convene").status_code == 409


def test_convocation_without_invitees_is_refused(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=0)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    response = api.post(f"/api/meetings/{meeting['id']}/convene")
    assert response.status_code == 422
    assert "Aucun invité" in response.json()["errors"]["invitations"]


def test_only_drafts_can_be_deleted(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api)
    draft = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    convened = new_meeting(api, seed["committee"]["id"], local_in(21)).json()
    api.post(f"/api/meetings/{convened['id']}/convene")
    assert api.delete(f"/api/meetings/{convened['id']}").status_code == 409
    assert api.delete(f"/api/meetings/{draft['id']}").status_code == 204
    assert api.get(f"/api/meetings/{draft['id']}").status_code == 404


def test_list_filters_and_paginates(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    for days in (10, 20, 40):
        new_meeting(api, seed["committee"]["id"], local_in(days))
    listing = api.get("/api/meetings", params={"department": "34", "per_page": 2}).json()
    assert (listing["total"], listing["pages"], len(listing["items"])) == (3, 2, 2)
    frm = local_in(15).date().isoformat()
    to = local_in(30).date().isoformat()
    assert api.get("/api/meetings", params={"from": frm, "to": to}).json()["total"] == 1
    assert api.get("/api/meetings", params={"status": "convened"}).json()["total"] == 0
    assert api.get("/api/meetings", params={"committee": seed["committee"]["id"]}).json()["total"] == 3
    assert api.get("/api/meetings", params={"status": "bidon"}).status_code == 422
    assert api.get("/api/meetings", params={"from": "hier"}).status_code == 422


def test_bad_input_gets_french_errors_never_500(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    committee = seed["committee"]["id"]
    response = api.post(
        "/api/meetings",
        json={
            "committee": committee,
            "title": "",
            "kind": "fete",
            "starts_at": "2026-13-45T10:00",
            "ends_at": "demain",
            "video_url": "http://visio.example.org/abc",
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) >= {"title", "kind", "starts_at", "ends_at", "video_url"}
    assert "https://" in errors["video_url"]
    start = local_in(20)
    response = new_meeting(api, committee, start, minutes=-30)
    assert response.status_code == 422 and "postérieure" in response.json()["errors"]["ends_at"]
    response = api.post(
        "/api/meetings",
        json={
            "committee": 999999,
            "title": "x",
            "starts_at": start.isoformat(),
            "ends_at": start.isoformat(),
            "place": "x",
        },
    )
    assert response.status_code == 422 and "Instance inconnue" in response.json()["errors"]["committee"]
    assert api.post("/api/meetings", json={"committee": "abc"}).status_code == 400
    assert api.post("/api/meetings", content=b"{oops", headers={"Content-Type": "application/json"}).status_code == 400
    response = new_meeting(api, committee, start, place="")
    assert response.status_code == 422 and "lieu" in response.json()["errors"]["place"]
    assert api.get("/api/meetings/424242").status_code == 404


def test_observers_read_but_cannot_change(api_as):
    agent = api_as("prefecture", "34")
    seed = seed_committee(agent)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(20)).json()
    observer = api_as("observer", "34")
    assert observer.get(f"/api/meetings/{meeting['id']}").status_code == 200
    assert observer.patch(f"/api/meetings/{meeting['id']}", json={"version": 1, "title": "x"}).status_code == 403
    assert observer.post(f"/api/meetings/{meeting['id']}/convene").status_code == 403
    assert new_meeting(observer, seed["committee"]["id"], local_in(20)).status_code == 403


def test_an_agent_of_93_cannot_see_or_touch_a_meeting_of_34(api_as):
    agent = api_as("prefecture", "34")
    seed = seed_committee(agent)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(20)).json()
    detail = agent.get(f"/api/meetings/{meeting['id']}").json()
    item_id = detail["agenda"]["items"][0]["id"]
    invitation_id = detail["invitations"][0]["id"]
    intruder = api_as("prefecture", "93")
    base = f"/api/meetings/{meeting['id']}"
    for method, url, body in [
        ("get", base, None),
        ("patch", base, {"version": 1, "title": "x"}),
        ("delete", base, None),
        ("post", f"{base}/convene", {}),
        ("post", f"{base}/cancel", {}),
        ("post", f"{base}/remind", None),
        ("get", f"{base}/agenda", None),
        ("post", f"{base}/agenda", {"title": "x"}),
        ("patch", f"{base}/agenda/{item_id}", {"title": "x"}),
        ("delete", f"{base}/agenda/{item_id}", None),
        ("post", f"{base}/agenda/{item_id}/move", {"direction": "up"}),
        ("get", f"{base}/invitations", None),
        ("delete", f"{base}/invitations/{invitation_id}", None),
        ("patch", f"{base}/invitations/{invitation_id}", {"role": "info"}),
        ("get", f"{base}/decisions", None),
        ("put", f"{base}/minutes", {"minutes": "x", "version": 1}),
    ]:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(intruder, method)(url, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)
    assert intruder.get("/api/meetings").json()["total"] == 0
    assert intruder.get("/api/meetings", params={"department": "34"}).status_code == 404
    # Nothing changed, and a 93 committee cannot be used for a 34 meeting or vice versa.
    assert agent.get(base).json()["meeting"]["title"] == "Réunion annuelle TEH"
    assert new_meeting(intruder, seed["committee"]["id"], local_in(20)).status_code == 422
