"""Committee pages of a département: list and filter, create and edit, members, deletion."""

from __future__ import annotations

import re
from typing import Any


def _contact(api: Any, last_name: str, active: bool = True) -> int:
    orgs = api.get("/api/organisations", params={"q": "Parquet"}).json()["items"]
    org_id = (
        orgs[0]["id"]
        if orgs
        else api.post("/api/organisations", json={"name": "Parquet", "kind": "parquet"}).json()["id"]
    )
    return api.post(
        "/api/contacts",
        json={
            "organisation": org_id,
            "first_name": "Paul",
            "last_name": last_name,
            "email": f"{last_name.lower()}@justice.fr",
            "active": active,
        },
    ).json()["id"]


def _location(response: Any) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


def test_list_is_filtered_by_kind(web, make_user, api_as):
    api = api_as("prefecture", "34")
    api.post("/api/committees", json={"name": "CODAF de l'Hérault", "kind": "codaf"})
    api.post("/api/committees", json={"name": "CLAV de Montpellier", "kind": "clav"})
    web.login(make_user("prefecture", "34").email)
    everything = web.get("/d/34/instances")
    assert everything.status_code == 200
    assert "CODAF de l&#39;Hérault" in everything.text and "CLAV de Montpellier" in everything.text
    assert "<caption>" in everything.text and 'scope="col"' in everything.text
    filtered = web.get("/d/34/instances", params={"kind": "clav"})
    assert "CLAV de Montpellier" in filtered.text and "CODAF de l&#39;Hérault" not in filtered.text
    # A forged filter shows everything rather than an error page.
    assert "CODAF" in web.get("/d/34/instances", params={"kind": "<script>"}).text


def test_create_edit_and_delete_a_committee(web, make_user, api_as):
    api = api_as("prefecture", "34")
    chair = _contact(api, "Prefet")
    _contact(api, "Retraite", active=False)
    web.login(make_user("prefecture", "34").email)
    form = web.get("/d/34/instances/nouvelle")
    assert form.status_code == 200
    assert "Prefet Paul – Parquet" in form.text and "Retraite" not in form.text
    assert "ne saisissez jamais de données concernant des victimes" in form.text
    assert "(obligatoire)" in form.text
    created = web.post(
        "/d/34/instances/nouvelle",
        {"name": "Commission TEH", "kind": "cdpd_commission_teh", "chair": str(chair), "description": "Mandat."},
        follow_redirects=False,
    )
    detail_url = _location(created)
    committee_id = int(re.search(r"/instances/(\d+)$", detail_url).group(1))
    detail = web.get(detail_url)
    assert "Instance « Commission TEH » créée." in detail.text and "Paul Prefet" in detail.text
    edit = web.get(f"/d/34/instances/{committee_id}/modifier")
    assert f'<option value="{chair}" selected>' in edit.text
    updated = web.post(
        f"/d/34/instances/{committee_id}/modifier",
        {"name": "Commission TEH et mineurs", "kind": "cdpd_commission_teh", "chair": "", "description": ""},
        follow_redirects=False,
    )
    assert _location(updated) == detail_url
    current = api.get(f"/api/committees/{committee_id}").json()
    assert current["name"] == "Commission TEH et mineurs" and current["chair"] is None
    assert current["active"] is False  # the unchecked box means inactive
    removed = web.post(f"/d/34/instances/{committee_id}/supprimer", follow_redirects=False)
    assert _location(removed) == "/d/34/instances"
    assert api.get(f"/api/committees/{committee_id}").status_code == 404


def test_invalid_form_is_shown_again_with_errors_and_values(web, make_user, api_as):
    api = api_as("prefecture", "34")
    api.post("/api/committees", json={"name": "CODAF", "kind": "codaf"})
    foreign = _contact(api_as("prefecture", "93"), "Bobigny")
    web.login(make_user("prefecture", "34").email)
    response = web.post("/d/34/instances/nouvelle", {"name": "codaf", "kind": "codaf", "chair": str(foreign)})
    assert response.status_code == 422
    assert "Une instance « codaf » existe déjà dans ce département." in response.text
    assert "Le président doit être un contact de ce département." in response.text
    assert 'value="codaf"' in response.text and 'aria-invalid="true"' in response.text
    assert api.get("/api/committees").json()["total"] == 1


