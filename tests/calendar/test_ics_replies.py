"""Parsing iTIP REPLYs as Outlook/Exchange and Thunderbird send them."""

from __future__ import annotations

from datetime import UTC, datetime

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
