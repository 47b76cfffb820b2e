"""After the meeting: attendance, mandates, quorum, convening again, minutes and decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coord.core.clock import FrozenClock
from tests.meetings.test_meetings_api import ensure_meeting_routes, local_in, new_meeting, seed_committee


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    from coord.core.clock import use_clock

    frozen = FrozenClock(dt.datetime.now(dt.UTC))
    use_clock(frozen)
    yield frozen
    use_clock(None)


def held_meeting(api: Any, clock: FrozenClock, members: int = 4) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A convened meeting of `members` voting members, the clock set one hour after its start."""
    seed = seed_committee(api, members=members)
    start = local_in(20)
    meeting = new_meeting(api, seed["committee"]["id"], start).json()
    assert api.post(f"/api/meetings/{meeting['id']}/convene").status_code == 200
    clock.set(start.replace(tzinfo=ZoneInfo("Europe/Paris")) + dt.timedelta(hours=1))
    invitations = api.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    return meeting, invitations


def mark(api: Any, meeting_id: int, invitation_id: int, **body: Any) -> Any:
    return api.patch(f"/api/meetings/{meeting_id}/invitations/{invitation_id}", json=body)


def test_quorum_reached_with_a_mandate(api_as, clock):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=4)
    mid = meeting["id"]
    assert mark(api, mid, inv[0]["id"], attendance="present").status_code == 200
    state = api.get(f"/api/meetings/{mid}/invitations").json()["quorum"]
    assert (state["voting_members"], state["present"], state["needed"], state["reached"]) == (4, 1, 2, False)
    response = mark(api, mid, inv[1]["id"], attendance="represented", represented_by=inv[0]["id"])
    assert response.status_code == 200, response.text
    assert response.json()["represented_by"] == inv[0]["id"]
    state = api.get(f"/api/meetings/{mid}/invitations").json()["quorum"]
    assert (state["present"], state["represented"], state["reached"]) == (1, 1, True)
    assert api.post(f"/api/meetings/{mid}/reconvene").status_code == 409


def test_one_mandate_per_member_and_the_holder_must_attend(api_as, clock):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=4)
    mid = meeting["id"]
    response = mark(api, mid, inv[1]["id"], attendance="represented", represented_by=inv[0]["id"])
    assert response.status_code == 422
    assert "doit être présent" in next(iter(response.json()["errors"].values()))
    mark(api, mid, inv[0]["id"], attendance="video")
    assert mark(api, mid, inv[1]["id"], attendance="represented", represented_by=inv[0]["id"]).status_code == 200
    response = mark(api, mid, inv[2]["id"], attendance="represented", represented_by=inv[0]["id"])
    assert response.status_code == 422
    assert "un seul mandat" in response.json()["errors"][f"attendance_{inv[2]['id']}"]
    response = mark(api, mid, inv[2]["id"], attendance="represented", represented_by=inv[2]["id"])
    assert response.status_code == 422
    response = mark(api, mid, inv[2]["id"], attendance="represented")
    assert response.status_code == 422 and "mandat" in response.json()["errors"][f"attendance_{inv[2]['id']}"]
    assert mark(api, mid, inv[2]["id"], attendance="somnolent").status_code == 422
    assert mark(api, mid, inv[2]["id"], attendance="excused").status_code == 200


