"""Dates written the French way, in the département's zone (pages, mails and PDFs share them)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def date_fr(value: dt.date | dt.datetime | None, tz: str | None = None, with_time: bool = False) -> str:
    """« mardi 14 octobre 2026 » or « mardi 14 octobre 2026 à 09 h 30 » in the département's zone."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    text = f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]} {value.year}"
    if with_time and isinstance(value, dt.datetime):
        text += f" à {value.hour:02d} h {value.minute:02d}"
    return text


def short_date(value: dt.date | dt.datetime | None, tz: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(ZoneInfo(tz))
    text = value.strftime("%d/%m/%Y")
    if isinstance(value, dt.datetime):
        text += value.strftime(" %H:%M")
    return text


# INSEE TNCC (« type de nom en clair ») → (article form prefix, « de » form prefix).
TNCC_FORMS = {
    0: ("", "de "),
    1: ("", "d'"),
    2: ("le ", "du "),
    3: ("la ", "de la "),
    4: ("les ", "des "),
    5: ("l'", "de l'"),
    6: ("aux ", "des "),
    7: ("las ", "de las "),
}


def _tncc_forms(tncc: int | None) -> tuple[str, str]:
    return TNCC_FORMS.get(tncc or 0, TNCC_FORMS[0])


def department_article(name: str, tncc: int | None) -> str:
    """« le Calvados », « la Manche », « les Landes », « l'Hérault »; « Paris » (TNCC 0/1)."""
    return _tncc_forms(tncc)[0] + name


def department_de(name: str, tncc: int | None) -> str:
    """« de Paris », « d'Eure-et-Loir », « du Calvados », « de la Manche », « des Landes », « de l'Hérault »."""
    return _tncc_forms(tncc)[1] + name


def of_department(department: Any) -> str:
    """`department_de` of a département row (a dict or an object with `name` and `tncc`): the
    templates' `of_department` filter, for pages and mails."""

    def field(name: str) -> Any:
        return department.get(name) if isinstance(department, dict) else getattr(department, name, None)

    return department_de(str(field("name") or ""), field("tncc"))


_GENERIC_NOUNS = (
    "association",
    "conseil",
    "préfecture",
    "direction",
    "mairie",
    "commune",
    "agence",
    "office",
    "service",
    "centre",
    "tribunal",
    "parquet",
    "caisse",
    "fédération",
    "union",
    "institut",
    "établissement",
    "hôpital",
    "groupement",
)
_FEMININE = {"association", "préfecture", "direction", "mairie", "commune", "agence", "caisse", "fédération", "union"}
_VOWELS = "aeiouyàâäéèêëîïôöùûüh"


def organisation_de(name: str) -> str:
    """« de l'association X », « du conseil départemental », « de la préfecture » — leading generic noun lower-cased."""
    name = name.strip()
    first, _, rest = name.partition(" ")
    noun = first.lower()
    if noun not in _GENERIC_NOUNS:
        return ("d'" if name[:1].lower() in _VOWELS else "de ") + name
    text = noun + (" " + rest if rest else "")
    if noun[0] in _VOWELS:
        return "de l'" + text
    return ("de la " if noun in _FEMININE else "du ") + text
