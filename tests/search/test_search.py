"""Search in one département: the box of the header, its page and its API, on both engines.

Accents and endings do not count (« traite » finds « Traité », « mineurs » finds « mineur » and
back), the index follows every write at once, results are grouped by kind and link to each record's
page, another département's records never appear, and no input (FTS operators included) gives a 500.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.actions.support import due, seed
from tests.conftest import ApiClient, run

KIND_ORDER = ["meeting", "agenda_item", "decision", "action_item", "organisation", "contact", "convention"]


def find(api: ApiClient, q: str, **params: Any) -> dict[str, Any]:
    response = api.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def found(api: ApiClient, q: str, kind: str | None = None, **params: Any) -> list[dict[str, Any]]:
    """The results of `q` (of one kind, when given)."""
    body = find(api, q, **params)
    return [r for g in body["groups"] for r in g["results"] if kind is None or g["kind"] == kind]


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def every_kind(api: ApiClient, word: str, code: str = "34") -> dict[str, Any]:
    """One record of each kind whose text holds `word`, created through the API."""
    world = seed(api, code)
    meeting_id = world["meeting"]["id"]
    api.put(
        f"/api/meetings/{meeting_id}/minutes",
        json={"minutes": f"Point sur la {word} des partenaires.", "version": world["meeting"]["version"]},
    )
    agenda = api.post(f"/api/meetings/{meeting_id}/agenda", json={"title": f"Plan de {word}", "duration_minutes": 10})
    decision = api.post(f"/api/meetings/{meeting_id}/decisions", json={"text": f"Renforcer la {word} en gare"})
    action = api.post(
        "/api/actions",
        json={"title": f"Organiser la {word}", "owner_organisation": world["org"]["id"], "due_on": due(30)},
    )
    organisation = api.post(
        "/api/organisations", json={"name": f"Collectif {word}", "kind": "association", "department": code}
    )
    contact = api.post(
        "/api/contacts",
        json={
            "organisation": world["org"]["id"],
            "first_name": "Claire",
            "last_name": "Martin",
            "function": f"Chargée de {word}",
            "email": f"c.martin{code}@cd.fr",
        },
    )
    convention = api.post("/api/conventions", json={"model": "clav-partenariat", "title": f"Convention {word}"})
    for response in (agenda, decision, action, organisation, contact, convention):
        assert response.status_code == 201, response.text
    return {
        **world,
        "agenda": agenda.json(),
        "decision": decision.json(),
        "action": action.json(),
        "organisation": organisation.json(),
        "new_contact": contact.json(),
        "convention": convention.json(),
    }


def test_accents_and_endings_do_not_count(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    org = world["org"]
    api.patch(f"/api/organisations/{org['id']}", json={"notes": "Signataire du Traité de coopération"})
    api.post(
        "/api/actions",
        json={"title": "Protéger le mineur isolé", "owner_organisation": org["id"], "due_on": due(20)},
    )
    # « traite » (no accent, any case) finds « Traité »; « Traité » finds itself.
    for q in ("traite", "TRAITE", "Traité", "traité"):
        assert [r["id"] for r in found(api, q, "organisation")] == [org["id"]], q
    # « mineurs » finds « mineur » and « mineur » finds « mineurs » (the seed's decision).
    assert [plain(r["title_html"]) for r in found(api, "mineurs", "action_item")] == ["Protéger le mineur isolé"]
    decisions = found(api, "mineur", "decision")
    assert [plain(r["snippet_html"]) for r in decisions] == ["Signer la convention mineurs avant juin"]
    assert "<mark>mineurs</mark>" in decisions[0]["snippet_html"]
    # Every word must be there: « mineur » with a word found nowhere finds nothing.
    assert found(api, "mineur girafe") == []
    # Words of one stem only: « traiteur » is not « traité ».
    assert found(api, "traiteur") == []


def test_results_are_grouped_by_kind_and_link_to_each_page(api_as: Any, make_user: Any, web: Any) -> None:
    api = api_as("prefecture", "34")
    world = every_kind(api, "vigilance")
    body = find(api, "vigilances")
    assert [g["kind"] for g in body["groups"]] == KIND_ORDER
    assert body["total"] == sum(g["total"] for g in body["groups"]) >= 7
    urls = {g["kind"]: [r["url"] for r in g["results"]] for g in body["groups"]}
    meeting_id = world["meeting"]["id"]
    assert urls["meeting"] == [f"/d/34/reunions/{meeting_id}"]
    assert urls["agenda_item"] == [f"/d/34/reunions/{meeting_id}#ordre-du-jour"]
    assert urls["decision"] == [f"/d/34/reunions/{meeting_id}/compte-rendu#decisions"]
    assert urls["action_item"] == [f"/d/34/actions/{world['action']['id']}"]
    assert urls["organisation"] == [f"/d/34/partenaires/{world['organisation']['id']}"]
    assert urls["contact"] == [f"/d/34/partenaires/{world['org']['id']}"]
    assert urls["convention"] == [f"/d/34/conventions/{world['convention']['id']}"]
    # A contact is found by name and by e-mail address, whole or by its parts.
    for q in ("Claire Martin", "c.martin34@cd.fr", "martin34"):
        assert [r["id"] for r in found(api, q, "contact")] == [world["new_contact"]["id"]], q

    # The page shows the same groups, and every link opens for a reader of the département.
    reader = make_user("observer", "34")
    web.login(reader.email)
    page = web.get("/d/34/recherche", params={"q": "vigilances"})
    assert page.status_code == 200
    html = page.text
    positions = [html.index(f'id="resultats-{kind}"') for kind in KIND_ORDER]
    assert positions == sorted(positions)
    assert "<mark>vigilance</mark>" in html
    for kind_urls in urls.values():
        for url in kind_urls:
            assert f'href="{url}"' in html
            assert web.get(url.split("#")[0]).status_code == 200, url


def test_index_follows_every_write_at_once(api_as: Any, db: Any) -> None:
    from coord.partners.tables import Contact

    api = api_as("prefecture", "34")
    world = seed(api)
    created = api.post(
        "/api/actions",
        json={"title": "Sensibiliser les hôteliers", "owner_organisation": world["org"]["id"], "due_on": due(15)},
    ).json()
    assert [r["id"] for r in found(api, "hotelier", "action_item")] == [created["id"]]

    changed = api.patch(
        f"/api/actions/{created['id']}", json={"title": "Sensibiliser les transporteurs", "version": created["version"]}
    )
    assert changed.status_code == 200, changed.text
    assert found(api, "hotelier") == []
    assert [r["id"] for r in found(api, "transporteur", "action_item")] == [created["id"]]

    # Organisation removed: gone from the results at once.
    orphan = api.post("/api/organisations", json={"name": "Foyer des Oliviers", "kind": "association"}).json()
    assert [r["id"] for r in found(api, "olivier", "organisation")] == [orphan["id"]]
    assert api.delete(f"/api/organisations/{orphan['id']}").status_code == 204
    assert found(api, "olivier") == []

    # A write that goes around the services (a script, a fix in SQL) is indexed just the same.
    contact_id = world["contact"]["id"]
    run(Contact.update({Contact.function: "Référente traite des êtres humains"}).where(Contact.id == contact_id))
    contacts = found(api, "referent", "contact")
    assert [r["id"] for r in contacts] == [contact_id]
    assert contacts[0]["context"] == world["org"]["name"]
    run(Contact.delete().where(Contact.id == contact_id))
    assert found(api, "referent") == []


def test_rows_written_before_the_index_existed_are_found(api_as: Any, db: Any) -> None:
    """The migration indexes what the tables already hold, not only what is written afterwards."""
    from importlib import import_module

    migration = import_module("coord.search.piccolo_migrations.search_2026_12_02t16_00_00_000000")
    api = api_as("prefecture", "34")
    world = seed(api)
    run(migration.drop_index(db.engine))
    try:
        api.patch(f"/api/organisations/{world['org']['id']}", json={"notes": "Partenaire historique du réseau"})
    finally:
        run(migration.create_index(db.engine))
    assert [r["id"] for r in found(api, "historiques", "organisation")] == [world["org"]["id"]]
    assert [r["id"] for r in found(api, "educateur", "decision")] == [world["decisions"][0]["id"]]


def test_another_departments_records_never_appear(api_as: Any, make_user: Any, web: Any, new_web: Any) -> None:
    herault, gard = api_as("prefecture", "34"), api_as("prefecture", "30")
    every_kind(herault, "vigilance", "34")
    every_kind(gard, "vigilance", "30")
    for api, code in ((herault, "34"), (gard, "30")):
        results = found(api, "vigilance")
        assert len(results) >= 7
        assert all(r["url"].startswith(f"/d/{code}/") for r in results)
        assert find(api, "vigilance")["department"] == code
    # Naming the other département is refused as if it did not exist.
    assert herault.get("/api/search", params={"q": "vigilance", "department": "30"}).status_code == 404
    web.login(make_user("observer", "34").email)
    assert web.get("/d/30/recherche", params={"q": "vigilance"}).status_code == 404
    page = web.get("/d/34/recherche", params={"q": "vigilance"})
    assert "/d/34/reunions/" in page.text and "/d/30/" not in page.text and "c.martin30" not in page.text
    # A national coordinator names the département searched, and sees that one only.
    national = api_as("national", None)
    missing = national.get("/api/search", params={"q": "vigilance"})
    assert missing.status_code == 422 and "département" in missing.json()["detail"]
    assert all(r["url"].startswith("/d/30/") for r in found(national, "vigilance", department="30"))


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Saisissez un ou plusieurs mots à rechercher."),
        ("   ", "Saisissez un ou plusieurs mots à rechercher."),
        ("x" * 201, "La recherche est limitée à 200 caractères (vous en avez saisi 201)."),
        ("le de la et", "Saisissez au moins un mot significatif"),
        ('"*:()-', "Saisissez au moins un mot significatif"),
    ],
)
def test_bad_queries_get_a_french_message(api_as: Any, make_user: Any, web: Any, q: str, message: str) -> None:
    api = api_as("observer", "34")
    response = api.get("/api/search", params={"q": q})
    assert response.status_code == 422
    assert response.json()["detail"].startswith(message)
    assert response.json()["errors"]["q"].startswith(message)
    web.login(make_user("observer", "34").email)
    page = web.get("/d/34/recherche", params={"q": q})
    assert page.status_code == 422
    assert message.replace("'", "&#39;") in page.text or message in page.text
    assert 'aria-invalid="true"' in page.text


def test_a_missing_query_is_a_french_message_in_the_api_and_the_form_alone_on_the_page(
    api_as: Any, make_user: Any, web: Any
) -> None:
    response = api_as("observer", "34").get("/api/search")
    assert response.status_code == 422
    assert response.json()["detail"] == "Saisissez un ou plusieurs mots à rechercher."
    web.login(make_user("observer", "34").email)
    page = web.get("/d/34/recherche")
    assert page.status_code == 200
    assert 'name="q"' in page.text and "fr-search-bar" in page.text


SYNTAX = [
    'traite"',
    '"traite',
    "traite*",
    "NEAR(traite mineurs, 2)",
    "traite NEAR mineurs",
    "-traite",
    "title:traite",
    "body : traite",
    "(traite",
    "traite)",
    "traite OR",
    "AND traite",
    "NOT traite",
    "^traite",
    "{title body}: traite",
    "traite & mineurs | !x",
    "traite:* <-> mineurs",
    "traité' ; DROP TABLE organisation; --",
    "%traite_",
]


def test_search_syntax_in_the_input_is_plain_text(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    api.patch(f"/api/organisations/{world['org']['id']}", json={"notes": "Signataire du Traité mineurs"})
    for q in SYNTAX:
        response = api.get("/api/search", params={"q": q})
        assert response.status_code == 200, (q, response.text)
        groups = response.json()["groups"]
        organisations = [r["id"] for g in groups if g["kind"] == "organisation" for r in g["results"]]
        # Every word of the input is searched as a word, whatever surrounds it: all must be found.
        words = {w.lower() for w in re.findall(r"[^\W_]+", q)}
        if words <= {"traite", "traité", "mineurs"}:
            assert organisations == [world["org"]["id"]], q
        else:
            assert organisations == [], q
    for q in ("*", '""', "()", "-", ":", "NEAR("[:4] + "(", "^"):
        response = api.get("/api/search", params={"q": q})
        assert response.status_code in (200, 422), (q, response.text)
        if response.status_code == 422:
            assert response.json()["detail"].startswith("Saisissez"), q
    # A NUL byte is refused by the application for every address, in French.
    response = api.get("/api/search", params={"q": "traite\x00"})
    assert response.status_code == 400 and "nul" in response.json()["detail"]


def test_text_is_escaped_and_only_the_words_found_are_marked(api_as: Any, make_user: Any, web: Any) -> None:
    api = api_as("prefecture", "34")
    api.post(
        "/api/organisations",
        json={"name": "<script>alert(1)</script> Vigilance & <b>co</b>", "kind": "association"},
    )
    result = found(api, "vigilance", "organisation")[0]
    assert result["title_html"].startswith("&lt;script&gt;alert(1)&lt;/script&gt; <mark>Vigilance</mark> &amp;")
    web.login(make_user("observer", "34").email)
    html = web.get("/d/34/recherche", params={"q": "<b>vigilance</b>"}).text
    assert "<script>alert(1)" not in html and "<b>co</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Vigilance</mark>" in html
    assert "« &lt;b&gt;vigilance&lt;/b&gt; »" in html


def test_many_matches_show_the_best_and_count_them_all(api_as: Any) -> None:
    api = api_as("prefecture", "34")
    world = seed(api)
    for n in range(25):
        api.post(
            "/api/actions",
            json={"title": f"Repérage n° {n}", "owner_organisation": world["org"]["id"], "due_on": due(10)},
        )
    api.post(
        "/api/actions",
        json={
            "title": "Repérage repérage des victimes",
            "description": "Repérage en gare",
            "owner_organisation": world["org"]["id"],
            "due_on": due(10),
        },
    )
    group = next(g for g in find(api, "reperage")["groups"] if g["kind"] == "action_item")
    assert group["total"] == 26 and len(group["results"]) == 20
    assert plain(group["results"][0]["title_html"]) == "Repérage repérage des victimes"  # the most relevant first


def test_meeting_dates_are_shown_in_the_departments_zone(api_as: Any) -> None:
    api = api_as("prefecture", "974")
    committee = api.post("/api/committees", json={"name": "Commission TEH", "kind": "cdpd_commission_teh"}).json()
    start = dt.datetime(2031, 3, 10, 20, 30, tzinfo=dt.UTC)  # 11 March, 00:30 at La Réunion
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion de vigilance",
            "place": "Préfecture de Saint-Denis",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,
        },
    )
    assert meeting.status_code == 201, meeting.text
    assert found(api, "vigilance", "meeting")[0]["context"] == "Réunion du mardi 11 mars 2031"


def test_no_text_whatsoever_breaks_the_search(api_as: Any) -> None:
    """Random text (any Unicode, punctuation, operators of both engines) gives results or a French
    message, never a server error."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    api = api_as("observer", "34")
    alphabet = st.sampled_from([*list("\"*:()-^{}[]&|!<>~+.,;'%_\\/ NEARORANDNOTéÉœçß"), "traite", "mineurs", " "])
    texts = st.one_of(st.text(max_size=40), st.lists(alphabet, max_size=25).map("".join))

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(q=texts)
    def check(q: str) -> None:
        response = api.get("/api/search", params={"q": q})
        assert response.status_code in (200, 400, 422), (q, response.status_code, response.text[:300])
        if response.status_code != 200:
            assert response.json()["detail"][:1].isupper(), q

    check()


