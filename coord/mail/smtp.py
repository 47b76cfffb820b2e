"""Sending messages over SMTP with `aiosmtplib`, errors sorted into "retry later" and "give up".

- `SmtpTemporaryError`: the server could not be reached, timed out, dropped the connection,
  answered 4xx, or refused our own configuration (authentication, sender, TLS). Retry later.
- `SmtpPermanentError`: a 5xx for this recipient (RCPT) or this message (DATA), or an address the
  client cannot send to. Retrying the same message will not help.

Coord sends one recipient per message (each partner gets its own invitation), so a refused
recipient means the whole message failed.

`SmtpConnection` keeps one connection for a fan-out of many messages; a refused recipient does
not end it (the client resets the envelope), a dropped connection is reopened once per message.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self

import aiosmtplib

# 421: "service not available, closing transmission channel": the connection is gone.
_CLOSING_CODE = 421


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    starttls: bool = False  # upgrade with STARTTLS (required when True; never tried when False)
    use_tls: bool = False  # implicit TLS from the first byte (port 465)
    timeout: float = 10.0  # per SMTP command, in seconds

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError("starttls and use_tls are exclusive")

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpSettings:
        """From `coord.core.settings.Settings` (smtp_host, smtp_port, smtp_username...)."""
        return cls(
            host=settings.smtp_host,
            port=int(settings.smtp_port),
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            starttls=bool(settings.smtp_starttls),
            use_tls=bool(settings.smtp_tls),
        )


class SmtpError(Exception):
    """Base class. `code` is the SMTP reply code when there was one, `recipient` the address
    concerned when the server refused a recipient."""

    def __init__(self, message: str, *, code: int | None = None, recipient: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.recipient = recipient


class SmtpTemporaryError(SmtpError):
    """Connection refused, timeout, dropped connection, 4xx, server configuration: retry later."""


class SmtpPermanentError(SmtpError):
    """5xx for the recipient or the message: do not retry."""


def _response_error(code: int, text: str, *, recipient: str | None, permanent_if_5xx: bool) -> SmtpError:
    label = f"{code} {text}".strip()
    if recipient:
        label = f"{recipient} : {label}"
    if 500 <= code < 600 and permanent_if_5xx:
        return SmtpPermanentError(label, code=code, recipient=recipient)
    return SmtpTemporaryError(label, code=code, recipient=recipient)


def classify(exc: BaseException) -> SmtpError:
    """The SmtpTemporaryError or SmtpPermanentError matching an aiosmtplib/OS error."""
    if isinstance(exc, SmtpError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        if refused and all(500 <= r.code < 600 for r in refused):
            first = refused[0]
            return _response_error(first.code, first.message, recipient=first.recipient, permanent_if_5xx=True)
        temporary = next((r for r in refused if not 500 <= r.code < 600), None)
        if temporary is not None:
            return _response_error(
                temporary.code,
                temporary.message,
                recipient=temporary.recipient,
                permanent_if_5xx=False,
            )
        return SmtpTemporaryError("destinataires refusés")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _response_error(exc.code, exc.message, recipient=exc.recipient, permanent_if_5xx=True)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        # 5xx after DATA: the server rejects this message (size, content): permanent.
        return _response_error(exc.code, exc.message, recipient=None, permanent_if_5xx=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # Sender refused, authentication, HELO, connect banner: our configuration or the
        # server's state, the same for every message. Not the recipient's fault: retry later.
        return _response_error(exc.code, exc.message, recipient=None, permanent_if_5xx=False)
    if isinstance(exc, ValueError):
        # aiosmtplib refuses an address it cannot put in the envelope.
        return SmtpPermanentError(f"adresse refusée par le client SMTP : {exc}")
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return SmtpTemporaryError(f"serveur SMTP indisponible : {exc.__class__.__name__}: {exc}")
    return SmtpTemporaryError(f"erreur SMTP inattendue : {exc.__class__.__name__}: {exc}")


def _is_connection_lost(exc: BaseException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == _CLOSING_CODE


class SmtpConnection:
    """One SMTP connection for many messages:

    async with SmtpConnection(settings) as smtp:
        for message in messages:
            try:
                await smtp.send(message)
            except SmtpPermanentError: ...
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self.connections_opened = 0

    async def __aenter__(self) -> Self:
        await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            timeout=s.timeout,
            use_tls=s.use_tls,
            start_tls=s.starttls,
        )

    async def _connect(self) -> None:
        await self._drop()
        client = self._new_client()
        try:
            await client.connect()
        except Exception as exc:
            client.close()
            raise classify(exc) from exc
        self._client = client
        self.connections_opened += 1

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        """QUIT politely; never raises."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()

    async def send(self, message: EmailMessage) -> None:
        """Send `message` to its To/Cc recipients; raises SmtpTemporaryError/SmtpPermanentError."""
        if self._client is None or not self._client.is_connected:
            await self._connect()
        try:
            await self._send_once(message)
        except Exception as exc:
            if not _is_connection_lost(exc):
                await self._after_failure(exc)
                raise classify(exc) from exc
            # The server dropped the idle connection (timeout, message limit): reopen it once.
            await self._connect()
            try:
                await self._send_once(message)
            except Exception as retry_exc:
                await self._after_failure(retry_exc)
                raise classify(retry_exc) from retry_exc

    async def _send_once(self, message: EmailMessage) -> None:
        assert self._client is not None
        errors, _reply = await self._client.send_message(message)
        if errors:
            # Some recipients refused, others accepted: report the first refusal.
            recipient, response = next(iter(errors.items()))
            raise _response_error(response.code, response.message, recipient=recipient, permanent_if_5xx=True)

    async def _after_failure(self, exc: BaseException) -> None:
        # After a reply error the client has reset the envelope and the connection is reusable;
        # after anything else (timeout, I/O error) its state is unknown: start afresh next time.
        if not isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused):
            await self._drop()


async def send_message(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message on a connection of its own."""
    async with SmtpConnection(settings) as connection:
        await connection.send(message)
