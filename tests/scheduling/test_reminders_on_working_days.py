"""Reminders go out on working days of their département.

A reminder whose day is a weekend or a public holiday of the département goes out on the working
day before, at its usual local hour (within office hours), in the département's own zone, and never
after the meeting it announces. The scheduler ticks as in production (`run_tick`, twice at each
instant: the second run queues nothing), the mails land in the real outbox, and we note at which
tick each one first appeared.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import run
from tests.scheduling.support import outbox_rows, seed_cdpd

PARIS = "Europe/Paris"


def at(tz: str, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def every(tz: str, days: list[dt.date], times: tuple[tuple[int, int], ...]) -> list[dt.datetime]:
    """Tick instants: each of `days` at each local (hour, minute) of `times`."""
    return [dt.datetime.combine(day, dt.time(h, m), ZoneInfo(tz)) for day in days for h, m in times]


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


async def _tick(instants: list[dt.datetime]) -> dict[str, tuple[str, dt.datetime]]:
    """Run the scheduler's tick at each instant (twice); {dedupe key: (kind, first tick that had it)}."""
    from piccolo.engine.postgres import PostgresEngine

    from coord.app.jobs import run_tick
    from coord.core.db import current_engine
    from coord.mail.tables import OutboxMessage

    engine = current_engine()
    pooled = isinstance(engine, PostgresEngine)
    if pooled:  # one event loop for every tick: a pool keeps the PostgreSQL run short
        await engine.start_connection_pool(min_size=1, max_size=4)
    seen: dict[str, tuple[str, dt.datetime]] = {}
    try:
        for instant in instants:
            first = await run_tick(instant)
            again = await run_tick(instant)
            assert not first.skipped and again.total == 0 and again.proposals == 0, instant
            for row in await OutboxMessage.select(OutboxMessage.dedupe_key, OutboxMessage.kind):
                seen.setdefault(row["dedupe_key"], (row["kind"], instant))
    finally:
        if pooled:
            await engine.close_connection_pool()
    return seen


def tick(instants: list[dt.datetime]) -> dict[str, tuple[str, dt.datetime]]:
    return run(_tick(sorted(instants)))


def invitee_reminders(seen: dict[str, tuple[str, dt.datetime]], meeting_id: int, tag: str) -> set[dt.datetime]:
    """When the « nudge » or « agenda » reminders of a meeting were first queued (one per invitee)."""
    return {
        instant
        for key, (kind, instant) in seen.items()
        if kind == "reminder" and key.startswith(f"reminder:{meeting_id}:") and key.endswith(f":{tag}")
    }


def convened_meeting(api: Any, code: str, starts: dt.datetime, convened: dt.datetime, **convene: Any) -> dict[str, Any]:
    """A meeting of the département's CDPD (two members, neither answers), convened at `convened`."""
    from coord.access import SYSTEM, Scope
    from coord.core.clock import FrozenClock
    from coord.meetings import service

    committee = seed_cdpd(api, code)["committee"]
    response = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": f"Séance plénière {code}",
            "kind": "ordinaire",
            "place": "Préfecture",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    meeting = response.json()
    run(service.convene(Scope(SYSTEM), meeting["id"], convene, clock=FrozenClock(convened)))
    return meeting


def draft_yearly_meeting(api: Any, code: str, starts: dt.datetime) -> dict[str, Any]:
    """The yearly (measure 22) meeting of the département, still a draft."""
    committee = seed_cdpd(api, code)["committee"]
    response = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- invitee reminders ----------------------------------------------------------------------------


