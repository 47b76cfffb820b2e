"""Recurrence rules of a series (dateutil.rrule over local dates), holiday moves, French wording.

A rule yields nominal *dates*; each is combined with the series' local time of day in the
département's zone, so a meeting keeps its wall-clock time across summer and winter time. A
nominal date that is a weekend or a public holiday of the département moves to the next working
day, and the occurrence says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from coord.core.errors import ValidationFailed
from coord.core.french import DAYS
from coord.territory.working_days import format_date_fr, holiday_name, is_working_day, next_working_day

FREQS = {"weekly": "Toutes les N semaines", "monthly": "Tous les N mois", "quarterly": "Tous les trimestres"}
MODES = {"weekday": "le n-ième jour de la semaine du mois", "month_day": "un jour fixe du mois"}
NTHS = {"1": "1er", "2": "2e", "3": "3e", "4": "4e", "-1": "dernier"}
MAX_COUNT = 120
MAX_WEEKS, MAX_MONTHS = 26, 12
MIN_YEAR, MAX_YEAR = 2000, 2100
_RRULE_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


@dataclass(frozen=True)
class Rule:
    freq: str
    interval: int
    weekday: int | None
    nth: int | None
    month_day: int | None
    start_date: dt.date
    start_time: dt.time
    duration_minutes: int
    until: dt.date | None
    count: int | None

    def dates(self) -> Iterator[dt.date]:
        """Every nominal date, position 0 first (bounded by until/count, else by MAX_YEAR)."""
        freq = rrule.WEEKLY if self.freq == "weekly" else rrule.MONTHLY
        interval = 3 if self.freq == "quarterly" else self.interval
        kwargs: dict[str, Any] = {"interval": interval, "dtstart": dt.datetime.combine(self.start_date, dt.time())}
        if self.freq == "weekly":
            kwargs["byweekday"] = _RRULE_DAYS[self.weekday or 0]
        elif self.month_day is not None:
            kwargs["bymonthday"] = self.month_day
        else:
            kwargs["byweekday"] = _RRULE_DAYS[self.weekday or 0](self.nth or 1)
        if self.count:
            kwargs["count"] = self.count
        else:
            kwargs["until"] = dt.datetime.combine(self.until or dt.date(MAX_YEAR, 12, 31), dt.time())
        for value in rrule.rrule(freq, **kwargs):
            yield value.date()


def rule_of(row: Mapping[str, Any]) -> Rule:
    hh, mm = str(row["start_time"]).split(":")
    return Rule(
        row["freq"],
        row["interval"],
        row["weekday"],
        row["nth"],
        row["month_day"],
        row["start_date"],
        dt.time(int(hh), int(mm)),
        row["duration_minutes"],
        row["until"],
        row["max_count"],
    )


def _int(data: Mapping[str, Any], name: str, errors: dict[str, str], low: int, high: int, message: str) -> int | None:
    raw = data.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors[name] = message
        return None
    if not low <= value <= high:
        errors[name] = message
        return None
    return value


def _date(data: Mapping[str, Any], name: str, errors: dict[str, str]) -> dt.date | None:
    raw = data.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        errors[name] = "Date invalide (format attendu : AAAA-MM-JJ)."
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        errors[name] = f"La date doit être comprise entre {MIN_YEAR} et {MAX_YEAR}."
        return None
    return value


def read_rule(data: Mapping[str, Any]) -> Rule:
    """The rule typed in a form, or ValidationFailed with a French message per field."""
    errors: dict[str, str] = {}
    freq = str(data.get("freq") or "").strip()
    if freq not in FREQS:
        errors["freq"] = "Choisissez une périodicité : toutes les N semaines, tous les N mois ou tous les trimestres."
    interval = 1
    if freq == "weekly":
        interval = _int(data, "interval", errors, 1, MAX_WEEKS, f"L'intervalle doit être de 1 à {MAX_WEEKS} semaines.")
    elif freq == "monthly":
        interval = _int(data, "interval", errors, 1, MAX_MONTHS, f"L'intervalle doit être de 1 à {MAX_MONTHS} mois.")
    if freq in ("weekly", "monthly") and interval is None and "interval" not in errors:
        errors["interval"] = "Indiquez l'intervalle (par exemple 2 pour « toutes les 2 semaines »)."
    weekday = nth = month_day = None
    mode = str(data.get("mode") or "weekday")
    if freq == "weekly" or (freq in ("monthly", "quarterly") and mode == "weekday"):
        weekday = _int(data, "weekday", errors, 0, 6, "Jour de la semaine inconnu : choisissez du lundi au dimanche.")
        if weekday is None and "weekday" not in errors:
            errors["weekday"] = "Choisissez le jour de la semaine."
    if freq in ("monthly", "quarterly"):
        if mode == "weekday":
            raw_nth = str(data.get("nth") or "").strip()
            if raw_nth not in NTHS:
                errors["nth"] = "Choisissez la semaine du mois : 1er, 2e, 3e, 4e ou dernier."
            else:
                nth = int(raw_nth)
        elif mode == "month_day":
            month_day = _int(data, "month_day", errors, 1, 28, "Le jour du mois doit être compris entre 1 et 28.")
            if month_day is None and "month_day" not in errors:
                errors["month_day"] = "Indiquez le jour du mois (1 à 28)."
        else:
            errors["mode"] = "Choisissez « le n-ième jour de la semaine » ou « un jour fixe du mois »."
    start_date = _date(data, "start_date", errors)
    if start_date is None and "start_date" not in errors:
        errors["start_date"] = "Indiquez la date de début de la série."
    start_time = None
    raw_time = str(data.get("start_time") or "").strip()
    try:
        if len(raw_time) != 5 or raw_time[2] != ":":
            raise ValueError
        start_time = dt.time(int(raw_time[:2]), int(raw_time[3:]))
    except ValueError:
        errors["start_time"] = "Heure invalide (format attendu : HH:MM, par exemple 14:00)."
    duration = _int(
        data, "duration_minutes", errors, 15, 720, "La durée doit être comprise entre 15 minutes et 12 heures."
    )
    if duration is None and "duration_minutes" not in errors:
        errors["duration_minutes"] = "Indiquez la durée en minutes."
    end = str(data.get("end") or "horizon")
    until = count = None
    if end == "until":
        until = _date(data, "until", errors)
        if until is None and "until" not in errors:
            errors["until"] = "Indiquez la date de fin de la série."
        elif until and start_date and until < start_date:
            errors["until"] = "La date de fin est antérieure à la date de début."
    elif end == "count":
        count = _int(
            data, "count", errors, 1, MAX_COUNT, f"Le nombre de réunions doit être compris entre 1 et {MAX_COUNT}."
        )
        if count is None and "count" not in errors:
            errors["count"] = "Indiquez le nombre de réunions."
    elif end != "horizon":
        errors["end"] = "Choisissez la fin de la série : une date, un nombre de réunions ou sans fin."
    if errors:
        raise ValidationFailed(errors, "La série n'a pas pu être enregistrée : corrigez les champs signalés.")
    assert start_date and start_time and duration
    return Rule(freq, interval or 1, weekday, nth, month_day, start_date, start_time, duration, until, count)


# -- occurrences --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Occurrence:
    position: int
    nominal: dt.date
    day: dt.date  # after the holiday move
    starts_at: dt.datetime  # UTC
    ends_at: dt.datetime
    note: str  # « Déplacée du … au … », or ""


def day_fr(day: dt.date) -> str:
    return f"{DAYS[day.weekday()]} {format_date_fr(day)}"


def local_instant(day: dt.date, at: dt.time, tz: str) -> dt.datetime | None:
    """The UTC instant of a local wall-clock time, None if DST skips it that day."""
    zone = ZoneInfo(tz)
    naive = dt.datetime.combine(day, at)
    utc = naive.replace(tzinfo=zone).astimezone(dt.UTC)
    return utc if utc.astimezone(zone).replace(tzinfo=None) == naive else None


def _skipped(rule: Rule, day: dt.date) -> str:
    return (
        f"L'heure {rule.start_time:%H:%M} n'existe pas le {day_fr(day)} (passage à l'heure d'été) : "
        "choisissez une autre heure."
    )


def occurrence(rule: Rule, position: int, nominal: dt.date, tz: str, subdivision: str | None) -> Occurrence:
    if local_instant(nominal, rule.start_time, tz) is None:
        raise ValidationFailed({"start_time": _skipped(rule, nominal)})
    day, note = nominal, ""
    if not is_working_day(nominal, subdivision):
        day = next_working_day(nominal, subdivision)
        holiday = holiday_name(nominal, subdivision)
        why = f"{holiday}, jour férié" if holiday else "week-end"
        note = f"Déplacée du {day_fr(nominal)} ({why}) au {day_fr(day)}"
    starts = local_instant(day, rule.start_time, tz)
    if starts is None:
        raise ValidationFailed({"start_time": _skipped(rule, day)})
    # The end is a wall-clock time too: the duration is kept in local time.
    local_end = dt.datetime.combine(day, rule.start_time) + dt.timedelta(minutes=rule.duration_minutes)
    ends = local_end.replace(tzinfo=ZoneInfo(tz)).astimezone(dt.UTC)
    return Occurrence(position, nominal, day, starts, ends, note)


def occurrences(
    rule: Rule, tz: str, subdivision: str | None, *, first: int = 0, horizon: dt.date | None = None, limit: int = 400
) -> list[Occurrence]:
    """Occurrences from position `first`, up to `horizon` (nominal date) and at most `limit`."""
    out = []
    for position, nominal in islice(enumerate(rule.dates()), first, first + limit):
        if horizon is not None and nominal > horizon:
            break
        out.append(occurrence(rule, position, nominal, tz, subdivision))
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, 28))


# -- wording ------------------------------------------------------------------------------------
def describe(rule: Rule, tz: str) -> str:
    """« tous les trimestres, le 2e mardi, 14 h 00 – 16 h 00 (Europe/Paris) »."""
    day = DAYS[rule.weekday].lower() if rule.weekday is not None else ""
    if rule.freq == "weekly":
        every = "toutes les semaines" if rule.interval == 1 else f"toutes les {rule.interval} semaines"
        on = f"le {day}"
    else:
        if rule.freq == "quarterly":
            every = "tous les trimestres"
        else:
            every = "tous les mois" if rule.interval == 1 else f"tous les {rule.interval} mois"
        if rule.month_day is not None:
            on = "le 1er du mois" if rule.month_day == 1 else f"le {rule.month_day} du mois"
        else:
            on = f"le {NTHS[str(rule.nth)]} {day}"
    end = (dt.datetime.combine(rule.start_date, rule.start_time) + dt.timedelta(minutes=rule.duration_minutes)).time()
    hours = f"{rule.start_time:%H} h {rule.start_time:%M} – {end:%H} h {end:%M}"
    text = f"{every}, {on}, {hours} ({tz})"
    if rule.until:
        text += f", jusqu'au {format_date_fr(rule.until)}"
    elif rule.count:
        text += f", {rule.count} réunion{'s' if rule.count > 1 else ''}"
    return text
