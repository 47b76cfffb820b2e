"""The journal reads like a person wrote it: French words, names instead of ids, times in the
département's zone, a before/after table per field, filters that narrow it, a CSV of the same rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from typing import Any

import pytest

from tests.audit.audit_writes import scan
from tests.conftest import PASSWORD, ApiClient, run


def _agent(
    make_user: Any, client: Any, full_name: str, department: str, role: str = "prefecture"
) -> tuple[str, ApiClient]:
    """A named agent of the département (make_user names people after their e-mail): (e-mail, API client)."""
    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_token, create_user

    first = unicodedata.normalize("NFKD", full_name.split()[0].lower()).encode("ascii", "ignore").decode()
    email = f"{first}.{department}@prefecture.gouv.fr"
    run(
        create_user(
            Scope(SYSTEM),
            {"email": email, "password": PASSWORD, "role": role, "department": department, "full_name": full_name},
        )
    )
    return email, ApiClient(client, run(create_token(email, "tests")))


def _move_entries_to(instant: dt.datetime, entity: str, entity_id: int) -> None:
    """Date the entries of one record at a chosen instant (the log writes « now »)."""
    from coord.audit.tables import AuditEntry

    run(
        AuditEntry.update({AuditEntry.at: instant}).where(
            (AuditEntry.entity == entity) & (AuditEntry.entity_id == entity_id)
        )
    )


def _main(html: str) -> str:
    """The page's own content, without the header and footer."""
    match = re.search(r"<main\b.*?</main>", html, re.S)
    return match.group(0) if match else html


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


def _entries(html: str) -> list[str]:
    return re.findall(r'<article class="[^"]*coord-journal-entry.*?</article>', html, re.S)


def _find(entries: list[str], kind: str, action: str) -> str:
    """The newest entry about an object of that kind (its badge) with that action."""
    badge = f'fr-badge--no-icon">{kind}</span> {action}'
    return next(e for e in entries if badge in e)


def _rows_of(entry: str) -> dict[str, tuple[str, str]]:
    """The before/after table of one entry: {field label: (before, after)}."""
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', entry, re.S)
    return {_text(f).strip(): (_text(b).strip(), _text(a).strip()) for f, b, a in rows}


@pytest.fixture
def reunion(make_user, client, web):
    """An agent of La Réunion (974, UTC+4 all year) who renamed an organisation."""
    email, api = _agent(make_user, client, "Nadia Payet", "974")
    org = api.post("/api/organisations", json={"name": "Association Réunion Solidarité", "kind": "association"}).json()
    response = api.patch(
        f"/api/organisations/{org['id']}",
        json={"name": "Réunion Solidarité Traite", "kind": "autre", "email": "contact@rst.re"},
    )
    assert response.status_code == 200, response.text
    web.login(email)
    return {"email": email, "api": api, "org": org}


def test_an_organisation_update_reads_in_french_with_names_and_the_local_time(reunion, web):
    # Recorded at 01:30 UTC on the night France moved to summer time: 05 h 30 in Saint-Denis.
    _move_entries_to(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), "organisation", reunion["org"]["id"])
    page = web.get("/journal")
    assert page.status_code == 200
    main = _main(page.text)
    update = _find(_entries(main), "Organisation", "Modification")
    assert "Organisation" in update
    assert "Nadia Payet" in update and "Agent" in update
    assert "dimanche 29 mars 2026 à 05 h 30" in update
    rows = _rows_of(update)
    assert rows["Nom"] == ("Association Réunion Solidarité", "Réunion Solidarité Traite")
    assert rows["Type"][0] == "Association" and rows["Type"][1] != "autre"  # the kinds' French labels
    assert rows["Courriel"] == ("—", "contact@rst.re")
    assert "Modifié le" not in rows  # bookkeeping is not a change people made
    creation = _find(_entries(main), "Organisation", "Création")
    assert _rows_of(creation)["Département"][1] == "La Réunion (974)"
    assert "{'" not in main and "&#39;:" not in main
    text = _text(main)
    for verb in ("create", "update", "delete", "organisation_id", "None", "True", "False"):
        assert not re.search(rf"\b{verb}\b", text), verb


def test_times_follow_the_departement_zone_across_the_summer_time_change(make_user, client, web):
    email, api = _agent(make_user, client, "Hugo Vidal", "34")
    before = api.post("/api/organisations", json={"name": "Avant l'heure d'été", "kind": "association"}).json()
    after = api.post("/api/organisations", json={"name": "Après l'heure d'été", "kind": "association"}).json()
    _move_entries_to(dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC), "organisation", before["id"])  # CET, UTC+1
    _move_entries_to(dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC), "organisation", after["id"])  # CEST, UTC+2
    web.login(email)
    entries = _entries(_main(web.get("/journal").text))
    assert "dimanche 29 mars 2026 à 01 h 30" in next(e for e in entries if "Avant l&#39;heure" in e)
    assert "dimanche 29 mars 2026 à 03 h 30" in next(e for e in entries if "Après l&#39;heure" in e)


