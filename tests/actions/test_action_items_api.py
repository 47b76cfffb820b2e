"""Coordinators follow action items through the API: creation, transitions, history, filters."""

from __future__ import annotations

import pytest

from tests.actions.support import due, seed


def _item(api, world, **extra):
    body = {
        "title": "Recenser les places d'hébergement sécurisé",
        "owner_organisation": world["org"]["id"],
        "owner_contact": world["contact"]["id"],
        "due_on": due(30),
        "committee": world["committee"]["id"],
        **extra,
    }
    response = api.post("/api/actions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_coordinator_creates_an_item_from_each_chosen_decision(api_as):
    world = seed(api_as("prefecture", "34"))
    coordinator = api_as("coordinator", "34")
    response = coordinator.post(
        f"/api/actions/from-decisions/{world['meeting']['id']}",
        json={
            "decisions": [d["id"] for d in world["decisions"]],
            "owner_contact": world["contact"]["id"],
            "due_on": due(60),
        },
    )
    assert response.status_code == 201, response.text
    items = response.json()
    assert [i["title"] for i in items] == [d["text"] for d in world["decisions"]]
    assert {i["decision"] for i in items} == {d["id"] for d in world["decisions"]}
    for item in items:
        assert item["status"] == "a_faire" and item["meeting"] == world["meeting"]["id"]
        assert item["committee"] == world["committee"]["id"]
        assert item["owner_organisation_name"] == "Conseil départemental 34"  # taken from the contact
    assert coordinator.get("/api/actions", params={"committee": world["committee"]["id"]}).json()["total"] == 2


def test_decisions_of_another_meeting_are_refused_and_nothing_is_created(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    response = api.post(f"/api/actions/from-decisions/{world['meeting']['id']}", json={"decisions": [999999]})
    assert response.status_code == 422 and "decisions" in response.json()["errors"]
    assert api.get("/api/actions").json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["en_cours", "bloque", "en_cours", "fait"], True),
        (["fait"], True),
        (["abandonne"], True),
        (["bloque", "a_faire"], True),
    ],
)
def test_allowed_status_moves_are_recorded_in_the_history(api_as, path, allowed):
    api = api_as("coordinator", "34")
    world = seed(api_as("prefecture", "34"))
    item = _item(api, world)
    for status in path:
        response = api.post(f"/api/actions/{item['id']}/transition", json={"status": status, "comment": f"→ {status}"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    history = api.get(f"/api/actions/{item['id']}/history").json()
    assert [e["to_status"] for e in history if e["kind"] == "status"] == path
    assert history[0]["kind"] == "created"
    assert all(e["actor"].startswith("coordinator") for e in history)
    final = api.get(f"/api/actions/{item['id']}").json()
    if path[-1] == "fait":
        assert final["progress"] == 100 and final["done_on"] is not None


def test_a_done_item_goes_back_to_work_only_by_reopening_it(api_as):
    api = api_as("coordinator", "34")
    world = seed(api_as("prefecture", "34"))
    item = _item(api, world)
    api.post(f"/api/actions/{item['id']}/transition", json={"status": "fait"})
    refused = api.post(f"/api/actions/{item['id']}/transition", json={"status": "a_faire"})
    assert refused.status_code == 422
    assert "rouvrez" in refused.json()["errors"]["status"]
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == "fait"
    reopened = api.post(f"/api/actions/{item['id']}/transition", json={"status": "en_cours", "reopen": True})
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "en_cours" and reopened.json()["done_on"] is None


@pytest.mark.parametrize(
    ("current", "target", "reopen"),
    [
        ("a_faire", "a_faire", False),
        ("a_faire", "en_cours", True),
        ("abandonne", "fait", True),
        ("fait", "abandonne", False),
        ("a_faire", "inconnu", False),
    ],
)
def test_refused_moves_change_nothing(api_as, current, target, reopen):
    api = api_as("coordinator", "34")
    item = _item(api, seed(api_as("prefecture", "34")))
    if current != "a_faire":
        api.post(f"/api/actions/{item['id']}/transition", json={"status": current})
    before = api.get(f"/api/actions/{item['id']}/history").json()
    response = api.post(f"/api/actions/{item['id']}/transition", json={"status": target, "reopen": reopen})
    assert response.status_code == 422, response.text
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == current
    assert api.get(f"/api/actions/{item['id']}/history").json() == before


def test_bad_input_gets_a_clear_french_error_and_nothing_is_saved(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    elsewhere = seed(api_as("prefecture", "93"), "93")
    yesterday = api.post("/api/actions", json={"title": "x", "due_on": due(-1)})
    assert yesterday.status_code == 422 and "précéder" in yesterday.json()["errors"]["due_on"]
    foreign = api.post("/api/actions", json={"title": "x", "owner_contact": elsewhere["contact"]["id"]})
    assert foreign.status_code == 422 and "owner_contact" in foreign.json()["errors"]
    mismatch = api.post(
        "/api/actions",
        json={"title": "x", "owner_organisation": world["org"]["id"], "owner_contact": world["other"]["id"]},
    )
    assert "n'appartient pas" in mismatch.json()["errors"]["owner_contact"]
    untitled = api.post("/api/actions", json={"title": "  "})
    assert untitled.status_code == 422 and "title" in untitled.json()["errors"]
    assert api.get("/api/actions").json()["total"] == 0
    item = _item(api, world)
    late = api.patch(f"/api/actions/{item['id']}", json={"due_on": due(-3)})
    assert late.status_code == 422
    assert api.get(f"/api/actions/{item['id']}").json()["due_on"] == item["due_on"]


def test_changes_and_comments_are_kept_with_who_and_when(api_as):
    api = api_as("coordinator", "34")
    item = _item(api, seed(api_as("prefecture", "34")))
    api.patch(f"/api/actions/{item['id']}", json={"progress": 40, "priority": "haute", "tags": ["ASE", "formation"]})
    api.post(f"/api/actions/{item['id']}/comments", json={"comment": "Réunion avec l'ASE fixée."})
    history = api.get(f"/api/actions/{item['id']}/history").json()
    kinds = [e["kind"] for e in history]
    assert kinds == ["created", "changed", "comment"]
    assert history[1]["changes"] == {"progress": 40, "priority": "haute", "tags": "ase,formation"}
    assert history[2]["comment"] == "Réunion avec l'ASE fixée."
    assert all(e["at"] for e in history)
    stale = api.patch(f"/api/actions/{item['id']}", json={"title": "Autre", "version": 1})
    assert stale.status_code == 409


def test_filters_sort_and_counts(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    late = _item(api, world, title="En retard", due_on=due(0))
    soon = _item(
        api,
        world,
        title="Bientôt",
        due_on=due(5),
        owner_organisation=world["other_org"]["id"],
        owner_contact=world["other"]["id"],
    )
    done = _item(api, world, title="Finie", due_on=due(40))
    api.post(f"/api/actions/{done['id']}/transition", json={"status": "fait"})
    import datetime as dt

    from coord.actions.tables import ActionItem
    from coord.core.clock import local_today
    from tests.conftest import run

    run(
        ActionItem.update({ActionItem.due_on: local_today("Europe/Paris") - dt.timedelta(days=3)}).where(
            ActionItem.id == late["id"]
        )
    )

    def titles(**params):
        response = api.get("/api/actions", params=params)
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert titles() == ["En retard", "Bientôt", "Finie"]
    assert titles(sort="-echeance") == ["Finie", "Bientôt", "En retard"]
    assert titles(overdue="1") == ["En retard"]
    assert titles(status="fait") == ["Finie"]
    assert titles(status="ouvertes") == ["En retard", "Bientôt"]
    assert titles(owner_organisation=world["other_org"]["id"]) == ["Bientôt"]
    assert titles(due_from=due(1), due_to=due(10)) == ["Bientôt"]
    assert soon["id"] in [
        i["id"] for i in api.get("/api/actions", params={"committee": world["committee"]["id"]}).json()["items"]
    ]
    assert api.get("/api/actions", params={"due_from": "demain"}).status_code == 422
    assert api.get("/api/actions", params={"status": "xyz"}).status_code == 422
    national = api_as("national", None).get("/api/actions/national").json()
    herault = next(d for d in national["departments"] if d["code"] == "34")
    assert herault == {
        "code": "34",
        "name": herault["name"],
        "total": 3,
        "open": 2,
        "done": 1,
        "overdue": 1,
        "progress": 33,
        "by_status": {"a_faire": 2, "en_cours": 0, "bloque": 0, "fait": 1, "abandonne": 0},
    }


def test_observers_read_but_cannot_change_and_other_departments_see_nothing(api_as):
    api = api_as("prefecture", "34")
    item = _item(api, seed(api))
    observer = api_as("observer", "34")
    assert observer.get(f"/api/actions/{item['id']}").status_code == 200
    assert observer.post(f"/api/actions/{item['id']}/transition", json={"status": "fait"}).status_code == 403
    assert observer.post("/api/actions", json={"title": "x"}).status_code == 403
    intruder = api_as("coordinator", "93")
    assert intruder.get(f"/api/actions/{item['id']}").status_code == 404
    assert intruder.get("/api/actions").json()["total"] == 0
    assert intruder.post(f"/api/actions/{item['id']}/comments", json={"comment": "x"}).status_code == 404


def test_the_tag_filter_matches_whole_tags_only(api_as, web, make_user):
    api = api_as("prefecture", "34")
    world = seed(api)
    _item(api, world, title="Former les éducateurs", tags=["Formation", "ASE"])
    _item(api, world, title="Former les gendarmes", tags=["form"])
    _item(api, world, title="Taux de 100%", tags=["taux_100%"])
    _item(api, world, title="Sans étiquette")

    def titles(tag: str) -> list[str]:
        response = api.get("/api/actions", params={"tag": tag, "sort": "titre"})
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert titles("formation") == ["Former les éducateurs"]  # stored lower case, matched whole
    assert titles("form") == ["Former les gendarmes"]
    assert titles("taux_100%") == ["Taux de 100%"] and titles("taux_1000") == [] and titles("%") == []
    refused = api.get("/api/actions", params={"tag": "a,b"})
    assert refused.status_code == 422 and "tag" in refused.json()["errors"]
    csv = api.get("/api/actions/export.csv", params={"tag": "ase"}).text
    assert "Former les éducateurs" in csv and "gendarmes" not in csv

    web.login(make_user("coordinator", "34").email)
    page = web.get("/d/34/actions", params={"tag": "ase"}).text
    assert "Former les éducateurs" in page and "Former les gendarmes" not in page and 'value="ase"' in page
    item_id = api.get("/api/actions", params={"tag": "ase"}).json()["items"][0]["id"]
    assert 'href="/d/34/actions?tag=ase"' in web.get(f"/d/34/actions/{item_id}").text
