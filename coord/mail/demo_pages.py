"""Demo mode: an SMTP sink on loopback captures every mail, and these pages show them, so a newcomer
sees exactly what partners receive (body, answer links, the .ics invitation)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from coord.mail.sink import SmtpSink
from coord.web.forms import page


def _sink(request: Request) -> SmtpSink:
    sink = getattr(request.app.state, "mail_sink", None)
    if not request.app.state.demo or sink is None:
        raise NotFoundException()
    return sink


def _parts(message: Any) -> dict[str, Any]:
    text = html = calendar = ""
    method = ""
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


@get("/demo/courriels", include_in_schema=False)
async def mail_list(request: Request) -> Template:
    mails = list(reversed(_sink(request).mails))
    return page("demo/mails.html", mails=mails)


@get("/demo/courriels/{number:int}", include_in_schema=False)
async def mail_detail(request: Request, number: int) -> Template:
    mail = _sink(request).get(number)
    if mail is None:
        raise NotFoundException()
    return page("demo/mail.html", mail=mail, **_parts(mail.message))


@get("/demo/courriels/{number:int}/invite.ics", include_in_schema=False)
async def mail_calendar(request: Request, number: int) -> Response[bytes]:
    mail = _sink(request).get(number)
    calendar = _parts(mail.message)["calendar"] if mail else ""
    if not calendar:
        raise NotFoundException()
    return Response(
        calendar.encode(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="invitation-{number}.ics"'},
    )


ROUTES: list[Any] = [mail_list, mail_detail, mail_calendar]