def test_the_other_departments_markers_are_not_found_by_naming_them(api_as: Any, make_user: Any, web: Any) -> None:
    """What the canary walk relies on: a marker (« CANARI974-nom ») is found by its first word in
    its own département, and in no other."""
    herault, reunion = api_as("prefecture", "34"), api_as("prefecture", "974")
    own = herault.post("/api/organisations", json={"name": "CANARI34-nom", "kind": "association"}).json()
    reunion.post("/api/organisations", json={"name": "CANARI974-nom", "kind": "association"})
    assert [r["id"] for r in found(herault, "CANARI34")] == [own["id"]]
    assert found(herault, "CANARI974") == []
    web.login(make_user("observer", "34").email)
    html = web.get("/d/34/recherche", params={"q": "CANARI974"}).text
    assert "canari974-nom" not in html.lower() and "Aucun résultat" in html
    assert "<mark>CANARI34</mark>-nom" in web.get("/d/34/recherche", params={"q": "canari34"}).text


def test_the_header_search_box_leads_to_the_results(api_as: Any, make_user: Any, web: Any) -> None:
    api = api_as("prefecture", "34")
    api.post("/api/organisations", json={"name": "Collectif Vigilance", "kind": "association"})
    web.login(make_user("observer", "34").email)
    home = web.get("/d/34/partenaires/").text
    form = re.search(r'<form[^>]*class="fr-search-bar"[^>]*>.*?</form>', home, re.S)
    assert form, "no search box in the header"
    action = re.search(r'action="([^"]+)"', form.group(0)).group(1)
    field = re.search(r'<input[^>]*name="([^"]+)"[^>]*type="search"', form.group(0)).group(1)
    assert 'method="get"' in form.group(0)
    page = web.get(action, params={field: "vigilance"})
    assert page.status_code == 200
    assert "Collectif <mark>Vigilance</mark>" in page.text
    # The box of the results page keeps the query.
    assert 'value="vigilance"' in page.text


def test_records_removed_with_their_meeting_leave_the_results(api_as: Any) -> None:
    from coord.meetings.tables import Meeting

    api = api_as("prefecture", "34")
    world = seed(api)
    meeting_id = world["meeting"]["id"]
    api.post(f"/api/meetings/{meeting_id}/agenda", json={"title": "Bilan des maraudes", "duration_minutes": 10})
    assert len(found(api, "maraude", "agenda_item")) == 1 and len(found(api, "educateur", "decision")) == 1
    run(Meeting.delete().where(Meeting.id == meeting_id))  # its agenda and decisions go with it (cascade)
    assert found(api, "maraude") == [] and found(api, "educateur") == [] and found(api, "annuelle") == []