def test_a_reminder_due_on_a_saturday_goes_out_on_the_friday_before_and_only_then(api_as, smtp_sink):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from coord.scheduling.tasks import plan_reminders

    api = api_as("prefecture", "75")
    # Tuesday 9 March 2027 at 10:00: the « J-10 » nudge falls on Saturday 27 February, the « J-3 »
    # agenda on Saturday 6 March.
    starts = at(PARIS, 2027, 3, 9)
    meeting = convened_meeting(api, "75", starts, convened=at(PARIS, 2027, 2, 15))

    # The dry run says why Friday.
    planned = [r for r in run(plan_reminders(at(PARIS, 2027, 2, 26, 10, 5))) if r.kind == "invitee_nudge"]
    assert len(planned) == 2
    assert all(
        "avancé au vendredi 26 février 2027 à 10 h 00 : samedi 27 février 2027 non ouvré" in r.summary for r in planned
    )

    all_day_on_saturdays = every(
        PARIS, [dt.date(2027, 2, 27), dt.date(2027, 3, 6)], tuple((h, 30) for h in range(0, 24, 3))
    )
    seen = tick(
        every(PARIS, days(dt.date(2027, 2, 25), dt.date(2027, 3, 1)), ((9, 55), (10, 5), (16, 0)))
        + every(PARIS, days(dt.date(2027, 3, 4), dt.date(2027, 3, 8)), ((9, 55), (10, 5), (16, 0)))
        + all_day_on_saturdays
    )
    assert invitee_reminders(seen, meeting["id"], "nudge") == {at(PARIS, 2027, 2, 26, 10, 5)}
    assert invitee_reminders(seen, meeting["id"], "agenda") == {at(PARIS, 2027, 3, 5, 10, 5)}

    # Exactly once each, although the tick also ran all day on the Saturdays they were due on.
    rows = [r for r in outbox_rows() if r["kind"] == "reminder"]
    assert Counter(r["dedupe_key"].rsplit(":", 1)[-1] for r in rows) == {"nudge": 2, "agenda": 2}
    assert len({r["dedupe_key"] for r in rows}) == 4
    report = run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=smtp_sink.port)))
    total = len(outbox_rows())
    assert report.sent == total and smtp_sink.received == total
    assert sum(1 for m in smtp_sink.messages if m["Subject"].startswith("Rappel")) == 4


def test_reminders_falling_on_christmas_and_new_years_day_go_out_the_working_day_before(api_as):
    api = api_as("prefecture", "75")
    # Monday 4 January 2027 at 10:00: « J-10 » is Friday 25 December, « J-3 » Friday 1 January.
    meeting = convened_meeting(api, "75", at(PARIS, 2027, 1, 4), convened=at(PARIS, 2026, 12, 14))
    christmas, new_year = (
        days(dt.date(2026, 12, 23), dt.date(2026, 12, 26)),
        days(dt.date(2026, 12, 30), dt.date(2027, 1, 2)),
    )
    seen = tick(every(PARIS, christmas + new_year, ((9, 55), (10, 5), (16, 0))))
    assert invitee_reminders(seen, meeting["id"], "nudge") == {at(PARIS, 2026, 12, 24, 10, 5)}
    assert invitee_reminders(seen, meeting["id"], "agenda") == {at(PARIS, 2026, 12, 31, 10, 5)}


def test_easter_monday_moves_a_reminder_to_good_friday_in_paris_and_to_thursday_in_moselle(api_as):
    # Thursday 16 April 2026 at 10:00: « J-10 » is Easter Monday 6 April. Good Friday (3 April) is a
    # working day in Paris and a public holiday in Moselle.
    paris = convened_meeting(api_as("prefecture", "75"), "75", at(PARIS, 2026, 4, 16), at(PARIS, 2026, 3, 23))
    moselle = convened_meeting(api_as("prefecture", "57"), "57", at(PARIS, 2026, 4, 16), at(PARIS, 2026, 3, 23))
    seen = tick(every(PARIS, days(dt.date(2026, 4, 1), dt.date(2026, 4, 7)), ((9, 55), (10, 5), (16, 0))))
    assert invitee_reminders(seen, paris["id"], "nudge") == {at(PARIS, 2026, 4, 3, 10, 5)}
    assert invitee_reminders(seen, moselle["id"], "nudge") == {at(PARIS, 2026, 4, 2, 10, 5)}