def test_members_are_added_changed_and_removed(web, make_user, api_as):
    api = api_as("prefecture", "34")
    committee = api.post("/api/committees", json={"name": "Groupe mineurs", "kind": "groupe_mineurs"}).json()
    contact = _contact(api, "Garnier")
    base = f"/d/34/instances/{committee['id']}"
    web.login(make_user("prefecture", "34").email)
    added = web.post(f"{base}/membres", {"contact": str(contact), "role": "membre"}, follow_redirects=False)
    assert _location(added) == base
    page = web.get(base)
    assert "Garnier Paul" in page.text and "Parquet" in page.text and "ajouté(e) comme membre titulaire" in page.text
    duplicate = web.post(f"{base}/membres", {"contact": str(contact), "role": "suppleant"})
    assert duplicate.status_code == 422 and "Ce contact est déjà membre de cette instance." in duplicate.text
    missing = web.post(f"{base}/membres", {"contact": "", "role": ""})
    assert missing.status_code == 422 and "Le formulaire contient 2 erreurs" in missing.text
    member = api.get(f"/api/committees/{committee['id']}/members").json()[0]
    changed = web.post(f"{base}/membres/{member['id']}/role", {"role": "suppleant"}, follow_redirects=False)
    assert _location(changed) == base
    assert api.get(f"/api/committees/{committee['id']}/members").json()[0]["role"] == "suppleant"
    bad = web.post(f"{base}/membres/{member['id']}/role", {"role": "roi"})
    assert bad.status_code == 422 and "Valeur inconnue" in bad.text
    assert "data-confirm=" in web.get(base).text  # static/coord.js asks before the form is sent
    removed = web.post(f"{base}/membres/{member['id']}/retirer", follow_redirects=False)
    assert _location(removed) == base
    assert api.get(f"/api/committees/{committee['id']}/members").json() == []


def test_objects_of_another_department_are_not_found(web, make_user, api_as):
    herault = api_as("prefecture", "34")
    committee = herault.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere"}).json()
    member = herault.post(
        f"/api/committees/{committee['id']}/members", json={"contact": _contact(herault, "Roux"), "role": "membre"}
    ).json()
    web.login(make_user("national", None).email)
    # A national user sees the committee under its own département only.
    assert web.get(f"/d/34/instances/{committee['id']}").status_code == 200
    assert web.get(f"/d/93/instances/{committee['id']}").status_code == 404
    assert web.get(f"/d/93/instances/{committee['id']}/modifier").status_code == 404
    assert web.post(f"/d/93/instances/{committee['id']}/supprimer").status_code == 404
    assert web.post(f"/d/93/instances/{committee['id']}/membres/{member['id']}/retirer").status_code == 404
    assert web.get("/d/999/instances").status_code == 404
    assert herault.get(f"/api/committees/{committee['id']}").status_code == 200


def test_a_committee_with_meetings_is_not_deleted(web, make_user, api_as):
    import datetime as dt

    api = api_as("prefecture", "34")
    committee = api.post("/api/committees", json={"name": "CDPD", "kind": "cdpd_pleniere"}).json()
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Séance annuelle",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # thirty days from now may be a weekend or a holiday
        },
    )
    assert meeting.status_code == 201, meeting.text
    web.login(make_user("prefecture", "34").email)
    response = web.post(f"/d/34/instances/{committee['id']}/supprimer", follow_redirects=False)
    assert _location(response) == f"/d/34/instances/{committee['id']}"
    assert "désactivez-la plutôt que de la supprimer" in web.get(f"/d/34/instances/{committee['id']}").text
    assert api.get(f"/api/committees/{committee['id']}").status_code == 200
    assert api.delete(f"/api/committees/{committee['id']}").status_code == 409
