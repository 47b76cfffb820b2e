"""A prefecture agent manages the partner institutions of their département through the JSON API."""

from __future__ import annotations


def test_agent_creates_an_organisation_and_a_contact(api_as):
    api = api_as("prefecture", "34")
    response = api.post(
        "/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet", "acronym": "TJ"}
    )
    assert response.status_code == 201, response.text
    org = response.json()
    assert org["department"] == "34"
    assert org["kind_label"].startswith("Parquet")

    response = api.post(
        "/api/contacts",
        json={
            "organisation": org["id"],
            "first_name": "Hélène",
            "last_name": "Dubois",
            "email": "Helene.Dubois@justice.fr",
            "function": "Procureure",
        },
    )
    assert response.status_code == 201, response.text
    contact = response.json()
    assert contact["email"] == "helene.dubois@justice.fr"
    assert contact["organisation_name"] == "Parquet de Montpellier"

    listing = api.get("/api/organisations", params={"department": "34"}).json()
    assert listing["total"] == 1
    assert listing["items"][0]["contact_count"] == 1


def test_the_same_email_twice_in_one_organisation_is_refused(api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "PJJ Hérault", "kind": "pjj"}).json()
    body = {"organisation": org["id"], "first_name": "Olivier", "last_name": "Blanc", "email": "o.blanc@justice.fr"}
    assert api.post("/api/contacts", json=body).status_code == 201
    response = api.post("/api/contacts", json=body)
    assert response.status_code == 422
    assert "existe déjà" in response.json()["errors"]["email"]
    assert api.get("/api/contacts", params={"organisation": org["id"]}).json()["total"] == 1


def test_invalid_input_lists_every_error_in_french_and_writes_nothing(api_as):
    api = api_as("prefecture", "34")
    response = api.post("/api/organisations", json={"name": "", "kind": "mairie", "email": "pas-une-adresse"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"name", "kind", "email"}
    assert errors["name"] == "Ce champ est obligatoire."
    assert "Valeur inconnue" in errors["kind"]
    assert api.get("/api/organisations").json()["total"] == 0


def test_unknown_department_code_is_a_clear_error(api_as):
    api = api_as("national", None)
    response = api.post("/api/organisations", json={"name": "X", "kind": "autre", "department": "99"})
    assert response.status_code == 422
    assert "inconnu" in response.json()["errors"]["department"]
    assert api.get("/api/departments/99").status_code == 404


def test_wrong_types_are_rejected_with_a_4xx(api_as):
    api = api_as("prefecture", "34")
    assert api.post("/api/organisations", json={"name": 12, "kind": []}).status_code == 400
    assert (
        api.post("/api/organisations", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert api.post("/api/organisations", json={"name": "A", "kind": "autre", "unexpected": 1}).status_code == 400


def test_lists_paginate_and_filter(api_as):
    api = api_as("prefecture", "34")
    for i in range(7):
        api.post("/api/organisations", json={"name": f"Association {i:02d}", "kind": "association"})
    api.post("/api/organisations", json={"name": "Gendarmerie de l'Hérault", "kind": "gendarmerie"})
    page = api.get("/api/organisations", params={"per_page": 3, "page": 2}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (8, 3, 3)
    assert [o["name"] for o in page["items"]] == ["Association 03", "Association 04", "Association 05"]
    assert api.get("/api/organisations", params={"kind": "gendarmerie"}).json()["total"] == 1
    assert api.get("/api/organisations", params={"q": "gendar"}).json()["total"] == 1
    assert api.get("/api/organisations", params={"per_page": 1000}).status_code == 400


def test_update_and_delete_are_audited(api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "DDETS 34", "kind": "ddets"}).json()
    response = api.patch(f"/api/organisations/{org['id']}", json={"phone": "04 67 00 00 00"})
    assert response.status_code == 200
    assert response.json()["phone"] == "04 67 00 00 00"
    assert api.delete(f"/api/organisations/{org['id']}").status_code == 204
    log = api.get("/api/audit", params={"entity": "organisation"}).json()["items"]
    assert [e["action"] for e in log] == ["delete", "update", "create"]
    update = log[1]
    assert update["before"] == {"phone": ""} and update["after"]["phone"] == "04 67 00 00 00"
    assert update["actor"].startswith("prefecture")


def test_an_organisation_with_contacts_cannot_be_deleted(api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "ARS", "kind": "ars"}).json()
    api.post(
        "/api/contacts", json={"organisation": org["id"], "first_name": "A", "last_name": "B", "email": "a.b@ars.fr"}
    )
    response = api.delete(f"/api/organisations/{org['id']}")
    assert response.status_code == 409
    assert "contacts" in response.json()["detail"]
    assert api.get(f"/api/organisations/{org['id']}").status_code == 200


def test_observers_read_but_cannot_write(api_as):
    agent = api_as("prefecture", "34")
    agent.post("/api/organisations", json={"name": "OFII", "kind": "ofii"})
    observer = api_as("observer", "34")
    assert observer.get("/api/organisations").json()["total"] == 1
    response = observer.post("/api/organisations", json={"name": "Autre", "kind": "autre"})
    assert response.status_code == 403
    assert agent.get("/api/organisations").json()["total"] == 1


def test_api_requires_a_valid_token(client):
    assert client.get("/api/organisations").status_code == 401
    response = client.get("/api/organisations", headers={"Authorization": "Bearer coord_nope"})
    assert response.status_code == 401
    assert "Jeton" in response.json()["detail"]
