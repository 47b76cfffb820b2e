"""The poll reminder, run by the scheduler tick (`coord.app.jobs.DUE_WORK`): once, a configurable
number of working days before the deadline, to participants who have not answered, never on a
weekend or public holiday of the département. Reads open polls only, so its work follows the polls
in progress, not the history; the outbox dedupe key makes it once per participant."""

from __future__ import annotations

import datetime as dt

from coord.core import clock
from coord.core.db import transaction
from coord.links import service as links
from coord.mail import outbox
from coord.meetings import service as meetings
from coord.meetings.tables import Meeting
from coord.polls import mails
from coord.polls.service import LINK_GRACE, LINK_PURPOSE
from coord.polls.tables import DatePoll, PollParticipant
from coord.territory.working_days import add_working_days, is_working_day


def reminder_day(deadline_day: dt.date, days: int, subdivision: str | None) -> dt.date:
    return add_working_days(deadline_day, -days, subdivision) if days else deadline_day


async def due_poll_reminders(now: dt.datetime) -> int:
    polls = await DatePoll.select(
        *DatePoll.all_columns(),
        DatePoll.department.timezone.as_alias("timezone"),
        DatePoll.department.holiday_subdivision.as_alias("subdivision"),
    ).where((DatePoll.status == "open") & (DatePoll.deadline > now))
    queued = 0
    for poll in polls:
        today = clock.local_today(poll["timezone"], now)
        if not is_working_day(today, poll["subdivision"]):
            continue
        deadline_day = clock.local_today(poll["timezone"], poll["deadline"])
        if today < reminder_day(deadline_day, poll["reminder_days"], poll["subdivision"]):
            continue
        waiting = await PollParticipant.select(*PollParticipant.all_columns()).where(
            (PollParticipant.poll == poll["id"]) & PollParticipant.answered_at.is_null()
        )
        if not waiting:
            continue
        sent = await outbox.already_queued_many(mails.reminder_key(p["id"]) for p in waiting)
        waiting = [p for p in waiting if mails.reminder_key(p["id"]) not in sent]
        if not waiting:
            continue
        row = await Meeting.select(*meetings.MEETING_COLUMNS).where(Meeting.id == poll["meeting"]).first()
        if row is None:
            continue
        meeting = meetings.meeting_out(row)
        async with transaction():
            for person in waiting:
                token = await links.issue(
                    LINK_PURPOSE,
                    person["id"],
                    department_id=person["department"],
                    contact_id=person["contact"],
                    valid_for=poll["deadline"] - now + LINK_GRACE,
                    now=now,
                )
                queued += int(await mails.queue_reminder(meeting, poll, person, token))
    return queued
