"""Yearly-meeting date proposal, working days and public holidays per département."""

from __future__ import annotations

import sys
from pathlib import Path

# `coord` is not installed in the virtualenv and `--import-mode=importlib` does not put the
# repository on `sys.path` (same shim as tests/conventions/conftest.py; drop it once
# `pythonpath = ["."]` is set in pyproject.toml).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.easter import easter

from coord.core.clock import Clock, FrozenClock, SystemClock
from coord.scheduling.dates import (
    NoDateAvailable,
    YearlyMeetingRule,
    add_working_days,
    holiday_subdivision_for,
    is_working_day,
    meeting_window,
    next_working_day,
    previous_working_day,
    propose_meeting_date,
    public_holidays,
)

YEARS = range(2025, 2031)

# (département code, holidays subdivision, time zone, fixed UTC offset or None for Europe/Paris)
DEPARTEMENTS = [
    ("75", None, "Europe/Paris", None),
    ("57", "57", "Europe/Paris", None),
    ("67", "6AE", "Europe/Paris", None),
    ("68", "6AE", "Europe/Paris", None),
    ("971", "971", "America/Guadeloupe", timedelta(hours=-4)),
    ("972", "972", "America/Martinique", timedelta(hours=-4)),
    ("973", "973", "America/Cayenne", timedelta(hours=-3)),
    ("974", "974", "Indian/Reunion", timedelta(hours=4)),
    ("976", "976", "Indian/Mayotte", timedelta(hours=3)),
]
DEPT_IDS = [code for code, *_ in DEPARTEMENTS]

# Abolition-of-slavery day of each overseas département (month, day).
ABOLITION_DAYS = {"971": (5, 27), "972": (5, 22), "973": (6, 10), "974": (12, 20), "976": (4, 27)}
OVERSEAS_TZ = {code: tz for code, _, tz, _ in DEPARTEMENTS if code in ABOLITION_DAYS}

RULE = YearlyMeetingRule()


