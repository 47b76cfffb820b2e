"""Hostile input: markup in names, oversized bodies, path traversal, forged links and tokens."""

from __future__ import annotations


def test_markup_typed_into_a_name_is_shown_as_text(web, make_user, api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "<script>alert('x')</script>", "kind": "autre"}).json()
    web.login(make_user("prefecture", "34").email)
    for path in ("/d/34/partenaires", f"/d/34/partenaires/{org['id']}"):
        page = web.get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert" in page


def test_line_breaks_and_control_characters_are_refused_in_one_line_fields(api_as):
    api = api_as("prefecture", "34")
    response = api.post("/api/organisations", json={"name": "Parquet\r\nBcc: x@evil.fr", "kind": "parquet"})
    assert response.status_code == 422
    assert "caractères non autorisés" in response.json()["errors"]["name"]
    response = api.post("/api/organisations", json={"name": "Parquet\x00", "kind": "parquet"})
    assert response.status_code == 422


def test_oversized_bodies_are_refused(api_as):
    api = api_as("prefecture", "34")
    response = api.post(
        "/api/organisations/import",
        params={"department": "34"},
        content=b"a" * 6_000_000,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 413
    long_name = api.post("/api/organisations", json={"name": "x" * 10_000, "kind": "autre"})
    assert long_name.status_code == 422


def test_path_traversal_on_static_files_finds_nothing(client):
    for path in (
        "/static/../../pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/etc/passwd",
    ):
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert "coord" not in response.text.lower() or response.status_code == 404


def test_forged_or_tampered_partner_links_are_refused(db, settings):
    import pytest

    from coord.core.settings import use_settings
    from coord.links import service as links
    from tests.conftest import run

    use_settings(settings)
    token = run(links.issue("invitation", 1, department_id=None))
    assert run(links.resolve(token, "invitation")).target_id == 1
    with pytest.raises(links.LinkInvalid):
        run(links.resolve(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "invitation"))
    with pytest.raises(links.LinkInvalid):
        run(links.resolve(token, "action_item"))
    run(links.revoke("invitation", 1))
    with pytest.raises(links.LinkInvalid) as exc:
        run(links.resolve(token, "invitation"))
    assert "révoqué" in exc.value.message


def test_sql_metacharacters_in_filters_are_plain_text(api_as):
    api = api_as("prefecture", "34")
    api.post("/api/organisations", json={"name": "O'Brien & associés", "kind": "association"})
    for q in ("' OR 1=1 --", "%", "_", "O'Brien"):
        response = api.get("/api/organisations", params={"q": q})
        assert response.status_code == 200
    assert api.get("/api/organisations", params={"q": "' OR 1=1 --"}).json()["total"] == 0
    assert api.get("/api/organisations", params={"q": "O'Brien"}).json()["total"] == 1


def test_nul_bytes_in_addresses_are_refused_before_the_database(api_as):
    api = api_as("prefecture", "34")
    response = api.get("/api/organisations", params={"department": "3\x004", "q": "a\x00b"})
    assert response.status_code == 400
    assert api.get("/api/departments/%00").status_code == 400
