"""VTIMEZONE shapes that Exchange reads: one STANDARD (+ one DAYLIGHT) with a yearly RRULE."""

from __future__ import annotations

import pytest

from coord.ics import vtimezone


def test_paris_has_one_standard_and_one_daylight_block() -> None:
    zone = vtimezone("Europe/Paris")
    assert str(zone["TZID"]) == "Europe/Paris"
    standard = [c for c in zone.subcomponents if c.name == "STANDARD"]
    daylight = [c for c in zone.subcomponents if c.name == "DAYLIGHT"]
    assert len(standard) == 1
    assert len(daylight) == 1
    assert "RDATE" not in standard[0]
    assert standard[0]["RRULE"]["BYMONTH"] == [10]
    assert standard[0]["RRULE"]["BYDAY"] == ["-1SU"]
    assert daylight[0]["RRULE"]["BYMONTH"] == [3]
    assert standard[0]["TZOFFSETTO"].to_ical() == "+0100"
    assert daylight[0]["TZOFFSETTO"].to_ical() == "+0200"


@pytest.mark.parametrize(
    ("tzid", "offset"),
    [
        ("America/Cayenne", "-0300"),
        ("Indian/Reunion", "+0400"),
        ("Indian/Mayotte", "+0300"),
        ("America/Martinique", "-0400"),
        ("America/Guadeloupe", "-0400"),
    ],
)
def test_zones_without_dst_have_a_single_standard_block(tzid: str, offset: str) -> None:
    zone = vtimezone(tzid)
    (standard,) = zone.subcomponents
    assert standard.name == "STANDARD"
    assert standard["TZOFFSETTO"].to_ical() == offset
    assert standard["TZOFFSETFROM"].to_ical() == offset
    assert "<" not in str(standard.get("TZNAME", ""))  # "<+04>" cleaned to "+04"


def test_each_call_returns_a_fresh_component() -> None:
    first = vtimezone("Europe/Paris")
    first["TZID"] = "changed"
    assert str(vtimezone("Europe/Paris")["TZID"]) == "Europe/Paris"


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError):
        vtimezone("Europe/Atlantis")
