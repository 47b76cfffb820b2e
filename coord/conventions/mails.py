"""Mails about conventions, queued in the outbox inside the caller's transaction.

Each mail has a stable `dedupe_key`: a request, each signature reminder (per signatory and lead
time) and each expiry reminder (per period, lead time and recipient) is queued once, whoever calls
and however often.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import system_scope
from coord.accounts.tables import User
from coord.conventions import lifecycle
from coord.conventions.models import ConventionModel
from coord.core.settings import current_settings
from coord.links import service as links
from coord.mail import outbox
from coord.mail import render as mails

LINK_PURPOSE = "signature"
LINK_VALIDITY = dt.timedelta(days=180)


def signature_key(convention_id: int, signatory_id: int, reminder_day: int | None) -> str:
    if reminder_day is None:
        return f"convention:{convention_id}:signature-request:{signatory_id}"
    return f"convention:{convention_id}:signature-reminder:{signatory_id}:{reminder_day}"


def expiry_key(convention_id: int, ends_on: dt.date, day: int, email: str) -> str:
    return f"convention:{convention_id}:expiry-reminder:{ends_on.isoformat()}:{day}:{email}"


async def queue_signature_mail(
    convention: dict[str, Any],
    signatory: dict[str, Any],
    model: ConventionModel,
    *,
    now: dt.datetime,
    reminder_day: int | None,
) -> bool:
    """The request (reminder_day None) or a reminder, with a fresh signed link to sign online."""
    key = signature_key(convention["id"], signatory["id"], reminder_day)
    if await outbox.already_queued(key):
        return False
    token = await links.issue(
        LINK_PURPOSE,
        signatory["id"],
        department_id=convention["department"],
        contact_id=signatory["contact"],
        valid_for=LINK_VALIDITY,
        now=now,
    )
    settings = current_settings()
    context = {
        "convention": convention,
        "signatory": signatory,
        "model": model,
        "link": f"{settings.base_url}/r/signature/{token}",
        "reminder_day": reminder_day,
        "settings": settings,
    }
    mail = mails.render("convention_signature", context)
    return await outbox.queue(
        dedupe_key=key,
        kind="convention_signature_reminder" if reminder_day else "convention_signature",
        to_email=signatory["email"],
        to_name=signatory["signer_name"] or signatory["contact_name"] or signatory["organisation_name"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=convention["department"],
        entity="convention",
        entity_id=convention["id"],
    )


async def prefecture_recipients(department_id: int) -> list[tuple[str, str]]:
    """Who is told that a convention nears its end: the prefecture agents of the département, or
    the organiser mailbox when there is none."""
    rows = await (
        system_scope(department_id)
        .select(User, User.email, User.full_name)
        .where((User.role == "prefecture") & (User.active.eq(True)))
    )
    if rows:
        return [(r["email"], r["full_name"]) for r in rows]
    settings = current_settings()
    return [(settings.organiser_email, settings.organiser_name)]


async def queue_expiry_mail(convention: dict[str, Any], model: ConventionModel, day: int) -> int:
    settings = current_settings()
    notice = lifecycle.notice_days(model)
    context = {
        "convention": convention,
        "model": model,
        "days": day,
        "notice_deadline": convention["ends_on"] - dt.timedelta(days=notice) if model.renewal_notice_days else None,
        "url": f"{settings.base_url}/d/{convention['department_code']}/conventions/{convention['id']}",
        "settings": settings,
    }
    mail = mails.render("convention_expiry", context)  # text only
    count = 0
    for email, name in await prefecture_recipients(convention["department"]):
        count += await outbox.queue(
            dedupe_key=expiry_key(convention["id"], convention["ends_on"], day, email),
            kind="convention_expiry",
            to_email=email,
            to_name=name,
            subject=mail.subject,
            text=mail.text,
            department_id=convention["department"],
            entity="convention",
            entity_id=convention["id"],
        )
    return count
