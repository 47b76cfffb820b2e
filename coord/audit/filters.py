"""The journal's filters (person, kind of object, period), read from the query string and checked
with French messages: a bad value is reported next to its field, never a 500."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import DEPARTMENT_CODE
from coord.audit.labels import ENTITIES

MAX_PERSON = 254
FIRST_YEAR, LAST_YEAR = 2000, 2100
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
EXAMPLE = "par exemple 14/10/2026"
UNKNOWN_DEPARTMENT = "Département inconnu ou non accessible : choisissez-le dans la liste."


@dataclass(frozen=True)
class JournalFilters:
    person: str = ""  # the actor as recorded (an agent's e-mail, a partner link's label, « système »)
    kind: str = ""  # an entity key of labels.ENTITIES
    department: str = ""  # a département's code (national readers choose one)
    start: dt.date | None = None
    end: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)  # what was typed, shown back in the form

    @property
    def active(self) -> bool:
        return bool(self.person or self.kind or self.department or self.start or self.end)

    def query(self) -> dict[str, str]:
        """The filters as query parameters (pagination and export links keep them)."""
        return {k: v for k, v in self.raw.items() if v}

    def period_utc(self, zone: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The period as UTC instants: from midnight of the first day to midnight after the last,
        in the reader's zone."""
        tz = ZoneInfo(zone)
        start = dt.datetime.combine(self.start, dt.time(), tz).astimezone(dt.UTC) if self.start else None
        end = (
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC) if self.end else None
        )
        return start, end


def parse_date(text: str, what: str) -> tuple[dt.date | None, str]:
    """A day typed as JJ/MM/AAAA (or AAAA-MM-JJ, as date pickers send it): (date, "") or (None, message)."""
    text = text.strip()
    if not text:
        return None, ""
    if match := _FRENCH_DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None, f"La date {what} doit être au format JJ/MM/AAAA, {EXAMPLE}."
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None, f"La date {what} doit être comprise entre {FIRST_YEAR} et {LAST_YEAR}."
    try:
        return dt.date(year, month, day), ""
    except ValueError:
        return None, f"La date {what} n'existe pas ({text}) : vérifiez le jour et le mois."


def parse(params: Mapping[str, Any]) -> JournalFilters:
    raw = {name: str(params.get(name) or "").strip() for name in ("departement", "personne", "objet", "du", "au")}
    errors: dict[str, str] = {}
    person = raw["personne"]
    if len(person) > MAX_PERSON or any(ord(c) < 32 for c in person):
        errors["personne"] = "Personne inconnue : choisissez-la dans la liste."
        person = ""
    kind = raw["objet"]
    if kind and kind not in ENTITIES:
        errors["objet"] = "Type d'objet inconnu : choisissez-en un dans la liste."
        kind = ""
    department = raw["departement"].upper()
    if department and not DEPARTMENT_CODE.match(department):
        errors["departement"] = UNKNOWN_DEPARTMENT
        department = ""
    start, message = parse_date(raw["du"], "de début")
    if message:
        errors["du"] = message
    end, message = parse_date(raw["au"], "de fin")
    if message:
        errors["au"] = message
    if start and end and end < start:
        errors["au"] = "La date de fin doit être le même jour que la date de début ou après."
        end = None
    return JournalFilters(person=person, kind=kind, department=department, start=start, end=end, errors=errors, raw=raw)
