"""The `[cycle]` table of config/coord.toml, read once and validated.

Kept out of the flat `Settings` dataclass on purpose: it is a nested table (a mapping per committee
kind), and `Settings.extra` already carries unknown tables. Invalid values fail at start-up with a
message naming the key, not at the first tick.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from coord.committees.kinds import COMMITTEE_KINDS
from coord.core.settings import Settings, current_settings
from coord.scheduling.dates import YearlyMeetingRule

_DAYS = (
    "window_days_before",
    "window_days_after",
    "propose_days_before",
    "not_planned_days_before",
    "convocation_days_before",
    "answer_nudge_days_before",
    "agenda_days_before",
    "minutes_days_after",
    "lookback_days",
)


@dataclass(frozen=True)
class CycleConfig:
    minimum_meetings: dict[str, int] = field(default_factory=lambda: {"cdpd_pleniere": 1, "cdpd_commission_teh": 2})
    anchor_month: int = 10
    anchor_day: int = 18
    window_days_before: int = 21
    window_days_after: int = 21
    start_time: dt.time = dt.time(9, 30)
    duration_minutes: int = 150
    propose_days_before: int = 120
    not_planned_days_before: int = 45
    convocation_days_before: int = 15
    answer_nudge_days_before: int = 10
    agenda_days_before: int = 3
    minutes_days_after: int = 30
    lookback_days: int = 60
    tick_minutes: int = 15
    outbox_seconds: int = 30

    @property
    def primary_kind(self) -> str:
        """The committee kind every département must convene (measure 22)."""
        return next(iter(self.minimum_meetings))

    def rule(self, kind: str, slot: int) -> YearlyMeetingRule:
        """The date rule of meeting `slot` (0-based) of `kind`: n meetings get n anchors spread over the
        year, the last one on the configured anchor (n=2: mid-April and mid-October)."""
        count = self.minimum_meetings.get(kind, 1)
        months_back = (count - 1 - slot) * 12 // count
        month = (self.anchor_month - 1 - months_back) % 12 + 1
        day = min(self.anchor_day, 28) if month == 2 else min(self.anchor_day, 30)
        return YearlyMeetingRule(
            anchor_month=month,
            anchor_day=day if months_back else self.anchor_day,
            window_days_before=self.window_days_before,
            window_days_after=self.window_days_after,
            start_time=self.start_time,
            duration_minutes=self.duration_minutes,
        )


def _int(name: str, raw: Any, minimum: int = 0) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < minimum:
        raise ValueError(f"[cycle] {name}: expected an integer >= {minimum}, got {raw!r}")
    return raw


def parse_cycle(raw: dict[str, Any]) -> CycleConfig:
    values: dict[str, Any] = {}
    if "minimum_meetings" in raw:
        table = raw["minimum_meetings"]
        if not isinstance(table, dict) or not table:
            raise ValueError("[cycle] minimum_meetings: expected a table such as { cdpd_pleniere = 1 }")
        for kind, count in table.items():
            if kind not in COMMITTEE_KINDS:
                raise ValueError(f"[cycle] minimum_meetings: unknown committee kind {kind!r}")
            _int(f"minimum_meetings.{kind}", count, 1)
            if count > 12:
                raise ValueError(f"[cycle] minimum_meetings.{kind}: at most 12 meetings a year")
        values["minimum_meetings"] = dict(table)
    if "anchor" in raw:
        try:
            month, day = (int(p) for p in str(raw["anchor"]).split("-"))
            dt.date(2024, month, day)
        except ValueError as exc:
            raise ValueError(f'[cycle] anchor: expected "MM-DD", got {raw["anchor"]!r}') from exc
        values["anchor_month"], values["anchor_day"] = month, day
    if "start_time" in raw:
        try:
            values["start_time"] = dt.time.fromisoformat(str(raw["start_time"]))
        except ValueError as exc:
            raise ValueError(f'[cycle] start_time: expected "HH:MM", got {raw["start_time"]!r}') from exc
    for name in _DAYS:
        if name in raw:
            values[name] = _int(name, raw[name])
    for name in ("duration_minutes", "tick_minutes", "outbox_seconds"):
        if name in raw:
            values[name] = _int(name, raw[name], 1)
    unknown = (
        set(raw)
        - set(_DAYS)
        - {"minimum_meetings", "anchor", "start_time", "duration_minutes", "tick_minutes", "outbox_seconds"}
    )
    if unknown:
        raise ValueError(f"[cycle] unknown key(s): {', '.join(sorted(unknown))}")
    config = CycleConfig(**values)
    config.rule(config.primary_kind, 0)  # validates the window
    return config


def cycle_config(settings: Settings | None = None) -> CycleConfig:
    raw = (settings or current_settings()).extra.get("cycle") or {}
    if not isinstance(raw, dict):
        raise ValueError("[cycle] must be a table")
    return parse_cycle(raw)
