"""The national tables as CSV and XLSX: the map's figures per département, and the national cycle
table. Same rows and columns in both formats, in rank order; CSV is `;`-separated UTF-8 with a BOM
(French Excel), like the other exports of Coord."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from coord.core.spreadsheet import neutralise_formula

OVERVIEW_HEADERS = [
    "Rang",
    "Code",
    "Département",
    "Région",
    "Réunion annuelle (mesure 22)",
    "Jours de retard",
    "Motif du retard",
    "Actions",
    "Actions faites",
    "Actions en retard",
    "Avancement (%)",
    "Sites pilotes",
    "Sites couverts",
    "Sites en signature",
]
CYCLE_HEADERS = [
    "Rang",
    "Code",
    "Département",
    "Région",
    "Année",
    "État",
    "Jours de retard",
    "Motif du retard",
    "Réunions requises",
    "Réunions tenues",
    "Détail des réunions",
]


def overview_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["rank"],
            r["code"],
            r["name"],
            r["region"],
            r["state_label"],
            r["days_late"],
            r["late_reasons"],
            r["actions_total"],
            r["actions_done"],
            r["actions_overdue"],
            r["actions_progress"],
            r["sites"],
            r["sites_covered"],
            r["sites_in_signature"],
        ]
        for r in rows
    ]


def slot_text(slot: dict[str, Any]) -> str:
    label = slot["committee_kind_label"] + (f" n° {slot['slot'] + 1}" if slot["slot"] else "")
    when = ""
    if slot["meeting"]:
        when = f" ({slot['meeting']['starts_at'][:10]})"
    elif slot["proposed_start"]:
        when = f" (proposée : {slot['proposed_start'][:10]})"
    return f"{label} : {slot['state_label']}{when}"


def cycle_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            r["rank"],
            r["department"],
            r["department_name"],
            r["region"],
            r["year"],
            r["state_label"],
            r["days_late"],
            r["late_reasons"],
            r["required"],
            r["held"],
            " ; ".join(slot_text(s) for s in r["slots"]),
        ]
        for r in rows
    ]


def _cells(row: list[Any]) -> list[Any]:
    return [v if isinstance(v, int) else neutralise_formula(v) for v in row]


def to_csv(headers: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(_cells(r) for r in rows)
    return "\ufeff" + out.getvalue()  # the BOM makes French Excel read UTF-8


def to_xlsx(headers: list[str], rows: list[list[Any]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in _cells(row)])
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(60, len(header) + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
