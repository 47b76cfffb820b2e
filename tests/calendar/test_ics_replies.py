"""Parsing the iTIP messages attendees send (REPLY, REFRESH, COUNTER) as Outlook/Exchange and
Thunderbird write them, and the DECLINECOUNTER Coord answers a COUNTER with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest

from coord.ics import ParsedReply, ReplyError, parse_reply
from tests.calendar.helpers import FIXTURES

UID = "mtg-2026-0042@coord.example.gouv.fr"


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_french_outlook_acceptance() -> None:
    reply = parse_reply(_read("outlook_fr_accepted.ics"))
    assert reply == ParsedReply(
        uid=UID,
        sequence=2,
        attendee_email="marie.durand@interieur.gouv.fr",  # from "MAILTO:Marie.Durand@..."
        partstat="ACCEPTED",
        dtstamp=datetime(2026, 9, 20, 8, 15, 12, tzinfo=UTC),
        delegated_to=None,
        comment="Je serai présente, avec un collègue de la DDETS.",
    )


def test_thunderbird_tentative_with_the_whole_event() -> None:
    reply = parse_reply(_read("thunderbird_tentative.ics"))
    assert reply.uid == UID
    assert reply.sequence == 2
    assert reply.attendee_email == "paul.martin@gendarmerie.interieur.gouv.fr"
    assert reply.partstat == "TENTATIVE"
    assert reply.dtstamp == datetime(2026, 9, 20, 9, 2, 33, tzinfo=UTC)
    assert reply.comment == ""


def test_delegation() -> None:
    reply = parse_reply(_read("thunderbird_delegated.ics"))
    assert reply.partstat == "DELEGATED"
    assert reply.delegated_to == "adj.martin@gendarmerie.interieur.gouv.fr"
    assert reply.sequence == 3


def test_text_input_and_bare_lf_are_accepted() -> None:
    text = _read("outlook_fr_accepted.ics").decode().replace("\r\n", "\n")
    assert parse_reply(text).partstat == "ACCEPTED"


def test_missing_sequence_means_zero() -> None:
    text = _read("thunderbird_delegated.ics").replace(b"SEQUENCE:3\r\n", b"")
    assert parse_reply(text).sequence == 0


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad_garbage.ics", "n'est pas un calendrier iCalendar valide"),
        ("bad_request_not_reply.ics", "méthode REQUEST, REPLY attendue"),
        ("bad_two_attendees.ics", "plusieurs participants"),
        ("bad_missing_uid.ics", "UID absent"),
        ("bad_unknown_partstat.ics", "réponse du participant est inconnue (MAYBE-LATER)"),
        ("bad_no_vevent.ics", "aucun événement"),
    ],
)
def test_malformed_replies_are_rejected_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(ReplyError) as caught:
        parse_reply(_read(name))
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def _event_reply(*lines: str) -> str:
    body = "\r\n".join(lines)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//FR\r\nMETHOD:REPLY\r\n"
        f"BEGIN:VEVENT\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00\x00",
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",  # no METHOD
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n",  # truncated
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n" * 2,
        _event_reply("UID:x"),  # no ATTENDEE
        _event_reply("UID:x", "ATTENDEE:mailto:a@b.fr"),  # no PARTSTAT = NEEDS-ACTION
        _event_reply("UID:x", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:"),
        _event_reply("UID:x", "SEQUENCE:deux", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.fr"),
        _event_reply("UID:x", "DTSTAMP:hier", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.fr"),
        _event_reply(
            "UID:x",
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.fr",
            "END:VEVENT",
            "BEGIN:VEVENT",
            "UID:y",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:a@b.fr",
        ),
        "x" * 2_000_000,
    ],
)
def test_anything_odd_raises_only_reply_error(data: bytes | str) -> None:
    with pytest.raises(ReplyError) as caught:
        parse_reply(data)
    assert caught.value.reason


# -- REFRESH and COUNTER ----------------------------------------------------------------------


def _itip(method: str, *lines: str, extra: str = "") -> str:
    body = "\r\n".join(lines)
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//FR\r\nMETHOD:{method}\r\n{extra}"
        f"BEGIN:VEVENT\r\n{body}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def test_a_refresh_names_the_meeting_and_the_attendee() -> None:
    from coord.ics.parse import ParsedRefresh, parse_refresh

    text = _itip("REFRESH", f"UID:{UID}", "DTSTAMP:20260921T100000Z", "ATTENDEE:MAILTO:Paul.Martin@Example.FR")
    assert parse_refresh(text) == ParsedRefresh(
        uid=UID, attendee_email="paul.martin@example.fr", dtstamp=datetime(2026, 9, 21, 10, tzinfo=UTC)
    )
    with pytest.raises(ReplyError, match="un et un seul participant"):
        parse_refresh(_itip("REFRESH", f"UID:{UID}"))
    with pytest.raises(ReplyError, match="REFRESH attendue"):
        parse_refresh(_read("outlook_fr_accepted.ics"))


def test_an_outlook_counter_reads_the_proposed_time_in_its_own_zone() -> None:
    from coord.ics.parse import parse_counter

    text = (
        _read("outlook_fr_accepted.ics")
        .decode()
        .replace("METHOD:REPLY", "METHOD:COUNTER")
        .replace("20261015T093000", "20261016T140000")
        .replace("20261015T113000", "20261016T160000")
    )
    counter = parse_counter(text)
    assert counter.uid == UID
    assert counter.sequence == 2
    assert counter.attendee_email == "marie.durand@interieur.gouv.fr"
    # « Romance Standard Time » and its VTIMEZONE from 1601: Paris, summer time (UTC+2).
    assert counter.start.astimezone(UTC) == datetime(2026, 10, 16, 12, 0, tzinfo=UTC)
    assert counter.end.astimezone(UTC) == datetime(2026, 10, 16, 14, 0, tzinfo=UTC)
    assert counter.location == "Préfecture du Rhône, salle Rhône-Alpes"
    assert "DDETS" in counter.comment


def test_a_counter_with_every_attendee_is_the_senders_and_a_floating_time_stays_floating() -> None:
    from coord.ics.parse import parse_counter

    text = _itip(
        "COUNTER",
        f"UID:{UID}",
        "SEQUENCE:1",
        "DTSTART:20261016T140000",
        "DURATION:PT1H30M",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.fr",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:b@example.fr",
    )
    counter = parse_counter(text, sender="B@example.fr")
    assert counter.attendee_email == "b@example.fr"
    assert counter.start == datetime(2026, 10, 16, 14, 0)  # naive: read in the meeting's zone by the caller
    assert counter.end == datetime(2026, 10, 16, 15, 30)
    with pytest.raises(ReplyError, match="quel participant"):
        parse_counter(text, sender="c@example.fr")


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (("UID:x", "ATTENDEE:mailto:a@b.fr", "DTSTART;VALUE=DATE:20261016"), "journée entière"),
        (("UID:x", "ATTENDEE:mailto:a@b.fr", "DTSTART:20261016T140000Z"), "heure de fin"),
        (("UID:x", "ATTENDEE:mailto:a@b.fr", "DTEND:20261016T140000Z"), "heure de début"),
        (("UID:x", "ATTENDEE:mailto:a@b.fr", "DTSTART:20261016T140000Z", "DTEND:20261016T130000Z"), "doit suivre"),
        (("ATTENDEE:mailto:a@b.fr", "DTSTART:20261016T140000Z", "DTEND:20261016T150000Z"), "UID absent"),
    ],
)
def test_an_unusable_counter_raises_only_reply_error(lines: tuple[str, ...], reason: str) -> None:
    from coord.ics.parse import parse_counter

    with pytest.raises(ReplyError, match=reason):
        parse_counter(_itip("COUNTER", *lines))


def test_method_and_uids_of_any_calendar() -> None:
    from coord.ics.parse import calendar_method, calendar_uids

    assert calendar_method(_read("outlook_fr_accepted.ics")) == "REPLY"
    assert calendar_uids(_read("thunderbird_tentative.ics")) == [UID]
    assert calendar_method(b"garbage") == ""
    assert calendar_uids("x" * 2_000_000) == []


def test_a_declinecounter_echoes_uid_and_sequence_for_one_attendee(make_event: Any, now: datetime) -> None:
    from coord.ics import CalendarAttendee
    from coord.ics.build import build_decline_counter
    from tests.support.ics_validators import assert_valid_ics, libical_errors

    attendee = CalendarAttendee("marie.durand@interieur.gouv.fr", "Marie Durand", "REQ-PARTICIPANT")
    data = build_decline_counter(make_event(sequence=3), attendee, now, comment="Horaire maintenu.")
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert icalendar.Calendar.from_ical(data)["METHOD"] == "DECLINECOUNTER"
    assert (str(event["UID"]), int(event["SEQUENCE"])) == ("mtg-2026-0042@coord.example.gouv.fr", 3)
    assert str(event["ATTENDEE"]) == "mailto:marie.durand@interieur.gouv.fr"
    assert str(event["COMMENT"]) == "Horaire maintenu."
    assert "DTSTART" not in event and "SUMMARY" not in event
    # RFC 5546 §3.2.8 asks for ATTENDEE and SEQUENCE; libical's older table does not: only these two.
    assert {e.split(" for ")[1].split(" property")[0] for e in libical_errors(data.decode())} <= {
        "ATTENDEE",
        "SEQUENCE",
    }
    assert_valid_ics(data, itip=False)
