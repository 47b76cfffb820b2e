"""The legal rules of a convocation, checked on every change of a meeting's date, and what an update
mail says changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from coord.core.clock import Clock, now
from coord.core.french import DAYS
from coord.core.validation import Fields
from coord.meetings.notify import when_fr
from coord.territory.working_days import format_date_fr, holiday_name

# R.133-8 CRPA: the convocation reaches the members at least five days before, save urgency.
CONVOCATION_LEAD = dt.timedelta(days=5)


def check_move(fields: Fields, current: Mapping[str, Any], clock: Clock | None) -> None:
    """A meeting is never moved into the past, nor a convened one inside the legal five days
    without the urgency flag and its reason (R.133-8 CRPA)."""
    starts = fields.values.get("starts_at")
    if starts is None:
        return
    field = "date" if "date" in fields.data else "starts_at"
    at = now(clock)
    if starts <= at:
        fields.error(field, "Une réunion ne peut pas être déplacée dans le passé : choisissez une date à venir.")
    elif current["status"] == "convened" and starts - at < CONVOCATION_LEAD:
        _require_urgency(fields, current, field)


def _require_urgency(fields: Fields, current: Mapping[str, Any], field: str) -> None:
    urgent = fields.values.get("urgent", current["urgent"])
    reason = fields.values.get("urgency_reason", current["urgency_reason"])
    if not urgent:
        fields.error(
            field,
            "La convocation doit parvenir aux membres au moins cinq jours avant la réunion "
            "(article R.133-8 du CRPA) : cochez « urgence » et indiquez son motif, "
            "ou choisissez une date plus tardive.",
        )
    elif not reason:
        fields.error("urgency_reason", "Indiquez le motif de l'urgence : il figure dans la convocation.")


def check_working_day(fields: Fields, tz: str, subdivision: str | None) -> None:
    """A meeting on a weekend or a public holiday of the département is possible, but only once
    the agent has confirmed it (`confirm_day`)."""
    starts = fields.values.get("starts_at")
    confirmed = fields.boolean("confirm_day", default=False)
    if starts is None or confirmed:
        return
    day = starts.astimezone(ZoneInfo(tz)).date()
    holiday = holiday_name(day, subdivision)
    if holiday is None and day.weekday() < 5:
        return
    label = f"Le {DAYS[day.weekday()]} {format_date_fr(day)}"
    what = f"est un jour férié dans ce département ({holiday})" if holiday else "tombe un week-end"
    fields.error(
        "date" if "date" in fields.data else "starts_at",
        f"{label} {what}. Confirmez ce jour (case « Confirmer ce jour ») ou choisissez un autre jour.",
    )


def describe_changes(current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[str]:
    """What an update mail says changed, in French: « Horaire modifié : … → … »."""
    tz = current["timezone"]
    lines = []
    if "starts_at" in changes or "ends_at" in changes:
        starts = changes.get("starts_at", current["starts_at"])
        ends = changes.get("ends_at", current["ends_at"])
        before = when_fr(current["starts_at"], current["ends_at"], tz)
        lines.append(f"Horaire modifié : {before} → {when_fr(starts, ends, tz)}")
    if "place" in changes:
        lines.append(f"Lieu modifié : {_one_line(current['place'])} → {_one_line(changes['place'])}")
    if "video_url" in changes:
        lines.append("Lien de visioconférence modifié" if changes["video_url"] else "Lien de visioconférence retiré")
    if "title" in changes:
        lines.append(f"Intitulé modifié : « {current['title']} » → « {changes['title']} »")
    return lines


def _one_line(text: str) -> str:
    return " ".join(str(text or "").split()) or "non précisé"