def window_days(year: int, rule: YearlyMeetingRule = RULE) -> list[date]:
    first, last = meeting_window(year, rule)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def last_sunday_of_october(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def working_days_of_window(year: int, subdivision: str | None) -> list[date]:
    return [d for d in window_days(year) if is_working_day(d, subdivision)]


def force(year: int, subdivision: str | None, wanted: date) -> list[date]:
    """`unavailable` list leaving `wanted` as the only free working day of the window."""
    return [d for d in working_days_of_window(year, subdivision) if d != wanted]


# --- public holidays ---------------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("subdivision", ["57", "6AE"])
def test_alsace_moselle_has_good_friday_and_st_stephen(year: int, subdivision: str) -> None:
    good_friday = easter(year) - timedelta(days=2)
    st_stephen = date(year, 12, 26)
    local = public_holidays(year, subdivision)
    paris = public_holidays(year, None)
    assert local[good_friday] == "Vendredi saint"
    assert local[st_stephen] == "Saint-Étienne"
    assert good_friday not in paris
    assert st_stephen not in paris
    assert not is_working_day(good_friday, subdivision)  # always a Friday
    assert is_working_day(good_friday, None)
    if st_stephen.weekday() < 5:
        assert not is_working_day(st_stephen, subdivision)
        assert is_working_day(st_stephen, None)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("code", sorted(ABOLITION_DAYS))
def test_overseas_abolition_day(year: int, code: str) -> None:
    day = date(year, *ABOLITION_DAYS[code])
    assert day in public_holidays(year, code)
    assert "esclavage" in public_holidays(year, code)[day].lower()
    # It may coincide with a general holiday (973: 10 June 2030 is Whit Monday) but is not one.
    assert "esclavage" not in public_holidays(year, None).get(day, "").lower()
    for other in ABOLITION_DAYS:
        if other != code:
            assert "esclavage" not in public_holidays(year, other).get(day, "").lower()
    if day.weekday() < 5:
        assert not is_working_day(day, code)
        assert is_working_day(day, None) is (day not in public_holidays(year, None))


def test_holiday_names_are_french() -> None:
    h = public_holidays(2026, None)
    assert h[date(2026, 1, 1)] == "Jour de l'an"
    assert h[date(2026, 11, 1)] == "Toussaint"
    assert h[date(2026, 12, 25)] == "Noël"
    assert len(h) == 11


def test_public_holidays_returns_a_copy() -> None:
    first = public_holidays(2027, "57")
    first.clear()
    assert public_holidays(2027, "57")


def test_subdivision_accepts_departement_codes_and_rejects_unknown() -> None:
    assert public_holidays(2026, "67") == public_holidays(2026, "6AE")
    assert public_holidays(2026, "75") == public_holidays(2026, None)
    assert public_holidays(2026, "") == public_holidays(2026, None)
    assert public_holidays(2026, "2A") == public_holidays(2026, None)
    with pytest.raises(ValueError):
        public_holidays(2026, "6EA")
    with pytest.raises(ValueError):
        is_working_day(date(2026, 1, 5), "20")


def test_holiday_subdivision_for() -> None:
    assert holiday_subdivision_for("67") == "6AE"
    assert holiday_subdivision_for("68") == "6AE"
    assert holiday_subdivision_for("57") == "57"
    assert holiday_subdivision_for("01") is None
    assert holiday_subdivision_for("2b") is None
    for code in ABOLITION_DAYS:
        assert holiday_subdivision_for(code) == code
    for bad in ("00", "20", "96", "975", "977", "6AE", ""):
        with pytest.raises(ValueError):
            holiday_subdivision_for(bad)


# --- working days ------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2028, 2030])
@pytest.mark.parametrize("subdivision", [None, "57", "6AE", *sorted(ABOLITION_DAYS)])
def test_is_working_day_matches_weekday_and_holidays_all_year(year: int, subdivision: str | None) -> None:
    holidays_of_year = public_holidays(year, subdivision)
    day = date(year, 1, 1)
    count = 0
    while day.year == year:
        expected = day.weekday() < 5 and day not in holidays_of_year
        assert is_working_day(day, subdivision) is expected, day
        count += expected
        day += timedelta(days=1)
    weekday_holidays = sum(1 for d in holidays_of_year if d.weekday() < 5)
    weekdays = sum(1 for n in range(366 if year % 4 == 0 else 365) if (date(year, 1, 1) + timedelta(n)).weekday() < 5)
    assert count == weekdays - weekday_holidays


def test_is_working_day_unavailable_and_datetimes() -> None:
    monday = date(2026, 10, 19)
    assert is_working_day(monday, None)
    assert not is_working_day(monday, None, unavailable={monday})
    assert not is_working_day(monday, None, unavailable=[datetime(2026, 10, 19, 14, 0)])
    assert is_working_day(datetime(2026, 10, 19, 9, 30), None)
    assert not is_working_day(date(2026, 10, 17), None)  # Saturday
    assert not is_working_day(date(2026, 10, 18), None)  # Sunday


def test_next_previous_and_add_working_days_around_christmas() -> None:
    christmas_eve = date(2025, 12, 24)  # Wednesday
    assert next_working_day(christmas_eve, None) == date(2025, 12, 26)
    assert next_working_day(christmas_eve, "57") == date(2025, 12, 29)
    assert next_working_day(christmas_eve, "67") == date(2025, 12, 29)
    assert next_working_day(christmas_eve, None, unavailable=[date(2025, 12, 26)]) == date(2025, 12, 29)
    assert previous_working_day(date(2025, 12, 29), "57") == christmas_eve
    assert previous_working_day(date(2025, 12, 29), None) == date(2025, 12, 26)
    # Crosses the year and skips 1 January.
    assert add_working_days(christmas_eve, 5, None) == date(2026, 1, 2)
    assert add_working_days(christmas_eve, 5, "57") == date(2026, 1, 5)
    assert add_working_days(date(2026, 1, 5), -5, "57") == christmas_eve
    assert add_working_days(date(2026, 1, 2), -5, "57") == date(2025, 12, 23)
    assert add_working_days(date(2026, 1, 3), 0, None) == date(2026, 1, 3)
    # Good Friday and Easter Monday 2026 in Moselle.
    assert next_working_day(date(2026, 4, 2), "57") == date(2026, 4, 7)
    assert next_working_day(date(2026, 4, 2), None) == date(2026, 4, 3)


# --- proposal ----------------------------------------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("code", "subdivision", "tz", "fixed_offset"), DEPARTEMENTS, ids=DEPT_IDS)
def test_proposal_is_a_local_working_day_in_the_window(
    year: int, code: str, subdivision: str | None, tz: str, fixed_offset: timedelta | None
) -> None:
    start, end = propose_meeting_date(year, tz, subdivision)
    day = start.date()
    first, last = meeting_window(year)
    assert first <= day <= last
    assert day.weekday() < 5
    assert day not in public_holidays(year, subdivision)
    assert is_working_day(day, subdivision)
    assert start.tzinfo == ZoneInfo(tz)
    assert start.timetz().replace(tzinfo=None) == time(9, 30)
    assert end - start == timedelta(minutes=150)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=150)
    assert end.time() == time(12, 0)
    # No working day of the window is closer to the anchor.
    anchor = date(year, 10, 18)
    distance = abs((day - anchor).days)
    assert all(abs((d - anchor).days) >= distance for d in working_days_of_window(year, subdivision))
    # Same answer with the département code instead of the subdivision.
    assert propose_meeting_date(year, tz, code) == (start, end)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, date(2025, 10, 17)),  # anchor Saturday: Friday is 1 day away, Monday 2
        (2026, date(2026, 10, 19)),  # anchor Sunday: Monday is 1 day away, Friday 2
        (2027, date(2027, 10, 18)),  # Monday
        (2028, date(2028, 10, 18)),  # Wednesday
        (2029, date(2029, 10, 18)),  # Thursday
        (2030, date(2030, 10, 18)),  # Friday
    ],
)
def test_default_proposal_per_year(year: int, expected: date) -> None:
    start, _ = propose_meeting_date(year, "Europe/Paris", None)
    assert start.date() == expected