def test_committees_contacts_and_accounts_are_named_not_numbered(make_user, client, web):
    email, api = _agent(make_user, client, "Claire Roux", "34")
    org = api.post("/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet"}).json()
    contact = api.post(
        "/api/contacts",
        json={"organisation": org["id"], "first_name": "Louise", "last_name": "Bernard", "email": "lb@justice.fr"},
    ).json()
    assert api.patch(f"/api/contacts/{contact['id']}", json={"active": False}).status_code == 200
    committee = api.post("/api/committees", json={"name": "Comité traite 34", "kind": "copil"}).json()
    member = api.post(f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": "membre"})
    assert member.status_code == 201, member.text
    web.login(email)
    entries = _entries(_main(web.get("/journal").text))
    created = _find(entries, "Contact", "Création")
    assert _rows_of(created)["Organisation"] == ("", "Parquet de Montpellier")
    assert _rows_of(created)["Département"] == ("", "Hérault (34)")
    deactivated = _find(entries, "Contact", "Modification")
    assert _rows_of(deactivated)["Actif"] == ("oui", "non")
    joined = _find(entries, "Membre d&#39;instance", "Création")
    rows = _rows_of(joined)
    assert rows["Instance"][1] == "Comité traite 34"
    assert rows["Contact"][1] == "Louise Bernard"
    assert rows["Rôle"][1] == "Membre titulaire"


def test_filters_by_person_kind_and_period_narrow_the_journal(make_user, client, web):
    first, api_first = _agent(make_user, client, "Alice Morel", "34")
    second, api_second = _agent(make_user, client, "Bruno Petit", "34")
    org = api_first.post("/api/organisations", json={"name": "Organisation d'Alice", "kind": "association"}).json()
    api_first.post(
        "/api/contacts",
        json={"organisation": org["id"], "first_name": "Zoé", "last_name": "Lenoir", "email": "zl@asso.fr"},
    )
    committee = api_second.post("/api/committees", json={"name": "Instance de Bruno", "kind": "copil"})
    assert committee.status_code == 201, committee.text
    _move_entries_to(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC), "organisation", org["id"])
    web.login(first)
    everything = _entries(_main(web.get("/journal").text))
    assert len(everything) >= 3

    by_person = _entries(_main(web.get("/journal", params={"personne": second}).text))
    assert by_person and all("Bruno Petit" in e for e in by_person)
    assert not any("Alice" in e for e in by_person)

    by_kind = _entries(_main(web.get("/journal", params={"objet": "contact"}).text))
    assert by_kind and all('fr-badge--info fr-badge--no-icon">Contact<' in e for e in by_kind)

    january = web.get("/journal", params={"du": "01/01/2026", "au": "31/01/2026"})
    assert january.status_code == 200
    assert [("Organisation d&#39;Alice" in e) for e in _entries(_main(january.text))] == [True]

    combined = web.get("/journal", params={"personne": first, "objet": "organisation", "au": "2026-01-31"})
    assert len(_entries(_main(combined.text))) == 1
    nothing = web.get("/journal", params={"personne": second, "du": "01/01/2026", "au": "31/01/2026"})
    assert _entries(_main(nothing.text)) == [] and "Aucune entrée ne correspond" in nothing.text
    # The person list names people, the kind list speaks French.
    page = web.get("/journal").text
    assert f'<option value="{second}"' in page and "Bruno Petit" in page
    assert '<option value="committee"' in page and ">Instance<" in page


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"du": "31/02/2026"}, "du", "n&#39;existe pas"),
        ({"du": "2026/02/01"}, "du", "au format JJ/MM/AAAA"),
        ({"au": "hier"}, "au", "au format JJ/MM/AAAA"),
        ({"du": "10/03/2026", "au": "01/03/2026"}, "au", "même jour que la date de début ou après"),
        ({"du": "01/01/1850"}, "du", "comprise entre 2000 et 2100"),
        ({"objet": "organisation'--"}, "objet", "Type d&#39;objet inconnu"),
        ({"personne": "x" * 300}, "personne", "Personne inconnue"),
        ({"page": "abc"}, "page", "numéro de page"),
        ({"page": "99999999999"}, "page", "numéro de page"),
    ],
)
def test_a_bad_filter_is_explained_in_french_not_a_500(make_user, client, web, params, field, message):
    email, api = _agent(make_user, client, "Inès Garcia", "34")
    api.post("/api/organisations", json={"name": "Maison des femmes", "kind": "association"})
    web.login(email)
    page = web.get("/journal", params=params)
    assert page.status_code == 422, page.status_code
    assert message.lower() in page.text.lower()
    assert f'id="f-{field}' in page.text
    assert "fr-alert--error" in page.text
    # The export refuses the same filters with the same words.
    export = web.get("/journal/export.csv", params=params)
    if field != "page":
        assert export.status_code in (400, 422) and message.lower() in export.text.lower()


