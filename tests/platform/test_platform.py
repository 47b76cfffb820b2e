"""The platform: reference data, OpenAPI, health probes, French error pages, migrations on both engines."""

from __future__ import annotations


def test_reference_data_is_loaded(api_as):
    api = api_as("national", None)
    departments = api.get("/api/departments").json()
    assert len(departments) == 101
    by_code = {d["code"]: d for d in departments}
    assert by_code["2A"]["name"] == "Corse-du-Sud"
    assert by_code["973"]["timezone"] == "America/Cayenne"
    assert by_code["57"]["holiday_subdivision"] == "57"
    assert by_code["67"]["holiday_subdivision"] == "6AE"
    assert by_code["75"]["holiday_subdivision"] is None
    plans = api.get("/api/plans").json()
    assert plans[0]["code"] == "2014-2016" and plans[0]["measure_count"] == 23
    plan = api.get("/api/plans/2014-2016").json()
    assert plan["measures"][21]["number"] == 22
    assert "départemental" in plan["measures"][21]["title"]


def test_a_prefecture_agent_sees_only_their_department_in_the_list(api_as):
    api = api_as("prefecture", "973")
    assert [d["code"] for d in api.get("/api/departments").json()] == ["973"]
    assert api.get("/api/departments/34").status_code == 404
    assert api.get("/api/departments/973").json()["timezone"] == "America/Cayenne"


def test_openapi_schema_is_served(client):
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/departments",
        "/api/organisations",
        "/api/contacts",
        "/api/committees",
        "/api/pilot-sites",
        "/api/plans",
    ):
        assert path in paths, path


def test_health_and_readiness(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["database"] == "ok"


def test_unknown_pages_get_a_french_error_page(web, make_user):
    web.login(make_user("prefecture", "34").email)
    response = web.get("/d/34/partenaires/999999")
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert web.get("/d/99").status_code == 404


def test_plans_can_be_imported_from_a_csv_file(db, tmp_path, api_as):
    from coord.app.reference import import_plan
    from tests.conftest import run

    path = tmp_path / "plan.csv"
    path.write_text(
        "plan_code,plan_title,start_year,end_year,priority_number,priority_title,number,title,axis,summary\n"
        "2024-2027,Plan 2024-2027,2024,2027,1,Identifier,1,Créer le mécanisme national d'identification,,\n"
        "2024-2027,Plan 2024-2027,2024,2027,1,Identifier,2,Former les acteurs de première ligne,,\n",
        encoding="utf-8",
    )
    code, created, count = run(import_plan(path))
    assert (code, created, count) == ("2024-2027", True, 2)
    assert run(import_plan(path))[1] is False  # re-import updates in place
    assert api_as("observer", "34").get("/api/plans/2024-2027").json()["measures"][1]["title"].startswith("Former")
