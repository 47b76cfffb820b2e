"""An agent exports the département's contacts, with the list's search, as French spreadsheets open
it (UTF-8 with BOM, `;`, CRLF), with no cell run as a formula and nothing of another département."""

from __future__ import annotations

import csv
import io


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    raw = response.content
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw
    assert 'filename="contacts-' in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(raw.decode("utf-8").lstrip("\ufeff")), delimiter=";"))


def _contact(api, org: int, first: str, last: str, **extra) -> dict:
    response = api.post(
        "/api/contacts",
        json={"organisation": org, "first_name": first, "last_name": last, "email": f"{last.lower()}@x.fr", **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_contacts_are_exported_with_the_list_search(api_as, web, make_user):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet"}).json()["id"]
    _contact(api, org, "Élise", "Durand", function="Substitute", phone="0467000000")
    _contact(api, org, "Marc", "Bernard", function="=HYPERLINK(1)", active=False)
    other = api_as("prefecture", "93")
    other_org = other.post("/api/organisations", json={"name": "Parquet de Bobigny", "kind": "parquet"}).json()["id"]
    _contact(other, other_org, "Paul", "Voisin")
    web.login(make_user("prefecture", "34").email)
    page = web.get("/d/34/contacts")
    assert 'href="/d/34/contacts/export.csv' in page.text
    header, *rows = _csv(web.get("/d/34/contacts/export.csv"))
    assert header == ["Nom", "Prénom", "Organisation", "Fonction", "Courriel", "Téléphone", "Actif"]
    assert rows == [
        ["Bernard", "Marc", "Parquet de Montpellier", "'=HYPERLINK(1)", "bernard@x.fr", "", "non"],
        ["Durand", "Élise", "Parquet de Montpellier", "Substitute", "durand@x.fr", "0467000000", "oui"],
    ]
    searched = _csv(web.get("/d/34/contacts/export.csv", params={"q": "durand"}))
    assert [r[0] for r in searched[1:]] == ["Durand"]
    assert "Voisin" not in web.get("/d/34/contacts/export.csv").text
