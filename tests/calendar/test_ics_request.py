"""METHOD:REQUEST: structure, time zones and the UTC instant clients will compute."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from coord.ics import PRODID, build_request
from tests.calendar.helpers import only_event, parse, unfolded_lines, utc_via_vtimezone
from tests.support.ics_validators import assert_valid_ics


def test_request_has_every_property_clients_need(make_event, attendees, now) -> None:
    data = build_request(make_event(sequence=3), attendees, now)
    assert_valid_ics(data)

    calendar = parse(data)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "REQUEST"

    event = only_event(data)
    assert str(event["UID"]) == "mtg-2026-0042@coord.example.gouv.fr"
    assert int(event["SEQUENCE"]) == 3
    assert event["DTSTAMP"].dt == now
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Préfecture du Rhône, salle Rhône-Alpes"
    assert str(event["URL"]) == "https://coord.example.gouv.fr/reunions/42"
    assert event["CREATED"].dt == datetime(2026, 8, 20, 14, 0, tzinfo=UTC)

    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:coord-69@coord.example.gouv.fr"
    assert organizer.params["CN"] == "Coord Rhône"
    assert "SENT-BY" not in organizer.params

    by_mail = {str(a): a.params for a in event["ATTENDEE"]}
    marie = by_mail["mailto:marie.durand@interieur.gouv.fr"]
    assert marie["CN"] == "Marie Durand"
    assert marie["ROLE"] == "REQ-PARTICIPANT"
    assert marie["PARTSTAT"] == "NEEDS-ACTION"
    assert marie["RSVP"] == "TRUE"
    assert marie["CUTYPE"] == "INDIVIDUAL"
    assert by_mail["mailto:coord-69@coord.example.gouv.fr"]["ROLE"] == "CHAIR"

    description = str(event["DESCRIPTION"])
    assert description.startswith("Ordre du jour :\n1. Point de situation")
    assert "Visioconférence : https://webconf.numerique.gouv.fr/teh-69-42" in description
    assert "https://coord.example.gouv.fr/reunions/42" in description
    assert str(event["CONFERENCE"]) == "https://webconf.numerique.gouv.fr/teh-69-42"

    (alarm,) = event.subcomponents
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert "DESCRIPTION" in alarm
    assert "TRIGGER:-PT1440M" in unfolded_lines(data)


def test_sequence_zero_is_still_written(make_event, attendees, now) -> None:
    data = build_request(make_event(), attendees, now)
    assert "SEQUENCE:0" in unfolded_lines(data)


def test_dtstamp_is_utc_even_from_local_now(make_event, attendees) -> None:
    local_now = datetime(2026, 9, 1, 9, 45, tzinfo=ZoneInfo("Europe/Paris"))
    data = build_request(make_event(), attendees, local_now)
    assert "DTSTAMP:20260901T074500Z" in unfolded_lines(data)


def test_no_alarm_when_disabled(make_event, attendees, now) -> None:
    data = build_request(make_event(alarm_minutes=None), attendees, now)
    assert_valid_ics(data)
    assert b"BEGIN:VALARM" not in data


def test_tentative_status_is_kept(make_event, attendees, now) -> None:
    data = build_request(make_event(status="TENTATIVE", alarm_minutes=30), attendees, now)
    assert_valid_ics(data)
    assert str(only_event(data)["STATUS"]) == "TENTATIVE"
    assert "TRIGGER:-PT30M" in unfolded_lines(data)


@pytest.mark.parametrize(
    ("tzid", "local", "expected_utc", "daylight"),
    [
        # An ordinary autumn day in metropolitan France (CEST, UTC+2).
        ("Europe/Paris", datetime(2026, 10, 15, 9, 30), datetime(2026, 10, 15, 7, 30), True),
        # The day clocks go forward (29 March 2026): 10:00 is already CEST.
        ("Europe/Paris", datetime(2026, 3, 29, 10, 0), datetime(2026, 3, 29, 8, 0), True),
        ("Europe/Paris", datetime(2026, 3, 28, 10, 0), datetime(2026, 3, 28, 9, 0), True),
        # The day clocks go back (25 October 2026): 10:00 is CET again.
        ("Europe/Paris", datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 25, 9, 0), True),
        ("Europe/Paris", datetime(2026, 10, 24, 10, 0), datetime(2026, 10, 24, 8, 0), True),
        # Overseas départements without daylight saving.
        ("America/Cayenne", datetime(2026, 10, 15, 9, 30), datetime(2026, 10, 15, 12, 30), False),
        ("Indian/Reunion", datetime(2026, 10, 15, 9, 30), datetime(2026, 10, 15, 5, 30), False),
    ],
)
def test_start_is_the_right_instant(make_event, attendees, now, tzid, local, expected_utc, daylight) -> None:
    zone = ZoneInfo(tzid)
    start = local.replace(tzinfo=zone)
    event = make_event(tzid=tzid, start=start, end=start.replace(hour=start.hour + 2))
    data = build_request(event, attendees, now)
    assert_valid_ics(data)

    expected = expected_utc.replace(tzinfo=UTC)
    vevent = only_event(data)
    assert vevent["DTSTART"].params["TZID"] == tzid
    assert f"DTSTART;TZID={tzid}:{local:%Y%m%dT%H%M%S}" in unfolded_lines(data)
    assert vevent["DTSTART"].dt.astimezone(UTC) == expected  # via the tz database
    assert utc_via_vtimezone(data) == expected  # via our VTIMEZONE, as Outlook computes it

    (vtimezone,) = parse(data).timezones
    assert str(vtimezone["TZID"]) == tzid
    blocks = [c.name for c in vtimezone.subcomponents]
    assert blocks == (["STANDARD", "DAYLIGHT"] if daylight else ["STANDARD"])


def test_meeting_across_the_spring_change(make_event, attendees, now) -> None:
    """01:30 CET to 03:30 CEST on 29 March 2026 lasts one hour."""
    zone = ZoneInfo("Europe/Paris")
    event = make_event(
        start=datetime(2026, 3, 29, 1, 30, tzinfo=zone),
        end=datetime(2026, 3, 29, 3, 30, tzinfo=zone),
    )
    data = build_request(event, attendees, now)
    assert_valid_ics(data)
    assert utc_via_vtimezone(data) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert utc_via_vtimezone(data, "DTEND") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_start_in_another_zone_is_converted_to_the_departement_zone(make_event, attendees, now) -> None:
    start = datetime(2026, 10, 15, 7, 30, tzinfo=UTC)
    event = make_event(start=start, end=datetime(2026, 10, 15, 9, 30, tzinfo=UTC))
    data = build_request(event, attendees, now)
    assert "DTSTART;TZID=Europe/Paris:20261015T093000" in unfolded_lines(data)


@pytest.mark.parametrize(
    ("overrides", "attendee_list"),
    [
        ({"status": "CANCELLED"}, None),
        ({"start": datetime(2026, 10, 15, 9, 30)}, None),  # naive
        ({"tzid": "Europe/Atlantis"}, None),
        ({"url": "javascript:alert(1)"}, None),
        ({"sequence": -1}, None),
        ({}, []),
    ],
)
def test_invalid_requests_are_refused(make_event, attendees, now, overrides, attendee_list) -> None:
    with pytest.raises(ValueError):
        event = dataclasses.replace(make_event(), **overrides)
        build_request(event, attendees if attendee_list is None else attendee_list, now)


def test_end_before_start_is_refused(make_event, attendees, now) -> None:
    event = make_event()
    with pytest.raises(ValueError):
        build_request(make_event(end=event.start), attendees, now)
