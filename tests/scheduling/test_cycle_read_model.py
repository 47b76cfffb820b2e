"""The national table of the cycle reads stored slots, and is at every moment what a fresh derivation
of every département gives: after each kind of change (by the services, the scheduler, or SQL written
by another process), and when the clock alone moves a state."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run
from tests.scheduling.support import seed_cdpd

JUNE = dt.datetime(2026, 6, 15, 8, tzinfo=dt.UTC)
PARIS = ZoneInfo("Europe/Paris")
TICK = dt.timedelta(microseconds=1)


@pytest.fixture
def clock() -> Iterator[Any]:
    """The services read the process clock: mid-June 2026, the yearly meeting is still to plan."""
    from coord.core.clock import FrozenClock, use_clock

    frozen = FrozenClock(JUNE)
    use_clock(frozen)
    try:
        yield frozen
    finally:
        use_clock(None)


def national(year: int, now: dt.datetime) -> list[dict[str, Any]]:
    from coord.access import system_scope
    from coord.scheduling.service import national_cycle

    return run(national_cycle(system_scope(), year, now))


def assert_exact(year: int, now: dt.datetime) -> list[dict[str, Any]]:
    """The national table equals every département derived afresh, slot by slot; returns the table."""
    from coord.access import system_scope
    from coord.scheduling import readmodel
    from coord.scheduling.config import cycle_config
    from coord.scheduling.cycle import build_slots
    from coord.scheduling.service import national_rows

    departments = run(system_scope().departments())
    fresh = run(build_slots(cycle_config(), [year], now, departments))
    table = national(year, now)
    assert table == national_rows(departments, fresh, year)
    assert run(readmodel.year_slots(system_scope(), cycle_config(), year, now, departments)) == fresh
    return table


def paris(table: list[dict[str, Any]]) -> dict[str, Any]:
    return next(row for row in table if row["department"] == "75")


def stored_ids() -> dict[int, set[int]]:
    """The stored rows' ids by département: they change only when a département is derived again."""
    from coord.scheduling.tables import CycleSlot

    found: dict[int, set[int]] = {}
    for row in run(CycleSlot.select(CycleSlot.id, CycleSlot.department)):
        found.setdefault(row["department"], set()).add(row["id"])
    return found


def department_id(code: str) -> int:
    from coord.territory.tables import Department

    return run(Department.select(Department.id).where(Department.code == code).first())["id"]


