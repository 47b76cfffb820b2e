"""Agenda editing and reordering, the overrun warning, and the invitee list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run
from tests.meetings.test_meetings_api import ensure_meeting_routes, local_in, new_meeting, seed_committee


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


def test_agenda_add_edit_reorder_delete_and_overrun(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20), minutes=120).json()
    url = f"/api/meetings/{meeting['id']}/agenda"
    agenda = api.get(url).json()
    assert (agenda["agenda_minutes"], agenda["meeting_minutes"], agenda["overrun"]) == (105, 120, False)

    response = api.post(
        url,
        json={"title": "Mineurs victimes de traite : point du parquet", "presenter": "Parquet", "duration_minutes": 30},
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["position"] == 8
    agenda = api.get(url).json()
    assert (agenda["agenda_minutes"], agenda["overrun"]) == (135, True)

    moved = api.post(f"{url}/{added['id']}/move", json={"direction": "up"}).json()
    titles = [i["title"] for i in moved["items"]]
    assert titles[6] == "Mineurs victimes de traite : point du parquet"
    assert titles[7] == "Date de la prochaine réunion"
    assert [i["position"] for i in moved["items"]] == list(range(1, 9))
    first_id = moved["items"][0]["id"]
    unchanged = api.post(f"{url}/{first_id}/move", json={"direction": "up"}).json()
    assert unchanged["items"][0]["id"] == first_id
    assert api.post(f"{url}/{first_id}/move", json={"direction": "sideways"}).status_code == 422

    response = api.patch(f"{url}/{added['id']}", json={"duration_minutes": 10})
    assert response.status_code == 200 and response.json()["duration_minutes"] == 10
    assert api.get(url).json()["overrun"] is False
    assert api.patch(f"{url}/{added['id']}", json={"duration_minutes": -5}).status_code == 422

    assert api.delete(f"{url}/{first_id}").status_code == 204
    items = api.get(url).json()["items"]
    assert [i["position"] for i in items] == list(range(1, 8))
    assert items[0]["title"] == "Approbation du compte rendu précédent"


def test_agenda_item_validation_and_measure_link(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    url = f"/api/meetings/{meeting['id']}/agenda"
    response = api.post(url, json={"title": "", "duration_minutes": -1, "measure": 999999})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"title", "duration_minutes", "measure"}
    from coord.plans.tables import Measure

    measure = run(Measure.select(Measure.id).where(Measure.number == 22).first())
    response = api.post(url, json={"title": "Mesure 22", "measure": measure["id"]})
    assert response.status_code == 201, response.text
    assert "mesure 22" in response.json()["measure_label"]
    other = new_meeting(api, seed["committee"]["id"], local_in(21)).json()
    item_id = response.json()["id"]
    assert api.patch(f"/api/meetings/{other['id']}/agenda/{item_id}", json={"title": "x"}).status_code == 404


def test_invite_a_contact_and_all_members_and_count_answers(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    url = f"/api/meetings/{meeting['id']}/invitations"
    guest = api.post(
        "/api/contacts",
        json={
            "organisation": seed["organisation"]["id"],
            "first_name": "Invitée",
            "last_name": "Extérieure",
            "email": "guest@example.gouv.fr",
        },
    ).json()
    response = api.post(url, json={"contact": guest["id"], "role": "optional"})
    assert response.status_code == 201, response.text
    assert response.json()[0]["role"] == "optional" and response.json()[0]["voting"] is False
    response = api.post(url, json={"contact": guest["id"], "role": "optional"})
    assert response.status_code == 422 and "déjà invité" in response.json()["errors"]["contact"]
    assert api.post(url, json={"all_members": True}).json() == []
    listing = api.get(url).json()
    assert len(listing["items"]) == 3
    assert listing["counts"] == {"accepted": 0, "declined": 0, "tentative": 0, "delegated": 0, "needs_action": 3}
    response = api.post(url, json={"contact": guest["id"], "role": "patron"})
    assert response.status_code == 422 and "Valeur inconnue" in response.json()["errors"]["role"]

    other = api_as("prefecture", "93")
    org93 = other.post("/api/organisations", json={"name": "Parquet de Bobigny", "kind": "parquet"}).json()
    c93 = other.post(
        "/api/contacts",
        json={"organisation": org93["id"], "first_name": "A", "last_name": "B", "email": "a.b@justice.fr"},
    ).json()
    response = api.post(url, json={"contact": c93["id"]})
    assert response.status_code == 422 and "autre département" in response.json()["errors"]["contact"]


def test_removing_an_invitee_before_and_after_the_convocation(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=3)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    url = f"/api/meetings/{meeting['id']}/invitations"
    items = api.get(url).json()["items"]
    assert api.delete(f"{url}/{items[-1]['id']}").status_code == 204
    assert len(api.get(url).json()["items"]) == 2  # a draft: the row is gone

    assert api.post(f"/api/meetings/{meeting['id']}/convene").status_code == 200
    removed = api.get(url).json()["items"][-1]
    assert api.delete(f"{url}/{removed['id']}").status_code == 204
    assert [i["id"] for i in api.get(url).json()["items"]] != [removed["id"]]
    assert len(api.get(url).json()["items"]) == 1
    # The row is kept with removed_at (the CANCEL sent to them refers to it) and cannot be removed twice.
    assert api.delete(f"{url}/{removed['id']}").status_code == 404
    # Invited again: the same invitation comes back.
    response = api.post(url, json={"contact": removed["contact"], "role": "required"})
    assert response.status_code == 201 and response.json()[0]["id"] == removed["id"]


def test_role_change_through_patch(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    meeting = new_meeting(api, seed["committee"]["id"], local_in(20)).json()
    url = f"/api/meetings/{meeting['id']}/invitations"
    invitation = api.get(url).json()["items"][-1]
    response = api.patch(f"{url}/{invitation['id']}", json={"role": "info"})
    assert response.status_code == 200 and response.json()["role"] == "info"
    assert api.patch(f"{url}/{invitation['id']}", json={}).status_code == 422
    # Attendance before the meeting's day is refused with a clear message.
    response = api.patch(f"{url}/{invitation['id']}", json={"attendance": "present"})
    assert response.status_code == 409 and "jour de la réunion" in response.json()["detail"]
