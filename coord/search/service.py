"""Search of one département's records: the query checked, the hits read back through the access
scope, grouped by kind, each with its page and its highlighted words.

The index (coord.search.engine) finds candidates in the département the scope reads; each hit is
then read again through `Scope.select` on its own table, so what is shown obeys the same isolation
rule as every other page, and the context shown (a meeting's date, a contact's organisation) is
current.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from piccolo.table import Table

from coord.access import Scope
from coord.actions.tables import ActionItem
from coord.conventions.tables import Convention
from coord.core.errors import NotFound, ValidationFailed
from coord.core.french import date_fr
from coord.meetings.tables import AgendaItem, Decision, Meeting
from coord.partners.tables import Contact, Organisation
from coord.search import engine
from coord.territory.tables import Department

MAX_QUERY_LENGTH = 200

EMPTY = "Saisissez un ou plusieurs mots à rechercher."
ONLY_COMMON_WORDS = (
    "Saisissez au moins un mot significatif : les mots très courants (« le », « de », « et »…) sont ignorés."
)
NO_DEPARTMENT = "Indiquez le département où chercher (paramètre department, par exemple 34 ou 2A)."


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # the heading of its group
    table: type[Table]


# The order of the groups on the page and in the API.
KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("meeting", "Réunions", Meeting),
        Kind("agenda_item", "Points d'ordre du jour", AgendaItem),
        Kind("decision", "Décisions", Decision),
        Kind("action_item", "Actions", ActionItem),
        Kind("organisation", "Organisations partenaires", Organisation),
        Kind("contact", "Contacts", Contact),
        Kind("convention", "Conventions", Convention),
    )
}


@dataclass
class Result:
    kind: str
    id: int
    title: Markup  # HTML: escaped text, the words found in <mark>
    snippet: Markup
    url: str
    context: str  # plain text: where the record belongs (a meeting, an organisation)


@dataclass
class Group:
    kind: str
    label: str
    total: int  # hits of this kind in all (only the best ones are listed)
    results: list[Result] = field(default_factory=list)


@dataclass
class Outcome:
    query: str
    groups: list[Group]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_query(raw: str | None) -> str:
    """The query as searched, or ValidationFailed with a French message (field `q`)."""
    text = " ".join(_CONTROL.sub(" ", raw or "").split())
    if not text:
        raise ValidationFailed({"q": EMPTY}, EMPTY)
    if len(text) > MAX_QUERY_LENGTH:
        message = f"La recherche est limitée à {MAX_QUERY_LENGTH} caractères (vous en avez saisi {len(text)})."
        raise ValidationFailed({"q": message}, message)
    if not engine.words(text):
        raise ValidationFailed({"q": ONLY_COMMON_WORDS}, ONLY_COMMON_WORDS)
    return text


def highlighted(text: str) -> Markup:
    """`text` HTML-escaped, with the engine's markers turned into balanced <mark> elements."""
    parts: list[str] = []
    inside = False
    for piece in re.split(f"([{engine.MARK_START}{engine.MARK_END}])", text):
        if piece == engine.MARK_START:
            if not inside:
                parts.append("<mark>")
                inside = True
        elif piece == engine.MARK_END:
            if inside:
                parts.append("</mark>")
                inside = False
        else:
            parts.append(str(escape(piece)))
    if inside:
        parts.append("</mark>")
    return Markup("".join(parts))  # noqa: S704 (every piece of text was escaped above)


async def department_for(scope: Scope, code: str | None) -> dict[str, Any]:
    """The département searched by an API call: the one given if the scope reads it (else 404),
    else the user's own; a national user must name one."""
    narrowed = await scope.within_code(code)
    department_id = narrowed.department_id
    if department_id is None:
        raise ValidationFailed({"department": NO_DEPARTMENT}, NO_DEPARTMENT)
    row = await narrowed.select(Department).where(Department.id == department_id).first()
    if row is None:
        raise ValidationFailed({"department": NO_DEPARTMENT}, NO_DEPARTMENT)
    return row


async def search(scope: Scope, department: dict[str, Any], raw_query: str | None) -> Outcome:
    """Records of `department` matching the query, grouped by kind (empty groups left out)."""
    query = clean_query(raw_query)
    narrowed = scope.within(department)
    # The index is filtered on the département the scope reads (and that it may read: checked
    # here too, before any hit is read back through the scope).
    department_id = narrowed.department_id
    if department_id is None or not narrowed.sees({"department": department_id}):
        raise NotFound()
    hits = await engine.search(department_id, query)
    groups: list[Group] = []
    for kind in KINDS.values():
        of_kind = [h for h in hits if h.kind == kind.code]
        if not of_kind:
            continue
        rows = await _visible(narrowed, kind, [h.object_id for h in of_kind])
        results = [_result(kind, h, rows[h.object_id], department) for h in of_kind if h.object_id in rows]
        if results:
            # Hits the scope does not read are not counted either (none should exist: the index
            # carries the département of each row).
            hidden = len(of_kind) - len(results)
            groups.append(Group(kind.code, kind.label, of_kind[0].total - hidden, results))
    return Outcome(query, groups)


async def _visible(scope: Scope, kind: Kind, ids: list[int]) -> dict[int, dict[str, Any]]:
    table = kind.table
    columns: list[Any] = [table._meta.primary_key]
    if table in (AgendaItem, Decision):
        columns += [table.meeting.title.as_alias("meeting_title"), table.meeting.starts_at.as_alias("meeting_at")]
    if table is Decision:
        columns.append(Decision.position)
    if table is Meeting:
        columns.append(Meeting.starts_at)
    if table is Contact:
        columns += [Contact.organisation, Contact.organisation.name.as_alias("organisation_name")]
    if table is AgendaItem or table is Decision:
        columns.append(table.meeting)
    rows = await scope.select(table, *columns).where(table._meta.primary_key.is_in(ids))
    return {row["id"]: row for row in rows}


def _result(kind: Kind, hit: engine.Hit, row: dict[str, Any], department: dict[str, Any]) -> Result:
    base = f"/d/{department['code']}"
    zone = department.get("timezone")
    title, snippet, context = highlighted(hit.title), highlighted(hit.snippet), ""
    if kind.code == "meeting":
        url = f"{base}/reunions/{hit.object_id}"
        context = f"Réunion du {date_fr(row['starts_at'], zone)}"
    elif kind.code == "agenda_item":
        url = f"{base}/reunions/{row['meeting']}#ordre-du-jour"
        context = f"{row['meeting_title']} · {date_fr(row['meeting_at'], zone)}"
    elif kind.code == "decision":
        # A decision is its text only: the heading names it, the text is the snippet.
        url = f"{base}/reunions/{row['meeting']}/compte-rendu#decisions"
        title, snippet = escape(f"Décision n° {row['position']}"), highlighted(hit.title)
        context = f"{row['meeting_title']} · {date_fr(row['meeting_at'], zone)}"
    elif kind.code == "action_item":
        url = f"{base}/actions/{hit.object_id}"
    elif kind.code == "organisation":
        url = f"{base}/partenaires/{hit.object_id}"
    elif kind.code == "contact":
        url = f"{base}/partenaires/{row['organisation']}"
        context = row["organisation_name"] or ""
    else:
        url = f"{base}/conventions/{hit.object_id}"
    return Result(kind.code, hit.object_id, title, snippet, url, context)