async def committed_elsewhere(db: Any, sql: str) -> None:
    """SQL committed by another connection, outside Coord's code (another process, a manual fix)."""
    if db.name == "sqlite":
        connection = sqlite3.connect(db.path)
        try:
            connection.execute(sql)
            connection.commit()
        finally:
            connection.close()
        return
    import asyncpg

    connection = await asyncpg.connect(db.url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def write_elsewhere(db: Any, sql: str) -> None:
    run(committed_elsewhere(db, sql))


def yearly_meeting(api: Any, committee_id: int, start: dt.datetime) -> dict[str, Any]:
    response = api.post(
        "/api/meetings",
        json={
            "committee": committee_id,
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_table_stays_exact_through_proposals_unavailable_days_and_a_meeting_s_life(db, clock, api_as):
    from coord.app.jobs import run_tick

    agent = api_as("prefecture", "75")
    before = assert_exact(2026, JUNE)
    assert paris(before)["slots"][0]["state"] == "non_planifiee"
    committee = seed_cdpd(agent, "75")["committee"]
    # A commission of the Hérault: two more meetings a year are required there.
    api_as("prefecture", "34").post("/api/committees", json={"name": "Commission TEH", "kind": "cdpd_commission_teh"})
    table = assert_exact(2026, JUNE)
    assert len(next(r for r in table if r["department"] == "34")["slots"]) == 3

    # The scheduler stores the proposals (no one audits them).
    run(run_tick(JUNE))
    table = assert_exact(2026, JUNE)
    proposed = paris(table)["slots"][0]
    assert proposed["proposal_stored"] and proposed["proposed_start"].startswith("2026-10-19T09:30")

    # The prefecture cannot do that day: the proposal moves.
    day = proposed["proposed_start"][:10]
    assert agent.post("/api/departments/75/cycle/unavailable-dates", json={"date": day}).status_code == 201
    table = assert_exact(2026, JUNE)
    assert not paris(table)["slots"][0]["proposed_start"].startswith(day)

    # The prefecture takes the proposed date: a draft meeting.
    accepted = agent.post(
        "/api/departments/75/cycle/accept", json={"year": 2026, "committee_kind": "cdpd_pleniere", "place": "Salle 2"}
    )
    assert accepted.status_code in (200, 201), accepted.text
    meeting = accepted.json()
    table = assert_exact(2026, JUNE)
    assert paris(table)["slots"][0]["meeting"]["id"] == meeting["id"]

    # Moved, then convened.
    start = dt.datetime(2026, 10, 13, 14, tzinfo=PARIS)
    moved = agent.patch(
        f"/api/meetings/{meeting['id']}",
        json={
            "version": meeting["version"],
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        },
    )
    assert moved.status_code == 200, moved.text
    table = assert_exact(2026, JUNE)
    assert paris(table)["slots"][0]["meeting"]["starts_at"] == start.isoformat()
    assert agent.post(f"/api/meetings/{meeting['id']}/convene", json={}).status_code == 200
    assert paris(assert_exact(2026, JUNE))["slots"][0]["state"] == "convoquee"

    # Renamed by a manual SQL fix on another connection: no process keeps an old copy.
    write_elsewhere(db, f"UPDATE meeting SET title = 'Réunion annuelle (salle Jean Moulin)' WHERE id = {meeting['id']}")
    table = assert_exact(2026, JUNE)
    assert paris(table)["slots"][0]["meeting"]["title"] == "Réunion annuelle (salle Jean Moulin)"

    # Cancelled: the slot has no meeting again; a new one is planned in its place.
    assert agent.post(f"/api/meetings/{meeting['id']}/cancel", json={}).status_code == 200
    assert paris(assert_exact(2026, JUNE))["slots"][0]["meeting"] is None
    again = yearly_meeting(agent, committee["id"], dt.datetime(2026, 10, 20, 9, 30, tzinfo=PARIS))
    assert paris(assert_exact(2026, JUNE))["slots"][0]["meeting"]["id"] == again["id"]
    assert agent.delete("/api/departments/75/cycle/unavailable-dates", params={"date": day}).status_code == 204
    assert_exact(2026, JUNE)


def test_a_change_derives_only_its_own_department_again(db, clock, api_as):
    agent = api_as("prefecture", "75")
    committee = seed_cdpd(agent, "75")["committee"]
    assert_exact(2026, JUNE)
    first = stored_ids()
    assert len(first) == 101
    # Reading again derives nothing.
    assert_exact(2026, JUNE)
    assert stored_ids() == first
    yearly_meeting(agent, committee["id"], dt.datetime(2026, 10, 20, 9, 30, tzinfo=PARIS))
    assert_exact(2026, JUNE)
    after = stored_ids()
    changed = {d for d in first if after[d] != first[d]}
    assert changed == {department_id("75")}


def test_a_state_moved_by_the_clock_changes_exactly_at_its_instant(db, clock, api_as):
    """Nothing is written between the reads: the stored rows are the same, the states follow the instant."""
    from coord.scheduling.config import cycle_config
    from coord.scheduling.dates import meeting_window

    config = cycle_config()
    agent = api_as("prefecture", "75")
    committee = seed_cdpd(agent, "75")["committee"]
    # No meeting in Paris: late from the first instant after its window's last day.
    last_day = meeting_window(2026, config.rule("cdpd_pleniere", 0))[1]
    window_end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    assert paris(assert_exact(2026, window_end - TICK))["slots"][0]["state"] == "non_planifiee"
    stored = stored_ids()
    assert paris(assert_exact(2026, window_end))["slots"][0]["state"] == "en_retard"
    assert stored_ids() == stored

    # A convened meeting: held when it ends, late when its minutes are overdue.
    start = dt.datetime(2026, 10, 20, 9, 30, tzinfo=PARIS)
    meeting = yearly_meeting(agent, committee["id"], start)
    assert agent.post(f"/api/meetings/{meeting['id']}/convene", json={}).status_code == 200
    ends = start + dt.timedelta(hours=2)
    # Thirty days of elapsed time (the end of summer time falls between: not the same wall-clock hour).
    minutes_due = start.astimezone(dt.UTC) + dt.timedelta(days=config.minutes_days_after)
    expected = [
        (ends - TICK, "convoquee"),
        (ends, "tenue"),
        (minutes_due, "tenue"),
        (minutes_due + TICK, "en_retard"),
    ]
    assert_exact(2026, JUNE)
    stored = stored_ids()
    for at, state in expected:
        assert paris(assert_exact(2026, at))["slots"][0]["state"] == state, at
    assert stored_ids() == stored


def test_a_draft_meeting_falls_late_when_it_can_no_longer_be_convened_in_time(db, clock, api_as):
    from coord.meetings.service import CONVOCATION_LEAD

    agent = api_as("prefecture", "75")
    committee = seed_cdpd(agent, "75")["committee"]
    start = dt.datetime(2026, 10, 20, 9, 30, tzinfo=PARIS)
    yearly_meeting(agent, committee["id"], start)
    last_moment = start - CONVOCATION_LEAD
    assert paris(assert_exact(2026, last_moment))["slots"][0]["state"] == "date_proposee"
    late = paris(assert_exact(2026, last_moment + TICK))["slots"][0]
    assert late["state"] == "en_retard" and "cinq jours" in late["late_reason"]


def test_a_derivation_overtaken_by_a_change_is_derived_again(db, clock, api_as, monkeypatch):
    """A process derives Paris, another commits a change before the first stores its rows: the rows
    stored last describe the older data, and the next read derives Paris again."""
    from coord.scheduling import readmodel

    agent = api_as("prefecture", "75")
    committee = seed_cdpd(agent, "75")["committee"]
    meeting = yearly_meeting(agent, committee["id"], dt.datetime(2026, 10, 20, 9, 30, tzinfo=PARIS))
    derive = readmodel.build_slots

    async def derive_then_overtaken(*args: Any, **kwargs: Any) -> Any:
        slots = await derive(*args, **kwargs)
        await committed_elsewhere(
            db, f"UPDATE meeting SET title = 'Titre corrigé entre-temps' WHERE id = {meeting['id']}"
        )
        return slots

    monkeypatch.setattr(readmodel, "build_slots", derive_then_overtaken)
    assert paris(national(2026, JUNE))["slots"][0]["meeting"]["title"] == "Réunion annuelle TEH"
    monkeypatch.setattr(readmodel, "build_slots", derive)
    table = assert_exact(2026, JUNE)
    assert paris(table)["slots"][0]["meeting"]["title"] == "Titre corrigé entre-temps"


def test_two_readers_deriving_at_once_store_one_exact_set_of_slots(db, clock, api_as):
    from coord.access import system_scope
    from coord.scheduling import readmodel
    from coord.scheduling.config import cycle_config
    from coord.scheduling.tables import CycleSlot

    seed_cdpd(api_as("prefecture", "75"), "75")
    api_as("prefecture", "34").post("/api/committees", json={"name": "Commission TEH", "kind": "cdpd_commission_teh"})

    async def two_readers() -> list[Any]:
        departments = await system_scope().departments()
        config = cycle_config()
        return await asyncio.gather(
            *(readmodel.year_slots(system_scope(), config, 2026, JUNE, departments) for _ in range(2))
        )

    first, second = run(two_readers())
    assert first == second
    assert run(CycleSlot.count().where(CycleSlot.year == 2026)) == len(first) == 101 + 2
    assert_exact(2026, JUNE)


def test_other_rules_derive_every_department_again(db, clock):
    """A row remembers the `[cycle]` rules it was derived under: a process with other rules does not
    take it as exact."""
    import dataclasses

    from coord.access import system_scope
    from coord.scheduling.config import cycle_config
    from coord.scheduling.service import national_cycle

    assert_exact(2026, JUNE)
    later = dataclasses.replace(cycle_config(), anchor_month=11)
    rows = run(national_cycle(system_scope(), 2026, JUNE, config=later))
    assert paris(rows)["slots"][0]["window_start"].startswith("2026-10-28")
    assert paris(rows)["slots"][0]["proposed_start"][:7] == "2026-11"