def test_the_csv_export_holds_the_filtered_rows_with_a_bom_and_neutralised_formulas(make_user, client, web):
    email, api = _agent(make_user, client, "Paul Henry", "34")
    api.post("/api/organisations", json={"name": '=HYPERLINK("http://x")', "kind": "association"})
    org = api.post("/api/organisations", json={"name": "Maison des familles", "kind": "association"}).json()
    api.patch(f"/api/organisations/{org['id']}", json={"name": "Maison des familles 34"})
    web.login(email)
    response = web.get("/journal/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    raw = response.content.decode("utf-8")
    assert raw.startswith("\ufeff") and "\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:6] == ["Date et heure", "Département", "Auteur", "Type d'auteur", "Action", "Objet"]
    page_entries = _entries(_main(web.get("/journal").text))
    assert len(rows) - 1 == len(page_entries) >= 3
    organisations = [r for r in rows[1:] if r[5] == "Organisation"]
    assert len(organisations) == 3 and all(r[2] == f"Paul Henry ({email})" for r in organisations)
    update = next(r for r in rows[1:] if r[4] == "Modification")
    assert update[5] == "Organisation" and "Nom : Maison des familles → Maison des familles 34" in update[7]
    assert any("=HYPERLINK" in r[6] for r in rows[1:])
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r)
    filtered = web.get("/journal/export.csv", params={"objet": "organisation", "du": "01/01/2000", "au": "01/01/2001"})
    assert list(csv.reader(io.StringIO(filtered.text.lstrip("\ufeff")), delimiter=";"))[1:] == []


def test_a_cell_that_could_run_as_a_formula_is_neutralised():
    from coord.core.csv_export import csv_document

    text = csv_document(["Auteur", "Nombre"], [['=HYPERLINK("http://x")', 3], ["@SUM(A1)", -2], [None, 0]])
    assert text == '\ufeffAuteur;Nombre\r\n"\'=HYPERLINK(""http://x"")";3\r\n\'@SUM(A1);-2\r\n;0\r\n'


def test_no_secret_value_is_ever_shown(make_user, client, web, db):
    from coord.access import system_principal
    from coord.audit import log
    from coord.territory.tables import Department

    email, _ = _agent(make_user, client, "Lina Robert", "34")
    herault = run(Department.select(Department.id).where(Department.code == "34").first())
    run(
        log.record(
            system_principal("réception iMIP (test)", herault["id"]),
            "update",
            "user",
            None,
            department_id=herault["id"],
            summary="Compte modifié",
            before={"password_hash": "argon2-ancien-secret", "token_hash": "ancien-jeton"},
            after={"password_hash": "argon2-nouveau-secret", "token": "jeton-en-clair", "id_token": "oidc-secret"},
        )
    )
    web.login(email)
    page = web.get("/journal").text
    export = web.get("/journal/export.csv").text
    for secret in ("argon2-ancien-secret", "ancien-jeton", "argon2-nouveau-secret", "jeton-en-clair", "oidc-secret"):
        assert secret not in page and secret not in export
    assert "(valeur masquée)" in page


