"""The poll's mails, through the outbox: the invitation to answer, the reminder, « date retenue »."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.core.settings import current_settings
from coord.mail import outbox
from coord.mail import render as mails


def answer_url(token: str) -> str:
    return f"{current_settings().base_url}/r/sondage/{token}"


def _context(meeting: dict[str, Any], poll: dict[str, Any], person: dict[str, Any], **extra: Any) -> dict[str, Any]:
    settings = current_settings()
    return {
        "name": person["name"],
        "meeting": meeting,
        "poll": poll,
        "tz": meeting["timezone"],
        "organiser_name": settings.organiser_name,
        "organiser_email": settings.organiser_email,
        **extra,
    }


async def _queue(kind: str, key: str, person: dict[str, Any], poll: dict[str, Any], context: dict[str, Any]) -> bool:
    mail = mails.render(kind, context)
    return await outbox.queue(
        dedupe_key=key,
        kind=kind,
        to_email=person["email"],
        to_name=person["name"],
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        department_id=person["department"],
        entity="date_poll",
        entity_id=poll["id"],
    )


async def queue_invitation(
    meeting: dict[str, Any],
    poll: dict[str, Any],
    person: dict[str, Any],
    slots: list[tuple[dt.datetime, dt.datetime]],
    token: str,
) -> bool:
    context = _context(meeting, poll, person, slots=slots, url=answer_url(token))
    return await _queue("poll_invitation", f"poll-invitation:{person['id']}", person, poll, context)


async def queue_reminder(meeting: dict[str, Any], poll: dict[str, Any], person: dict[str, Any], token: str) -> bool:
    context = _context(meeting, poll, person, url=answer_url(token))
    return await _queue("poll_reminder", reminder_key(person["id"]), person, poll, context)


def reminder_key(participant_id: int) -> str:
    return f"poll-reminder:{participant_id}"


async def queue_chosen(meeting: dict[str, Any], poll: dict[str, Any], person: dict[str, Any]) -> bool:
    context = _context(meeting, poll, person)
    return await _queue("poll_chosen", f"poll-chosen:{person['id']}", person, poll, context)
