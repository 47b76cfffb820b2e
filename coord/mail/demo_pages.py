"""Demo mode: an SMTP sink on loopback captures every mail, and these pages show them, so a newcomer
sees exactly what partners receive (body, answer links, the .ics invitation).

The pages need a login like every page, and answer 404 outside demo mode. `start_demo_sink` and
`stop_demo_sink` are for the application's lifespan.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from coord.mail.sink import SmtpSink
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


@get("/demo/courriels", include_in_schema=False)
async def mail_list(request: Request) -> Template:
    mails = list(reversed(_sink(request).mails))
    return page("demo/mails.html", mails=mails)


@get("/demo/courriels/{number:int}", include_in_schema=False)
async def mail_detail(request: Request, number: int) -> Template:
    mail = _sink(request).get(number)
    if mail is None:
        raise NotFoundException()
    parts = _parts(mail.message)
    return page("demo/mail.html", mail=mail, framed=framed_html(parts["html"]) if parts["html"] else "", **parts)


@get("/demo/courriels/{number:int}/invite.ics", include_in_schema=False)
async def mail_calendar(request: Request, number: int) -> Response[bytes]:
    mail = _sink(request).get(number)
    calendar = _parts(mail.message)["calendar"] if mail else ""
    if not calendar:
        raise NotFoundException()
    return Response(
        calendar.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="invitation-{number}.ics"'},
    )


ROUTES: list[Any] = [mail_list, mail_detail, mail_calendar]
