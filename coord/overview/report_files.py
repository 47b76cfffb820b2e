"""The national report as files: a PDF (fpdf2, with the meetings' documents' font and layout) and an
XLSX workbook (openpyxl). Both hold the figures of the page, from the same `report.plan_report` data."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from coord.core.spreadsheet import neutralise_formula
from coord.meetings.printing import PrintedPdf
from coord.overview.report import FIGURE_LABELS, FIGURES, STATES

MEASURE_HEADERS = ["N°", "Mesure", "Départements", *FIGURE_LABELS.values(), "État"]
BREAKDOWN_HEADERS = ["Mesure", "Département", *FIGURE_LABELS.values(), "État"]
DEPARTMENT_HEADERS = ["Code", "Département", *STATES.values(), "Actions comptées", "Réunions mesure 22 tenues"]


def filename(data: dict[str, Any], extension: str) -> str:
    period = data["period"]
    return f"rapport-{data['plan']['code']}-{period.start.isoformat()}-{period.end.isoformat()}.{extension}"


def summary_rows(data: dict[str, Any]) -> list[tuple[str, int]]:
    summary = data["summary"]
    return [
        ("Mesures du plan", summary["total"]),
        *((label, summary[state]) for state, label in STATES.items()),
        ("Réunions annuelles (mesure 22) tenues", data["meetings"]["total"]),
        ("Départements ayant tenu leur réunion annuelle", data["meetings"]["departments_held"]),
    ]


def measure_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [m["number"], m["title"], m["department_count"], *(m[f] for f in FIGURES), m["state_label"]]
        for m in data["measures"]
    ]


def breakdown_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [m["number"], f"{d['code']} · {d['name']}", *(d[f] for f in FIGURES), d["state_label"]]
        for m in data["measures"]
        for d in m["departments"]
    ]


def department_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [d["code"], d["name"], d["fait"], d["partiel"], d["jamais"], d["items"], d["meetings_held"]]
        for d in data["departments"]
    ]


def _title(data: dict[str, Any]) -> str:
    return f"Rapport national – {data['plan']['title']}"


def to_pdf(data: dict[str, Any]) -> bytes:
    pdf = PrintedPdf(_title(data))
    pdf.heading(_title(data))
    pdf.para(f"Période : {data['period'].label}. Périmètre : {data['scope_label']}.", size=9)
    pdf.para("Actions liées aux mesures du plan et ouvertes pendant la période ; leur état est celui du jour.", size=9)
    pdf.ln(3)
    pdf.heading("Synthèse", size=12)
    pdf.grid(["Indicateur", "Nombre"], [[label, str(n)] for label, n in summary_rows(data)], (134, 40))
    pdf.ln(4)
    pdf.heading("Par mesure", size=12)
    header = ["N°", "Mesure", "Dép.", "Faites", "En cours", "En retard", "Non comm.", "Aband.", "État"]
    rows = [[str(v) for v in row] for row in measure_rows(data)]
    pdf.grid(header, rows, (9, 55, 12, 14, 15, 15, 17, 14, 23))
    breakdown = breakdown_rows(data)
    if breakdown:
        pdf.ln(4)
        pdf.heading("Par mesure et par département", size=12)
        header = ["Mesure", "Département", "Faites", "En cours", "En retard", "Non comm.", "Aband.", "État"]
        pdf.grid(header, [[str(v) for v in row] for row in breakdown], (16, 48, 14, 15, 15, 17, 14, 35))
    pdf.ln(4)
    pdf.heading("Par département", size=12)
    header = ["Code", "Département", "Réalisées", "Partielles", "Non engagées", "Actions", "Réunions m. 22"]
    pdf.grid(header, [[str(v) for v in row] for row in department_rows(data)], (14, 52, 20, 20, 24, 18, 26))
    return pdf.bytes()


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]], *, first: bool = False) -> None:
    sheet = book.active if first else book.create_sheet()
    assert sheet is not None
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Excel refuses control characters; a cell starting with = would be a formula.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", neutralise_formula(v)) if isinstance(v, str) else v for v in row])
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 60 if header in ("Mesure", "Indicateur") else 16


def to_xlsx(data: dict[str, Any]) -> bytes:
    book = Workbook()
    summary = [[label, n] for label, n in summary_rows(data)]
    summary += [["Période", data["period"].label], ["Périmètre", data["scope_label"]]]
    _sheet(book, "Synthèse", ["Indicateur", "Nombre"], summary, first=True)
    _sheet(book, "Mesures", MEASURE_HEADERS, measure_rows(data))
    _sheet(book, "Mesures par département", BREAKDOWN_HEADERS, breakdown_rows(data))
    _sheet(book, "Départements", DEPARTMENT_HEADERS, department_rows(data))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
