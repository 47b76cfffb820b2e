"""User input must never add lines, properties or components to an .ics."""

from __future__ import annotations

import pytest

from coord.ics import CalendarAttendee, CalendarTodo, Person, build_feed, build_request
from tests.calendar.helpers import only_event, parse, unfolded_lines
from tests.support.ics_validators import assert_valid_ics

INJECTION = (
    "Réunion\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:pirate\r\nATTENDEE:mailto:evil@example.com"
    "\rORGANIZER:mailto:evil@example.com\nX-EVIL:1; a, b \\ c\x00\x07\x0b\x1b\x7f\x85\u2028fin"
)


def _assert_single_clean_event(data: bytes) -> None:
    assert_valid_ics(data)
    lines = unfolded_lines(data)
    assert lines.count("BEGIN:VEVENT") == 1
    assert lines.count("END:VEVENT") == 1
    for line in lines:
        assert not line.startswith(("UID:pirate", "X-EVIL", "ATTENDEE:mailto:evil")), line
        assert not line.startswith("ORGANIZER:mailto:evil"), line
    vevent = only_event(data)
    raw = vevent["ATTENDEE"]
    addresses = [str(a) for a in (raw if isinstance(raw, list) else [raw])]
    addresses.append(str(vevent["ORGANIZER"]))
    assert not any("evil" in address for address in addresses), addresses
    for char in "\x00\x07\x0b\x1b\x7f\x85\u2028":
        assert char not in data.decode()
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_text_fields_are_escaped(make_event, attendees, now) -> None:
    event = make_event(summary=INJECTION, description=INJECTION, location=INJECTION, uid="id\r\nX-EVIL:1")
    data = build_request(event, attendees, now)
    _assert_single_clean_event(data)

    vevent = only_event(data)
    assert str(vevent["UID"]) == "id X-EVIL:1"
    summary = str(vevent["SUMMARY"])
    assert "\n" not in summary  # one-line fields become one line
    assert summary.startswith("Réunion END:VEVENT BEGIN:VEVENT UID:pirate")
    assert "X-EVIL:1; a, b \\ c" in summary  # ; , \ survive as data
    description = str(vevent["DESCRIPTION"])
    assert description.startswith("Réunion\nEND:VEVENT\nBEGIN:VEVENT\nUID:pirate\n")
    assert "\nORGANIZER:mailto:evil@example.com\nX-EVIL:1; a, b \\ c" in description


def test_names_in_parameters_cannot_break_out(make_event, now) -> None:
    attendee = CalendarAttendee(
        "marie.durand@interieur.gouv.fr",
        'Marie "la cheffe"; ROLE=CHAIR:mailto:evil@example.com\r\nX-EVIL:1',
        "REQ-PARTICIPANT",
    )
    organizer = Person("coord-69@coord.example.gouv.fr", 'Coord\r\nATTENDEE:mailto:evil@x.fr "')
    data = build_request(make_event(organizer=organizer), [attendee], now)
    _assert_single_clean_event(data)

    vevent = only_event(data)
    only = vevent["ATTENDEE"]  # a single ATTENDEE is not wrapped in a list
    assert str(only) == "mailto:marie.durand@interieur.gouv.fr"
    assert only.params["ROLE"] == "REQ-PARTICIPANT"
    assert only.params["CN"] == "Marie 'la cheffe'; ROLE=CHAIR:mailto:evil@example.com X-EVIL:1"
    assert str(vevent["ORGANIZER"]) == "mailto:coord-69@coord.example.gouv.fr"


@pytest.mark.parametrize(
    "email",
    [
        "marie@example.fr\r\nATTENDEE:mailto:evil@example.com",
        "marie@example.fr;RSVP=FALSE",
        'marie"@example.fr',
        "marie@example.fr evil@example.com",
        "pas-une-adresse",
    ],
)
def test_bad_addresses_are_refused(make_event, now, email) -> None:
    with pytest.raises(ValueError):
        build_request(make_event(), [CalendarAttendee(email, "X", "REQ-PARTICIPANT")], now)
    with pytest.raises(ValueError):
        build_request(make_event(organizer=Person(email, "X")), [], now)


@pytest.mark.parametrize(
    "url",
    [
        "https://coord.example.gouv.fr/r/1\r\nATTENDEE:mailto:evil@example.com",
        "https://coord.example.gouv.fr/r/1 x",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
    ],
)
def test_bad_urls_are_refused(make_event, attendees, now, url) -> None:
    with pytest.raises(ValueError):
        build_request(make_event(url=url), attendees, now)
    with pytest.raises(ValueError):
        build_request(make_event(video_url=url), attendees, now)


def test_feed_name_and_todos_are_escaped(make_event, now) -> None:
    from datetime import date

    todo = CalendarTodo("t\r\n1", INJECTION, INJECTION, date(2026, 11, 30))
    data = build_feed("Flux\r\nMETHOD:REQUEST", [make_event(summary=INJECTION)], now, todos=[todo])
    assert_valid_ics(data)
    lines = unfolded_lines(data)
    assert lines.count("METHOD:PUBLISH") == 1
    assert "METHOD:REQUEST" not in lines
    assert lines.count("BEGIN:VEVENT") == 1
    assert lines.count("BEGIN:VTODO") == 1
    assert str(parse(data)["X-WR-CALNAME"]) == "Flux METHOD:REQUEST"


def test_long_text_is_folded(make_event, attendees, now) -> None:
    long = "Très long intitulé accentué — " * 20
    data = build_request(make_event(summary=long, description=long * 5), attendees, now)
    assert_valid_ics(data)  # checks the 75-octet limit, multi-byte characters included
