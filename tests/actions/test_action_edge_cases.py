"""Edge cases of action items: a change of owner, bad input in every door, the digest's horizon."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.actions.support import due, link_token, owned_item, seed
from tests.conftest import run


def test_the_former_owner_link_stops_working_once_the_item_changes_owner(api_as, client):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    moved = api.patch(
        f"/api/actions/{item['id']}",
        json={"owner_organisation": world["other_org"]["id"], "owner_contact": world["other"]["id"]},
    )
    assert moved.status_code == 200, moved.text
    assert client.get(f"/r/action/{token}").status_code == 403
    assert client.post(f"/r/action/{token}", data={"status": "fait"}).status_code == 403
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == "a_faire"
    # The new owner's link works.
    fresh = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    assert client.post(f"/r/action/{fresh}", data={"status": "en_cours"}).status_code == 200


def test_changing_the_organisation_away_from_the_owner_contact_is_refused(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    assert item["owner_organisation"] == world["org"]["id"]
    refused = api.patch(f"/api/actions/{item['id']}", json={"owner_organisation": world["other_org"]["id"]})
    assert refused.status_code == 422, refused.text
    assert "owner_contact" in refused.json()["errors"] or "owner_organisation" in refused.json()["errors"]
    assert api.get(f"/api/actions/{item['id']}").json()["owner_organisation"] == world["org"]["id"]


def test_a_contact_of_another_department_or_organisation_is_refused_everywhere(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    gard = api_as("prefecture", "30")
    elsewhere = seed(gard, "30")
    mismatch = api.post(
        "/api/actions",
        json={"title": "X", "owner_organisation": world["other_org"]["id"], "owner_contact": world["contact"]["id"]},
    )
    assert mismatch.status_code == 422 and "organisation" in mismatch.json()["errors"]["owner_contact"]
    meeting = world["meeting"]["id"]
    decisions = [d["id"] for d in world["decisions"]]
    for body in (
        {"decisions": decisions, "owner_contact": elsewhere["contact"]["id"]},
        {"decisions": decisions, "owner_contact": world["contact"]["id"], "due_on": due(-400)},
        {
            "decisions": decisions,
            "owner_organisation": world["other_org"]["id"],
            "owner_contact": world["contact"]["id"],
        },
    ):
        refused = api.post(f"/api/actions/from-decisions/{meeting}", json=body)
        assert refused.status_code == 422, refused.text
    assert api.get("/api/actions").json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"due_on": "2001-01-01"},
        {"due_on": "demain"},
        {"progress": 101},
        {"progress": -1},
        {"priority": "urgente"},
        {"priority": ""},
        {"title": ""},
        {"title": "x" * 301},
        {"committee": 999999},
        {"measure": 999999},
        {"tags": ["x" * 41]},
        {"tags": ["a\x1fb"]},
        {"tags": ["ok", "\x00"]},
    ],
)
def test_a_bad_change_gets_a_french_error_and_leaves_the_item_as_it_was(api_as, body):
    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    refused = api.patch(f"/api/actions/{item['id']}", json=body)
    assert refused.status_code == 422, refused.text
    assert api.get(f"/api/actions/{item['id']}").json() == item
    assert [e["kind"] for e in api.get(f"/api/actions/{item['id']}/history").json()] == ["created"]


@pytest.mark.parametrize(
    "data",
    [
        {"status": "inconnu"},
        {"status": "en_cours", "progress": "beaucoup"},
        {"progress": "abc"},
        {"comment": "x" * 2001},
        {"status": "a_faire", "reopen": "1"},
    ],
)
def test_a_partner_bad_update_is_explained_and_changes_nothing(api_as, client, data):
    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    token = link_token(api.post(f"/api/actions/{item['id']}/link").json()["url"])
    refused = client.post(f"/r/action/{token}", data=data)
    assert refused.status_code == 422, refused.text
    assert api.get(f"/api/actions/{item['id']}").json()["status"] == "a_faire"


def test_the_digest_lists_overdue_items_and_skips_closed_ones_and_other_owners_items(api_as, smtp_sink):
    from coord.actions.tasks import queue_owner_digests
    from coord.mail.tables import OutboxMessage

    api = api_as("prefecture", "34")
    world = seed(api)
    owned_item(api, world, "Bientôt", 3)
    closed = owned_item(api, world, "Déjà faite", 4)
    api.post(f"/api/actions/{closed['id']}/transition", json={"status": "fait"})
    owned_item(api, world, "Pour l'association", 5, contact="other")
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)  # a week later: "Bientôt" is overdue
    assert run(queue_owner_digests(now)) == 2
    rows = run(
        OutboxMessage.select(OutboxMessage.to_email, OutboxMessage.body_text, OutboxMessage.dedupe_key).where(
            OutboxMessage.kind == "action_digest"
        )
    )
    by_email = {r["to_email"]: r for r in rows}
    mine = by_email["i.moreau34@cd.fr"]
    text = mine["body_text"]
    assert "Bientôt" in text and "en retard" in text and "Déjà faite" not in text and "Pour l'association" not in text
    year, week, _ = now.date().isocalendar()
    assert mine["dedupe_key"] == f"action-digest:{world['contact']['id']}:{year}-W{week:02d}"
    assert run(queue_owner_digests(now + dt.timedelta(days=7))) == 2  # next week, again


def test_a_coordinator_edits_owner_due_date_and_progress_from_the_item_page(api_as, web, make_user):
    import html

    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    coordinator = make_user("coordinator", "34")
    web.login(coordinator.email)
    form = html.unescape(web.get(f"/d/34/actions/{item['id']}/modifier").text)
    assert "Modifier l'action" in form and 'value="Former les éducateurs"' in form
    values = {
        "title": "Former les éducateurs de l'ASE",
        "owner_organisation": str(world["other_org"]["id"]),
        "owner_contact": str(world["contact"]["id"]),
        "due_on": due(40),
        "priority": "haute",
        "progress": "30",
        "version": str(item["version"]),
        "tags": "formation, ASE",
    }
    refused = web.post(f"/d/34/actions/{item['id']}/modifier", values)
    assert refused.status_code == 422 and "n'appartient pas" in html.unescape(refused.text)
    refused = web.post(
        f"/d/34/actions/{item['id']}/modifier",
        {**values, "owner_organisation": str(world["org"]["id"]), "due_on": "2000-01-01"},
    )
    assert refused.status_code == 422 and "précéder la création" in html.unescape(refused.text)
    assert api.get(f"/api/actions/{item['id']}").json() == item
    saved = web.post(f"/d/34/actions/{item['id']}/modifier", {**values, "owner_organisation": str(world["org"]["id"])})
    assert saved.status_code == 200 and "Action modifiée" in html.unescape(saved.text)
    after = api.get(f"/api/actions/{item['id']}").json()
    assert (after["title"], after["progress"], after["priority"], after["tags"]) == (
        "Former les éducateurs de l'ASE",
        30,
        "haute",
        ["ase", "formation"],
    )
    stale = web.post(f"/d/34/actions/{item['id']}/modifier", {**values, "owner_organisation": str(world["org"]["id"])})
    assert stale.status_code == 409  # the version the form was read at is gone
    [*_, changed] = api.get(f"/api/actions/{item['id']}/history").json()
    assert changed["kind"] == "changed" and changed["changes"]["progress"] == 30
    observer = make_user("observer", "34")
    web.login(observer.email)
    assert web.get(f"/d/34/actions/{item['id']}/modifier").status_code == 403


def test_a_contact_who_left_gets_no_digest(api_as):
    from coord.actions.tasks import queue_owner_digests

    api = api_as("prefecture", "34")
    world = seed(api)
    owned_item(api, world, "Bientôt", 3)
    left = api.patch(f"/api/contacts/{world['contact']['id']}", json={"active": False})
    assert left.status_code == 200, left.text
    assert run(queue_owner_digests(dt.datetime.now(dt.UTC))) == 0


@pytest.mark.parametrize(
    "query",
    [
        "department=ZZ",
        "department=30",
        "status=ferme",
        "committee=abc",
        "committee=99999999999",
        "due_from=2026-13-01",
        "sort=prix",
        "overdue=peut-etre",
        "page=0",
        "per_page=100000",
        "measure=-1",
        "owner_organisation=%00",
        "tag=a,b",
        "tag=%00",
        "tag=" + "x" * 41,
    ],
)
def test_a_malformed_filter_is_a_clear_error_never_a_crash(api_as, query):
    api = api_as("prefecture", "34")
    response = api.get(f"/api/actions?{query}")
    assert response.status_code in (200, 400, 403, 404, 422), response.text
    csv_response = api.get(f"/api/actions/export.csv?{query}")
    assert csv_response.status_code in (200, 400, 403, 404, 422), csv_response.text


def test_transitions_and_comments_refuse_garbage_without_touching_the_item(api_as):
    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    for body in (
        {"status": ""},
        {"status": "fait", "progress": 500},
        {"status": "fait", "comment": "a\x00b"},
        {"status": "fait", "version": 99},
    ):
        refused = api.post(f"/api/actions/{item['id']}/transition", json=body)
        assert refused.status_code in (400, 409, 422), (body, refused.text)
    for body in ({"comment": ""}, {"comment": "   "}, {"comment": "x" * 2001}):
        assert api.post(f"/api/actions/{item['id']}/comments", json=body).status_code in (400, 422)
    assert api.post("/api/actions/999999/comments", json={"comment": "x"}).status_code == 404
    assert api.post("/api/actions/from-decisions/999999", json={"decisions": [1]}).status_code == 404
    assert api.get(f"/api/actions/{item['id']}").json() == item
    assert len(api.get(f"/api/actions/{item['id']}/history").json()) == 1


def test_clearing_the_organisation_keeps_the_owner_contact_s_own(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    item = owned_item(api, world)
    kept = api.patch(f"/api/actions/{item['id']}", json={"owner_organisation": None})
    assert kept.status_code == 200 and kept.json()["owner_organisation"] == world["org"]["id"]
    moved = api.patch(
        f"/api/actions/{item['id']}", json={"owner_organisation": None, "owner_contact": world["other"]["id"]}
    )
    assert moved.status_code == 200 and moved.json()["owner_organisation"] == world["other_org"]["id"]


def test_an_older_row_with_control_characters_still_exports_to_excel(api_as):
    import io

    import openpyxl

    from coord.actions.tables import ActionItem

    api = api_as("prefecture", "34")
    item = owned_item(api, seed(api))
    run(
        ActionItem.update({ActionItem.title: "Former\x1f les éducateurs", ActionItem.tags: "a\x01b"}).where(
            ActionItem.id == item["id"]
        )
    )
    response = api.get("/api/actions/export.xlsx")
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    row = {header.value: cell.value for header, cell in zip(sheet[1], sheet[2], strict=True)}
    assert row["Titre"] == "Former les éducateurs"
    assert row["Étiquettes"] == "ab"
