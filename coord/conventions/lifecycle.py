"""The life of a convention, as pure functions of dates (no database): statuses, end dates,
signature progress against the model, and the next dates the periodic job must look at.

Status flow: draft → in_signature → in_force → expiring → expired | terminated | renewed; a renewed
convention (tacit renewal, new period) becomes expiring again before its new end.

An amendment (avenant) has a signature round of its own: the convention stays in force on its current
text while the amendment is signed (its status, dates, renewals and expiry go on as if there were
none) and the amendment's text becomes the text in force once every required role has signed it.
Amendment flow: open → in_force | withdrawn (abandoned by the prefecture) | lapsed (the convention
ended before the amendment was signed). A tacit renewal leaves an open amendment open: it applies to
the new period once signed.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from coord.conventions.models import ConventionModel
from coord.conventions.roles import role_label

STATUSES: dict[str, str] = {
    "draft": "Brouillon",
    "in_signature": "En cours de signature",
    "in_force": "En vigueur",
    "expiring": "Arrive à échéance",
    "expired": "Expirée",
    "terminated": "Résiliée",
    "renewed": "Reconduite",
}
# A convention in one of these statuses binds its signatories (the pilot site is covered).
ACTIVE = frozenset({"in_force", "expiring", "renewed"})
# Signatures can be collected (the convention is not yet, or no longer, complete).
SIGNING = frozenset({"draft", "in_signature"})
FINAL = frozenset({"expired", "terminated"})

AMENDMENT_STATUSES: dict[str, str] = {
    "open": "En cours de signature",
    "in_force": "Entré en vigueur",
    "withdrawn": "Abandonné",
    "lapsed": "Caduc",
}

SIGNATORY_STATUSES: dict[str, str] = {
    "to_send": "À envoyer",
    "sent": "Demande envoyée",
    "signed": "Signée",
    "refused": "Refusée",
}

# Used when a model gives no notice period (renewal_notice_days = 0): the convention is shown as
# arriving at its end this many days before (overridable with the `convention_expiring_days` setting).
DEFAULT_EXPIRING_DAYS = 90


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of shorter months (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class MissingRole:
    role: str
    label: str
    missing: int
    required: int


@dataclass(frozen=True)
class Progress:
    required_count: int  # signatures the model requires (sum of min_count of required roles)
    signed_count: int  # of those, how many are signed (extra signatures of a role do not count)
    missing: tuple[MissingRole, ...]
    signed_by_role: dict[str, int]

    @property
    def complete(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "required_count": self.required_count,
            "signed_count": self.signed_count,
            "complete": self.complete,
            "missing_roles": [
                {"role": m.role, "label": m.label, "missing": m.missing, "required": m.required} for m in self.missing
            ],
        }


def progress(model: ConventionModel, signatories: Iterable[Mapping[str, Any]]) -> Progress:
    """Signatures of the current round (`signatories` of the current amendment) against the model."""
    signed: dict[str, int] = {}
    for s in signatories:
        if s["status"] == "signed":
            signed[s["role"]] = signed.get(s["role"], 0) + 1
    missing: list[MissingRole] = []
    required = done = 0
    for requirement in model.signatories:
        if not requirement.required:
            continue
        required += requirement.min_count
        have = min(signed.get(requirement.role, 0), requirement.min_count)
        done += have
        if have < requirement.min_count:
            missing.append(
                MissingRole(
                    requirement.role, role_label(requirement.role), requirement.min_count - have, requirement.min_count
                )
            )
    return Progress(required, done, tuple(missing), signed)


def version_label(number: int) -> str:
    """The text a signature round is about: the initial text (0) or the N-th amendment."""
    return f"Avenant n° {number}" if number else "Texte initial"


def amendment_progress_label(number: int, done: Progress) -> str:
    """« Avenant n° 1 : 3/8 signatures »."""
    return f"Avenant n° {number} : {done.signed_count}/{done.required_count} signature" + (
        "s" if done.required_count > 1 else ""
    )


def notice_days(model: ConventionModel, default: int = DEFAULT_EXPIRING_DAYS) -> int:
    return model.renewal_notice_days or default


def end_of_first_period(effective_from: dt.date, model: ConventionModel) -> dt.date:
    return add_months(effective_from, model.default_duration_months)


def settle(
    row: Mapping[str, Any], model: ConventionModel | None, today: dt.date, *, expiring_days: int = DEFAULT_EXPIRING_DAYS
) -> dict[str, Any]:
    """The values an active convention must have on `today`: status (in force, expiring, renewed,
    expired, terminated), period and dates, and the next dates the periodic job looks at.

    Several periods are walked at once if the job has not run for a long time. Only the fields that
    may change are returned; non-active conventions get their job dates cleared."""
    status = row["status"]
    ends = row["ends_on"]
    out: dict[str, Any] = {"status": status, "next_transition_on": None, "next_reminder_on": None}
    if status not in ACTIVE or ends is None or model is None:
        return out
    effective_from, period = row["effective_from"], row["period"]
    terminated_on = row.get("terminated_on")
    while today > ends:
        if terminated_on is not None:
            status = "terminated"
            break
        if not model.tacit_renewal:
            status = "expired"
            break
        effective_from = ends + dt.timedelta(days=1)
        ends = add_months(ends, model.default_duration_months)
        period += 1
        status = "renewed"
    out.update(status=status, ends_on=ends, effective_from=effective_from, period=period)
    if status in FINAL:
        return out
    expiring_from = ends - dt.timedelta(days=notice_days(model, expiring_days))
    if today >= expiring_from:
        out["status"] = "expiring"
        out["next_transition_on"] = ends + dt.timedelta(days=1)
    else:
        out["status"] = "renewed" if period > 1 else "in_force"
        out["next_transition_on"] = expiring_from
    if terminated_on is None:
        out["next_reminder_on"] = next_expiry_reminder(model, ends, today)
    return out


def expiry_reminder_dates(model: ConventionModel, ends_on: dt.date) -> list[tuple[int, dt.date]]:
    """(days before the end, date) of each expiry reminder, in chronological order."""
    return sorted(((d, ends_on - dt.timedelta(days=d)) for d in model.expiry_reminder_days), key=lambda x: x[1])


def next_expiry_reminder(model: ConventionModel, ends_on: dt.date, today: dt.date) -> dt.date | None:
    """The first reminder date on or after `today` (one already sent today is kept out by its key)."""
    return next((day for _, day in expiry_reminder_dates(model, ends_on) if day >= today), None)


def due_expiry_reminder(model: ConventionModel, ends_on: dt.date, today: dt.date) -> int | None:
    """The reminder to send on `today` (days before the end): the latest one whose date has come
    and which is still ahead of the end. After a long outage only that one is sent, not a burst."""
    due = [d for d, day in expiry_reminder_dates(model, ends_on) if day <= today <= ends_on]
    return min(due) if due else None


def signature_reminder_due(
    model: ConventionModel, requested_at: dt.datetime, now: dt.datetime
) -> tuple[int | None, dt.datetime | None]:
    """(the reminder to send now, in days after the request, or None; the instant of the next one)."""
    due = [d for d in model.signature_reminder_days if requested_at + dt.timedelta(days=d) <= now]
    later = [d for d in model.signature_reminder_days if requested_at + dt.timedelta(days=d) > now]
    next_at = requested_at + dt.timedelta(days=min(later)) if later else None
    return (max(due) if due else None), next_at


def first_signature_reminder(model: ConventionModel, requested_at: dt.datetime) -> dt.datetime | None:
    days = model.signature_reminder_days
    return requested_at + dt.timedelta(days=min(days)) if days else None
