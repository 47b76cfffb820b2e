"""Rules of the cycle: local holidays and summer time in proposed dates, the legal convocation delay,
configuration checks, the dry run, and dates marked unavailable."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT, run
from tests.scheduling.support import kinds_of, outbox_rows, seed_cdpd

NOON = dt.time(12)


def _proposals(config: Any, year: int, codes: list[str], now: dt.datetime) -> dict[str, dt.datetime]:
    from coord.scheduling.cycle import build_slots, load_departments

    departments = run(load_departments(codes=codes))
    slots = run(build_slots(config, [year], now, departments))
    return {s.department["code"]: s.proposed_start for s in slots}


@pytest.mark.parametrize(
    ("anchor", "year", "holiday_in", "holiday"),
    [
        ("12-26", 2028, "57", dt.date(2028, 12, 26)),  # Saint-Étienne, Alsace-Moselle only (a Tuesday)
        ("04-03", 2026, "57", dt.date(2026, 4, 3)),  # Good Friday, Alsace-Moselle only
        ("06-10", 2026, "973", dt.date(2026, 6, 10)),  # abolition of slavery in Guyane (a Wednesday)
    ],
)
def test_a_local_public_holiday_is_never_proposed_where_it_is_one(db, anchor, year, holiday_in, holiday):
    from coord.scheduling.config import parse_cycle

    config = parse_cycle({"anchor": anchor, "window_days_before": 3, "window_days_after": 3})
    now = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    proposed = _proposals(config, year, ["75", holiday_in], now)
    # In Paris the anchor is an ordinary working day, and is proposed.
    assert proposed["75"].date() == holiday
    assert proposed[holiday_in].date() != holiday
    assert proposed[holiday_in].weekday() < 5
    for start in proposed.values():
        assert start.time() == dt.time(9, 30)


def test_the_meeting_is_at_half_past_nine_local_time_on_both_sides_of_a_dst_change(db):
    from coord.scheduling.config import parse_cycle

    # 27 March 2026 (Friday, winter time) and 30 March 2026 (Monday, summer time since the 29th).
    before = parse_cycle({"anchor": "03-27", "window_days_before": 0, "window_days_after": 0})
    after = parse_cycle({"anchor": "03-30", "window_days_before": 0, "window_days_after": 0})
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for config, offset in ((before, 1), (after, 2)):
        paris = _proposals(config, 2026, ["75", "973"], now)
        assert paris["75"].time() == dt.time(9, 30)
        assert paris["75"].utcoffset() == dt.timedelta(hours=offset)
        # Cayenne has no summer time: always UTC-3.
        assert paris["973"].astimezone(dt.UTC).time() == dt.time(12, 30)


def test_a_commission_meeting_twice_a_year_gets_a_spring_and_an_autumn_date(db, api_as):
    from coord.scheduling.config import cycle_config

    api = api_as("prefecture", "75")
    api.post("/api/committees", json={"name": "Commission TEH", "kind": "cdpd_commission_teh"})
    cycle = api.get("/api/departments/75/cycle", params={"year": 2027}).json()
    kinds = [(s["committee_kind"], s["slot"]) for s in cycle["slots"]]
    assert kinds == [("cdpd_pleniere", 0), ("cdpd_commission_teh", 0), ("cdpd_commission_teh", 1)]
    months = [int(s["proposed_start"][5:7]) for s in cycle["slots"]]
    assert months[1] == 4 and months[2] == 10
    # Two required meetings never share a day.
    assert cycle["slots"][0]["proposed_start"] != cycle["slots"][2]["proposed_start"]
    assert cycle_config().minimum_meetings["cdpd_commission_teh"] == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"minimum_meetings": {"inconnu": 1}}, "unknown committee kind"),
        ({"minimum_meetings": {"cdpd_pleniere": 0}}, "integer >= 1"),
        ({"anchor": "31-10"}, "MM-DD"),
        ({"start_time": "9h30"}, "HH:MM"),
        ({"convocation_days_before": -1}, "integer >= 0"),
        ({"window_days_before": 300, "window_days_after": 300}, "one year"),
        ({"typo_days": 3}, "unknown key"),
    ],
)
def test_an_invalid_cycle_configuration_is_refused_with_the_key_named(raw, message):
    from coord.scheduling.config import parse_cycle

    with pytest.raises(ValueError, match=message):
        parse_cycle(raw)


def test_a_convocation_later_than_five_days_before_is_refused_unless_urgent(api_as):
    api = api_as("prefecture", "75")
    committee = seed_cdpd(api, "75")["committee"]
    start = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(microsecond=0) + dt.timedelta(days=3)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "place": "Préfecture",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "confirm_day": True,  # three days from now may be a weekend
        },
    ).json()
    refused = api.post(f"/api/meetings/{meeting['id']}/convene", json={})
    assert refused.status_code == 422 and "cinq jours" in refused.text
    accepted = api.post(
        f"/api/meetings/{meeting['id']}/convene", json={"urgent": True, "urgency_reason": "Comité restreint à réunir"}
    )
    assert accepted.status_code in (200, 201), accepted.text


def test_the_dry_run_lists_what_the_tick_then_sends_and_writes_nothing(api_as, database):
    from coord.app.jobs import run_tick
    from coord.scheduling.tables import CycleProposal
    from coord.scheduling.tasks import plan_reminders

    seed_cdpd(api_as("prefecture", "75"), "75")
    at = dt.datetime(2026, 9, 10, 6, tzinfo=dt.UTC)
    planned = run(plan_reminders(at))
    assert {r.kind for r in planned} == {"cycle_proposal", "cycle_not_planned"}
    env = {"COORD_DATABASE_URL": database.url, "PICCOLO_CONF": "coord.app.piccolo_conf", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "worker", "--dry-run", "--at", "2026-09-10T08:00+02:00"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rien n'est envoyé" in result.stdout and "[cycle_not_planned]" in result.stdout
    assert "101 date(s) à proposer" in result.stdout
    assert outbox_rows() == [] and run(CycleProposal.count()) == 0
    report = run(run_tick(at))
    assert report.proposals == 101
    assert sorted(r["dedupe_key"] for r in outbox_rows()) == sorted(r.dedupe_key for r in planned)


def test_a_day_marked_unavailable_moves_the_proposal_and_the_new_date_is_mailed(api_as):
    from coord.app.jobs import run_tick

    api = api_as("prefecture", "75")
    at = dt.datetime(2026, 6, 1, 6, tzinfo=dt.UTC)
    run(run_tick(at))
    first = api.get("/api/departments/75/cycle", params={"year": 2026}).json()["slots"][0]
    assert first["proposal_stored"] and first["proposed_start"].startswith("2026-10-19T09:30")
    response = api.post("/api/departments/75/cycle/unavailable-dates", json={"date": "2026-10-19", "reason": "Visite"})
    assert response.status_code == 201
    run(run_tick(at + dt.timedelta(hours=1)))
    moved = api.get("/api/departments/75/cycle", params={"year": 2026}).json()
    assert moved["slots"][0]["proposed_start"].startswith("2026-10-20T09:30")  # Tuesday beats Friday 16th
    assert moved["unavailable_dates"] == [{"date": "2026-10-19", "reason": "Visite"}]
    assert kinds_of(outbox_rows())["cycle_proposal"] == 2
    assert api.delete("/api/departments/75/cycle/unavailable-dates", params={"date": "2026-10-19"}).status_code == 204
    assert api.get("/api/departments/75/cycle", params={"year": 2026}).json()["unavailable_dates"] == []


def test_every_job_of_the_list_runs_at_each_tick_with_the_same_instant(db):
    from coord.app import jobs

    calls: list[tuple[str, dt.datetime]] = []

    def job(name: str, queued: int):
        async def work(now: dt.datetime) -> int:
            calls.append((name, now))
            return queued

        return work

    at = dt.datetime(2026, 2, 1, 6, tzinfo=dt.UTC)
    report = run(jobs.run_tick(at, due_work=[("conventions", job("conventions", 1)), ("actions", job("actions", 2))]))
    assert calls == [("conventions", at), ("actions", at)]
    assert (report.conventions, report.actions, report.jobs) == (1, 2, {"conventions": 1, "actions": 2})
    assert [name for name, _ in jobs.DUE_WORK] == [
        "conventions",
        "actions",
        "notifications",
        "notification_digests",
        "series",
        "polls",
    ]
