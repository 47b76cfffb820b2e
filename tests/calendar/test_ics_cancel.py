"""METHOD:CANCEL for a whole meeting."""

from __future__ import annotations

from coord.ics import build_cancel
from tests.calendar.helpers import only_event, parse, unfolded_lines
from tests.support.ics_validators import assert_valid_ics


def test_cancel(make_event, attendees, now) -> None:
    # The caller bumps SEQUENCE; the builder writes it as given.
    data = build_cancel(make_event(sequence=4), attendees, now)
    assert_valid_ics(data)

    assert str(parse(data)["METHOD"]) == "CANCEL"
    event = only_event(data)
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 4
    assert str(event["UID"]) == "mtg-2026-0042@coord.example.gouv.fr"
    assert event["DTSTAMP"].dt == now
    assert str(event["ORGANIZER"]) == "mailto:coord-69@coord.example.gouv.fr"
    assert len(event["ATTENDEE"]) == 3
    assert b"VALARM" not in data
    assert "SEQUENCE:4" in unfolded_lines(data)
    assert parse(data).get_missing_tzids() == set()


def test_cancel_of_a_tentative_meeting_is_still_cancelled(make_event, attendees, now) -> None:
    data = build_cancel(make_event(sequence=1, status="TENTATIVE"), attendees, now)
    assert_valid_ics(data)
    assert str(only_event(data)["STATUS"]) == "CANCELLED"
