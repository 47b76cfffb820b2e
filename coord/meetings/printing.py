"""Printable documents of a meeting: convocation, ordre du jour, feuille d'émargement, compte rendu.

The HTML versions are templates (`templates/meetings/print_*.html`); the PDFs are drawn with fpdf2,
a pure-PyPI library. A Unicode TTF font (DejaVu) is embedded when the system has one; otherwise the
core Helvetica font is used and the text is reduced to latin-1 (typographic quotes and dashes become
their ASCII forms), so the PDFs work with nothing but PyPI packages installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from coord.access import Scope, department_of
from coord.committees.tables import Committee
from coord.core.french import date_fr, department_de
from coord.meetings import agenda, invitees, service
from coord.meetings.attendance import ATTENDING, RECONVENED_MENTION, quorum
from coord.meetings.seams import carried_forward_items
from coord.meetings.tables import Decision

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)
LATIN1_REPLACEMENTS = {
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u202f": " ",
    "\u2009": " ",
    "\u20ac": "EUR",
    "\u2022": "-",
}
DOCUMENTS = {"convocation": "Convocation", "ordre-du-jour": "Ordre du jour", "emargement": "Feuille d'émargement"}
MINUTES = "compte-rendu"  # the minutes' document: its own routes (coord.meetings.minutes_routes) and mail


@lru_cache(maxsize=1)
def unicode_font() -> tuple[Path, Path] | None:
    for directory in FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def latin1(text: str) -> str:
    for char, replacement in LATIN1_REPLACEMENTS.items():
        text = text.replace(char, replacement)
    return text.encode("latin-1", errors="replace").decode("latin-1")


async def document_data(scope: Scope, meeting_id: int) -> dict[str, Any]:
    """Everything the documents show, read through the scope."""
    meeting = await service.get_meeting(scope, meeting_id)
    raw = await service.load(scope, meeting_id)
    department = await department_of(raw)
    committee = await scope.get(Committee, raw["committee"])
    items = await agenda.list_items(scope, meeting_id)
    people = await invitees.list_invitations(scope, meeting_id)
    by_id = {p["id"]: p["name"] for p in people}
    for person in people:
        person["represented_by_name"] = by_id.get(person["represented_by"], "")
    counted = quorum(people, required=raw["quorum_required"])
    return {
        "meeting": meeting,
        "department": department,
        "committee": committee,
        "items": items,
        "invitations": people,
        "decisions": await decisions_of(scope, meeting_id),
        "summary": agenda.summary(items, raw),
        "open_actions": await carried_forward_items(raw),
        "quorum": counted,
        "quorum_rows": quorum_rows(counted, reconvened=bool(raw["reconvened_from"])),
        "reconvened_mention": RECONVENED_MENTION if raw["reconvened_from"] else "",
    }


async def decisions_of(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    """The decisions of a meeting read through the scope, in their order (the relevé de décisions)."""
    return (
        await scope.select(Decision, Decision.id, Decision.position, Decision.text)
        .where(Decision.meeting == meeting_id)
        .order_by(Decision.position)
        .order_by(Decision.id)
    )


def quorum_rows(counted: Mapping[str, Any], *, reconvened: bool = False) -> list[tuple[str, str]]:
    """The quorum as the attendance sheet and the minutes print it: members counted, present or
    represented, required, reached or not (`attendance.quorum`)."""
    present, represented = counted["present"], counted["represented"]
    rows = [
        ("Membres votants", str(counted["voting_members"])),
        ("Présents", f"{present} (sur place ou en visioconférence)"),
        ("Représentés", f"{represented} (par mandat)"),
    ]
    if not counted["quorum_required"]:
        why = "nouvelle convocation faute de quorum, article R.133-10 du CRPA" if reconvened else "non exigé"
        return [*rows, ("Quorum requis", f"aucun ({why})"), ("Quorum", "non exigé")]
    needed = counted["needed"]
    rows.append(("Quorum requis", f"{needed} présent(s) ou représenté(s) : la moitié des membres votants"))
    if counted["voting_members"] == 0:
        status = "non atteint : aucun membre votant parmi les invités"
    elif not counted["recorded"]:
        status = "à constater en séance (présences non encore enregistrées)"
    elif counted["reached"]:
        status = f"atteint ({present + represented} présent(s) ou représenté(s) pour {needed} requis)"
    else:
        status = f"non atteint ({present + represented} présent(s) ou représenté(s) pour {needed} requis)"
    return [*rows, ("Quorum", status)]


def _quorum_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows from `document_data`, or counted from the invitations of data built by hand."""
    if "quorum_rows" in data:
        return list(data["quorum_rows"])
    counted = quorum(data["invitations"], required=data["meeting"]["quorum_required"])
    return quorum_rows(counted, reconvened=bool(data["meeting"].get("reconvened_from")))


