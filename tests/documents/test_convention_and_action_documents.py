"""A convention keeps its text, signed scans and amendments; an action item its deliverables. Each is
reached only under its own page's URL, by the agents of its département."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from tests.conftest import run
from tests.documents import files

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx() -> bytes:
    """The smallest Word package: its [Content_Types].xml declares the main document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def agent(make_user: Any, web: Any) -> Any:
    web.login(make_user("prefecture", "34").email)
    return web


def _post(web: Any, url: str, name: str, data: bytes, **fields: str) -> Any:
    return web.post(url, fields, files={"file": (name, data, "application/octet-stream")}, follow_redirects=True)


def test_a_convention_keeps_its_signed_scan_and_its_amendment(agent, api_as, make_user, new_web):
    api = api_as("prefecture", "34")
    convention = api.post("/api/conventions", json={"model": "clav-partenariat", "title": "CLAV 34"}).json()
    base = f"/d/34/conventions/{convention['id']}/documents"
    page = _post(agent, base + "/", "convention signée.pdf", files.pdf("signée"), role="scan_signe")
    assert "Document « convention signée.pdf » ajouté." in page.text and "Scan signé" in page.text
    page = _post(agent, base + "/", "avenant 1.docx", docx(), role="avenant")
    assert "Document « avenant 1.docx » ajouté." in page.text
    from coord.documents.tables import Document

    rows = run(Document.select().where(Document.owner_kind == "convention").order_by(Document.id))
    assert [r["role"] for r in rows] == ["scan_signe", "avenant"] and rows[1]["content_type"] == DOCX
    assert agent.get(f"{base}/{rows[0]['id']}").content == files.pdf("signée")
    other = new_web()
    other.login(make_user("prefecture", "13").email)
    assert other.get(f"/d/13/conventions/{convention['id']}/documents/{rows[0]['id']}").status_code == 404
    assert other.get(f"{base}/{rows[0]['id']}").status_code == 404


def test_an_action_item_keeps_its_deliverables_which_a_local_coordinator_may_add(api_as, make_user, web):
    api = api_as("prefecture", "34")
    item = api.post("/api/actions", json={"title": "Former les éducateurs"}).json()
    web.login(make_user("coordinator", "34").email)
    base = f"/d/34/actions/{item['id']}/documents"
    page = _post(web, base + "/", "bilan.xlsx", files.xlsx())
    assert "Document « bilan.xlsx » ajouté." in page.text and "Livrable" in page.text
    page = _post(web, base + "/", "faux.docx", files.fake_docx())
    assert "Ce type de fichier n&#39;est pas accepté" in page.text
    from coord.documents.tables import Document

    [row] = run(Document.select().where(Document.owner_kind == "action_item"))
    assert row["owner_id"] == item["id"] and row["role"] == "livrable"
    # The same document under another action item's URL is not found.
    other = api.post("/api/actions", json={"title": "Autre action"}).json()
    assert web.get(f"/d/34/actions/{other['id']}/documents/{row['id']}").status_code == 404
