"""Prefectures import their partner spreadsheets and export them back."""

from __future__ import annotations

import csv
import io

HEADER = (
    "organisation;type;sigle;adresse;email_organisation;telephone_organisation;prenom;nom;fonction;email;telephone\n"
)


def test_import_reports_rejected_rows_with_line_and_reason(api_as):
    api = api_as("prefecture", "34")
    body = HEADER + (
        "Parquet de Montpellier;parquet;TJ;;;;Hélène;Dubois;Procureure;helene.dubois@justice.fr;04 67 00 00 01\n"
        "Parquet de Montpellier;parquet;TJ;;;;Karim;Saïdi;Substitut;karim.saidi@justice.fr;\n"
        "Mairie;mairie;;;;;;;;;\n"
        "Association Alpha;Association;;;;;Fatou;Diallo;;pas-une-adresse;\n"
        "Parquet de Montpellier;parquet;TJ;;;;Hélène;Dubois;Procureure;helene.dubois@justice.fr;\n"
        ";association;;;;;;;;;\n"
        "Gendarmerie de l'Hérault;gendarmerie;GGD;;;;;;;;\n"
    )
    response = api.post(
        "/api/organisations/import",
        params={"department": "34"},
        content=body.encode("utf-8"),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["organisations_created"] == 2
    assert report["contacts_created"] == 2
    rejected = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(rejected) == {4, 5, 6, 7}
    assert "Valeur inconnue « mairie »" in rejected[4]
    assert "adresse électronique du contact" in rejected[5]
    assert "double" in rejected[6]
    assert "nom de l'organisation" in rejected[7]
    assert api.get("/api/contacts").json()["total"] == 2


def test_dry_run_writes_nothing(api_as):
    api = api_as("prefecture", "34")
    body = HEADER + "ARS Occitanie;ars;ARS;;;;;;;;\n"
    report = api.post(
        "/api/organisations/import",
        params={"department": "34", "dry_run": True},
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert report["organisations_created"] == 1 and report["dry_run"] is True
    assert api.get("/api/organisations").json()["total"] == 0


def test_excel_files_in_windows_1252_with_commas_are_read(api_as):
    api = api_as("prefecture", "34")
    body = (
        "organisation,type,prenom,nom,email\n"
        "Éducation nationale,education_nationale,Marie,Chevalier,marie.chevalier@ac-montpellier.fr\n"
    )
    report = api.post(
        "/api/organisations/import",
        params={"department": "34"},
        content=body.encode("cp1252"),
        headers={"Content-Type": "text/csv"},
    ).json()
    assert report["contacts_created"] == 1, report
    assert api.get("/api/organisations").json()["items"][0]["name"] == "Éducation nationale"


def test_missing_required_columns_rejects_the_file(api_as):
    api = api_as("prefecture", "34")
    report = api.post(
        "/api/organisations/import",
        params={"department": "34"},
        content=b"nom;prenom\nA;B\n",
        headers={"Content-Type": "text/csv"},
    ).json()
    assert report["organisations_created"] == 0
    assert report["rejected"][0]["line"] == 1
    assert "organisation" in report["rejected"][0]["reason"]


def test_export_round_trips_and_neutralises_formulas(api_as):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": '=HYPERLINK("x")', "kind": "autre"}).json()
    api.post(
        "/api/contacts",
        json={
            "organisation": org["id"],
            "first_name": "Luc",
            "last_name": "Fontaine",
            "email": "luc.fontaine@gendarmerie.interieur.gouv.fr",
        },
    )
    response = api.get("/api/organisations/export", params={"department": "34"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text), delimiter=";"))
    assert rows[0]["organisation"].startswith("'=")
    assert rows[0]["email"] == "luc.fontaine@gendarmerie.interieur.gouv.fr"


def test_an_agent_cannot_import_into_another_department(api_as):
    api = api_as("prefecture", "34")
    response = api.post(
        "/api/organisations/import",
        params={"department": "93"},
        content=(HEADER + "A;autre;;;;;;;;;\n").encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 404