# -- the minutes' publication ---------------------------------------------------------------------
def minutes_title(publication: Mapping[str, Any] | None) -> str:
    """« Compte rendu », « Compte rendu rectifié », or a « Projet » of either (content not published)."""
    edition = publication["edition"] if publication else 0
    if edition == 0:
        return "Projet de compte rendu"
    if publication and publication.get("pending"):
        return "Projet de compte rendu rectifié"
    return "Compte rendu rectifié" if edition > 1 else "Compte rendu"


def publication_line(publication: Mapping[str, Any] | None, tz: str) -> str:
    if not publication or publication["edition"] == 0:
        return "Projet : ce compte rendu n'a pas encore été publié."
    when = date_fr(publication["published_at"], tz, True)
    if publication.get("pending"):
        return (
            f"Projet de rectification : la version n° {publication['edition']} publiée le {when} "
            "reste celle qui fait foi tant que celle-ci n'est pas publiée."
        )
    if publication["edition"] > 1:
        return f"Version rectifiée n° {publication['edition']}, publiée le {when} : elle remplace les précédentes."
    return f"Publié le {when}."


def minutes_filename(data: Mapping[str, Any], publication: Mapping[str, Any] | None) -> str:
    edition = publication["edition"] if publication else 0
    suffix = f"-v{edition}" if edition > 1 else ""
    return f"compte-rendu-{data['department']['code']}-{data['meeting']['id']}{suffix}.pdf"