def test_tie_break_prefers_tuesday_to_thursday_then_earlier() -> None:
    # Anchor Tuesday 21 October 2025 unavailable: Monday 20 and Wednesday 22 equally close.
    rule = YearlyMeetingRule(anchor_day=21)
    start, _ = propose_meeting_date(2025, "Europe/Paris", None, rule, unavailable=[date(2025, 10, 21)])
    assert start.date() == date(2025, 10, 22)
    # Anchor Thursday 18 October 2029 unavailable: Wednesday 17 beats Friday 19.
    start, _ = propose_meeting_date(2029, "Europe/Paris", None, unavailable=[date(2029, 10, 18)])
    assert start.date() == date(2029, 10, 17)
    # Anchor Wednesday 18 October 2028 unavailable: Tuesday and Thursday tie, the earlier wins.
    start, _ = propose_meeting_date(2028, "Europe/Paris", None, unavailable=[date(2028, 10, 18)])
    assert start.date() == date(2028, 10, 17)
    # Tuesday to Thursday blocked: Monday 16 and Friday 20 tie, the earlier wins.
    blocked = [date(2028, 10, 17), date(2028, 10, 18), date(2028, 10, 19)]
    start, _ = propose_meeting_date(2028, "Europe/Paris", None, unavailable=blocked)
    assert start.date() == date(2028, 10, 16)


def test_tie_break_never_moves_further_from_the_anchor() -> None:
    # Tuesday 21 and Wednesday 22 October 2025 unavailable: Monday 20 (1 day) beats Thursday 23 (2).
    rule = YearlyMeetingRule(anchor_day=21)
    blocked = [date(2025, 10, 21), date(2025, 10, 22)]
    start, _ = propose_meeting_date(2025, "Europe/Paris", None, rule, unavailable=blocked)
    assert start.date() == date(2025, 10, 20)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("code", "subdivision", "tz", "fixed_offset"), DEPARTEMENTS, ids=DEPT_IDS)