def test_without_quorum_the_meeting_is_convened_again_on_the_same_agenda(api_as, clock):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=4)
    mid = meeting["id"]
    api.post(f"/api/meetings/{mid}/agenda", json={"title": "Convention mineurs", "duration_minutes": 15})
    mark(api, mid, inv[0]["id"], attendance="present")
    for other in inv[1:]:
        mark(api, mid, other["id"], attendance="absent")
    state = api.get(f"/api/meetings/{mid}/invitations").json()["quorum"]
    assert state["reached"] is False
    assert api.post(f"/api/meetings/{mid}/held").json()["status"] == "held"

    response = api.post(f"/api/meetings/{mid}/reconvene")
    assert response.status_code == 201, response.text
    again = response.json()
    # Created and convened in one step (the convocation itself: tests/meetings/test_reconvene_and_quorum.py).
    assert again["status"] == "convened" and again["reconvened_from"] == mid and again["quorum_required"] is False
    assert again["uid"] != meeting["uid"]
    assert again["local_start"][11:16] == meeting["local_start"][11:16]
    old_agenda = [(i["title"], i["duration_minutes"]) for i in api.get(f"/api/meetings/{mid}/agenda").json()["items"]]
    new_agenda = [
        (i["title"], i["duration_minutes"]) for i in api.get(f"/api/meetings/{again['id']}/agenda").json()["items"]
    ]
    assert new_agenda == old_agenda and ("Convention mineurs", 15) in new_agenda
    new_invitations = api.get(f"/api/meetings/{again['id']}/invitations").json()
    assert sorted(i["contact"] for i in new_invitations["items"]) == sorted(i["contact"] for i in inv)
    assert all(i["attendance"] == "unknown" and i["answer"] == "needs_action" for i in new_invitations["items"])
    assert new_invitations["quorum"]["reached"] is True  # no quorum required


def test_removing_a_mandate_holder_lapses_the_mandate(api_as, clock):
    api = api_as("prefecture", "34")
    meeting, inv = held_meeting(api, clock, members=3)
    mid = meeting["id"]
    mark(api, mid, inv[0]["id"], attendance="present")
    mark(api, mid, inv[1]["id"], attendance="represented", represented_by=inv[0]["id"])
    assert api.delete(f"/api/meetings/{mid}/invitations/{inv[0]['id']}").status_code == 204
    items = {i["id"]: i for i in api.get(f"/api/meetings/{mid}/invitations").json()["items"]}
    assert items[inv[1]["id"]]["represented_by"] is None


def test_minutes_decisions_and_publication(api_as, clock):
    api = api_as("prefecture", "34")
    meeting, _ = held_meeting(api, clock, members=2)
    mid = meeting["id"]
    base = f"/api/meetings/{mid}"
    version = api.get(base).json()["meeting"]["version"]
    assert api.post(f"{base}/minutes/publish").status_code == 422  # empty minutes
    response = api.put(
        f"{base}/minutes", json={"minutes": "Le comité a examiné les données agrégées.", "version": version}
    )
    assert response.status_code == 200, response.text
    assert api.put(f"{base}/minutes", json={"minutes": "Écrasement", "version": version}).status_code == 409
    for text in ("Adopter le plan d'action 2027.", "Signer la convention mineurs.", "Former les agents."):
        assert api.post(f"{base}/decisions", json={"text": text}).status_code == 201
    decisions = api.get(f"{base}/decisions").json()
    assert [d["position"] for d in decisions] == [1, 2, 3]
    response = api.patch(f"{base}/decisions/{decisions[1]['id']}", json={"text": "Signer la convention (avenant)."})
    assert response.status_code == 200 and response.json()["text"] == "Signer la convention (avenant)."
    assert api.delete(f"{base}/decisions/{decisions[0]['id']}").status_code == 204
    assert [d["position"] for d in api.get(f"{base}/decisions").json()] == [1, 2]
    assert api.post(f"{base}/decisions", json={"text": ""}).status_code == 422

    published = api.post(f"{base}/minutes/publish").json()
    assert published["minutes_published_at"] and published["status"] == "held"
    assert published["minutes"] == "Le comité a examiné les données agrégées."


def test_minutes_are_refused_before_the_meeting(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    response = api.post(f"/api/meetings/{meeting['id']}/decisions", json={"text": "Trop tôt"})
    assert response.status_code == 409 and "commencée" in response.json()["detail"]
    assert api.post(f"/api/meetings/{meeting['id']}/held").status_code == 409
