"""Committees API: filters, validation in French, département isolation, members and their roles."""

from __future__ import annotations

from typing import Any


def _contact(api: Any, last_name: str, org_name: str = "Parquet", active: bool = True) -> int:
    orgs = api.get("/api/organisations", params={"q": org_name}).json()["items"]
    org_id = (
        orgs[0]["id"]
        if orgs
        else api.post("/api/organisations", json={"name": org_name, "kind": "parquet"}).json()["id"]
    )
    response = api.post(
        "/api/contacts",
        json={
            "organisation": org_id,
            "first_name": "Anne",
            "last_name": last_name,
            "email": f"{last_name.lower()}@justice.fr",
            "active": active,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_list_filters_and_pagination(api_as):
    api = api_as("prefecture", "34")
    for name, kind in (("CDPD plénière", "cdpd_pleniere"), ("CODAF", "codaf"), ("Groupe mineurs", "groupe_mineurs")):
        assert api.post("/api/committees", json={"name": name, "kind": kind}).status_code == 201
    codaf = api.get("/api/committees", params={"kind": "codaf"}).json()
    assert codaf["total"] == 1 and codaf["items"][0]["department"] == "34"
    assert api.get("/api/committees", params={"q": "mineur"}).json()["total"] == 1
    page = api.get("/api/committees", params={"per_page": 2, "page": 2}).json()
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 1
    committee_id = codaf["items"][0]["id"]
    assert api.patch(f"/api/committees/{committee_id}", json={"active": False}).json()["active"] is False
    assert api.get("/api/committees", params={"active": "false"}).json()["total"] == 1
    assert api.get("/api/committees", params={"department": "34"}).json()["total"] == 3


def test_bad_filters_are_clean_client_errors(api_as):
    api = api_as("prefecture", "34")
    assert api.get("/api/committees", params={"department": "93"}).status_code == 404
    assert api.get("/api/committees", params={"department": "zz"}).status_code == 404
    bad_kind = api.get("/api/committees", params={"kind": "conseil"})
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json()["errors"]
    assert api.get("/api/committees", params={"per_page": 10_000}).status_code == 400


def test_names_are_unique_case_insensitively_and_wildcards_are_literal(api_as):
    api = api_as("prefecture", "34")
    assert api.post("/api/committees", json={"name": "Équipe_A", "kind": "autre"}).status_code == 201
    clash = api.post("/api/committees", json={"name": "équipe_a", "kind": "autre"})
    assert clash.status_code == 422 and "existe déjà" in clash.json()["errors"]["name"]
    # "_" is not a wildcard: "ÉquipeXA" is another name.
    assert api.post("/api/committees", json={"name": "ÉquipeXA", "kind": "autre"}).status_code == 201
    other = api.post("/api/committees", json={"name": "Autre", "kind": "autre"}).json()
    renamed = api.patch(f"/api/committees/{other['id']}", json={"name": "ÉQUIPE_A"})
    assert renamed.status_code == 422
    # Renaming a committee to its own name with another case is allowed.
    assert api.patch(f"/api/committees/{other['id']}", json={"name": "AUTRE"}).status_code == 200


def test_all_field_errors_at_once_in_french(api_as):
    api = api_as("prefecture", "34")
    response = api.post("/api/committees", json={"name": "", "kind": "inconnu", "chair": 999_999})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["name"] == "Ce champ est obligatoire."
    assert "Valeur inconnue" in errors["kind"]
    assert errors["chair"] == "Le président doit être un contact de ce département."
    assert api.post("/api/committees", json={"name": "X", "kind": "autre", "extra": 1}).status_code == 400
    national = api_as("national", None)
    missing = national.post("/api/committees", json={"name": "X", "kind": "autre"})
    assert missing.status_code == 422 and "department" in missing.json()["errors"]
    created = national.post("/api/committees", json={"name": "X", "kind": "autre", "department": "2a"})
    assert created.status_code == 201 and created.json()["department"] == "2A"


def test_chair_can_be_changed_and_removed(api_as):
    api = api_as("prefecture", "34")
    chair = _contact(api, "Prefet")
    committee = api.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere", "chair": chair}).json()
    assert committee["chair"] == chair and committee["chair_name"] == "Anne Prefet"
    cleared = api.patch(f"/api/committees/{committee['id']}", json={"chair": None}).json()
    assert cleared["chair"] is None and cleared["chair_name"] == ""
    foreign = _contact(api_as("prefecture", "93"), "Bobigny")
    response = api.patch(f"/api/committees/{committee['id']}", json={"chair": foreign})
    assert response.status_code == 422
    assert response.json()["errors"]["chair"] == "Le président doit être un contact de ce département."


def test_members_roles_listing_and_removal(api_as):
    api = api_as("prefecture", "34")
    committee = api.post("/api/committees", json={"name": "CLAV", "kind": "clav"}).json()
    ids = {}
    for name, role, org in (
        ("Zola", "membre", "ASE"),
        ("Durand", "president", "Préfecture"),
        ("Martin", "membre", "PJJ"),
    ):
        ids[name] = _contact(api, name, org)
        response = api.post(f"/api/committees/{committee['id']}/members", json={"contact": ids[name], "role": role})
        assert response.status_code == 201, response.text
        assert response.json()["organisation_name"] == org
    members = api.get(f"/api/committees/{committee['id']}/members").json()
    assert [(m["last_name"], m["role"]) for m in members] == [
        ("Durand", "president"),
        ("Martin", "membre"),
        ("Zola", "membre"),
    ]
    assert members[0]["email"] == "durand@justice.fr" and members[0]["role_label"] == "Président(e)"
    zola = next(m for m in members if m["last_name"] == "Zola")
    url = f"/api/committees/{committee['id']}/members/{zola['id']}"
    changed = api.patch(url, json={"role": "suppleant"})
    assert changed.status_code == 200 and changed.json()["role_label"] == "Membre suppléant"
    bad_role = api.patch(url, json={"role": "tresorier"})
    assert bad_role.status_code == 422 and "role" in bad_role.json()["errors"]
    bad = api.post(f"/api/committees/{committee['id']}/members", json={"contact": ids["Zola"], "role": "chef"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"contact", "role"}
    assert api.delete(url).status_code == 204
    assert api.get(f"/api/committees/{committee['id']}").json()["member_count"] == 2
    assert api.delete(url).status_code == 404


def test_member_ids_of_another_committee_or_department_are_not_found(api_as):
    api = api_as("prefecture", "34")
    first = api.post("/api/committees", json={"name": "A", "kind": "autre"}).json()
    second = api.post("/api/committees", json={"name": "B", "kind": "autre"}).json()
    member = api.post(
        f"/api/committees/{first['id']}/members", json={"contact": _contact(api, "Leroy"), "role": "membre"}
    ).json()
    assert (
        api.patch(
            f"/api/committees/{second['id']}/members/{member['id']}", json={"role": "invite_permanent"}
        ).status_code
        == 404
    )
    assert api.delete(f"/api/committees/{second['id']}/members/{member['id']}").status_code == 404
    intruder = api_as("prefecture", "93")
    assert intruder.get(f"/api/committees/{first['id']}").status_code == 404
    assert intruder.get(f"/api/committees/{first['id']}/members").status_code == 404
    assert intruder.patch(f"/api/committees/{first['id']}", json={"name": "Pris"}).status_code == 404
    assert intruder.delete(f"/api/committees/{first['id']}/members/{member['id']}").status_code == 404
    assert intruder.delete(f"/api/committees/{first['id']}").status_code == 404
    assert api.get(f"/api/committees/{first['id']}").json()["name"] == "A"


def test_observers_read_but_cannot_write(api_as):
    api = api_as("prefecture", "34")
    committee = api.post("/api/committees", json={"name": "CODAF", "kind": "codaf"}).json()
    observer = api_as("observer", "34")
    assert observer.get(f"/api/committees/{committee['id']}").status_code == 200
    assert observer.post("/api/committees", json={"name": "Y", "kind": "autre"}).status_code == 403
    assert observer.patch(f"/api/committees/{committee['id']}", json={"kind": "faux"}).status_code == 403
    assert observer.delete(f"/api/committees/{committee['id']}").status_code == 403


def test_writes_are_audited(api_as):
    api = api_as("prefecture", "34")
    committee = api.post("/api/committees", json={"name": "COPIL", "kind": "copil"}).json()
    api.patch(f"/api/committees/{committee['id']}", json={"description": "Prépare la séance annuelle."})
    api.delete(f"/api/committees/{committee['id']}")
    entries = api.get("/api/audit", params={"entity": "committee"}).json()["items"]
    assert {e["action"] for e in entries} >= {"create", "update", "delete"}
