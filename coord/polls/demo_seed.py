"""The demo's date poll in progress: the Hérault's commission on trafficking looks for a date with the
directrice de cabinet and the procureure as key members; two of its invitees have already answered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from coord.access import Scope
from coord.committees.tables import Committee
from coord.core import clock
from coord.meetings import service as meetings
from coord.partners.tables import Contact
from coord.polls import service
from coord.polls.suggestions import suggest
from coord.polls.tables import PollParticipant
from coord.territory.tables import Department
from coord.territory.working_days import is_working_day, next_working_day

KEY_MEMBERS = (("Anne", "Lefèvre"), ("Hélène", "Dubois"))
# Who has answered already, slot by slot (the others have not: the table shows them as awaited).
ANSWERS = {
    ("Anne", "Lefèvre"): ("yes", "no", "yes", "maybe"),
    ("Karim", "Saïdi"): ("yes", "yes", "maybe", "no"),
}


def _working_day_after(day: dt.date, days: int, subdivision: str) -> dt.date:
    for _ in range(days):
        day = next_working_day(day, subdivision)
    return day


async def seed_poll(scope: Scope) -> None:
    herault = await Department.select().where(Department.code == "34").first()
    committee = (
        await scope.within(herault["id"])
        .select(Committee, Committee.id)
        .where(Committee.kind == "cdpd_commission_teh")
        .order_by(Committee.id)
        .first()
    )
    if committee is None:
        return
    now = clock.now()
    zone = ZoneInfo(herault["timezone"])
    subdivision = herault["holiday_subdivision"] or "34"
    today = now.astimezone(zone).date()
    deadline_day = _working_day_after(today, 6, subdivision)
    deadline = dt.datetime.combine(deadline_day, dt.time(18, 0), zone)
    provisional = _working_day_after(deadline_day, 10, subdivision)
    meeting = await meetings.create_meeting(
        scope,
        {
            "committee": committee["id"],
            "title": "Commission TEH – repérage des mineurs victimes",
            "kind": "ordinaire",
            "date": provisional.isoformat(),
            "start_time": "14:00",
            "end_time": "16:00",
            "place": "Préfecture de l'Hérault, salle des commissions, Montpellier",
            "confirm_day": not is_working_day(provisional, subdivision),
        },
    )
    starts = await suggest(
        committee_id=committee["id"],
        exclude_meeting=meeting["id"],
        deadline=deadline,
        tz=herault["timezone"],
        subdivision=subdivision,
        at=dt.time(14, 0),
        count=4,
    )
    contacts = await scope.within(herault["id"]).select(Contact, Contact.id, Contact.first_name, Contact.last_name)
    contact_of = {(c["first_name"], c["last_name"]): c["id"] for c in contacts}
    data: dict[str, str] = {
        "deadline_date": deadline_day.isoformat(),
        "deadline_time": "18:00",
        "reminder_days": "2",
        "message": "Merci d'indiquer vos disponibilités : la présence du cabinet et du parquet est indispensable.",
    }
    for n, start in enumerate(starts):
        data |= {
            f"slot_date_{n}": start.date().isoformat(),
            f"slot_time_{n}": start.strftime("%H:%M"),
            f"slot_duration_{n}": "120",
        }
    for name in KEY_MEMBERS:
        if name in contact_of:
            data[f"key_{contact_of[name]}"] = "on"
    poll = await service.create_poll(scope, meeting["id"], data, now=now)
    people = await PollParticipant.select(*PollParticipant.all_columns()).where(PollParticipant.poll == poll["id"])
    view = await service.answer_view(people[0])
    for person in people:
        answers = ANSWERS.get(next((n for n, i in contact_of.items() if i == person["contact"]), ("", "")))
        if answers:
            chosen = {f"slot_{s['id']}": answers[i % len(answers)] for i, s in enumerate(view["slots"])}
            await service.answer(person, chosen, now=now)