def attending(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The invitees present (in person or by video) or represented, as the minutes list them."""
    return [p for p in data["invitations"] if p["attendance"] in ATTENDING or p["attendance"] == "represented"]


def presence_text(person: Mapping[str, Any]) -> str:
    label = str(person["attendance_label"]).lower()
    if person["attendance"] == "represented" and person.get("represented_by_name"):
        return f"{label}, mandat donné à {person['represented_by_name']}"
    return label


def not_attending(data: Mapping[str, Any], attendance: str) -> list[str]:
    return [p["name"] for p in data["invitations"] if p["attendance"] == attendance]


class PrintedPdf(FPDF):
    """Coord's A4 printed documents (convocations, agendas, attendance sheets, the national report)."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        fonts = unicode_font()
        if fonts:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
            self.family_name = "DejaVu"
        else:
            self.family_name = "Helvetica"
        self.unicode = fonts is not None
        self.set_title(self.clean(title))
        self.set_creator("Coord")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)
        self.add_page()

    def clean(self, text: str) -> str:
        return text if self.unicode else latin1(text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.cell(0, 6, self.clean(f"Page {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str, size: int = 15) -> None:
        self.set_font(self.family_name, "B", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def para(self, text: str, *, bold: bool = False, size: int = 10) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, 5.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fact(self, label: str, value: str) -> None:
        if value:
            self.set_font(self.family_name, "B", 10)
            self.cell(38, 5.5, self.clean(label))
            self.set_font(self.family_name, "", 10)
            self.multi_cell(0, 5.5, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(self, header: list[str], rows: list[list[str]], widths: tuple[int, ...], line_height: float = 6) -> None:
        self.set_font(self.family_name, "", 9)
        with self.table(
            col_widths=widths, line_height=line_height, text_align="LEFT", first_row_as_headings=True
        ) as table:
            for cells in [header, *rows]:
                row = table.row()
                for cell in cells:
                    row.cell(self.clean(cell))

    def bytes(self) -> bytes:
        return bytes(self.output())


def _when(data: dict[str, Any]) -> str:
    meeting, tz = data["meeting"], data["department"]["timezone"]
    end = meeting["local_end"]
    return f"{date_fr(meeting['starts_at'], tz, True)} - fin prévue à {end.hour:02d} h {end.minute:02d}"


def _header(pdf: PrintedPdf, data: dict[str, Any], document: str) -> None:
    department = data["department"]
    pdf.para(f"Préfecture {department_de(department['name'], department.get('tncc'))} ({department['code']})", size=9)
    pdf.para(data["committee"]["name"], size=9)
    pdf.ln(4)
    pdf.heading(document)
    pdf.heading(data["meeting"]["title"], size=12)


def _practical(pdf: PrintedPdf, data: dict[str, Any]) -> None:
    meeting = data["meeting"]
    pdf.fact("Date :", _when(data))
    pdf.fact("Fuseau horaire :", data["department"]["timezone"])
    pdf.fact("Lieu :", meeting["place"])
    pdf.fact("Visioconférence :", meeting["video_url"])
    pdf.fact("Organisateur :", f"{meeting['organiser_name']} <{meeting['organiser_email']}>")
    pdf.ln(3)


def _agenda_rows(data: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(i["position"]),
            i["title"] + (f"\n{i['measure_label']}" if i["measure_label"] else ""),
            i["presenter"],
            f"{i['duration_minutes']} min",
        ]
        for i in data["items"]
    ]


def _agenda_table(pdf: PrintedPdf, data: dict[str, Any]) -> None:
    if not data["items"]:
        pdf.para("Aucun point inscrit à l'ordre du jour.")
        return
    pdf.grid(["N°", "Point", "Présenté par", "Durée"], _agenda_rows(data), (10, 100, 45, 19))
    pdf.ln(2)
    summary = data["summary"]
    pdf.para(
        f"Durée prévue : {summary['agenda_minutes']} min pour une réunion de {summary['meeting_minutes']} min.", size=9
    )
    if data.get("open_actions"):  # carried forward from the committee's earlier meetings
        pdf.ln(3)
        pdf.heading(f"Suivi des actions ({len(data['open_actions'])} en cours)", size=12)
        rows = [
            [
                a["title"],
                a["owner_organisation_name"] or "à désigner",
                a["status_label"],
                (a["due_on"].strftime("%d/%m/%Y") if a["due_on"] else "") + (" (en retard)" if a["overdue"] else ""),
            ]
            for a in data["open_actions"]
        ]
        pdf.grid(["Action", "Responsable", "Statut", "Échéance"], rows, (80, 45, 22, 27))


def convocation_pdf(data: dict[str, Any]) -> bytes:
    pdf = PrintedPdf("Convocation")
    _header(pdf, data, "Convocation")
    meeting = data["meeting"]
    pdf.para(
        f"Vous êtes convoqué(e) à la réunion « {meeting['title']} » de l'instance « {data['committee']['name']} »."
    )
    if meeting["urgent"]:
        pdf.para(
            "Convocation envoyée en urgence (article R.133-8 du code des relations entre le public "
            "et l'administration).",
            size=9,
        )
    if meeting.get("reconvened_from"):
        pdf.para(RECONVENED_MENTION, bold=True, size=9)
    elif not meeting["quorum_required"]:
        pdf.para("Aucun quorum n'est exigé pour cette réunion.", size=9)
    pdf.ln(2)
    _practical(pdf, data)
    pdf.heading("Ordre du jour", size=12)
    _agenda_table(pdf, data)
    pdf.ln(4)
    pdf.para(
        "En cas d'empêchement, vous pouvez donner mandat à un autre membre de l'instance (un mandat par membre).",
        size=9,
    )
    return pdf.bytes()


def agenda_pdf(data: dict[str, Any]) -> bytes:
    pdf = PrintedPdf("Ordre du jour")
    _header(pdf, data, "Ordre du jour")
    _practical(pdf, data)
    _agenda_table(pdf, data)
    return pdf.bytes()


def attendance_sheet_pdf(data: dict[str, Any]) -> bytes:
    pdf = PrintedPdf("Feuille d'émargement")
    _header(pdf, data, "Feuille d'émargement")
    pdf.fact("Date :", _when(data))
    pdf.fact("Lieu :", data["meeting"]["place"] or data["meeting"]["video_url"])
    pdf.ln(3)
    rows = [
        [
            p["name"],
            p["organisation_name"] + (f"\n{p['function']}" if p["function"] else ""),
            p["role_label"],
            f"Mandat donné à {p['represented_by_name']}" if p["represented_by_name"] else "",
            "",
        ]
        for p in data["invitations"]
    ]
    rows += [["", "", "", "", ""] for _ in range(3)]  # blank lines for unexpected attendees
    pdf.grid(
        ["Nom", "Institution / fonction", "Qualité", "Mandat", "Signature"], rows, (36, 50, 30, 28, 30), line_height=9
    )
    pdf.ln(4)
    _quorum_facts(pdf, data)
    return pdf.bytes()


def _quorum_facts(pdf: PrintedPdf, data: Mapping[str, Any]) -> None:
    pdf.heading("Quorum", size=12)
    for label, value in _quorum_rows(data):
        pdf.fact(f"{label} :", value)


def minutes_pdf(data: dict[str, Any], publication: Mapping[str, Any] | None = None) -> bytes:
    """The minutes: who attended and the mandates, the quorum, the items, the text and the decisions.

    `publication` ({edition, published_at, pending}, from `coord.meetings.minutes.publication`)
    says which version this is; without it the document is a draft."""
    title = minutes_title(publication)
    pdf = PrintedPdf(title)
    _header(pdf, data, title)
    pdf.para(publication_line(publication, data["department"]["timezone"]), size=9)
    pdf.ln(2)
    meeting = data["meeting"]
    pdf.fact("Date :", _when(data))
    pdf.fact("Lieu :", meeting["place"])
    pdf.fact("Visioconférence :", meeting["video_url"])
    if meeting.get("reconvened_from"):
        pdf.para(RECONVENED_MENTION, size=9)
    pdf.ln(3)
    pdf.heading("Membres présents et représentés", size=12)
    present = attending(data)
    if present:
        rows = [
            [
                p["name"],
                p["organisation_name"] + (f"\n{p['function']}" if p["function"] else ""),
                p["role_label"],
                presence_text(p),
            ]
            for p in present
        ]
        pdf.grid(["Nom", "Institution / fonction", "Qualité", "Présence"], rows, (40, 56, 34, 44))
    else:
        pdf.para("Présences non enregistrées.")
    for label, code in (("Excusé(e)s :", "excused"), ("Absent(e)s :", "absent")):
        pdf.fact(label, ", ".join(not_attending(data, code)))
    pdf.ln(3)
    _quorum_facts(pdf, data)
    pdf.ln(3)
    pdf.heading("Points examinés", size=12)
    for item in data["items"]:
        pdf.para(f"{item['position']}. {item['title']}")
    if not data["items"]:
        pdf.para("Aucun point inscrit à l'ordre du jour.")
    pdf.ln(3)
    pdf.heading("Compte rendu", size=12)
    pdf.para(meeting.get("minutes") or "Compte rendu non rédigé.")
    pdf.ln(3)
    pdf.heading("Relevé de décisions", size=12)
    if data["decisions"]:
        pdf.grid(["N°", "Décision"], [[str(d["position"]), d["text"]] for d in data["decisions"]], (12, 162))
    else:
        pdf.para("Aucune décision enregistrée.")
    return pdf.bytes()


RENDERERS = {"convocation": convocation_pdf, "ordre-du-jour": agenda_pdf, "emargement": attendance_sheet_pdf}
