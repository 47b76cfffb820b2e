"""Building outgoing mails (convocations, cancellations, notices) as MIME messages.

Pure code: no I/O. The outbox stores an `OutgoingMail` (with its `message_id`) and calls
`build_message` on every attempt, so a retry sends the same Message-ID.

Layout with a calendar (the one Google Calendar itself sends, read correctly by Outlook, Gmail
and Thunderbird, see shared/calendar-interop.md):

    multipart/mixed
        multipart/alternative
            text/plain; charset="utf-8"                      (quoted-printable)
            text/html; charset="utf-8"                       (optional, quoted-printable)
            text/calendar; method=REQUEST; charset="UTF-8"   (base64 of the exact bytes, last)
        application/ics; name="invite.ics"                   (attachment, same bytes)
        ...other attachments

Without a calendar: text/plain alone, or multipart/alternative (text, html), wrapped in
multipart/mixed only when there are attachments.

The calendar bytes are base64-encoded as they are, so the CRLF line endings required by
RFC 5545 survive whatever the policy's line separator is; the message itself is generated with
`email.policy.SMTP` (CRLF everywhere).

Every header value is checked: a CR, LF or other control character in a subject, a name, an
address or an extra header raises `ValueError` (no header injection).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from coord.core import clock

CALENDAR_METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH", "DECLINECOUNTER"})
CALENDAR_FILENAME = "invite.ics"

# Headers that `build_message` sets itself; extra headers cannot replace or duplicate them
# (Cc/Bcc would silently add recipients, since the SMTP client reads them for the envelope).
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-language",
        "return-path",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-date",
        "resent-sender",
        "resent-message-id",
    }
)

# Headers added unless the caller gives its own value through `OutgoingMail.headers`.
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    # RFC 3834: tells auto-responders (vacation messages...) not to answer.
    ("Auto-Submitted", "auto-generated"),
    # Exchange's equivalent: no out-of-office or auto-replies for a fan-out of invitations.
    # Meeting responses (Accept/Decline) are user actions and are not suppressed.
    ("X-Auto-Response-Suppress", "OOF, AutoReply"),
)

_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_CONTENT_TYPE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$")
_LOCAL_PART_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_MESSAGE_ID_RE = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_BARE_LF_RE = re.compile(rb"(?<!\r)\n")
_METHOD_LINE_RE = re.compile(rb"^METHOD:([^\r\n]*)\r?$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    to_email: str
    to_name: str
    from_email: str
    from_name: str
    reply_to: str | None
    subject: str
    text: str
    html: str | None = None
    calendar: bytes | None = None
    calendar_method: str | None = None  # "REQUEST" | "CANCEL" | "PUBLISH" | "DECLINECOUNTER"
    attachments: tuple[Attachment, ...] = ()
    # Stable id stored with the outbox row so that a retry reuses it ("<hex@domain>").
    message_id: str | None = None
    # Extra headers, e.g. ("Auto-Submitted", "auto-generated") to override a default.
    headers: tuple[tuple[str, str], ...] = ()


_NOT_IN_A_HEADER_RE = re.compile(r" *[\x00-\x1f\x7f-\x9f\u2028\u2029]+ *")


def one_line(value: str) -> str:
    """`value` made fit for a header (a subject, a display name): every run of line breaks, tabs and
    other control characters becomes one space.

    What users type is refused when it is not one line (coord.core.validation); this is for what a
    header is built from all the same: rows stored before that rule, or changed by hand in the
    database. `build_message` itself still refuses a header that is not one line."""
    return _NOT_IN_A_HEADER_RE.sub(" ", value).strip()


def make_message_id(domain: str) -> str:
    """A new globally unique Message-ID, "<uuid4hex@domain>"."""
    domain = _check_domain(domain, "domaine du Message-ID")
    return f"<{uuid.uuid4().hex}@{domain}>"


def build_message(mail: OutgoingMail, *, now: datetime | None = None) -> EmailMessage:
    """The MIME message for `mail`, ready for `coord.mail.smtp` (policy SMTP, CRLF).

    Raises ValueError on anything that could inject headers or yield an invalid message.
    `now` (aware) sets the Date header; it defaults to the current time.
    """
    to_addr = _address(mail.to_name, mail.to_email, "destinataire")
    from_addr = _address(mail.from_name, mail.from_email, "expéditeur")
    reply_to = _address("", mail.reply_to, "adresse de réponse") if mail.reply_to else None
    subject = _check_header_text(mail.subject, "objet")
    if not subject.strip():
        raise ValueError("L'objet du message est vide.")
    if not mail.text.strip():
        raise ValueError("Le texte du message est vide.")
    message_id = _message_id(mail.message_id, from_addr.domain)
    extra_headers = _extra_headers(mail.headers)
    calendar, method = _calendar(mail.calendar, mail.calendar_method)
    date = now or clock.now()
    if date.tzinfo is None:
        raise ValueError("now must be an aware datetime")

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = from_addr
    msg["To"] = to_addr
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date.astimezone(UTC))
    msg["Message-ID"] = message_id
    for name, value in extra_headers:
        msg[name] = value

    msg.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if calendar is not None:
        # Bytes content: base64 of the exact bytes, CRLF kept. The method parameter is what
        # makes Outlook show an invitation rather than an unknown .ics file.
        msg.add_alternative(
            calendar,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": method, "charset": "UTF-8"},
        )
    if calendar is not None or mail.attachments:
        msg.make_mixed()
    if calendar is not None:
        msg.add_attachment(
            calendar,
            maintype="application",
            subtype="ics",
            cte="base64",
            filename=CALENDAR_FILENAME,
            params={"name": CALENDAR_FILENAME},
        )
    for attachment in mail.attachments:
        filename, maintype, subtype = check_attachment(attachment)
        msg.add_attachment(
            bytes(attachment.data),
            maintype=maintype,
            subtype=subtype,
            cte="base64",
            filename=filename,
        )
    _tidy_parts(msg, method)
    # Last: make_mixed() and add_alternative() move every Content-* header into a subpart.
    msg["Content-Language"] = "fr"
    return msg


def check_attachment(attachment: Attachment) -> tuple[str, str, str]:
    """The filename, main type and subtype of an attachment fit for a message; ValueError otherwise.

    The outbox calls it when a mail is queued, so a bad attachment fails the change that causes it
    rather than the sending, long after."""
    filename = _check_header_text(attachment.filename, "nom de pièce jointe")
    if not filename.strip():
        raise ValueError("Une pièce jointe n'a pas de nom.")
    content_type = attachment.content_type.strip().lower()
    if not _CONTENT_TYPE_RE.match(content_type):
        raise ValueError(f"Type de pièce jointe invalide : {attachment.content_type!r}.")
    maintype, subtype = content_type.split("/", 1)
    if maintype == "multipart":
        raise ValueError(f"Type de pièce jointe invalide : {attachment.content_type!r}.")
    if not isinstance(attachment.data, (bytes, bytearray, memoryview)):
        raise ValueError(f"Le contenu de la pièce jointe {filename!r} n'est pas binaire.")
    return filename, maintype, subtype


def calendar_part(msg: EmailMessage) -> EmailMessage | None:
    """The text/calendar alternative of a message built here (or parsed back), if any."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar" and not part.is_attachment():
            return part  # type: ignore[return-value]
    return None


