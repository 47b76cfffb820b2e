"""Dates written the French way, in the département's zone (pages, mails and PDFs share them)."""

from __future__ import annotations

import datetime as dt
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
