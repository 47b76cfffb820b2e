"""Reading a mail the calendar listener received: who sent it, which of Coord's mails it answers, its
plain text, its calendar parts, and whether the receiving mail server vouches for its sender.

Pure code, no database: `coord.calendar.ingest` decides what to do with it. Everything here reads
untrusted input and never raises on it.

Sender authentication (iMIP has none of its own, RFC 6047 §2.1 leaves it to the mail system):
- `sender_is`: the From header, and the envelope sender (MAIL FROM) when the mail came over SMTP/LMTP,
  are one of the allowed addresses (the attendee, their delegate), case-insensitive;
- `dkim_vouches`: the topmost Authentication-Results header (RFC 8601) whose authserv-id is the
  trusted receiving server reports `dkim=pass` with `header.d` the domain of an allowed address (or
  a parent domain of it). Only the topmost one of that server counts: a header further down was
  there before the mail reached it, and anyone can write one.
"""

from __future__ import annotations

import datetime as dt
import email
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

from coord.ics.parse import ATTENDEE_METHODS
from coord.ics.sanitize import clean_text

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar"})
ORIGINAL_HEADER_TYPES = frozenset({"message/rfc822", "message/rfc822-headers", "text/rfc822-headers"})
MAX_REFERENCES = 50  # Message-IDs read from In-Reply-To and References
_MESSAGE_ID = re.compile(r"<[^<>\s@]{1,200}@[^<>\s@]{1,200}>")
# RFC 3834 and the headers clients use instead: an automatic answer (out-of-office, report).
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")


@dataclass(frozen=True)
class ReceivedMail:
    has_headers: bool  # False for a bare .ics delivered as is
    from_address: str = ""  # lower-case; "" when absent or not exactly one address
    from_name: str = ""
    subject: str = ""
    sent_at: dt.datetime | None = None  # the Date header, aware
    message_id: str = ""
    references: tuple[str, ...] = ()  # In-Reply-To, References, then the original's (a report)
    text: str = ""  # the plain text body (or the HTML one as text), cleaned and cut
    automatic: bool = False
    authentication_results: tuple[str, ...] = ()  # the headers' values, topmost first
    calendars: tuple[bytes | str, ...] = field(default=())  # calendar parts, the attendee's methods first


def looks_like_ics(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].upper()
    return head.startswith(b"BEGIN:VCALENDAR")


def read_mail(data: bytes, *, max_text: int) -> ReceivedMail:
    """What Coord needs of a received mail (or of a bare .ics, which has no headers)."""
    if looks_like_ics(data):
        return ReceivedMail(has_headers=False, calendars=(data,))
    try:
        message = email.message_from_bytes(data, policy=policy.default)
    except Exception:  # the email package rarely raises, but input is untrusted
        return ReceivedMail(has_headers=False)
    if not isinstance(message, EmailMessage) or not message.keys():
        return ReceivedMail(has_headers=False)
    address, name = _from(message)
    return ReceivedMail(
        has_headers=True,
        from_address=address,
        from_name=name,
        subject=_one_line(_header(message, "Subject"))[:300],
        sent_at=_date(message),
        message_id=_first_id(_header(message, "Message-ID")),
        references=_references(message),
        text=_text(message, max_text),
        automatic=_automatic(message),
        authentication_results=tuple(_header_values(message, "Authentication-Results")),
        calendars=_calendars(message),
    )


# -- headers ------------------------------------------------------------------------------------


def _header_values(message: Message, name: str) -> list[str]:
    values = []
    try:
        for value in message.get_all(name) or []:
            values.append(str(value))
    except Exception:  # a malformed header: as if absent
        return values
    return values


def _header(message: Message, name: str) -> str:
    values = _header_values(message, name)
    return values[0] if values else ""


def _one_line(value: str) -> str:
    return clean_text(value, multiline=False)


def _from(message: Message) -> tuple[str, str]:
    values = _header_values(message, "From")
    if len(values) != 1:
        return "", ""
    try:
        addresses = [(n, a) for n, a in getaddresses(values) if a]
    except Exception:
        return "", ""
    if len(addresses) != 1:
        return "", ""
    name, address = addresses[0]
    address = _one_line(address).lower()
    return (address if "@" in address else ""), _one_line(name)[:200]


def _date(message: Message) -> dt.datetime | None:
    raw = _header(message, "Date")
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _first_id(value: str) -> str:
    found = _MESSAGE_ID.findall(value)
    return found[0] if found else ""


def _references(message: Message) -> tuple[str, ...]:
    ids: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in _header_values(message, name):
            ids += _MESSAGE_ID.findall(value)
    ids += _original_ids(message)
    return tuple(dict.fromkeys(ids))[:MAX_REFERENCES]


def _original_ids(message: Message) -> list[str]:
    """The Message-ID of the original mail a delivery report (or a forward) carries."""
    ids: list[str] = []
    for part in message.walk():
        if part is message or part.get_content_type() not in ORIGINAL_HEADER_TYPES:
            continue
        ids += _MESSAGE_ID.findall(_original_message_id(part))
    return ids


