"""A prefecture agent sets up the département's committees and their members; pilot sites are recorded."""

from __future__ import annotations


def _contact(api, name: str, org_name: str = "Parquet") -> int:
    org = api.get("/api/organisations", params={"q": org_name}).json()["items"]
    org_id = (
        org[0]["id"] if org else api.post("/api/organisations", json={"name": org_name, "kind": "parquet"}).json()["id"]
    )
    return api.post(
        "/api/contacts",
        json={"organisation": org_id, "first_name": "A", "last_name": name, "email": f"{name.lower()}@justice.fr"},
    ).json()["id"]


def test_committee_with_chair_and_members(api_as):
    api = api_as("prefecture", "34")
    chair = _contact(api, "Prefet")
    committee = api.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere", "chair": chair}).json()
    assert committee["chair_name"] == "A Prefet" and committee["kind_label"].startswith("CDPD")
    # The chair is seated as president by naming them; the others are added.
    response = api.post(
        f"/api/committees/{committee['id']}/members", json={"contact": _contact(api, "Substitut"), "role": "membre"}
    )
    assert response.status_code == 201, response.text
    members = api.get(f"/api/committees/{committee['id']}/members").json()
    assert [m["role"] for m in members] == ["president", "membre"]
    assert api.get(f"/api/committees/{committee['id']}").json()["member_count"] == 2
    duplicate = api.post(f"/api/committees/{committee['id']}/members", json={"contact": chair, "role": "membre"})
    assert duplicate.status_code == 422 and "déjà membre" in duplicate.json()["errors"]["contact"]


def test_members_and_chairs_must_belong_to_the_same_department(api_as):
    herault = api_as("prefecture", "34")
    seine = api_as("prefecture", "93")
    foreign = _contact(seine, "Bobigny")
    response = herault.post("/api/committees", json={"name": "CLAV", "kind": "clav", "chair": foreign})
    assert response.status_code == 422
    assert response.json()["errors"]["chair"] == "Le président doit être un contact de ce département."
    committee = herault.post("/api/committees", json={"name": "CLAV", "kind": "clav"}).json()
    response = herault.post(f"/api/committees/{committee['id']}/members", json={"contact": foreign, "role": "membre"})
    assert response.status_code == 422


def test_committee_names_are_unique_per_department_and_kinds_are_checked(api_as):
    api = api_as("prefecture", "34")
    assert api.post("/api/committees", json={"name": "CODAF", "kind": "codaf"}).status_code == 201
    assert api.post("/api/committees", json={"name": "codaf", "kind": "codaf"}).status_code == 422
    bad = api.post("/api/committees", json={"name": "X", "kind": "conseil"})
    assert bad.status_code == 422 and "Valeur inconnue" in bad.json()["errors"]["kind"]
    assert (
        api_as("prefecture", "93").post("/api/committees", json={"name": "CODAF", "kind": "codaf"}).status_code == 201
    )


def test_pilot_sites_are_recorded_once_per_plan_and_scheme(api_as):
    national = api_as("national", None)
    body = {"department": "34", "plan": "2014-2016", "scheme": "protection_mineurs", "designated_on": "2019-10-18"}
    created = national.post("/api/pilot-sites", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["scheme_label"] == "Protection des mineurs victimes"
    assert national.post("/api/pilot-sites", json=body).status_code == 422
    assert national.post("/api/pilot-sites", json={**body, "plan": "1999-2000"}).json()["errors"]["plan"]
    assert national.get("/api/pilot-sites", params={"scheme": "protection_mineurs"}).json()["total"] == 1
    assert api_as("prefecture", "34").get("/api/pilot-sites").json()["total"] == 1
    assert api_as("prefecture", "93").get("/api/pilot-sites").json()["total"] == 0


def test_committee_page_shows_field_errors_in_french(web, make_user):
    web.login(make_user("prefecture", "34").email)
    response = web.post("/d/34/instances/nouvelle", {"name": "", "kind": "inconnu"})
    assert response.status_code == 422
    assert "Le formulaire contient 2 erreurs" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Ce champ est obligatoire." in response.text


def test_partner_page_reports_duplicate_contact_next_to_the_field(web, make_user, api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "ASE", "kind": "conseil_departemental"}).json()
    api.post(
        "/api/contacts",
        json={"organisation": org["id"], "first_name": "I", "last_name": "Moreau", "email": "i.moreau@cd34.fr"},
    )
    web.login(make_user("prefecture", "34").email)
    response = web.post(
        f"/d/34/partenaires/{org['id']}/contacts",
        {"first_name": "Isa", "last_name": "Moreau", "email": "I.Moreau@cd34.fr"},
    )
    assert response.status_code == 422
    assert "existe déjà dans cette organisation" in response.text
    assert api.get("/api/contacts").json()["total"] == 1


def test_observer_pages_hide_the_edit_buttons(web, make_user, api_as):
    api_as("prefecture", "34").post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere"})
    web.login(make_user("observer", "34").email)
    page = web.get("/d/34/instances")
    assert "CDPD" in page.text and "Créer une instance" not in page.text
    assert web.post("/d/34/instances/nouvelle", {"name": "X", "kind": "autre"}).status_code == 403
