"""The filtered list of action items as CSV and XLSX: the same rows and columns in both, in the
form prefectures paste into their reports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from coord.core.csv_export import csv_document
from coord.core.spreadsheet import neutralise_formula

HEADERS = [
    "N°",
    "Titre",
    "Statut",
    "Échéance",
    "En retard",
    "Organisation responsable",
    "Contact",
    "Instance",
    "Réunion d'origine",
    "Mesure du plan",
    "Priorité",
    "Avancement (%)",
    "Étiquettes",
    "Créée le",
    "Faite le",
]


def _day(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def rows(items: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            item["id"],
            neutralise_formula(item["title"]),
            item["status_label"],
            _day(item["due_on"]),
            "oui" if item["overdue"] else "non",
            neutralise_formula(item["owner_organisation_name"]),
            neutralise_formula(item["owner_name"]),
            neutralise_formula(item["committee_name"]),
            neutralise_formula(item["meeting_title"]),
            item["measure_label"],
            item["priority"],
            item["progress"],
            neutralise_formula(", ".join(item["tags"])),
            _day(item["created_on"]),
            _day(item["done_on"]),
        ]
        for item in items
    ]


def to_csv(items: list[dict[str, Any]]) -> str:
    return csv_document(HEADERS, rows(items))


def to_xlsx(items: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Actions"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(items):
        # Excel refuses control characters; the forms refuse them too, this covers older rows.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    sheet.freeze_panes = "A2"
    for index, header in enumerate(HEADERS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(60, len(header) + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
