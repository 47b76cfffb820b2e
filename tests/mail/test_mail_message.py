"""MIME building: structure, headers, encodings, CRLF in the calendar, header injection."""

from __future__ import annotations

import dataclasses
import email
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest

from coord.mail.message import (
    Attachment,
    OutgoingMail,
    build_message,
    calendar_part,
    make_message_id,
)

ICS = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Coord//Convocations//FR\r\n"
    "METHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:0f5b3c1e-8d2a-4b1e-9c55-2f3c7d9e1a22@coord.example.gouv.fr\r\n"
    "DTSTAMP:20250301T090000Z\r\n"
    "DTSTART;TZID=Europe/Paris:20250312T100000\r\n"
    "SUMMARY:Comité départemental de lutte contre la traite – séance plénière \r\n"
    " de printemps\r\n"
    "ORGANIZER;CN=Coordination départementale TEH:mailto:coord@prefecture.example.gouv.fr\r\n"
    "ATTENDEE;CN=Préfecture de l'Hérault;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;\r\n"
    " RSVP=TRUE;CUTYPE=INDIVIDUAL:mailto:partenaire@herault.example.fr\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
).encode()

TO_NAME = "Préfecture de l'Hérault"
FROM_NAME = "Coordination départementale TEH"
SUBJECT = "Convocation : comité départemental – séance plénière du 12 mars (Hérault, Montpellier)"
TEXT = "Bonjour,\n\nVous êtes convoqué(e) à la séance plénière.\nLieu : salle Molière, préfecture.\n"
HTML = "<p>Bonjour,</p><p>Vous êtes convoqué(e) à la séance plénière.</p>"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def make_mail(**changes: object) -> OutgoingMail:
    mail = OutgoingMail(
        to_email="partenaire@herault.example.fr",
        to_name=TO_NAME,
        from_email="coord@prefecture.example.gouv.fr",
        from_name=FROM_NAME,
        reply_to="secretariat@prefecture.example.gouv.fr",
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        calendar=ICS,
        calendar_method="REQUEST",
    )
    return dataclasses.replace(mail, **changes)  # type: ignore[arg-type]


def roundtrip(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def structure(msg: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in msg.walk()]


def test_calendar_layout_mixed_alternative_then_attachment() -> None:
    built = build_message(make_mail(), now=NOW)
    msg = roundtrip(built)
    assert structure(msg) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    alternative = msg.get_payload()[0]
    assert [p.get_content_type() for p in alternative.iter_parts()][-1] == "text/calendar"

    cal = calendar_part(msg)
    assert cal is not None
    assert cal.get_param("method") == "REQUEST"
    assert cal.get_content_charset() == "utf-8"
    assert not cal.is_attachment()
    raw = built.as_bytes()
    assert b"\r\nContent-Type: text/calendar; method=REQUEST; charset=UTF-8\r\n" in raw

    attachment = next(p for p in msg.walk() if p.get_content_type() == "application/ics")
    assert attachment.is_attachment()
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_param("name") == "invite.ics"
    assert attachment.get_content() == ICS


def test_calendar_part_keeps_exact_bytes_and_crlf_only() -> None:
    msg = build_message(make_mail(), now=NOW)
    for source in (msg, roundtrip(msg)):
        cal = calendar_part(source)
        assert cal is not None
        data = cal.get_payload(decode=True)
        assert data == ICS
        assert re.search(rb"(?<!\r)\n", data) is None
        assert b"\r\r" not in data
        assert "séance plénière" in cal.get_content()


def test_bare_lf_calendar_is_repaired_to_crlf() -> None:
    msg = build_message(make_mail(calendar=ICS.replace(b"\r\n", b"\n")), now=NOW)
    cal = calendar_part(roundtrip(msg))
    assert cal is not None
    assert cal.get_payload(decode=True) == ICS


def test_whole_message_uses_crlf() -> None:
    raw = build_message(make_mail(), now=NOW).as_bytes()
    assert re.search(rb"(?<!\r)\n", raw) is None


def test_cancel_method_and_mismatch_refused() -> None:
    cancel = ICS.replace(b"METHOD:REQUEST", b"METHOD:CANCEL")
    msg = roundtrip(build_message(make_mail(calendar=cancel, calendar_method="CANCEL"), now=NOW))
    cal = calendar_part(msg)
    assert cal is not None and cal.get_param("method") == "CANCEL"

    with pytest.raises(ValueError, match="méthode"):
        build_message(make_mail(calendar=cancel, calendar_method="REQUEST"))
    with pytest.raises(ValueError):
        build_message(make_mail(calendar_method=None))
    with pytest.raises(ValueError):
        build_message(make_mail(calendar_method="REPLY"))
    with pytest.raises(ValueError):
        build_message(make_mail(calendar=ICS.replace(b"METHOD:REQUEST\r\n", b"")))


def test_without_calendar_alternative_or_plain() -> None:
    msg = roundtrip(build_message(make_mail(calendar=None, calendar_method=None), now=NOW))
    assert structure(msg) == ["multipart/alternative", "text/plain", "text/html"]

    plain = roundtrip(build_message(make_mail(calendar=None, calendar_method=None, html=None), now=NOW))
    assert structure(plain) == ["text/plain"]
    assert plain.get_content().replace("\r\n", "\n") == TEXT


def test_other_attachments_follow_the_invitation() -> None:
    pdf = Attachment("Ordre du jour – séance.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\n")
    msg = roundtrip(build_message(make_mail(attachments=(pdf,)), now=NOW))
    assert structure(msg)[-2:] == ["application/ics", "application/pdf"]
    last = list(msg.iter_attachments())[-1]
    assert last.get_filename() == "Ordre du jour – séance.pdf"
    assert last.get_content() == pdf.data

    no_cal = roundtrip(build_message(make_mail(calendar=None, calendar_method=None, attachments=(pdf,)), now=NOW))
    assert structure(no_cal) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]