def _tidy_parts(msg: EmailMessage, method: str | None) -> None:
    """MIME-Version belongs to the top level only (`add_alternative` repeats it in every part);
    the calendar part gets the exact Content-Type of RFC 6047's examples, parameters unquoted."""
    for part in msg.walk():
        if part is msg:
            continue
        del part["MIME-Version"]
        if method is not None and part.get_content_type() == "text/calendar":
            del part["Content-Type"]
            # set_raw: emitted verbatim (short line), where the header objects quote values.
            part.set_raw("Content-Type", f"text/calendar; method={method}; charset=UTF-8")


# -- validation -------------------------------------------------------------------------------


def _is_forbidden_char(char: str) -> bool:
    # CR, LF and every other control or line/paragraph separator; a tab is harmless.
    if char == "\t":
        return False
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}


def _check_header_text(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} : texte attendu.")
    if any(_is_forbidden_char(char) for char in value):
        raise ValueError(f"{what} : caractère de contrôle ou retour à la ligne interdit.")
    return value


def _check_domain(domain: str, what: str) -> str:
    _check_header_text(domain, what)
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError as exc:
        raise ValueError(f"{what} invalide : {domain!r}.") from exc
    if not _DOMAIN_RE.match(ascii_domain):
        raise ValueError(f"{what} invalide : {domain!r}.")
    return ascii_domain.lower()