def test_saint_stephens_day_moves_a_moselle_reminder_over_christmas_but_not_a_paris_one(api_as):
    # Friday 29 December 2028 at 10:00: « J-3 » is Tuesday 26 December, Saint-Étienne in Moselle;
    # Monday 25 is Christmas, so Moselle's reminder goes on Friday 22.
    paris = convened_meeting(api_as("prefecture", "75"), "75", at(PARIS, 2028, 12, 29), at(PARIS, 2028, 12, 1))
    moselle = convened_meeting(api_as("prefecture", "57"), "57", at(PARIS, 2028, 12, 29), at(PARIS, 2028, 12, 1))
    seen = tick(every(PARIS, days(dt.date(2028, 12, 21), dt.date(2028, 12, 27)), ((9, 55), (10, 5), (16, 0))))
    assert invitee_reminders(seen, paris["id"], "agenda") == {at(PARIS, 2028, 12, 26, 10, 5)}
    assert invitee_reminders(seen, moselle["id"], "agenda") == {at(PARIS, 2028, 12, 22, 10, 5)}


def test_la_reunion_sends_its_reminder_before_its_own_abolition_day_at_its_own_office_hour(api_as):
    reunion = "Indian/Reunion"  # UTC+4
    # Thursday 23 December 2027 at 10:00 in Saint-Denis: « J-3 » is Monday 20 December, the
    # abolition of slavery in La Réunion (a working day in Paris).
    meeting = convened_meeting(api_as("prefecture", "974"), "974", at(reunion, 2027, 12, 23), at(reunion, 2027, 12, 1))
    seen = tick(every(reunion, days(dt.date(2027, 12, 16), dt.date(2027, 12, 21)), ((9, 55), (10, 5), (16, 0))))
    assert invitee_reminders(seen, meeting["id"], "agenda") == {at(reunion, 2027, 12, 17, 10, 5)}
    # 10:05 in Saint-Denis is 06:05 UTC (07:05 in Paris): the Paris office hour plays no part.
    assert at(reunion, 2027, 12, 17, 10, 5).astimezone(dt.UTC).hour == 6


def test_a_reminder_moved_across_the_end_of_summer_time_keeps_its_local_hour(api_as):
    # Wednesday 4 November 2026 at 09:30 (winter time): « J-10 » is Sunday 25 October, the day summer
    # time ends; « J-3 » is Sunday 1 November (All Saints' Day too). Both go on the Friday before, at
    # 09:30 local time: 07:30 UTC in summer time, 08:30 UTC in winter time.
    meeting = convened_meeting(api_as("prefecture", "75"), "75", at(PARIS, 2026, 11, 4, 9, 30), at(PARIS, 2026, 10, 5))
    instants = [
        dt.datetime(2026, 10, 23, hour, minute, tzinfo=dt.UTC) for hour, minute in ((7, 25), (7, 35), (8, 35))
    ] + [dt.datetime(2026, 10, 30, hour, minute, tzinfo=dt.UTC) for hour, minute in ((7, 35), (8, 25), (8, 35))]
    seen = tick(instants)
    assert invitee_reminders(seen, meeting["id"], "nudge") == {dt.datetime(2026, 10, 23, 7, 35, tzinfo=dt.UTC)}
    assert invitee_reminders(seen, meeting["id"], "agenda") == {dt.datetime(2026, 10, 30, 8, 35, tzinfo=dt.UTC)}