def test_proposal_skips_unavailable_and_taken_dates(
    year: int, code: str, subdivision: str | None, tz: str, fixed_offset: timedelta | None
) -> None:
    unavailable: list[date] = []
    seen: list[date] = []
    free = working_days_of_window(year, subdivision)
    # Blocking each proposal in turn walks through every free working day of the window once.
    for _ in free:
        start, _end = propose_meeting_date(year, tz, subdivision, unavailable=unavailable)
        day = start.date()
        assert day not in unavailable
        assert is_working_day(day, subdivision)
        seen.append(day)
        unavailable.append(day)
    assert sorted(seen) == free
    with pytest.raises(NoDateAvailable):
        propose_meeting_date(year, tz, subdivision, unavailable=unavailable)
    # `taken` behaves the same, and accepts meeting start datetimes read in the local zone.
    first_choice, _ = propose_meeting_date(year, tz, subdivision)
    again, _ = propose_meeting_date(year, tz, subdivision, taken=[first_choice])
    assert again.date() != first_choice.date()
    assert again.date() == seen[1]
    utc_start = first_choice.astimezone(UTC)
    again_utc, _ = propose_meeting_date(year, tz, subdivision, taken=[utc_start])
    assert again_utc == again


@pytest.mark.parametrize(("code", "subdivision", "tz", "fixed_offset"), DEPARTEMENTS, ids=DEPT_IDS)
def test_entirely_unavailable_window_raises(
    code: str, subdivision: str | None, tz: str, fixed_offset: timedelta | None
) -> None:
    every_day = window_days(2026)
    with pytest.raises(NoDateAvailable) as info:
        propose_meeting_date(2026, tz, subdivision, unavailable=every_day)
    assert "Aucun jour ouvré disponible" in info.value.message
    assert "27 septembre 2026" in info.value.message
    assert "8 novembre 2026" in info.value.message
    assert info.value.status_code == 409
    assert (info.value.window_start, info.value.window_end) == (
        date(2026, 9, 27),
        date(2026, 11, 8),
    )
    # Half unavailable, half taken: still nothing.
    with pytest.raises(NoDateAvailable):
        propose_meeting_date(2026, tz, subdivision, unavailable=every_day[::2], taken=every_day[1::2])


def test_holiday_is_never_proposed_even_as_last_free_day() -> None:
    # 1 November 2027 (Toussaint) is a Monday inside the window; block everything else.
    toussaint = date(2027, 11, 1)
    assert toussaint.weekday() == 0
    others = [d for d in window_days(2027) if d != toussaint]
    with pytest.raises(NoDateAvailable):
        propose_meeting_date(2027, "Europe/Paris", None, unavailable=others)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("subdivision", [None, "57", "6AE"])
def test_paris_offset_follows_dst_on_both_sides(year: int, subdivision: str | None) -> None:
    change = last_sunday_of_october(year)
    assert meeting_window(year)[0] < change < meeting_window(year)[1]
    days = working_days_of_window(year, subdivision)
    assert any(d < change for d in days)
    assert any(d > change for d in days)
    for day in days:
        start, end = propose_meeting_date(year, "Europe/Paris", subdivision, unavailable=force(year, subdivision, day))
        assert start.date() == day
        expected = timedelta(hours=2) if day < change else timedelta(hours=1)
        assert start.utcoffset() == expected, day
        assert end.utcoffset() == expected
        assert start.astimezone(UTC).time() == (time(7, 30) if day < change else time(8, 30))


