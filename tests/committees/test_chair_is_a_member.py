"""A committee's chair sits among its members, as its president: naming a chair seats them, and the
chair cannot be removed from the members or lose the presidency while they chair."""

from __future__ import annotations

import re
from typing import Any


def _contact(api: Any, last_name: str) -> int:
    orgs = api.get("/api/organisations", params={"q": "Préfecture"}).json()["items"]
    org_id = (
        orgs[0]["id"]
        if orgs
        else api.post("/api/organisations", json={"name": "Préfecture", "kind": "prefecture"}).json()["id"]
    )
    response = api.post(
        "/api/contacts",
        json={"organisation": org_id, "first_name": "Anne", "last_name": last_name, "email": f"{last_name}@x.gouv.fr"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _members(api: Any, committee_id: int) -> dict[int, str]:
    return {m["contact"]: m["role"] for m in api.get(f"/api/committees/{committee_id}/members").json()}


def test_naming_a_chair_at_creation_seats_them_as_president(api_as):
    api = api_as("prefecture", "34")
    chair = _contact(api, "martin")
    committee = api.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere", "chair": chair}).json()
    assert _members(api, committee["id"]) == {chair: "president"}
    assert api.get(f"/api/committees/{committee['id']}").json()["member_count"] == 1


def test_a_new_chair_is_seated_and_the_former_one_stays_a_member(api_as):
    api = api_as("prefecture", "34")
    first, second = _contact(api, "martin"), _contact(api, "durand")
    committee = api.post("/api/committees", json={"name": "CLAV", "kind": "clav", "chair": first}).json()
    api.post(f"/api/committees/{committee['id']}/members", json={"contact": second, "role": "suppleant"})
    changed = api.patch(f"/api/committees/{committee['id']}", json={"chair": second})
    assert changed.status_code == 200, changed.text
    assert _members(api, committee["id"]) == {first: "membre", second: "president"}
    api.patch(f"/api/committees/{committee['id']}", json={"chair": None})
    assert _members(api, committee["id"]) == {first: "membre", second: "membre"}


def test_the_chair_cannot_be_removed_nor_demoted_while_chairing(api_as):
    api = api_as("prefecture", "34")
    chair, other = _contact(api, "martin"), _contact(api, "durand")
    committee = api.post("/api/committees", json={"name": "CODAF", "kind": "codaf", "chair": chair}).json()
    seat = next(m for m in api.get(f"/api/committees/{committee['id']}/members").json() if m["contact"] == chair)
    removed = api.delete(f"/api/committees/{committee['id']}/members/{seat['id']}")
    assert removed.status_code == 422
    assert "préside l'instance" in removed.json()["errors"]["member"]
    demoted = api.patch(f"/api/committees/{committee['id']}/members/{seat['id']}", json={"role": "membre"})
    assert demoted.status_code == 422 and "préside l'instance" in demoted.json()["errors"]["role"]
    second_president = api.post(
        f"/api/committees/{committee['id']}/members", json={"contact": other, "role": "president"}
    )
    assert second_president.status_code == 422
    assert "déjà un président" in second_president.json()["errors"]["role"]
    assert _members(api, committee["id"]) == {chair: "president"}


def test_making_a_member_president_of_a_committee_without_chair_names_them_chair(api_as):
    api = api_as("prefecture", "34")
    contact = _contact(api, "martin")
    committee = api.post("/api/committees", json={"name": "Groupe", "kind": "groupe_mineurs"}).json()
    api.post(f"/api/committees/{committee['id']}/members", json={"contact": contact, "role": "president"})
    assert api.get(f"/api/committees/{committee['id']}").json()["chair"] == contact


def test_pages_seat_the_chair_and_explain_why_they_cannot_be_removed(web, make_user, api_as):
    api = api_as("prefecture", "34")
    chair = _contact(api, "martin")
    web.login(make_user("prefecture", "34").email)
    created = web.post(
        "/d/34/instances/nouvelle", {"name": "Commission TEH", "kind": "cdpd_commission_teh", "chair": str(chair)}
    )
    assert created.status_code == 200
    committee_id = int(re.search(r"/d/34/instances/(\d+)/modifier", created.text).group(1))
    assert _members(api, committee_id) == {chair: "president"}
    seat = api.get(f"/api/committees/{committee_id}/members").json()[0]
    refused = web.post(f"/d/34/instances/{committee_id}/membres/{seat['id']}/retirer")
    assert refused.status_code == 200 and "préside l&#39;instance" in refused.text
    assert _members(api, committee_id) == {chair: "president"}
