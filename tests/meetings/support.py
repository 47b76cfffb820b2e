"""What partners' calendars received: the outbox rows of one meeting, read as iCalendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar

from tests.conftest import run
from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee
from tests.support.ics_validators import assert_valid_ics


@dataclass(frozen=True)
class Received:
    """One calendar mail as its recipient's client sees it."""

    to: str
    kind: str
    method: str
    sequence: int
    status: str | None
    attendees: dict[str, dict[str, str]]  # address → parameters (PARTSTAT, DELEGATED-TO...)
    summary: str
    body: str
    dedupe_key: str


def received(meeting_id: int, *, validate: bool = False) -> list[Received]:
    """Every calendar mail queued for the meeting, oldest first."""
    from coord.mail.tables import OutboxMessage

    rows = run(
        OutboxMessage.select()
        .where((OutboxMessage.entity == "meeting") & (OutboxMessage.entity_id == meeting_id))
        .order_by(OutboxMessage.id)
    )
    out = []
    for row in rows:
        if not row["calendar"]:
            continue
        raw = row["calendar"]
        data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
        if validate:
            assert_valid_ics(data)
        calendar = Calendar.from_ical(data)
        event = calendar.walk("VEVENT")[0]
        attendees = event.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        out.append(
            Received(
                to=row["to_email"].lower(),
                kind=row["kind"],
                method=str(calendar["METHOD"]),
                sequence=int(event["SEQUENCE"]),
                status=str(event["STATUS"]) if "STATUS" in event else None,
                attendees={str(a).lower().removeprefix("mailto:"): dict(a.params) for a in attendees},
                summary=str(event["SUMMARY"]),
                body=row["body_text"] or "",
                dedupe_key=row["dedupe_key"],
            )
        )
    return out


def of(mails: list[Received], to: str) -> list[Received]:
    return [m for m in mails if m.to == to.lower()]


def convened_meeting(api: Any, *, days: int = 40, members: int = 3) -> tuple[dict[str, Any], dict[str, Any]]:
    """A meeting convened `days` ahead (a working day), with the committee seeded for it."""
    from coord.territory.working_days import is_working_day, next_working_day

    seed = seed_committee(api, members=members)
    start = local_in(days)
    if not is_working_day(start.date(), "34"):
        start = dt.datetime.combine(next_working_day(start.date(), "34"), start.time())
    meeting = new_meeting(api, seed["committee"]["id"], start).json()
    convened = api.post(f"/api/meetings/{meeting['id']}/convene", json={})
    assert convened.status_code == 200, convened.text
    return convened.json(), seed


def invitations(api: Any, meeting_id: int) -> dict[str, dict[str, Any]]:
    """The active invitations of a meeting by e-mail, as the API shows them."""
    items = api.get(f"/api/meetings/{meeting_id}/invitations").json()["items"]
    return {i["email"].lower(): i for i in items}