def test_a_reminder_is_never_sent_after_the_meeting_it_announces(api_as):
    # Both meetings on Tuesday 7 April 2026, convened urgently on Saturday 4 April at 08:00, just
    # before their « J-3 » agenda reminder (10:00 and 09:00). Friday is behind the convocation, and
    # Monday 6 is Easter Monday.
    urgent = {"urgent": True, "urgency_reason": "Réunion de crise"}
    convened = at(PARIS, 2026, 4, 4, 8, 0)
    at_ten = convened_meeting(api_as("prefecture", "75"), "75", at(PARIS, 2026, 4, 7, 10, 0), convened, **urgent)
    at_nine = convened_meeting(api_as("prefecture", "92"), "92", at(PARIS, 2026, 4, 7, 9, 0), convened, **urgent)
    seen = tick(
        every(PARIS, days(dt.date(2026, 4, 4), dt.date(2026, 4, 6)), ((8, 5), (10, 5), (16, 0)))
        + every(PARIS, [dt.date(2026, 4, 7)], ((8, 5), (9, 5), (11, 0)))
    )
    # The 10:00 meeting's reminder waits for the first working moment, 09:00 on Tuesday: before it.
    assert invitee_reminders(seen, at_ten["id"], "agenda") == {at(PARIS, 2026, 4, 7, 9, 5)}
    # For the 09:00 meeting no working moment is left: the reminder goes at once rather than never.
    assert invitee_reminders(seen, at_nine["id"], "agenda") == {at(PARIS, 2026, 4, 4, 8, 5)}
    # Convened after their « J-10 » point, they get no nudge.
    assert not invitee_reminders(seen, at_ten["id"], "nudge") and not invitee_reminders(seen, at_nine["id"], "nudge")


# -- the prefecture's reminders of the yearly cycle -----------------------------------------------


def test_a_proposal_period_opening_on_a_saturday_is_announced_on_friday_at_09_00_in_each_zone(api_as):
    from coord.territory.tables import Department

    api_as("prefecture", "75")
    api_as("prefecture", "973")
    # The 2026 proposal period opens on Saturday 30 May (120 days before the window): each
    # prefecture is told on Friday 29 May, when its office opens in its own zone.
    seen = tick(
        [dt.datetime(2026, 5, 29, hour, minute, tzinfo=dt.UTC) for hour, minute in ((6, 55), (7, 5), (11, 55), (12, 5))]
        + [dt.datetime(2026, 5, 30, 12, 5, tzinfo=dt.UTC)]
    )
    ids = {r["code"]: r["id"] for r in run(Department.select(Department.code, Department.id))}

    def told(code: str) -> list[dt.datetime]:
        prefix = f"cycle_proposal:{ids[code]}:"
        return [i for k, (kind, i) in seen.items() if kind == "cycle_proposal" and k.startswith(prefix)]

    assert told("75") == [dt.datetime(2026, 5, 29, 7, 5, tzinfo=dt.UTC)]  # 09:05 in Paris
    assert told("973") == [dt.datetime(2026, 5, 29, 12, 5, tzinfo=dt.UTC)]  # 09:05 in Cayenne


def test_guadeloupe_is_reminded_to_convene_before_its_abolition_day_at_its_own_hour(api_as):
    guadeloupe = "America/Guadeloupe"  # UTC-4
    # The yearly meeting on Thursday 11 June 2026 at 09:30, still a draft: the « not convened 15 days
    # before » reminder falls on Wednesday 27 May, the abolition of slavery in Guadeloupe (a working
    # day in Paris). It goes on Tuesday 26 May at 09:30 Guadeloupe time (13:30 UTC).
    meeting = draft_yearly_meeting(api_as("prefecture", "971"), "971", at(guadeloupe, 2026, 6, 11, 9, 30))
    seen = tick(
        every(guadeloupe, [dt.date(2026, 5, 25)], ((9, 35), (16, 0)))
        + every(guadeloupe, [dt.date(2026, 5, 26)], ((9, 25), (9, 35)))
        + every(guadeloupe, [dt.date(2026, 5, 27)], ((9, 35),))
    )
    due = [i for k, (kind, i) in seen.items() if kind == "cycle_convocation_due" and f":{meeting['id']}:" in k]
    assert due == [at(guadeloupe, 2026, 5, 26, 9, 35)]
    assert due[0].astimezone(dt.UTC) == dt.datetime(2026, 5, 26, 13, 35, tzinfo=dt.UTC)


# -- the conventions' reminders -------------------------------------------------------------------


