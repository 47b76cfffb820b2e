"""Demo mode: an SMTP sink on loopback captures every mail, and these pages show them, so a newcomer
sees exactly what partners receive (body, answer links, the .ics invitation).

The pages need a login like every page, and answer 404 outside demo mode. Each user sees the mails
of their own département only (the outbox row of the mail, found by its Message-ID, says which);
national users see them all, including mails Coord did not send through the outbox. `start_demo_sink`
and `stop_demo_sink` are for the application's lifespan.

A mail's HTML is shown in a sandboxed frame loaded from its own URL (`.../html`), whose response has
its own Content-Security-Policy: no script, inline styles allowed (mails need them), framed by Coord
only. (A `srcdoc` frame would inherit the page's CSP, which refuses the mails' inline styles.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from coord.access import Scope
from coord.mail.sink import CapturedMail, SmtpSink
from coord.mail.tables import OutboxMessage
from coord.web.forms import page

logger = logging.getLogger("coord.mail")

_HEAD_RE = re.compile(r"<head(\s[^>]*)?>", re.IGNORECASE)


def start_demo_sink(app: Litestar, port: int | None = None, host: str = "127.0.0.1") -> SmtpSink | None:
    """In demo mode, capture mail on loopback (settings.smtp_port) and keep the sink on app.state.

    Returns None outside demo mode or when the port is taken (logged: the app still starts)."""
    app.state.mail_sink = None
    if not app.state.demo:
        return None
    settings = app.state.settings
    sink = SmtpSink(host=host, port=settings.smtp_port if port is None else port)
    try:
        sink.start()
    except OSError as exc:
        logger.warning("demo SMTP sink could not start on port %s: %s", sink._requested_port, exc)
        return None
    app.state.mail_sink = sink
    return sink


def stop_demo_sink(app: Litestar) -> None:
    sink = getattr(app.state, "mail_sink", None)
    app.state.mail_sink = None
    if sink is not None:
        sink.stop()


def _sink(request: Request) -> SmtpSink:
    sink = getattr(request.app.state, "mail_sink", None)
    if not request.app.state.demo or sink is None:
        raise NotFoundException()
    return sink


async def _visible(access: Scope, mails: list[CapturedMail]) -> list[CapturedMail]:
    """The mails `access` may read: national users all of them, others those whose outbox row
    belongs to their département (the scope adds the département condition)."""
    if access.principal.is_national:
        return mails
    ids = [str(mail.message["Message-ID"] or "") for mail in mails]
    if not ids:
        return []
    rows = await access.select(OutboxMessage, OutboxMessage.message_id).where(OutboxMessage.message_id.is_in(ids))
    allowed = {row["message_id"] for row in rows}
    return [mail for mail, message_id in zip(mails, ids, strict=True) if message_id in allowed]


async def _mail(request: Request, access: Scope, number: int) -> CapturedMail:
    mail = _sink(request).get(number)
    if mail is None or not await _visible(access, [mail]):
        raise NotFoundException()  # another département's mail does not exist for this user
    return mail


def _parts(message: Any) -> dict[str, Any]:
    text = html = calendar = method = ""
    for part in message.walk():
        kind = part.get_content_type()
        if part.get_content_disposition() == "attachment":
            continue
        if kind == "text/plain" and not text:
            text = part.get_content()
        elif kind == "text/html" and not html:
            html = part.get_content()
        elif kind == "text/calendar" and not calendar:
            calendar = part.get_payload(decode=True).decode("utf-8", "replace")
            method = part.get_param("method") or ""
    return {"text": text, "html": html, "calendar": calendar, "method": method}


def framed_html(html: str) -> str:
    """The HTML body for a sandboxed iframe: links open in a new tab (the sandbox allows popups,
    never scripts, forms or same-origin access)."""
    base = '<base target="_blank">'
    match = _HEAD_RE.search(html)
    if match:
        return html[: match.end()] + base + html[match.end() :]
    return base + html


# The framed mail: no script, no plugin, no form, no fetch; its inline styles and data: images only;
# framed by Coord's pages only; sandboxed even when opened directly.
FRAMED_MAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


@get("/demo/courriels", include_in_schema=False)
async def mail_list(request: Request, access: Scope) -> Template:
    mails = list(reversed(await _visible(access, _sink(request).mails)))
    return page("demo/mails.html", mails=mails, national=access.principal.is_national)


@get("/demo/courriels/{number:int}", include_in_schema=False)
async def mail_detail(request: Request, access: Scope, number: int) -> Template:
    mail = await _mail(request, access, number)
    parts = _parts(mail.message)
    return page("demo/mail.html", mail=mail, has_html=bool(parts["html"]), **parts)


@get("/demo/courriels/{number:int}/html", include_in_schema=False)
async def mail_html(request: Request, access: Scope, number: int) -> Response[str]:
    html = _parts((await _mail(request, access, number)).message)["html"]
    if not html:
        raise NotFoundException()
    return Response(
        framed_html(html),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": FRAMED_MAIL_POLICY, "Referrer-Policy": "no-referrer"},
    )


@get("/demo/courriels/{number:int}/invite.ics", include_in_schema=False)
async def mail_calendar(request: Request, access: Scope, number: int) -> Response[bytes]:
    mail = await _mail(request, access, number)
    calendar = _parts(mail.message)["calendar"]
    if not calendar:
        raise NotFoundException()
    return Response(
        calendar.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="invitation-{number}.ics"'},
    )


ROUTES: list[Any] = [mail_list, mail_detail, mail_html, mail_calendar]
