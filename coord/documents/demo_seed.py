"""Documents Coord generates itself (the demo's annexes, test seeds): small real PDFs made with fpdf2,
stored through the same checks, storage and table as uploads but without the virus scan, since their
bytes come from this code and not from anyone's disk (uploads are always scanned: service.upload)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fpdf import FPDF, XPos, YPos

from coord.access import Scope
from coord.core.settings import current_settings
from coord.documents import checks
from coord.documents.service import _store


def simple_pdf(title: str, lines: list[str]) -> bytes:
    document = FPDF()
    document.set_creation_date(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    document.add_page()
    document.set_font("helvetica", "B", 14)
    document.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    document.set_font("helvetica", size=11)
    for line in lines:
        document.multi_cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(document.output())


async def store_generated(
    access: Scope, owner_kind: str, owner_id: int, department_id: int, role: str, filename: str, data: bytes
) -> dict[str, Any]:
    name = checks.clean_name(filename)
    checks.check_size(data, current_settings().documents_max_file_mb * 1024 * 1024)
    kind = checks.detect(data, name)
    return await _store(access, owner_kind, owner_id, department_id, role, name, kind.mime, data, None, "")


async def seed_meeting_annexes(access: Scope, meeting: dict[str, Any], department_id: int) -> list[dict[str, Any]]:
    """The demo meeting's convocation annexes: the previous minutes and a draft convention."""
    previous = simple_pdf(
        "Compte rendu de la réunion précédente (projet)",
        ["Document de démonstration généré par Coord.", "Il ne contient aucune donnée relative aux victimes."],
    )
    draft = simple_pdf(
        "Projet de convention de partenariat",
        ["Article 1 - Objet de la convention.", "Article 2 - Engagements des parties."],
    )
    return [
        await store_generated(
            access,
            "meeting",
            meeting["id"],
            department_id,
            "annexe_convocation",
            "Compte rendu précédent.pdf",
            previous,
        ),
        await store_generated(
            access, "meeting", meeting["id"], department_id, "annexe_convocation", "Projet de convention.pdf", draft
        ),
    ]
