"""From the minutes, each decision becomes an action with its own owner and due date; one wrong row
stores nothing and says which row is wrong."""

from __future__ import annotations

import html

from tests.actions.support import due, seed


def _items(api) -> dict[str, dict]:
    return {i["title"]: i for i in api.get("/api/actions").json()["items"]}


def test_each_decision_gets_its_own_owner_and_due_date(api_as, web, make_user):
    api = api_as("prefecture", "34")
    world = seed(api)
    web.login(make_user("coordinator", "34").email)
    meeting = world["meeting"]["id"]
    first, second = world["decisions"]
    form = web.get(f"/d/34/reunions/{meeting}/actions")
    assert form.status_code == 200
    assert f'name="owner_contact_{first["id"]}"' in form.text and f'name="due_on_{second["id"]}"' in form.text
    assert 'src="/static/contact-picker.js"' in form.text
    assert f'data-organisation="{world["org"]["id"]}"' in form.text
    created = web.post(
        f"/d/34/reunions/{meeting}/actions",
        {
            "decisions": [str(first["id"]), str(second["id"])],
            f"owner_organisation_{first['id']}": str(world["org"]["id"]),
            f"owner_contact_{first['id']}": str(world["contact"]["id"]),
            f"due_on_{first['id']}": due(10),
            f"owner_contact_{second['id']}": str(world["other"]["id"]),
            f"due_on_{second['id']}": due(40),
        },
    )
    assert created.status_code == 200 and "2 action(s) créée(s)" in html.unescape(created.text)
    items = _items(api)
    one, two = items[first["text"]], items[second["text"]]
    assert (one["owner_contact"], str(one["due_on"])) == (world["contact"]["id"], due(10))
    assert (two["owner_contact"], str(two["due_on"])) == (world["other"]["id"], due(40))
    # The contact alone names their organisation.
    assert two["owner_organisation"] == world["other_org"]["id"]


def test_one_wrong_row_stores_nothing_and_shows_the_error_in_that_row(api_as, web, make_user):
    api = api_as("prefecture", "34")
    world = seed(api)
    web.login(make_user("coordinator", "34").email)
    meeting = world["meeting"]["id"]
    first, second = world["decisions"]
    refused = web.post(
        f"/d/34/reunions/{meeting}/actions",
        {
            "decisions": [str(first["id"]), str(second["id"])],
            f"owner_contact_{first['id']}": str(world["contact"]["id"]),
            f"due_on_{first['id']}": due(10),
            # Fatou Diallo is of the association, not of the conseil départemental.
            f"owner_organisation_{second['id']}": str(world["org"]["id"]),
            f"owner_contact_{second['id']}": str(world["other"]["id"]),
            f"due_on_{second['id']}": "2020-01-01",
        },
    )
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Ce contact n'appartient pas à l'organisation responsable." in text
    assert "L'échéance ne peut pas précéder la création de l'action" in text
    assert f'id="f-owner_contact_{second["id"]}-error"' in text and f'id="f-due_on_{second["id"]}-error"' in text
    # The rows keep what was typed, and the checked decisions stay checked.
    assert 'value="2020-01-01"' in text and f'value="{first["id"]}" checked' in text
    assert api.get("/api/actions").json()["total"] == 0


def test_the_api_takes_an_owner_per_decision(api_as):
    api = api_as("prefecture", "34")
    world = seed(api)
    first, second = world["decisions"]
    response = api.post(
        f"/api/actions/from-decisions/{world['meeting']['id']}",
        json={
            "decisions": [first["id"], second["id"]],
            "due_on": due(20),
            "per_decision": [{"decision": second["id"], "owner_contact": world["other"]["id"], "due_on": due(5)}],
        },
    )
    assert response.status_code == 201, response.text
    items = _items(api)
    assert str(items[first["text"]]["due_on"]) == due(20) and items[first["text"]]["owner_contact"] is None
    assert str(items[second["text"]]["due_on"]) == due(5)
    assert items[second["text"]]["owner_contact"] == world["other"]["id"]
    bad = api.post(
        f"/api/actions/from-decisions/{world['meeting']['id']}",
        json={"decisions": [first["id"]], "per_decision": [{"decision": first["id"], "due_on": "2020-01-01"}]},
    )
    assert bad.status_code == 422 and f"due_on_{first['id']}" in bad.json()["errors"]