def test_each_departement_reads_only_its_own_journal(make_user, client, new_web):
    herault_email, herault = _agent(make_user, client, "Marc Herault", "34")
    reunion_email, reunion = _agent(make_user, client, "Sarah Hoarau", "974")
    herault.post("/api/organisations", json={"name": "Seulement dans l'Hérault", "kind": "association"})
    reunion.post("/api/organisations", json={"name": "Seulement à La Réunion", "kind": "association"})
    national = make_user("national", None)
    views = {}
    for who in (herault_email, reunion_email, national.email):
        web = new_web()
        web.login(who)
        views[who] = web.get("/journal").text + web.get("/journal/export.csv").text
    assert "Seulement dans l" in views[herault_email] and "Seulement à La Réunion" not in views[herault_email]
    assert "Seulement à La Réunion" in views[reunion_email] and "Seulement dans l" not in views[reunion_email]
    assert "Sarah Hoarau" not in views[herault_email]
    assert "Seulement dans l" in views[national.email] and "Seulement à La Réunion" in views[national.email]
    # The national coordinator narrows to one département; an agent cannot widen to another.
    web = new_web()
    web.login(national.email)
    only = web.get("/journal", params={"departement": "974"}).text
    assert "Seulement à La Réunion" in only and "Seulement dans l" not in only
    assert '<option value="974" selected>' in only
    web = new_web()
    web.login(herault_email)
    other = web.get("/journal", params={"departement": "974"})
    assert other.status_code == 422 and "Département inconnu ou non accessible" in other.text
    assert "Seulement à La Réunion" not in other.text and "Sarah Hoarau" not in other.text
    assert web.get("/journal/export.csv", params={"departement": "974"}).status_code in (400, 422)
    assert web.get("/journal", params={"departement": "9999"}).status_code == 422


def test_the_journal_paginates_with_dsfr_pagination(make_user, client, web):
    from coord.audit import log

    email, api = _agent(make_user, client, "Jules Faure", "34")
    org = api.post("/api/organisations", json={"name": "Partenaire", "kind": "association"}).json()
    principal = run(_principal_of(email))
    for i in range(51):  # the same writes as `records.update`, without 51 round trips through the API
        run(
            log.record(
                principal,
                "update",
                "organisation",
                org["id"],
                department_id=org_department(org),
                summary=f"Organisation n° {i}",
                before={"notes": ""},
                after={"notes": f"note {i}"},
            )
        )
    web.login(email)
    first = web.get("/journal", params={"objet": "organisation"}).text
    assert 'class="fr-pagination"' in first and 'aria-current="page"' in first
    assert len(_entries(first)) == 50
    assert "objet=organisation" in re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    second = web.get("/journal", params={"objet": "organisation", "page": "2"}).text
    assert len(_entries(second)) == 2
    compact = re.sub(r">\s+<", "><", second)
    frame = r'<div class="fr-table[^"]*"><div class="fr-table__wrapper"><div class="fr-table__container"[^>]*>'
    assert re.search(frame + r'<div class="fr-table__content"><table>', compact), _entries(second)


async def _principal_of(email: str) -> Any:
    from coord.accounts.service import principal_from_row
    from coord.accounts.tables import User

    return principal_from_row(
        await User.select(*User.all_columns(), User.department.code.as_alias("department_code"))
        .where(User.email == email)
        .first()
    )


def org_department(org: dict[str, Any]) -> int:
    from coord.territory.tables import Department

    return run(Department.select(Department.id).where(Department.code == org["department"]).first())["id"]


def test_every_action_kind_and_field_the_code_writes_has_a_french_label():
    """Read from the source: a new `audit.record(...)` with a new word fails here, not on a page."""
    from coord.audit.labels import ACTIONS, ENTITIES, FIELDS, is_secret
    from coord.core.db import all_tables

    writes = scan()
    assert len(writes.actions) > 30 and len(writes.entities) > 15  # the scan finds the calls
    assert {a: w for a, w in writes.actions.items() if a not in ACTIONS} == {}
    assert {e: w for e, w in writes.entities.items() if e not in ENTITIES} == {}
    assert {f: w for f, w in writes.fields.items() if f not in FIELDS and not is_secret(f)} == {}
    # Creations, updates and deletions write whole rows: every column of an audited table.
    tables = {"user": "coord_user", "inbox_item": "meeting_inbox_item"}
    written = {tables.get(entity, entity) for entity in writes.entities}
    audited = {t for t in all_tables() if t._meta.tablename in written}
    assert len(audited) > 15
    missing = sorted(
        f"{t._meta.tablename}.{c._meta.name}"
        for t in audited
        for c in t._meta.columns
        if c._meta.name not in FIELDS and not is_secret(c._meta.name)
    )
    assert missing == []


def test_enumerations_and_references_are_registered_for_the_fields_that_hold_them():
    import coord.app  # noqa: F401  (the composition root connects the journal's seams)
    from coord.audit.presenting import reference_kind, value_labels

    assert reference_kind("contact", "organisation") == "organisation"
    assert reference_kind("action_item", "owner_contact") == "contact"
    assert reference_kind("committee", "chair") == "contact"
    assert value_labels("meeting", "status")["convened"] == "Convoquée"
    assert value_labels("convention", "status")["terminated"] == "Résiliée"
    assert value_labels("user", "role")["prefecture"] == "Agent de préfecture"
