"""The meetings pages: planning through forms, conflicts, attendance, minutes and printable documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from coord.territory.working_days import next_working_day
from tests.meetings.test_meetings_api import ensure_meeting_routes, local_in, new_meeting, seed_committee


@pytest.fixture
def app(app: Any) -> Any:
    return ensure_meeting_routes(app)


@pytest.fixture
def agent(make_user: Any, web: Any, client: Any) -> Any:
    from tests.conftest import ApiClient

    account = make_user("prefecture", "34")
    web.login(account.email)
    return ApiClient(client, account.token)


def test_plan_a_meeting_through_the_form(web, agent):
    seed = seed_committee(agent)
    page = web.get("/d/34/reunions/nouvelle")
    assert page.status_code == 200
    assert 'for="f-date"' in page.text and "Europe/Paris" in page.text
    day = next_working_day(local_in(30).date(), "34").isoformat()
    form = {
        "committee": str(seed["committee"]["id"]),
        "title": "CDPD – réunion annuelle TEH",
        "kind": "annuelle_teh",
        "date": day,
        "start_time": "09:30",
        "end_time": "12:00",
        "place": "Préfecture de l'Hérault",
    }
    response = web.post("/d/34/reunions/nouvelle", {**form, "end_time": "08:00", "title": ""}, follow_redirects=False)
    assert response.status_code == 422
    assert "postérieure au début" in response.text and "Ce champ est obligatoire." in response.text
    response = web.post("/d/34/reunions/nouvelle", form, follow_redirects=False)
    assert response.status_code == 303, response.text
    detail = web.get(response.headers["location"])
    assert detail.status_code == 200
    assert "à 09 h 30" in detail.text and "Approbation du compte rendu précédent" in detail.text
    assert "Prénom0 Nom0" in detail.text and "3 sans réponse" in detail.text
    listing = web.get("/d/34/reunions")
    assert "CDPD – réunion annuelle TEH" in listing.text


def test_a_stale_edit_form_rerenders_with_the_conflict_message(web, agent):
    seed = seed_committee(agent)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(30)).json()
    url = f"/d/34/reunions/{meeting['id']}/modifier"
    form = web.get(url)
    assert 'name="version" value="1"' in form.text
    agent.patch(f"/api/meetings/{meeting['id']}", json={"version": 1, "title": "Changé par un collègue"})
    fields = {
        "title": "Mon titre",
        "kind": "ordinaire",
        "date": meeting["local_start"][:10],
        "start_time": "09:30",
        "end_time": "11:30",
        "place": "Salle 2",
    }
    response = web.post(url, {"version": "1", **fields})
    assert response.status_code == 409
    assert "modifiée entre-temps par" in response.text
    assert "Changé par un collègue" in response.text and 'name="version" value="2"' in response.text
    response = web.post(url, {"version": "2", **fields}, follow_redirects=False)
    assert response.status_code == 303
    assert agent.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["title"] == "Mon titre"


def test_agenda_buttons_convocation_and_overrun_warning(web, agent):
    seed = seed_committee(agent)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(4), minutes=60).json()
    base = f"/d/34/reunions/{meeting['id']}"
    detail = web.get(base)
    assert "Attention" in detail.text and "105 minutes" in detail.text
    items = agent.get(f"/api/meetings/{meeting['id']}/agenda").json()["items"]
    response = web.post(f"{base}/ordre-du-jour/{items[1]['id']}/deplacer", {"direction": "up"}, follow_redirects=False)
    assert response.status_code == 303
    items = agent.get(f"/api/meetings/{meeting['id']}/agenda").json()["items"]
    assert items[0]["title"] == "Approbation du compte rendu précédent"
    response = web.post(f"{base}/ordre-du-jour", {"title": "", "duration_minutes": "x"})
    assert response.status_code == 422 and "Un nombre entier est attendu." in response.text
    response = web.post(f"{base}/convoquer", {"version": str(meeting["version"])})
    assert response.status_code == 200 and "cinq jours" in response.text
    assert agent.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["status"] == "draft"


def test_attendance_and_minutes_pages(web, agent):
    seed = seed_committee(agent, members=3)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    meeting = new_meeting(agent, seed["committee"]["id"], start).json()
    base = f"/d/34/reunions/{meeting['id']}"
    invitations = agent.get(f"/api/meetings/{meeting['id']}/invitations").json()["items"]
    page = web.get(f"{base}/presences")
    assert page.status_code == 200 and "Quorum non atteint" in page.text
    ids = [i["id"] for i in invitations]
    form = {
        f"attendance_{ids[0]}": "present",
        f"attendance_{ids[1]}": "represented",
        f"mandate_{ids[1]}": str(ids[0]),
        f"attendance_{ids[2]}": "represented",
        f"mandate_{ids[2]}": str(ids[0]),
    }
    response = web.post(f"{base}/presences", form)
    assert response.status_code == 422 and "un seul mandat" in response.text
    form[f"attendance_{ids[2]}"], form[f"mandate_{ids[2]}"] = "absent", ""
    response = web.post(f"{base}/presences", form)
    assert response.status_code == 200 and "Quorum atteint" in response.text
    page = web.get(f"{base}/compte-rendu")
    assert "ne saisissez jamais de données concernant des victimes" in page.text
    response = web.post(f"{base}/compte-rendu", {"version": str(meeting["version"]), "minutes": "Texte."})
    assert response.status_code == 200 and "Compte rendu enregistré" in response.text
    response = web.post(f"{base}/compte-rendu", {"version": str(meeting["version"]), "minutes": "Perdu ?"})
    assert response.status_code == 409 and "Perdu ?" in response.text
    response = web.post(f"{base}/decisions", {"text": "Adopter le plan 2027."})
    assert "Adopter le plan 2027." in response.text
    response = web.post(f"{base}/compte-rendu/publier", {})
    assert "Compte rendu publié" in response.text


@pytest.mark.parametrize("document", ["convocation", "ordre-du-jour", "emargement"])
def test_printable_pages_and_pdfs(web, agent, document):
    seed = seed_committee(agent)
    meeting = new_meeting(agent, seed["committee"]["id"], local_in(30), title="Réunion – l’été « TEH » œuvre").json()
    agent.post(f"/api/meetings/{meeting['id']}/agenda", json={"title": "Point “spécial” – 2027 …"})
    base = f"/d/34/reunions/{meeting['id']}/imprimer/{document}"
    html = web.get(base)
    assert html.status_code == 200 and "/static/print.css" in html.text and "<caption>" in html.text
    assert "@media print" in web.get("/static/print.css").text
    if document == "emargement":
        assert "Signature" in html.text and "Prénom1 Nom1" in html.text
    pdf = web.get(f"{base}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")


def test_pdf_without_a_unicode_font_falls_back_to_latin1():
    from coord.meetings import printing

    printing.unicode_font.cache_clear()
    original = printing.FONT_DIRS
    printing.FONT_DIRS = ()
    try:
        start = dt.datetime(2026, 10, 26, 8, 30, tzinfo=dt.UTC)
        meeting = {
            "title": "Réunion – l’été œuvre",
            "kind_label": "Réunion ordinaire",
            "starts_at": start,
            "local_end": start,
            "place": "Salle « A »",
            "video_url": "",
            "organiser_name": "Coord",
            "organiser_email": "c@example.org",
            "urgent": True,
            "quorum_required": False,
        }
        data = {
            "meeting": meeting,
            "department": {"name": "Hérault", "code": "34", "timezone": "Europe/Paris"},
            "committee": {"name": "CDPD"},
            "items": [],
            "invitations": [],
            "decisions": [],
            "summary": {"agenda_minutes": 0, "meeting_minutes": 60},
        }
        for render in printing.RENDERERS.values():
            assert render(data).startswith(b"%PDF")
        assert printing.latin1("l’été – œuvre …") == "l'été - oeuvre ..."
    finally:
        printing.FONT_DIRS = original
        printing.unicode_font.cache_clear()


def test_pages_of_another_department_are_not_found(web, make_user, api_as):
    owner = api_as("prefecture", "34")
    seed = seed_committee(owner)
    meeting = new_meeting(owner, seed["committee"]["id"], local_in(30)).json()
    intruder = make_user("prefecture", "93")
    web.login(intruder.email)
    for suffix in ("", "/presences", "/compte-rendu", "/imprimer/convocation", "/imprimer/emargement.pdf"):
        assert web.get(f"/d/34/reunions/{meeting['id']}{suffix}").status_code == 404
        # Through their own département's URL the meeting is not found either.
        assert web.get(f"/d/93/reunions/{meeting['id']}{suffix}").status_code == 404
    assert web.post(f"/d/93/reunions/{meeting['id']}/annuler", {}).status_code == 404
    assert owner.get(f"/api/meetings/{meeting['id']}").json()["meeting"]["status"] == "draft"
