"""A whole year of the yearly cycle, tick by tick, for Paris (75), Moselle (57) and Guyane (973).

The prefectures in this story only act when Coord reminds them: so each reminder of the cycle is
due once, and must be sent exactly once, even though the tick runs twice each day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from coord.core.clock import FrozenClock
from tests.conftest import run
from tests.scheduling.support import kinds_of, outbox_rows, seed_cdpd

DEPARTMENTS = {"75": "Europe/Paris", "57": "Europe/Paris", "973": "America/Cayenne"}


async def _meeting_of(code: str) -> dict[str, Any] | None:
    from coord.meetings.tables import Meeting

    return await Meeting.select().where((Meeting.department.code == code) & (Meeting.kind == "annuelle_teh")).first()


async def _react(code: str, now: dt.datetime, seeds: dict[str, Any]) -> None:
    """What a prefecture that only acts on reminders does on the day `now`."""
    from coord.access import SYSTEM, Scope
    from coord.mail.tables import OutboxMessage
    from coord.meetings import minutes, service
    from coord.meetings.tables import Invitation
    from coord.scheduling import service as cycle

    scope, clock = Scope(SYSTEM), FrozenClock(now)
    rows = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.department == seeds[code]["department_id"]
    )
    kinds = {r["kind"] for r in rows}
    meeting = await _meeting_of(code)
    if meeting is None:
        if "cycle_not_planned" in kinds:
            await cycle.accept_proposal(scope, code, {"committee_kind": "cdpd_pleniere", "place": "Préfecture"}, now)
        return
    if meeting["status"] == "draft" and "cycle_convocation_due" in kinds:
        await service.convene(scope, meeting["id"], clock=clock)
        # The first member declines at once; the second never answers.
        declined = seeds[code]["contacts"][0]["id"]
        await Invitation.update({Invitation.answer: "declined", Invitation.answer_sequence: 1000}).where(
            (Invitation.meeting == meeting["id"]) & (Invitation.contact == declined)
        )
    elif meeting["status"] == "convened" and meeting["ends_at"] < now:
        await service.mark_held(scope, meeting["id"], clock=clock)
    elif meeting["status"] == "held" and meeting["minutes_published_at"] is None and "cycle_minutes_due" in kinds:
        current = await service.load(scope, meeting["id"])
        await minutes.update_minutes(
            scope,
            meeting["id"],
            {"version": current["version"], "minutes": "Présents : ... Points examinés : ..."},
            clock=clock,
        )
        await minutes.publish(scope, meeting["id"], clock=clock)


async def _state(code: str, now: dt.datetime) -> str:
    from coord.access import SYSTEM, Scope
    from coord.scheduling import service as cycle

    return (await cycle.department_cycle(Scope(SYSTEM), code, 2026, now))["state"]


async def _year(seeds: dict[str, Any]) -> dict[str, list[str]]:
    """Tick every day of 2026 at 07:00 UTC (twice: a second run at the same instant queues nothing)."""
    from piccolo.engine.postgres import PostgresEngine

    from coord.app.jobs import run_tick
    from coord.core.db import current_engine

    engine = current_engine()
    pooled = isinstance(engine, PostgresEngine)
    if pooled:  # one event loop for the whole year: a pool makes the PostgreSQL run as fast as SQLite
        await engine.start_connection_pool(min_size=1, max_size=4)
    states: dict[str, list[str]] = {code: [] for code in DEPARTMENTS}
    try:
        day = dt.datetime(2026, 1, 1, 7, 0, tzinfo=dt.UTC)
        while day.year == 2026:
            first = await run_tick(day)
            again = await run_tick(day)
            assert not first.skipped and sum(again.queued.values()) == 0 and again.proposals == 0
            for code in DEPARTMENTS:
                state = await _state(code, day)
                if not states[code] or states[code][-1] != state:
                    states[code].append(state)
                await _react(code, day, seeds)
            day += dt.timedelta(days=1)
    finally:
        if pooled:
            await engine.close_connection_pool()
    return states


def test_a_year_of_reminders_each_sent_once_for_paris_moselle_and_guyane(api_as, smtp_sink):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from coord.scheduling.dates import is_working_day
    from coord.scheduling.tables import CycleProposal
    from coord.territory.tables import Department

    seeds: dict[str, Any] = {}
    apis = {}
    for code in DEPARTMENTS:
        api = apis[code] = api_as("prefecture", code)  # one prefecture agent per département
        seeds[code] = seed_cdpd(api, code)
        department = run(Department.select(Department.id).where(Department.code == code).first())
        seeds[code]["department_id"] = department["id"]
    # Moselle's prefect is away 12-23 October: the date moves past the end of summer time.
    moselle = apis["57"]
    for day in range(12, 24):
        response = moselle.post(
            "/api/departments/57/cycle/unavailable-dates",
            json={"date": f"2026-10-{day:02d}", "reason": "Agenda du préfet"},
        )
        assert response.status_code == 201, response.text

    states = run(_year(seeds))

    for code, tz in DEPARTMENTS.items():
        zone = ZoneInfo(tz)
        proposal = run(CycleProposal.select().where(CycleProposal.department == seeds[code]["department_id"]).first())
        start = proposal["proposed_start"].astimezone(zone)
        subdivision = {"57": "57", "973": "973"}.get(code)
        assert start.weekday() < 5 and is_working_day(start.date(), subdivision), (code, start)
        assert start.time() == dt.time(9, 30), (code, start)
        meeting = run(_meeting_of(code))
        assert meeting["starts_at"] == proposal["proposed_start"] and meeting["minutes_published_at"] is not None
        rows = outbox_rows(department=seeds[code]["department_id"])
        assert kinds_of(rows) == Counter(
            {
                "cycle_proposal": 1,
                "cycle_not_planned": 1,
                "cycle_convocation_due": 1,
                "cycle_minutes_due": 1,
                "convocation": 2,
                "minutes": 2,  # the published minutes, to each invitee
                "reminder:nudge": 1,
                "reminder:agenda": 1,
            }
        ), code
        # The invitee reminders went to the member who had not declined, and only to them.
        reminded = {r["to_email"] for r in rows if r["kind"] == "reminder"}
        assert reminded == {seeds[code]["contacts"][1]["email"]}
        assert states[code] == ["non_planifiee", "date_proposee", "convoquee", "tenue", "en_retard", "cr_publie"], code

    paris = run(CycleProposal.select().where(CycleProposal.department == seeds["75"]["department_id"]).first())
    moselle_row = run(CycleProposal.select().where(CycleProposal.department == seeds["57"]["department_id"]).first())
    guyane = run(CycleProposal.select().where(CycleProposal.department == seeds["973"]["department_id"]).first())
    # 09:30 local on both sides of the end of summer time (25 October 2026); Cayenne has no DST.
    assert paris["proposed_start"].astimezone(ZoneInfo("Europe/Paris")).utcoffset() == dt.timedelta(hours=2)
    assert moselle_row["proposed_start"].astimezone(ZoneInfo("Europe/Paris")).date() == dt.date(2026, 10, 26)
    assert moselle_row["proposed_start"].astimezone(ZoneInfo("Europe/Paris")).utcoffset() == dt.timedelta(hours=1)
    assert guyane["proposed_start"] == dt.datetime(2026, 10, 19, 12, 30, tzinfo=dt.UTC)

    # Every queued mail reaches the SMTP server once.
    report = run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=smtp_sink.port)))
    total = len(outbox_rows())
    assert report.sent == total and smtp_sink.received == total
    message_ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(set(message_ids)) == len(message_ids)
    subjects = Counter(m["Subject"].split(" :")[0] for m in smtp_sink.messages)
    assert subjects["Relance"] == 3 * 3  # not planned, convocation due, minutes due in each département