def test_headers_and_accents_round_trip() -> None:
    msg = roundtrip(build_message(make_mail(message_id="<abc123@prefecture.example.gouv.fr>"), now=NOW))
    assert msg["Subject"] == SUBJECT
    assert msg["To"].addresses[0].display_name == TO_NAME
    assert msg["To"].addresses[0].addr_spec == "partenaire@herault.example.fr"
    assert msg["From"].addresses[0].display_name == FROM_NAME
    assert msg["From"].addresses[0].addr_spec == "coord@prefecture.example.gouv.fr"
    assert msg["Reply-To"].addresses[0].addr_spec == "secretariat@prefecture.example.gouv.fr"
    assert msg["Message-ID"] == "<abc123@prefecture.example.gouv.fr>"
    assert msg["Date"].datetime == NOW
    assert msg["Content-Language"] == "fr"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_all("Bcc") is None and msg.get_all("Cc") is None
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    assert text.get_content().replace("\r\n", "\n") == TEXT
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    assert "convoqué(e)" in html.get_content()


def test_raw_headers_are_ascii_and_encoded() -> None:
    raw = build_message(make_mail(), now=NOW).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # non-ASCII names and subject are RFC 2047 encoded
    assert b"=?utf-8?" in head
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))


def test_message_id_generated_stable_and_normalised() -> None:
    generated = make_message_id("prefecture.example.gouv.fr")
    assert re.fullmatch(r"<[0-9a-f]{32}@prefecture\.example\.gouv\.fr>", generated)
    assert make_message_id("prefecture.example.gouv.fr") != generated

    first = build_message(make_mail(message_id=generated))
    retry = build_message(make_mail(message_id=generated))
    assert first["Message-ID"] == retry["Message-ID"] == generated

    auto = build_message(make_mail())
    assert auto["Message-ID"].endswith("@prefecture.example.gouv.fr>")
    bare = build_message(make_mail(message_id="xyz@coord.example.fr"))
    assert bare["Message-ID"] == "<xyz@coord.example.fr>"
    with pytest.raises(ValueError):
        build_message(make_mail(message_id="<x@y>\r\nBcc: evil@x"))
    with pytest.raises(ValueError):
        make_message_id("evil.fr\r\nBcc: evil@x")


def test_extra_headers_override_defaults_but_not_reserved() -> None:
    msg = build_message(make_mail(headers=(("Auto-Submitted", "auto-replied"), ("X-Coord-Id", "42"))))
    assert msg.get_all("Auto-Submitted") == ["auto-replied"]
    assert msg["X-Coord-Id"] == "42"
    for name in ("Bcc", "Cc", "To", "From", "Subject", "Content-Type", "Message-ID"):
        with pytest.raises(ValueError):
            build_message(make_mail(headers=((name, "evil@x.example"),)))
    with pytest.raises(ValueError):
        build_message(make_mail(headers=(("X-Bad\r\nBcc", "x"),)))
    with pytest.raises(ValueError):
        build_message(make_mail(headers=(("X-Coord-Id", "1\r\nBcc: evil@x"),)))


INJECTIONS = [
    {"subject": "Réunion\r\nBcc: evil@x"},
    {"subject": "Réunion\nBcc: evil@x"},
    {"subject": "Réunion\rBcc: evil@x"},
    {"subject": "Réunion\u2028Bcc: evil@x"},
    {"to_name": "Préfecture\r\nBcc: evil@x"},
    {"from_name": "Coord\nBcc: evil@x"},
    {"to_email": "partenaire@herault.example.fr\r\nBcc: evil@x"},
    {"from_email": "coord@prefecture.example.gouv.fr\nBcc: evil@x"},
    {"reply_to": "secretariat@prefecture.example.gouv.fr\r\nBcc: evil@x"},
    {"to_email": "a@x.fr, evil@x"},
    {"to_email": "Evil <evil@x>"},
    {"to_email": "pas-une-adresse"},
    {"attachments": (Attachment("a.pdf\r\nBcc: evil@x", "application/pdf", b"x"),)},
    {"attachments": (Attachment("a.pdf", "application/pdf\r\nBcc: evil@x", b"x"),)},
]


@pytest.mark.parametrize("changes", INJECTIONS)
def test_header_injection_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_message(make_mail(**changes))


def test_injected_subject_never_yields_bcc() -> None:
    try:
        msg = build_message(make_mail(subject="Réunion\r\nBcc: evil@x"))
    except ValueError:
        return
    parsed = roundtrip(msg)  # neutralised instead of refused: still no Bcc
    assert parsed.get_all("Bcc") is None
    assert b"\r\nBcc:" not in msg.as_bytes()


def test_empty_subject_or_text_refused() -> None:
    with pytest.raises(ValueError):
        build_message(make_mail(subject="  "))
    with pytest.raises(ValueError):
        build_message(make_mail(text=""))


def test_idn_domain_is_punycoded() -> None:
    msg = roundtrip(build_message(make_mail(to_email="contact@mairie-hérault.fr"), now=NOW))
    assert msg["To"].addresses[0].domain == "mairie-hérault.fr".encode("idna").decode()
