"""A loopback SMTP server that keeps what it receives: the demo mode's mailbox and the tests' sink.

`SmtpSink` runs `aiosmtpd` in its own thread and event loop (`aiosmtpd.controller.Controller`), so
it can be used from synchronous tests, from async tests and inside the running web app alike.
It binds to 127.0.0.1 by default; port 0 picks a free port, read back from `sink.port`.

Captured mails are kept in memory, at most `max_messages` of them (the oldest are dropped), and
each at most `max_message_bytes` long (the server refuses bigger ones with a 552).

For tests, `rcpt_status` and `data_status` let the server refuse a recipient or a message:
return an SMTP reply such as "550 5.1.1 Destinataire inconnu" or "451 4.3.0 Réessayez", or
None to accept.
"""

from __future__ import annotations

import email
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from coord.core import clock

DEFAULT_MAX_MESSAGES = 500
DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class CapturedEnvelope:
    """One accepted SMTP transaction."""

    number: int  # 1, 2, 3... in order of arrival, never reused (stable for a demo page's links)
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes  # the DATA exactly as received (CRLF line endings)
    peer: tuple[str, int] | None  # client address: one value per SMTP connection
    received_at: datetime


@dataclass(frozen=True)
class CapturedMail:
    envelope: CapturedEnvelope
    message: EmailMessage  # `raw` parsed with email.policy.default


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        hook = self._sink.rcpt_status
        status = hook(address) if hook is not None else None
        if status is not None:
            return status
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        hook = self._sink.data_status
        status = hook(raw) if hook is not None else None
        if status is not None:
            return status
        peer = session.peer if isinstance(session.peer, tuple) else None
        self._sink._store(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            peer=(str(peer[0]), int(peer[1])) if peer else None,
        )
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """Controller that learns the real port when asked for port 0 (the stock one would then try
    to reach port 0 to check the server is up)."""

    def _create_server(self) -> Any:
        async def create() -> Any:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class SmtpSink:
    """In-memory SMTP server on loopback. Use as a (sync) context manager or start()/stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        rcpt_status: Callable[[str], str | None] | None = None,
        data_status: Callable[[bytes], str | None] | None = None,
    ) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self.host = host
        self._requested_port = port
        self.max_messages = max_messages
        self.max_message_bytes = max_message_bytes
        self.rcpt_status = rcpt_status
        self.data_status = data_status
        self._mails: deque[CapturedMail] = deque(maxlen=max_messages)
        self._received = 0  # total accepted, including those dropped by the cap
        self._numbers = itertools.count(1)
        self._condition = threading.Condition()
        self._controller: _Controller | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("SMTP sink already running")
        controller = _Controller(
            _Handler(self),
            hostname=self.host,
            port=self._requested_port,
            data_size_limit=self.max_message_bytes,
        )
        controller.start()
        # A restart reuses the same port, so clients configured with it keep working.
        self._requested_port = controller.port
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
        if self._requested_port == 0:
            raise RuntimeError("SMTP sink not started: its port is not known yet")
        return self._requested_port

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- captured mail -----------------------------------------------------------------------

    def _store(self, *, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes, peer: tuple[str, int] | None) -> None:
        message = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._condition:
            envelope = CapturedEnvelope(
                number=next(self._numbers),
                mail_from=mail_from,
                rcpt_tos=rcpt_tos,
                raw=raw,
                peer=peer,
                received_at=clock.now(),
            )
            self._mails.append(CapturedMail(envelope=envelope, message=message))
            self._received += 1
            self._condition.notify_all()

    @property
    def mails(self) -> list[CapturedMail]:
        """Captured mails, oldest first (a snapshot)."""
        with self._condition:
            return list(self._mails)

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.mails]

    @property
    def envelopes(self) -> list[CapturedEnvelope]:
        return [mail.envelope for mail in self.mails]

    @property
    def received(self) -> int:
        """How many mails were accepted since the last clear(), including dropped ones."""
        with self._condition:
            return self._received

    def get(self, number: int) -> CapturedMail | None:
        with self._condition:
            return next((m for m in self._mails if m.envelope.number == number), None)

    def clear(self) -> None:
        with self._condition:
            self._mails.clear()
            self._received = 0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until `count` mails were received (since the last clear()); TimeoutError after
        `timeout` seconds. The server runs in its own thread, so calling this from an async
        test is fine, though mails are already stored when the client's send returns."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._received < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"SMTP sink received {self._received} mail(s), expected {count}")
                self._condition.wait(remaining)
            return [mail.message for mail in self._mails]