def test_paris_dst_concrete_2025() -> None:
    # Last Sunday of October 2025 is the 26th.
    friday, _ = propose_meeting_date(2025, "Europe/Paris", None, unavailable=force(2025, None, date(2025, 10, 24)))
    monday, _ = propose_meeting_date(2025, "Europe/Paris", None, unavailable=force(2025, None, date(2025, 10, 27)))
    assert friday.isoformat() == "2025-10-24T09:30:00+02:00"
    assert monday.isoformat() == "2025-10-27T09:30:00+01:00"
    assert friday.astimezone(UTC) == datetime(2025, 10, 24, 7, 30, tzinfo=UTC)
    assert monday.astimezone(UTC) == datetime(2025, 10, 27, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("code", "subdivision", "tz", "fixed_offset"), DEPARTEMENTS[4:], ids=DEPT_IDS[4:])
def test_overseas_offset_never_shifts(year: int, code: str, subdivision: str, tz: str, fixed_offset: timedelta) -> None:
    for day in working_days_of_window(year, subdivision):
        start, end = propose_meeting_date(year, tz, subdivision, unavailable=force(year, subdivision, day))
        assert start.date() == day
        assert start.utcoffset() == fixed_offset
        assert end.utcoffset() == fixed_offset
        assert start.astimezone(UTC) == datetime.combine(day, time(9, 30), UTC) - fixed_offset


def test_custom_rule_window_across_new_year() -> None:
    # Anchor Tuesday 30 December 2025, window 26 December 2025 - 4 January 2026.
    rule = YearlyMeetingRule(
        anchor_month=12,
        anchor_day=30,
        window_days_before=4,
        window_days_after=5,
        start_time=time(14, 0),
        duration_minutes=90,
    )
    blocked = [date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31), date(2026, 1, 2)]
    # 1 January 2026 (next year's calendar) is a holiday everywhere; 3-4 January is a weekend.
    start, end = propose_meeting_date(2025, "Europe/Paris", None, rule, unavailable=blocked)
    assert start.isoformat() == "2025-12-26T14:00:00+01:00"
    assert end.isoformat() == "2025-12-26T15:30:00+01:00"
    # In Moselle 26 December is a holiday too: nothing left.
    with pytest.raises(NoDateAvailable):
        propose_meeting_date(2025, "Europe/Paris", "57", rule, unavailable=blocked)
    # Freeing 2 January gives it back, in both calendars.
    start, _ = propose_meeting_date(2025, "Europe/Paris", "57", rule, unavailable=blocked[:3])
    assert start.date() == date(2026, 1, 2)


def test_rule_validation_and_leap_day() -> None:
    for bad in (
        {"anchor_month": 13},
        {"anchor_month": 2, "anchor_day": 30},
        {"window_days_before": -1},
        {"duration_minutes": 0},
        {"start_time": time(9, 30, tzinfo=UTC)},
        {"window_days_before": 200, "window_days_after": 200},
    ):
        with pytest.raises(ValueError):
            YearlyMeetingRule(**bad)
    leap = YearlyMeetingRule(anchor_month=2, anchor_day=29)
    assert leap.anchor(2028) == date(2028, 2, 29)
    assert leap.anchor(2027) == date(2027, 2, 28)


def test_unknown_time_zone() -> None:
    with pytest.raises(ValueError):
        propose_meeting_date(2026, "Europe/Nowhere", None)


# --- clock -------------------------------------------------------------------------------------


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert isinstance(SystemClock(), Clock)


def test_frozen_clock() -> None:
    paris = ZoneInfo("Europe/Paris")
    clock = FrozenClock(datetime(2026, 10, 25, 1, 0, tzinfo=paris))
    assert isinstance(clock, Clock)
    assert clock.now() == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.now() == clock.now()
    # Elapsed time across the DST change: 3 hours later is 03:00 local (not 04:00).
    clock.advance(hours=3)
    assert clock.now().astimezone(paris).isoformat() == "2026-10-25T03:00:00+01:00"
    assert clock.advance(days=-1, minutes=30) == datetime(2026, 10, 24, 2, 30, tzinfo=UTC)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