def _address(name: str, email: str, what: str) -> Address:
    display_name = _check_header_text(name or "", f"nom du {what}").strip()
    email = _check_header_text(email or "", f"adresse du {what}").strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or len(local) > 64 or not _LOCAL_PART_RE.match(local):
        raise ValueError(f"Adresse électronique du {what} invalide : {email!r}.")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise ValueError(f"Adresse électronique du {what} invalide : {email!r}.")
    domain = _check_domain(domain, f"domaine de l'adresse du {what}")
    return Address(display_name=display_name, username=local, domain=domain)


def _message_id(message_id: str | None, domain: str) -> str:
    if message_id is None:
        return make_message_id(domain)
    value = _check_header_text(message_id, "Message-ID").strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MESSAGE_ID_RE.match(value) or not value.isascii():
        raise ValueError(f"Message-ID invalide : {message_id!r}.")
    return value


def _extra_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    given: dict[str, tuple[str, str]] = {}
    for name, value in headers:
        if not _HEADER_NAME_RE.match(name):
            raise ValueError(f"Nom d'en-tête invalide : {name!r}.")
        key = name.lower()
        if key in _RESERVED_HEADERS or key.startswith("content-"):
            raise ValueError(f"L'en-tête {name} ne peut pas être remplacé.")
        if key in given:
            raise ValueError(f"L'en-tête {name} est donné deux fois.")
        given[key] = (name, _check_header_text(value, f"en-tête {name}"))
    result = [given.pop(name.lower(), (name, value)) for name, value in DEFAULT_HEADERS]
    return result + list(given.values())


def _calendar(calendar: bytes | None, method: str | None) -> tuple[bytes | None, str | None]:
    if calendar is None:
        if method is not None:
            raise ValueError("calendar_method donné sans calendrier.")
        return None, None
    if method is None:
        raise ValueError("Un calendrier joint doit avoir sa méthode (REQUEST, CANCEL, PUBLISH).")
    method = method.strip().upper()
    if method not in CALENDAR_METHODS:
        raise ValueError(f"Méthode de calendrier non prise en charge : {method!r}.")
    data = bytes(calendar)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("Le calendrier n'est pas en UTF-8.") from exc
    # iCalendar lines end in CRLF: repair bare LF rather than send something Outlook misreads.
    data = _BARE_LF_RE.sub(b"\r\n", data)
    if not data.startswith(b"BEGIN:VCALENDAR"):
        raise ValueError("Le calendrier ne commence pas par BEGIN:VCALENDAR.")
    methods = {found.strip().upper().decode("ascii", "replace") for found in _METHOD_LINE_RE.findall(data)}
    if methods != {method}:
        # RFC 6047: METHOD of the VCALENDAR and of the MIME part must be present and agree.
        raise ValueError(
            f"La méthode du calendrier ({', '.join(sorted(methods)) or 'absente'}) ne correspond pas à {method}."
        )
    return data, method