def _scope(code: str) -> Any:
    from coord.access import Principal, Scope
    from coord.access.roles import Role
    from coord.territory.tables import Department

    department = run(Department.select(Department.id).where(Department.code == code).first())
    return Scope(
        Principal(
            user_id=None,
            email=f"agent@pref{code}.gouv.fr",
            full_name="Agent",
            role=Role.PREFECTURE,
            department_id=department["id"],
            department_code=code,
        )
    )


LABOUR_ROLES = [
    ("prefecture", "prefet"),
    ("ddets", "ddets"),
    ("autre", "employeurs"),
    ("autre", "syndicats"),
    ("autre", "chambre_consulaire"),
]


def _labour_convention(api: Any, code: str, roles: list[tuple[str, str]]) -> tuple[dict[str, Any], list[Any]]:
    """The labour-exploitation convention of `code` with a signatory (organisation and contact) per role."""
    from coord.conventions import service

    scope = _scope(code)
    convention = run(service.create_convention(scope, {"model": "exploitation-travail", "title": f"Travail {code}"}))
    signatories = []
    for kind, role in roles:
        org = api.post("/api/organisations", json={"name": f"{role} {code}", "kind": kind}).json()
        contact = api.post(
            "/api/contacts",
            json={
                "organisation": org["id"],
                "first_name": "Claire",
                "last_name": role,
                "email": f"{role}.{code}@example.fr",
            },
        ).json()
        signatory = {"organisation": org["id"], "contact": contact["id"], "role": role, "signer_name": role}
        signatories.append(run(service.add_signatory(scope, convention["id"], signatory)))
    return convention, signatories


def test_a_signature_reminder_on_saint_stephens_day_goes_out_before_christmas_in_moselle_only(api_as):
    from coord.conventions import service

    requested = at(PARIS, 2028, 12, 11)  # Monday: the « 15 days » reminder falls on Tuesday 26 December
    keys = {}
    for code in ("57", "75"):
        convention, (signatory,) = _labour_convention(api_as("prefecture", code), code, LABOUR_ROLES[:1])
        run(service.send_request(_scope(code), convention["id"], signatory["id"], now=requested))
        keys[code] = f"convention:{convention['id']}:signature-reminder:{signatory['id']}:15"
    seen = tick(every(PARIS, days(dt.date(2028, 12, 21), dt.date(2028, 12, 27)), ((9, 55), (10, 5), (16, 0))))
    assert seen[keys["57"]][1] == at(PARIS, 2028, 12, 22, 10, 5)  # Friday: 25 and 26 are holidays in Moselle
    assert seen[keys["75"]][1] == at(PARIS, 2028, 12, 26, 10, 5)  # Saint-Étienne is a working day in Paris
    assert sum(1 for r in outbox_rows() if r["kind"] == "convention_signature_reminder") == 2


def test_a_convention_expiry_reminder_due_on_a_sunday_goes_out_on_the_friday(api_as):
    from coord.conventions import service

    api = api_as("prefecture", "75")
    convention, signatories = _labour_convention(api, "75", LABOUR_ROLES)
    for signatory in signatories:
        signed = {"signed_on": "2026-01-16"}
        current = run(service.sign(_scope("75"), convention["id"], signatory["id"], signed, now=at(PARIS, 2026, 1, 16)))
    assert current["status"] == "in_force" and current["ends_on"] == dt.date(2029, 1, 16)
    # Reminders 120, 60 and 30 days before the end: Monday 18 September, Friday 17 November and
    # Sunday 17 December 2028, which goes on Friday 15.
    seen = tick(
        every(PARIS, [dt.date(2028, 9, 18), dt.date(2028, 11, 17)], ((10, 5),))
        + every(PARIS, days(dt.date(2028, 12, 14), dt.date(2028, 12, 18)), ((10, 5),))
    )
    sent = {
        int(key.split(":")[4]): instant.date() for key, (kind, instant) in seen.items() if kind == "convention_expiry"
    }
    assert sent == {120: dt.date(2028, 9, 18), 60: dt.date(2028, 11, 17), 30: dt.date(2028, 12, 15)}
