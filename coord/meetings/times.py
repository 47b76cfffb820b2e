"""Meeting times as agents type them: in the département's zone (forms: a date and "HH:MM"; API: ISO
datetimes, naive ones being local), stored in UTC. Times skipped by a DST change are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from coord.core.validation import Fields

MIN_YEAR, MAX_YEAR = 2000, 2100
OUT_OF_RANGE = f"La date doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."
SKIPPED_TIME = "Cette heure n'existe pas ce jour-là (passage à l'heure d'été) : choisissez une autre heure."


def local_to_utc(value: dt.datetime, tz: str) -> dt.datetime:
    """A naive local time of `tz` (or an aware datetime) in UTC; refuses times skipped by DST.

    Raises ValueError for a skipped time and OutOfRange outside the years Coord plans meetings for."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise OutOfRange(value.year)
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(dt.UTC)
    zone = ZoneInfo(tz)
    aware = value.replace(tzinfo=zone)
    utc = aware.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != value:
        raise ValueError("nonexistent local time")
    return utc


class OutOfRange(ValueError):
    """A date outside [MIN_YEAR, MAX_YEAR]."""


def to_local(value: dt.datetime | None, tz: str) -> dt.datetime | None:
    return value.astimezone(ZoneInfo(tz)) if value is not None else None


def _parse_iso(fields: Fields, name: str, tz: str) -> dt.datetime | None:
    raw = fields.data.get(name)
    if raw is None or raw == "":
        fields.error(name, "Ce champ est obligatoire.")
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        try:
            value = dt.datetime.fromisoformat(str(raw).strip())
        except ValueError:
            fields.error(
                name, "Date et heure invalides (format attendu : AAAA-MM-JJTHH:MM, par exemple 2026-10-26T09:30)."
            )
            return None
    try:
        return local_to_utc(value, tz)
    except OutOfRange:
        fields.error(name, OUT_OF_RANGE)
    except ValueError:
        fields.error(name, SKIPPED_TIME)
    return None


def _parse_hhmm(fields: Fields, name: str) -> dt.time | None:
    raw = fields.data.get(name)
    raw = raw.strip() if isinstance(raw, str) else raw
    if raw is None or raw == "":
        fields.error(name, "Ce champ est obligatoire.")
        return None
    try:
        if not isinstance(raw, str) or len(raw) != 5 or raw[2] != ":":
            raise ValueError
        return dt.time(int(raw[:2]), int(raw[3:]))
    except ValueError:
        fields.error(name, "Heure invalide (format attendu : HH:MM, par exemple 09:30).")
        return None


def _local_form_time(fields: Fields, day: dt.date | None, name: str, tz: str) -> dt.datetime | None:
    at = _parse_hhmm(fields, name)
    if day is None or at is None:
        return None
    try:
        return local_to_utc(dt.datetime.combine(day, at), tz)
    except OutOfRange:
        fields.error("date", OUT_OF_RANGE)
    except ValueError:
        fields.error(name, SKIPPED_TIME)
    return None


def read_times(fields: Fields, tz: str, current: Mapping[str, Any] | None = None) -> None:
    """Put `starts_at`/`ends_at` (UTC) in `fields.values` from the form fields (date, start_time,
    end_time) or the API fields (starts_at, ends_at); with `current`, absent ones keep their value."""
    data = fields.data
    form_keys = {"date", "start_time", "end_time"}
    if form_keys & set(data):
        day = fields.date("date", required=True)
        fields.values.pop("date", None)
        start = _local_form_time(fields, day, "start_time", tz)
        end = _local_form_time(fields, day, "end_time", tz)
        end_field = "end_time"
    elif current is None or "starts_at" in data or "ends_at" in data:
        start = _parse_iso(fields, "starts_at", tz) if current is None or "starts_at" in data else current["starts_at"]
        end = _parse_iso(fields, "ends_at", tz) if current is None or "ends_at" in data else current["ends_at"]
        end_field = "ends_at"
    else:
        return
    if start and end and end <= start:
        fields.error(end_field, "La fin doit être postérieure au début de la réunion.")
    if start and end and end - start > dt.timedelta(hours=24):
        fields.error(end_field, "Une réunion ne peut pas durer plus de 24 heures.")
    if start and end:
        fields.values["starts_at"], fields.values["ends_at"] = start, end
