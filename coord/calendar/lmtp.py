"""A small SMTP/LMTP listener for the organiser mailbox: calendar answers (iMIP REPLY, REFRESH,
COUNTER) and every other mail partners send back (`coord.calendar.ingest.ingest_mail`).

Point the mail system's delivery for the organiser mailbox (or a copy of it: Postfix
`recipient_bcc_maps`, a Sieve `redirect`, Dovecot LMTP proxy...) at this listener:
`coord imip listen --port 2525` (`--lmtp` for LMTP). A forwarding that rewrites the envelope sender
(SRS) makes every reply « à vérifier » unless the receiving server's Authentication-Results are
trusted (`imip_trusted_authserv_id`). Each message is answered:
- `250 OK` when it was taken: a reply applied, ignored as stale or kept for an agent to check, an
  invitation sent again, a proposal or a message filed on its meeting, a mail forwarded to
  `imip_forward_to`, an out-of-office about no meeting dropped. A person is never sent a bounce for
  answering a convocation;
- `550 5.1.1 <reason>` for a mail about no meeting of Coord when no forward mailbox is configured;
  the reason is the French one, reduced to ASCII for the SMTP line;
- `451 4.3.0` on an internal error (database down...): the sending server keeps the mail and retries.

aiosmtpd runs its own event loop in a thread. `ingest_mail` runs on that loop: Piccolo opens a
connection per query on SQLite and on PostgreSQL without a pool, so this is safe in the CLI process.
Do not start this listener inside a process whose PostgreSQL pool belongs to another loop (the web
server's): run it as its own process.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from coord.calendar.ingest import MAX_MESSAGE_BYTES, NO_MEETING, ingest_mail

logger = logging.getLogger("coord.calendar.lmtp")

TEMPORARY_FAILURE = "451 4.3.0 Erreur temporaire, reessayez plus tard"


def smtp_text(text: str, limit: int = 300) -> str:
    """An SMTP reply line is ASCII: « réunion annulée » → "reunion annulee", one line."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = " ".join(plain.split())
    return plain[:limit]


class ReplyHandler:
    """aiosmtpd handler: every message delivered to the organiser mailbox, calendar or not."""

    def __init__(self, *, source: str = "lmtp") -> None:
        self.source = source

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        status = await self._status(envelope)
        if isinstance(server, LMTP):
            # LMTP answers once per accepted recipient after DATA (RFC 2033 §4.2).
            count = max(1, len(envelope.rcpt_tos))
            return "\r\n".join([status] * count)
        return status

    async def _status(self, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        # aiosmtpd keeps the null sender of bounces and auto-replies (MAIL FROM:<>) as "<>".
        sender = "" if envelope.mail_from in (None, "<>") else str(envelope.mail_from)
        try:
            result = await ingest_mail(data, source=self.source, envelope_sender=sender)
        except Exception:  # never crash the listener; the sending server will retry
            logger.exception("mail from %s could not be processed", envelope.mail_from)
            return TEMPORARY_FAILURE
        if result.status == "unmatched":
            return f"550 5.1.1 {smtp_text(result.reason_fr or NO_MEETING)}"
        if result.status == "rejected":  # what the listener cannot even read (too large)
            return f"550 5.6.0 {smtp_text(result.reason_fr) or 'Message refuse'}"
        return "250 OK"


class _Controller(Controller):
    """A threaded aiosmtpd controller that speaks SMTP or LMTP and learns the port when asked for
    port 0 (the stock controller would try to connect to port 0 to check that it is up)."""

    def __init__(self, handler: Any, *, lmtp: bool, **kwargs: Any) -> None:
        self._lmtp = lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        server_class = LMTP if self._lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        async def create() -> Any:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class ReplyListener:
    """Start/stop an SMTP (default) or LMTP listener on `host:port` (port 0 picks a free port,
    read back from `.port` after `start()`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, lmtp: bool = False) -> None:
        self.host = host
        self._requested_port = port
        self.lmtp = lmtp
        self._controller: _Controller | None = None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("calendar reply listener already running")
        controller = _Controller(
            ReplyHandler(source="lmtp" if self.lmtp else "smtp"),
            lmtp=self.lmtp,
            hostname=self.host,
            port=self._requested_port,
            data_size_limit=MAX_MESSAGE_BYTES,
        )
        controller.start()
        self._requested_port = controller.port  # a restart keeps the same port
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def port(self) -> int:
        if self._controller is not None:
            return int(self._controller.port)
        return self._requested_port

    def __enter__(self) -> ReplyListener:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def serve_forever(host: str, port: int, *, lmtp: bool = False) -> None:
    """For `coord imip listen`: run until cancelled (Ctrl-C)."""
    listener = ReplyListener(host, port, lmtp=lmtp)
    listener.start()
    logger.info("listening for calendar replies on %s:%s (%s)", host, listener.port, "LMTP" if lmtp else "SMTP")
    try:
        await asyncio.Event().wait()
    finally:
        listener.stop()
