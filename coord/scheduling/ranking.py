"""How late each département is in its yearly cycle, to rank the national table (and the national
map) latest first instead of showing 101 equal « En retard ».

A late slot became late at a precise instant: the end of its window when no meeting was held, the
minutes' deadline for a held meeting, or the last day its meeting could still be convened. The
département's lateness is the number of days since its oldest late slot became late. Computed from
the rows of `service.national_cycle` (no query of its own).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from coord.meetings.service import CONVOCATION_LEAD

# Latest first: the order of `cycle.worst_state` (late, nothing planned, proposed, convened, held).
RANK_ORDER = ("en_retard", "non_planifiee", "date_proposee", "convoquee", "tenue", "cr_publie")


def _instant(raw: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(raw) if raw else None


def slot_deadline(slot: dict[str, Any], zone: ZoneInfo) -> dt.datetime | None:
    """When a late slot (as `service.slot_out` gives it) became late; None when it is not late."""
    if slot["state"] != "en_retard":
        return None
    meeting = slot["meeting"]
    if meeting is None:
        last = dt.date.fromisoformat(slot["window_end"]) + dt.timedelta(days=1)
        return dt.datetime.combine(last, dt.time(0), tzinfo=zone)
    if meeting["status"] in ("held", "convened") and slot["minutes_deadline"]:
        return _instant(slot["minutes_deadline"])  # a convened meeting is late only once held
    starts = _instant(meeting["starts_at"])
    return starts - CONVOCATION_LEAD if starts is not None else None


def days_late(slots: list[dict[str, Any]], timezone: str, now: dt.datetime) -> int:
    """Days since the oldest late slot became late, in the département's own calendar (0: not late)."""
    zone = ZoneInfo(timezone)
    deadlines = [d for d in (slot_deadline(s, zone) for s in slots) if d is not None]
    if not deadlines:
        return 0
    return max(0, (now.astimezone(zone).date() - min(deadlines).astimezone(zone).date()).days)


def late_reasons(slots: list[dict[str, Any]]) -> str:
    reasons: list[str] = []
    for slot in slots:
        if slot["state"] == "en_retard" and slot["late_reason"] not in reasons:
            reasons.append(slot["late_reason"])
    return " ".join(reasons)


def rank_key(row: dict[str, Any], *tie_breaks: int) -> tuple[Any, ...]:
    """Worst state first, then the longest late; `tie_breaks` (larger first) before the code."""
    return (RANK_ORDER.index(row["state"]), -row["days_late"], *(-t for t in tie_breaks), row["department"])


def ranked(rows: list[dict[str, Any]], timezones: dict[str, str], now: dt.datetime) -> list[dict[str, Any]]:
    """The national cycle rows with `rank`, `days_late`, `late_reasons`, `held` and `required` added,
    latest first."""
    out = [
        {
            **row,
            "days_late": days_late(row["slots"], timezones.get(row["department"], "Europe/Paris"), now),
            "late_reasons": late_reasons(row["slots"]),
            "held": sum(1 for s in row["slots"] if s["state"] in ("tenue", "cr_publie")),
            "required": len(row["slots"]),
        }
        for row in rows
    ]
    out.sort(key=rank_key)
    for index, row in enumerate(out, start=1):
        row["rank"] = index
    return out
