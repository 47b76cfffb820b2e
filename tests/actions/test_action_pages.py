"""A coordinator works from the pages: minutes → items, board, item page, status and comments."""

from __future__ import annotations

import html
import re

from tests.actions.support import due, seed


def test_from_the_minutes_to_the_board(api_as, web, make_user):
    world = seed(api_as("prefecture", "34"))
    coordinator = make_user("coordinator", "34")
    web.login(coordinator.email)
    meeting = world["meeting"]["id"]
    form = web.get(f"/d/34/reunions/{meeting}/actions")
    assert form.status_code == 200 and "Créer les actions décidées" in form.text
    refused = web.post(f"/d/34/reunions/{meeting}/actions", {"due_on": due(10)})
    assert refused.status_code == 422 and "Cochez au moins une décision" in html.unescape(refused.text)
    created = web.post(
        f"/d/34/reunions/{meeting}/actions",
        {
            "decisions": [str(d["id"]) for d in world["decisions"]],
            "owner_contact": str(world["contact"]["id"]),
            "due_on": due(10),
        },
    )
    assert created.status_code == 200 and "2 action(s) créée(s)" in html.unescape(created.text)
    board = html.unescape(web.get("/d/34/actions?vue=tableau").text)
    assert "À faire (2)" in board and "Fait (0)" in board
    item_id = re.search(r'href="/d/34/actions/(\d+)"', board).group(1)
    done = web.post(f"/d/34/actions/{item_id}/statut", {"status": "fait", "comment": "Terminé"})
    assert done.status_code == 200
    page = html.unescape(web.get(f"/d/34/actions/{item_id}").text)
    assert 'id="statut">Fait<' in page and "Terminé" in page
    wrong = web.post(f"/d/34/actions/{item_id}/statut", {"status": "a_faire"})
    assert wrong.status_code == 422 and "rouvrez" in html.unescape(wrong.text)
    board = html.unescape(web.get("/d/34/actions?vue=tableau").text)
    assert "Fait (1)" in board and "À faire (1)" in board
    listing = web.get("/d/34/actions?status=fait")
    assert listing.status_code == 200 and "1 élément" in listing.text
    assert web.get("/d/34/actions?due_from=nimporte").status_code == 200  # a forged filter shows everything
    assert web.get("/d/34/actions/export.xlsx").status_code == 200


def test_a_new_item_form_explains_errors_and_warns_about_victim_data(web, make_user, api_as):
    seed(api_as("prefecture", "34"))
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    form = web.get("/d/34/actions/nouvelle")
    assert "données concernant des victimes" in html.unescape(form.text)
    bad = web.post("/d/34/actions/nouvelle", {"title": "", "due_on": "2020-01-01"})
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    assert "précéder" in text and "Le formulaire contient 2 erreurs" in text


def test_the_national_view_shows_progress_by_department(api_as, web, make_user):
    api = api_as("prefecture", "34")
    item = api.post("/api/actions", json={"title": "Former"}).json()
    api.post(f"/api/actions/{item['id']}/transition", json={"status": "fait"})
    api.post("/api/actions", json={"title": "Signer"})
    national = make_user("national", None)
    web.login(national.email)
    page = html.unescape(web.get("/actions").text)
    assert "Hérault" in page and "50 %" in page


def test_a_crowded_board_column_shows_its_true_count_and_links_to_the_full_list(api_as, web, make_user, monkeypatch):
    from coord.actions import board as board_module

    api = api_as("prefecture", "34")
    world = seed(api)
    for n in range(4):
        created = api.post(
            "/api/actions",
            json={"title": f"Action {n}", "owner_contact": world["contact"]["id"], "due_on": due(10 + n)},
        )
        assert created.status_code == 201, created.text
    web.login(make_user("coordinator", "34").email)
    monkeypatch.setattr(board_module, "BOARD_COLUMN_SIZE", 2)  # to see the overflow with few items
    page = html.unescape(web.get("/d/34/actions?vue=tableau").text)
    assert "À faire (4)" in page and "Action 0" in page and "Action 1" in page and "Action 3" not in page
    assert "Voir les 4 actions « À faire »" in page and "status=a_faire" in page


def test_a_filtered_board_counts_and_orders_only_the_matching_items(api_as, web, make_user):
    api = api_as("prefecture", "34")
    world = seed(api)
    mine, theirs = world["contact"]["id"], world["other"]["id"]
    for title, owner, days in (("Plus tard", mine, 30), ("Bientôt", mine, 3), ("Autre", theirs, 1)):
        assert (
            api.post("/api/actions", json={"title": title, "owner_contact": owner, "due_on": due(days)}).status_code
            == 201
        )
    done = api.post("/api/actions", json={"title": "Déjà faite", "owner_contact": mine, "due_on": due(5)}).json()
    api.post(f"/api/actions/{done['id']}/transition", json={"status": "fait"})
    web.login(make_user("coordinator", "34").email)
    everything = html.unescape(web.get("/d/34/actions?vue=tableau").text)
    assert "À faire (3)" in everything and "Fait (1)" in everything
    filtered = html.unescape(web.get(f"/d/34/actions?vue=tableau&owner_organisation={world['org']['id']}").text)
    assert "À faire (2)" in filtered and "Fait (1)" in filtered and "Autre" not in filtered
    assert filtered.index("Bientôt") < filtered.index("Plus tard")  # the most urgent first