def _original_message_id(part: Message) -> str:
    try:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            original: Message = payload[0]
        else:
            raw = part.get_payload(decode=True) or b""
            original = HeaderParser().parsestr(raw.decode("utf-8", "replace"))
        return str(original.get("Message-ID", ""))
    except Exception:  # a broken report: nothing to learn from it
        return ""


def _automatic(message: Message) -> bool:
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if any(_header(message, name) for name in _AUTO_HEADERS):
        return True
    if _header(message, "Precedence").strip().lower() in _AUTO_PRECEDENCE:
        return True
    return message.get_content_type() == "multipart/report"


# -- body ---------------------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML body (no script, no style), one block per line."""

    BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head"):
            self._hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        return ""
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _text(message: EmailMessage, limit: int) -> str:
    try:
        body = message.get_body(preferencelist=("plain", "html"))
        content = body.get_content() if body is not None else ""
        if body is not None and body.get_content_type() == "text/html":
            content = html_to_text(content)
    except Exception:  # an unknown charset, a broken encoding: no text rather than no message
        return ""
    text = clean_text(content if isinstance(content, str) else "")
    return text[:limit]


# -- calendars ----------------------------------------------------------------------------------


def _payload(part: Message) -> bytes | str | None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return None
    if not isinstance(payload, bytes) or not payload:
        return None
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return payload  # the parser falls back to UTF-8 then cp1252
    return payload


def _calendars(message: Message) -> tuple[bytes | str, ...]:
    """Calendar parts: those whose method is an attendee's (REPLY, REFRESH, COUNTER) first, then
    any calendar part, then an .ics attachment whatever its declared type (some clients send
    application/octet-stream)."""
    parts = list(message.walk())
    calendars = [p for p in parts if p.get_content_type() in CALENDAR_TYPES]
    answers = [p for p in calendars if str(p.get_param("method", "") or "").upper() in ATTENDEE_METHODS]
    attachments = [
        p for p in parts if p not in calendars and (p.get_filename() or "").lower().endswith((".ics", ".vcs"))
    ]
    found = []
    for part in dict.fromkeys([*answers, *calendars, *attachments]):
        payload = _payload(part)
        if payload is not None:
            found.append(payload)
    return tuple(found)


# -- sender authentication ----------------------------------------------------------------------


def sender_is(mail: ReceivedMail, envelope_sender: str | None, allowed: Iterable[str]) -> bool:
    """The From address and, over SMTP/LMTP (`envelope_sender` not None), the envelope sender are
    both among `allowed` (case-insensitive). A mail without headers has no sender."""
    addresses = {a.strip().lower() for a in allowed if a}
    if not mail.from_address or mail.from_address not in addresses:
        return False
    return envelope_sender is None or envelope_sender.strip().lower() in addresses


@dataclass(frozen=True)
class AuthResult:
    method: str  # "dkim", "spf", "dmarc"...
    result: str  # "pass", "fail", "none"...
    properties: dict[str, str]  # "header.d" → "interieur.gouv.fr"


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: tuple[AuthResult, ...]


def _without_comments(value: str) -> str:
    """RFC 5322 comments (nested parentheses) removed, quoted strings kept."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == '"' and depth == 0:
            quoted = True
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            out.append(" ")
        elif depth == 0:
            out.append(char)
    return "".join(out)


_TOKEN = re.compile(r'([^\s=";]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)')


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One Authentication-Results header value (RFC 8601 §2.2), or None when unreadable."""
    text = _without_comments(" ".join(value.split()))
    segments = [s.strip() for s in re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', text)]
    if not segments or not segments[0]:
        return None
    authserv_id = segments[0].split()[0].strip().lower()
    results = []
    for segment in segments[1:]:
        pairs = [(k.lower(), v.strip('"')) for k, v in _TOKEN.findall(segment)]
        if not pairs:
            continue  # "none"
        method, result = pairs[0]
        properties = {k: v.lower() for k, v in pairs[1:] if "." in k}
        results.append(AuthResult(method.split("/")[0], result.lower(), properties))
    return AuthenticationResults(authserv_id, tuple(results))


def _covers(signing_domain: str, address: str) -> bool:
    """`header.d` is the address's domain or a parent of it (never a bare top-level domain)."""
    signer = signing_domain.strip().rstrip(".").lower()
    domain = address.rpartition("@")[2].strip().rstrip(".").lower()
    if "." not in signer or not domain:
        return False
    return domain == signer or domain.endswith("." + signer)


def dkim_vouches(mail: ReceivedMail, trusted_authserv_id: str, allowed: Iterable[str]) -> bool:
    """The trusted receiving server's own (topmost) Authentication-Results reports a DKIM signature
    that passed for the domain of one of the `allowed` addresses."""
    trusted = trusted_authserv_id.strip().lower()
    if not trusted:
        return False
    addresses = [a for a in allowed if a and "@" in a]
    for value in mail.authentication_results:
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id != trusted:
            continue
        return any(
            r.method == "dkim"
            and r.result == "pass"
            and any(_covers(r.properties.get("header.d", ""), a) for a in addresses)
            for r in parsed.results
        )
    return False
