"""Sending over real SMTP to the aiosmtpd sink on loopback, and error classification."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from coord.mail.message import OutgoingMail, build_message, calendar_part
from coord.mail.smtp import (
    SmtpConnection,
    SmtpPermanentError,
    SmtpSettings,
    SmtpTemporaryError,
    send_message,
)
from tests.support.smtp_sink import SmtpSink

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Coord//FR\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:u1@coord.example.fr\r\nDTSTAMP:20250301T090000Z\r\n"
    b"DTSTART:20250312T090000Z\r\nSUMMARY:R\xc3\xa9union du comit\xc3\xa9\r\n"
    b"ORGANIZER:mailto:coord@prefecture.example.gouv.fr\r\n"
    b"ATTENDEE;RSVP=TRUE:mailto:partenaire@herault.example.fr\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def make_message(to_email: str = "partenaire@herault.example.fr", subject: str = "Convocation"):
    return build_message(
        OutgoingMail(
            to_email=to_email,
            to_name="Préfecture de l'Hérault",
            from_email="coord@prefecture.example.gouv.fr",
            from_name="Coordination départementale TEH",
            reply_to=None,
            subject=f"{subject} – réunion du comité",
            text="Bonjour,\nVous êtes convoqué(e).\n",
            html="<p>Bonjour, vous êtes convoqué(e).</p>",
            calendar=ICS,
            calendar_method="REQUEST",
        )
    )


def settings_for(sink: SmtpSink, **changes: object) -> SmtpSettings:
    values: dict[str, object] = {"host": "127.0.0.1", "port": sink.port, "timeout": 5.0}
    return SmtpSettings(**(values | changes))  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_send_and_read_back_structure(smtp_sink: SmtpSink) -> None:
    message = make_message()
    await send_message(settings_for(smtp_sink), message)

    [received] = smtp_sink.wait_for(1)
    [envelope] = smtp_sink.envelopes
    assert envelope.mail_from == "coord@prefecture.example.gouv.fr"
    assert envelope.rcpt_tos == ("partenaire@herault.example.fr",)
    assert [p.get_content_type() for p in received.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    assert received["Subject"] == "Convocation – réunion du comité"
    assert received["To"].addresses[0].display_name == "Préfecture de l'Hérault"
    assert received["Message-ID"] == message["Message-ID"]
    cal = calendar_part(received)
    assert cal is not None and cal.get_param("method") == "REQUEST"
    assert cal.get_payload(decode=True) == ICS
    attachment = next(iter(received.iter_attachments()))
    assert attachment.get_filename() == "invite.ics"


async def test_smtp_down_is_temporary() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=closed_port(), timeout=2.0)
    with pytest.raises(SmtpTemporaryError):
        await send_message(settings, make_message())


def refuse(prefix: str, reply: str):
    def hook(address: str) -> str | None:
        return reply if address.startswith(prefix) else None

    return hook


async def test_550_for_recipient_is_permanent() -> None:
    with SmtpSink(rcpt_status=refuse("inconnu", "550 5.1.1 Destinataire inconnu")) as sink:
        with pytest.raises(SmtpPermanentError) as info:
            await send_message(settings_for(sink), make_message(to_email="inconnu@x.example.fr"))
        assert info.value.code == 550
        assert info.value.recipient == "inconnu@x.example.fr"
        assert sink.messages == []


async def test_451_is_temporary() -> None:
    with SmtpSink(rcpt_status=refuse("", "451 4.7.1 Greylisting, réessayez plus tard")) as sink:
        with pytest.raises(SmtpTemporaryError) as info:
            await send_message(settings_for(sink), make_message())
        assert info.value.code == 451


async def test_data_rejection_classified() -> None:
    replies = iter(["554 5.7.1 Message refusé", "452 4.3.1 Espace insuffisant"])
    with SmtpSink(data_status=lambda raw: next(replies)) as sink:
        async with SmtpConnection(settings_for(sink)) as smtp:
            with pytest.raises(SmtpPermanentError):
                await smtp.send(make_message())
            with pytest.raises(SmtpTemporaryError):
                await smtp.send(make_message())


async def test_fan_out_over_one_connection(smtp_sink: SmtpSink) -> None:
    async with SmtpConnection(settings_for(smtp_sink)) as smtp:
        for number in range(50):
            await smtp.send(make_message(f"partenaire{number}@x.example.fr", f"Message {number}"))
        assert smtp.connections_opened == 1

    smtp_sink.wait_for(50)
    envelopes = smtp_sink.envelopes
    assert len(envelopes) == 50
    assert len({e.peer for e in envelopes}) == 1  # one client port: one TCP connection
    assert [e.rcpt_tos[0] for e in envelopes] == [f"partenaire{n}@x.example.fr" for n in range(50)]


async def test_refused_recipient_does_not_end_the_fan_out() -> None:
    with SmtpSink(rcpt_status=refuse("inconnu", "550 5.1.1 Destinataire inconnu")) as sink:
        async with SmtpConnection(settings_for(sink)) as smtp:
            await smtp.send(make_message("a@x.example.fr"))
            with pytest.raises(SmtpPermanentError):
                await smtp.send(make_message("inconnu@x.example.fr"))
            await smtp.send(make_message("b@x.example.fr"))
            assert smtp.connections_opened == 1
        assert [e.rcpt_tos for e in sink.envelopes] == [("a@x.example.fr",), ("b@x.example.fr",)]


async def test_reconnects_once_when_server_dropped_connection(smtp_sink: SmtpSink) -> None:
    async with SmtpConnection(settings_for(smtp_sink)) as smtp:
        await smtp.send(make_message("a@x.example.fr"))
        smtp_sink.stop()  # drops every open connection
        smtp_sink.start()  # same port
        await smtp.send(make_message("b@x.example.fr"))
        assert smtp.connections_opened == 2
    assert smtp_sink.received == 2
    assert len({e.peer for e in smtp_sink.envelopes}) == 2


async def test_connection_to_down_server_after_drop_is_temporary(smtp_sink: SmtpSink) -> None:
    async with SmtpConnection(settings_for(smtp_sink)) as smtp:
        await smtp.send(make_message())
        smtp_sink.stop()
        with pytest.raises(SmtpTemporaryError):
            await smtp.send(make_message())


def test_sink_caps_stored_messages_and_clears() -> None:
    with SmtpSink(max_messages=3) as sink:

        async def send_five() -> None:
            async with SmtpConnection(settings_for(sink)) as smtp:
                for number in range(5):
                    await smtp.send(make_message(subject=f"Message {number}"))

        asyncio.run(send_five())
        assert sink.received == 5
        subjects = [m["Subject"] for m in sink.messages]
        assert subjects == [f"Message {n} – réunion du comité" for n in (2, 3, 4)]
        assert [e.number for e in sink.envelopes] == [3, 4, 5]
        assert sink.get(4) is not None and sink.get(1) is None
        sink.clear()
        assert sink.messages == [] and sink.received == 0


def test_sink_wait_for_times_out() -> None:
    with SmtpSink() as sink:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sink.wait_for(1, timeout=0.2)
        assert time.monotonic() - started < 2


def test_settings() -> None:
    with pytest.raises(ValueError):
        SmtpSettings(starttls=True, use_tls=True)

    class Conf:
        smtp_host = "relais.example.gouv.fr"
        smtp_port = 587
        smtp_username = ""
        smtp_password = ""
        smtp_starttls = True
        smtp_tls = False

    settings = SmtpSettings.from_settings(Conf())
    assert settings.port == 587 and settings.starttls and settings.username is None


async def test_server_too_slow_is_temporary_and_connection_renewed() -> None:
    delays = iter([0.6, 0.0])

    def slow(raw: bytes) -> str | None:
        time.sleep(next(delays))  # blocks the sink's own loop thread, not the test's
        return None

    with SmtpSink(data_status=slow) as sink:
        async with SmtpConnection(settings_for(sink, timeout=0.3)) as smtp:
            with pytest.raises(SmtpTemporaryError):
                await smtp.send(make_message("a@x.example.fr"))
            await asyncio.sleep(0.5)  # the sink's loop is blocked until the sleep ends
            await smtp.send(make_message("b@x.example.fr"))
            assert smtp.connections_opened == 2
