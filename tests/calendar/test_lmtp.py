"""The SMTP/LMTP listener: real clients on loopback deliver replies; the answer changes; a mail about
no meeting gets a 550 with the reason when no forward mailbox is set; a person answering a meeting is
never bounced; an internal error gets a temporary 451."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest

from tests.calendar.test_ingest import MARIE, PAUL, as_mail, fixture, invitation, seed
from tests.calendar.test_reply_authentication import imip_settings, inbox_rows
from tests.conftest import run

__all__ = ["imip_settings"]  # a fixture: the listener reads these settings

RCPT = "coord-test@prefecture.example.gouv.fr"


@pytest.fixture
def lmtp_listener(db: Any, imip_settings: Any) -> Any:
    from coord.calendar.lmtp import ReplyListener

    with ReplyListener("127.0.0.1", 0, lmtp=True) as listener:
        yield listener


@pytest.fixture
def smtp_listener(db: Any, imip_settings: Any) -> Any:
    from coord.calendar.lmtp import ReplyListener

    with ReplyListener("127.0.0.1", 0) as listener:
        yield listener


def test_lmtp_delivery_applies_outlook_and_thunderbird_replies(lmtp_listener: Any) -> None:
    seeded = run(seed())
    assert lmtp_listener.port > 0
    with smtplib.LMTP("127.0.0.1", lmtp_listener.port, timeout=10) as client:
        client.sendmail(MARIE, [RCPT], as_mail(fixture("outlook_fr_accepted.ics")))
        client.sendmail(PAUL, [RCPT], as_mail(fixture("thunderbird_tentative.ics"), sender=PAUL))
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"
    assert run(invitation(seeded.invitations[PAUL]))["answer"] == "tentative"


def test_lmtp_refuses_a_mail_about_no_meeting_but_keeps_a_strangers_reply(lmtp_listener: Any) -> None:
    seeded = run(seed())
    stranger = fixture("outlook_fr_accepted.ics").replace(b"Marie.Durand@interieur.gouv.fr", b"intrus@example.fr")
    with smtplib.LMTP("127.0.0.1", lmtp_listener.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as garbage:
            client.sendmail(MARIE, [RCPT], b"Subject: rien\r\n\r\nPas de calendrier ici.\r\n")
        assert garbage.value.smtp_code == 550
        assert b"5.1.1" in garbage.value.smtp_error
        assert b"ne concerne aucune reunion de Coord" in garbage.value.smtp_error
        # A reply for someone not invited is no bounce: the agents see it on the meeting, with why.
        client.sendmail("intrus@example.fr", [RCPT], as_mail(stranger, sender="intrus@example.fr"))
        # The session goes on after a refusal.
        client.sendmail(MARIE, [RCPT], as_mail(fixture("outlook_fr_accepted.ics")))
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"
    (item,) = run(inbox_rows(seeded.meeting_id))
    assert (item["kind"], item["sender"]) == ("message", "intrus@example.fr")
    assert "n'est pas invitée" in item["note"]


def test_lmtp_answers_once_per_recipient(lmtp_listener: Any) -> None:
    """RFC 2033: one reply per accepted recipient after DATA (smtplib.LMTP reads only one, so this
    speaks the protocol on a raw socket)."""
    import socket

    seeded = run(seed())
    with socket.create_connection(("127.0.0.1", lmtp_listener.port), timeout=10) as sock:
        stream = sock.makefile("rwb")

        def reply() -> bytes:
            lines = [stream.readline()]
            while lines[-1][3:4] == b"-":
                lines.append(stream.readline())
            return lines[-1]

        def command(line: bytes) -> bytes:
            stream.write(line + b"\r\n")
            stream.flush()
            return reply()

        assert reply().startswith(b"220")
        assert command(b"LHLO client.example").startswith(b"250")
        assert command(b"MAIL FROM:<" + MARIE.encode() + b">").startswith(b"250")
        assert command(b"RCPT TO:<" + RCPT.encode() + b">").startswith(b"250")
        assert command(b"RCPT TO:<copie@prefecture.example.gouv.fr>").startswith(b"250")
        assert command(b"DATA").startswith(b"354")
        stream.write(as_mail(fixture("outlook_fr_accepted.ics")).replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        stream.flush()
        assert reply().startswith(b"250")
        assert reply().startswith(b"250")
        assert command(b"NOOP").startswith(b"250")
        assert command(b"QUIT").startswith(b"221")
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"


def test_plain_smtp_listener_keeps_a_bare_calendar_and_accepts_a_stale_reply(smtp_listener: Any) -> None:
    seeded = run(seed())
    with smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as client:
        # A bare .ics has no sender to check: kept for an agent, still a 250.
        client.sendmail(MARIE, [RCPT], fixture("outlook_fr_accepted.ics"))
        assert run(invitation(seeded.invitations[MARIE]))["answer"] == "needs_action"
        client.sendmail(MARIE, [RCPT], as_mail(fixture("outlook_fr_accepted.ics")))
        # Same reply again: ignored, but still 250 (nothing for the sender to retry).
        client.sendmail(MARIE, [RCPT], as_mail(fixture("outlook_fr_accepted.ics")))
    assert run(invitation(seeded.invitations[MARIE]))["answer"] == "accepted"
    assert [(i["kind"], i["status"]) for i in run(inbox_rows(seeded.meeting_id))] == [("reply", "pending")]


def test_internal_error_is_a_temporary_451(smtp_listener: Any, db: Any, tmp_path: Any) -> None:
    from coord.core.db import PooledSQLiteEngine, use_engine

    run(seed())
    # The database cannot be reached (a file in a folder that does not exist).
    use_engine(PooledSQLiteEngine(path=str(tmp_path / "absent" / "coord.sqlite3"), timeout=1))
    try:
        with (
            smtplib.SMTP("127.0.0.1", smtp_listener.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPDataError) as error,
        ):
            client.sendmail(MARIE, [RCPT], as_mail(fixture("outlook_fr_accepted.ics")))
    finally:
        use_engine(db.engine)
    assert error.value.smtp_code == 451


def test_listener_restarts_on_the_same_port(db: Any) -> None:
    from coord.calendar.lmtp import ReplyListener

    listener = ReplyListener("127.0.0.1", 0)
    listener.start()
    port = listener.port
    listener.stop()
    assert not listener.running
    listener.start()
    try:
        assert listener.port == port
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.noop()[0] == 250
    finally:
        listener.stop()
