"""The pages every State site must publish, linked from the footer and open without signing in:
the accessibility statement (RGAA 4.1 form), the legal notice, personal data, and the site map.

They are public (listed in the app's `PUBLIC_PATHS`), so the authentication middleware does not run
on them; a signed-in visitor is still recognised from the session cookie, so that the header shows
their navigation and the site map lists their own pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.response import Template

from coord.access import Principal
from coord.core.settings import current_settings
from coord.web.auth import SESSION_TOKEN_KEY, PrincipalLoaders

# The date of the accessibility audit the statement reports on (RGAA: « Établissement de cette déclaration »).
STATEMENT_DATE = dt.date(2026, 12, 2)
PATHS = ("/accessibilite", "/mentions-legales", "/donnees-personnelles", "/plan-du-site")


async def _visitor(request: Request) -> Principal | None:
    """The signed-in user, if the request carries a valid session (these pages also serve everyone)."""
    session = request.scope.get("session") or {}
    token = session.get(SESSION_TOKEN_KEY) if isinstance(session, dict) else None
    if not isinstance(token, str) or not token:
        return None
    loaders: PrincipalLoaders = request.app.state.principals
    signed_in = await loaders.for_session(token)
    if signed_in is None:
        return None
    request.scope["user"] = signed_in.principal  # the header's navigation and logout button
    return signed_in.principal


async def _page(request: Request, template: str, section: str, **context: Any) -> Template:
    user = await _visitor(request)
    settings = current_settings()
    return Template(
        template_name=template,
        context={
            "section": section,
            "visitor": user,
            "organiser_name": settings.organiser_name,
            "organiser_email": settings.organiser_email,
            "base_url": settings.base_url,
            **context,
        },
    )


@get("/accessibilite", include_in_schema=False, opt={"exclude_from_auth": True})
async def accessibility(request: Request) -> Template:
    return await _page(request, "legal/accessibility.html", "legal", statement_date=STATEMENT_DATE)


@get("/mentions-legales", include_in_schema=False, opt={"exclude_from_auth": True})
async def legal_notice(request: Request) -> Template:
    return await _page(request, "legal/notice.html", "legal")


@get("/donnees-personnelles", include_in_schema=False, opt={"exclude_from_auth": True})
async def personal_data(request: Request) -> Template:
    settings = current_settings()
    return await _page(
        request,
        "legal/personal_data.html",
        "legal",
        session_hours=settings.session_hours,
        invitation_days=settings.invitation_days,
        mail_retention_days=settings.mail_retention_days,
        api_token_days=settings.api_token_days,
    )


@get("/plan-du-site", include_in_schema=False, opt={"exclude_from_auth": True})
async def site_map(request: Request) -> Template:
    return await _page(request, "legal/site_map.html", "legal")


ROUTES: list[Any] = [accessibility, legal_notice, personal_data, site_map]
