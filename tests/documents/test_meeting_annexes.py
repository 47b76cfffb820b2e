"""Agents attach annexes to a meeting; invitees download the convocation's annexes through their own
links; every upload is checked, scanned and audited; a refused file leaves nothing behind."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from tests.conftest import run
from tests.documents import files
from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee

PDF = "application/pdf"


@pytest.fixture
def agent(make_user: Any, web: Any) -> Any:
    user = make_user("prefecture", "34")
    web.login(user.email)
    return web


@pytest.fixture
def meeting(api_as: Any) -> dict[str, Any]:
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    return new_meeting(api, seed["committee"]["id"], local_in(20)).json()


def _base(meeting: dict[str, Any], code: str = "34") -> str:
    return f"/d/{code}/reunions/{meeting['id']}/documents"


def _upload(web: Any, meeting: dict[str, Any], name: str, data: bytes, **fields: str) -> Any:
    """Send the form; the outcome is flashed on the next page shown (the meetings list here)."""
    response = web.post(
        _base(meeting) + "/",
        {"role": "annexe_convocation", **fields},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/d/34/reunions/{meeting['id']}#documents"
    return web.get("/d/34/reunions")


def _documents() -> list[dict[str, Any]]:
    from coord.documents.tables import Document

    return run(Document.select().order_by(Document.id))


def _blobs(settings: Any) -> int:
    from coord.documents.storage import documents_root
    from coord.documents.tables import DocumentBlob

    if settings.documents_storage == "database":
        return run(DocumentBlob.count())
    root = documents_root(settings)
    return len([p for p in root.rglob("*") if p.is_file()]) if root.exists() else 0


def _audit(action: str) -> list[dict[str, Any]]:
    from coord.audit.tables import AuditEntry

    return run(AuditEntry.select().where(AuditEntry.action == action))


def test_an_agent_attaches_a_pdf_sees_it_on_the_meeting_page_and_downloads_it(agent, meeting, settings):
    content = files.pdf("Compte rendu précédent")
    page = _upload(agent, meeting, "Compte rendu 2025 (projet).pdf", content)
    assert page.status_code == 200 and "Document « Compte rendu 2025 (projet).pdf » ajouté." in page.text
    assert "Compte rendu 2025 (projet).pdf" in agent.get(f"/d/34/reunions/{meeting['id']}").text
    [row] = _documents()
    assert row["content_type"] == PDF and row["size"] == len(content) and row["department"] is not None
    response = agent.get(f"{_base(meeting)}/{row['id']}")
    assert response.status_code == 200 and response.content == content
    assert response.headers["content-type"].startswith(PDF)
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Compte%20rendu%202025%20%28projet%29.pdf" in disposition
    )
    [entry] = _audit("document.upload")
    assert "Compte rendu 2025 (projet).pdf" in entry["summary"] and entry["entity_id"] == meeting["id"]
    assert _blobs(settings) == 1


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("tableau.xlsx", files.xlsx, "spreadsheetml"),
        ("note.odt", files.odt, "opendocument.text"),
        ("plan.png", files.png, "image/png"),
    ],
)
def test_office_documents_and_images_are_accepted_by_their_content(agent, meeting, name, make, kind):
    page = _upload(agent, meeting, name, make())
    assert f"Document « {name} » ajouté." in page.text
    assert kind in _documents()[0]["content_type"]


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("virus.pdf", files.infected_pdf, "Le fichier est infecté"),
        ("programme.exe", files.exe, "Ce type de fichier n&#39;est pas accepté"),
        ("page.pdf", files.html, "Ce type de fichier n&#39;est pas accepté"),
        ("faux.docx", files.fake_docx, "Ce type de fichier n&#39;est pas accepté"),
        ("image.pdf", files.png, "ne correspond pas au contenu du fichier, qui est un PNG"),
        ("vide.pdf", lambda: b"", "Le fichier est vide."),
        ("../../etc/passwd.pdf", files.pdf, "ne doit pas contenir de chemin"),
        ("a\\b.pdf", files.pdf, "ne doit pas contenir de chemin"),
        ("retour\nligne.pdf", files.pdf, "caractères de contrôle"),
        ("x" * 250 + ".pdf", files.pdf, "Le nom du fichier est trop long"),
        ("gros.pdf", lambda: files.pdf() + b"0" * (1024 * 1024), "dépasse la taille maximale de 1 Mo"),
    ],
)
def test_a_refused_file_is_explained_in_french_and_nothing_is_stored(agent, meeting, settings, name, make, message):
    page = _upload(agent, meeting, name, make())
    assert page.status_code == 200 and message in page.text, page.text[-2000:]
    assert _documents() == [] and _blobs(settings) == 0 and _audit("document.upload") == []


def test_the_total_per_meeting_is_limited(agent, meeting, settings):
    big = files.pdf() + b"%" * (900 * 1024)  # each under the 1 Mo limit, three over the 2 Mo total
    for i in range(2):
        assert "ajouté" in _upload(agent, meeting, f"rapport{i}.pdf", big + bytes([i])).text
    page = _upload(agent, meeting, "rapport3.pdf", big + b"3")
    assert "dépasseraient 2 Mo au total" in page.text and len(_documents()) == 2


def test_when_the_scanner_is_down_the_upload_is_refused(agent, meeting, settings, tmp_path):
    from coord.core.settings import use_settings

    use_settings(replace(settings, clamd_socket=str(tmp_path / "absent.sock")))
    try:
        page = _upload(agent, meeting, "annexe.pdf", files.pdf())
    finally:
        use_settings(settings)
    assert "antivirus, qui est indisponible" in page.text
    assert _documents() == [] and _blobs(settings) == 0


def test_a_new_version_keeps_the_old_ones_and_deletion_is_audited(agent, meeting, settings):
    _upload(agent, meeting, "convention.pdf", files.pdf("v1"))
    [first] = _documents()
    page = _upload(agent, meeting, "convention-v2.pdf", files.pdf("v2"), replaces=str(first["id"]))
    assert "ajouté" in page.text
    rows = _documents()
    assert [(r["version"], r["root"]) for r in rows] == [(1, first["id"]), (2, first["id"])]
    detail = agent.get(f"/d/34/reunions/{meeting['id']}").text
    assert "version 1" in detail and "version 2" in detail
    assert agent.get(f"{_base(meeting)}/{first['id']}").content == files.pdf("v1")  # the old one stays
    response = agent.post(f"{_base(meeting)}/{rows[1]['id']}/supprimer", follow_redirects=False)
    assert response.status_code == 303
    assert "Document « convention-v2.pdf » supprimé." in agent.get("/d/34/reunions").text
    assert all(r["deleted_at"] is not None for r in _documents())
    assert agent.get(f"{_base(meeting)}/{first['id']}").status_code == 404
    [entry] = _audit("document.delete")
    assert "convention-v2.pdf" in entry["summary"]


def test_an_agent_of_another_departement_gets_404(agent, meeting, make_user, new_web):
    _upload(agent, meeting, "annexe.pdf", files.pdf())
    [row] = _documents()
    other = new_web()
    other.login(make_user("prefecture", "13").email)
    assert other.get(f"{_base(meeting)}/{row['id']}").status_code == 404  # their URL prefix: not theirs
    assert other.get(f"/d/13/reunions/{meeting['id']}/documents/{row['id']}").status_code == 404
    refused = other.post(
        f"/d/13/reunions/{meeting['id']}/documents/",
        {"role": "annexe_convocation"},
        files={"file": ("x.pdf", files.pdf(), PDF)},
    )
    assert refused.status_code == 404 and len(_documents()) == 1


def test_an_observer_may_download_but_not_upload(agent, meeting, make_user, new_web):
    _upload(agent, meeting, "annexe.pdf", files.pdf())
    [row] = _documents()
    observer = new_web()
    observer.login(make_user("observer", "34").email)
    assert observer.get(f"{_base(meeting)}/{row['id']}").status_code == 200
    refused = observer.post(
        f"{_base(meeting)}/", {"role": "annexe_convocation"}, files={"file": ("y.pdf", files.pdf("y"), PDF)}
    )
    assert refused.status_code == 403 and len(_documents()) == 1


def _convene(api: Any, meeting: dict[str, Any]) -> None:
    response = api.post(f"/api/meetings/{meeting['id']}/convene", json={"version": meeting["version"]})
    assert response.status_code in (200, 201), response.text


def _mails(meeting_id: int) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return run(
        OutboxMessage.select()
        .where((OutboxMessage.entity == "meeting") & (OutboxMessage.entity_id == meeting_id))
        .order_by(OutboxMessage.id)
    )


def test_invitees_get_links_to_the_convocation_annexes_in_their_mail_and_on_their_page(
    agent, meeting, api_as, client, new_web
):
    _upload(agent, meeting, "Projet de convention.pdf", files.pdf("projet"))
    _upload(agent, meeting, "Annexe du compte rendu.pdf", files.pdf("cr"), role="annexe_compte_rendu")
    _convene(api_as("prefecture", "34"), meeting)
    mails = _mails(meeting["id"])
    assert len(mails) == 2
    first, second = (re.search(r"http://testserver\.local(/r/document/\S+)", m["body_text"]) for m in mails)
    assert "Projet de convention.pdf" in mails[0]["body_text"] and "Annexe du compte rendu" not in mails[0]["body_text"]
    assert first.group(1) != second.group(1)  # one link per invitee
    partner = new_web()  # no account, no session
    response = partner.get(first.group(1))
    assert response.status_code == 200 and response.content == files.pdf("projet")
    assert response.headers["content-disposition"].startswith("attachment;")
    answer_path = re.search(r"http://testserver\.local(/r/invitation/[^\s?]+)", mails[0]["body_text"]).group(1)
    page = partner.get(answer_path)
    assert "Projet de convention.pdf" in page.text and "Annexe du compte rendu" not in page.text
    href = re.search(r'href="(/r/invitation/[^"]+/annexe\?document=\d+)"', page.text).group(1)
    assert partner.get(href).content == files.pdf("projet")


def test_a_partner_link_of_one_meeting_never_opens_a_document_of_another(agent, meeting, api_as, new_web):
    api = api_as("prefecture", "34")
    other = new_meeting(api, meeting["committee"], local_in(25)).json()
    _upload(agent, meeting, "A.pdf", files.pdf("A"))
    _upload(agent, other, "B.pdf", files.pdf("B"))
    _convene(api, meeting)
    mail = _mails(meeting["id"])[0]["body_text"]
    answer_path = re.search(r"http://testserver\.local(/r/invitation/[^\s?]+)", mail).group(1)
    b_root = next(r["root"] for r in _documents() if r["filename"] == "B.pdf")
    partner = new_web()
    assert partner.get(f"{answer_path}/annexe?document={b_root}").status_code == 404
    forged = re.search(r"/r/document/(\S+)", mail).group(1)[:-3] + "abc"
    assert partner.get(f"/r/document/{forged}").status_code == 403
