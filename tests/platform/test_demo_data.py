"""The demo a newcomer clicks through: every demo account logs in and the main pages show its data."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run


def _load_demo() -> str:
    from coord.app.demo import DEMO_PASSWORD, load_demo

    run(load_demo())
    return DEMO_PASSWORD


# The engines on which today's demo is loaded and only read since (signing in adds sessions and journal
# lines, which none of the reading tests counts); a test that loads it at another instant takes it out.
_demo_of_today: set[str] = set()


@pytest.fixture
def db(request: pytest.FixtureRequest, database):
    """Empty tables as everywhere, except for the tests that read today's demo: they share one load."""
    from coord.accounts.tables import User
    from coord.core.db import use_engine

    use_engine(database.engine)
    # Today's demo is still there unless a test of another module emptied the tables in between.
    shared = "demo_password" in request.fixturenames and database.name in _demo_of_today
    if shared and run(User.exists().where(User.email == "prefecture34@demo.coord.fr")):
        return database
    _demo_of_today.discard(database.name)
    database.truncate()
    return database


@pytest.fixture
def demo_password(db) -> str:
    """Today's demo, loaded once per engine for the tests that only read it."""
    from coord.app.demo import DEMO_PASSWORD

    if db.name not in _demo_of_today:
        _load_demo()
        _demo_of_today.add(db.name)
    return DEMO_PASSWORD


def test_the_herault_prefecture_agent_finds_meetings_partners_and_the_convention(web, demo_password):
    password = demo_password
    web.login("prefecture34@demo.coord.fr", password)
    for path, expected in (
        ("/d/34", "Hérault"),
        ("/d/34/partenaires", "Parquet"),
        ("/d/34/instances", "CDPD"),
        ("/d/34/reunions", "Réunion"),
        ("/d/34/conventions", "protection des mineurs"),
        ("/journal", "Convention"),
        ("/d/34/actions", "dont 2 ouvertes et <strong>1 en retard</strong>"),
        ("/d/34/cycle", "Cycle"),
    ):
        page = web.get(path)
        assert page.status_code == 200, path
        assert expected in page.text, path
    listing = web.get("/d/34/conventions").text
    convention = re.search(r'href="(/d/34/conventions/\d+)"', listing)
    assert convention, "the demo convention is listed"
    detail = web.get(convention.group(1)).text
    assert "Procureur de la République" in detail
    assert "signée" in detail.lower() or "signé" in detail.lower()


def test_the_herault_agent_finds_a_date_poll_in_progress_a_quarterly_series_and_annexes(web, demo_password):
    web.login("prefecture34@demo.coord.fr", demo_password)
    dashboard = web.get("/d/34").text
    poll = re.search(r'href="(/d/34/reunions/\d+/sondage/\d+)">Commission TEH', dashboard)
    assert poll, "the dashboard lists the poll in progress"
    assert "2 réponse(s) sur" in dashboard
    table = web.get(poll.group(1)).text
    assert "Réponses par créneau" in table and "Sondage en cours" in table
    assert table.count("indispensable</span>") == 2  # the directrice de cabinet and the procureure
    assert "Retenir un créneau" in table
    committees = web.get("/d/34/instances").text
    cdpd = re.search(r'href="(/d/34/instances/\d+)"[^>]*>CDPD', committees)
    assert cdpd, "the CDPD is listed"
    assert "CDPD plénière — point trimestriel TEH" in web.get(cdpd.group(1)).text
    meetings = web.get("/d/34/reunions").text
    assert "Commission TEH – repérage des mineurs victimes" in meetings
    annual = re.findall(r'href="(/d/34/reunions/\d+)"', meetings)
    pages = [web.get(path).text for path in dict.fromkeys(annual)]
    assert any("Documents" in page and ".pdf" in page for page in pages), "a meeting carries its annexes"


def test_every_demo_account_logs_in_and_reaches_its_home(web, demo_password):
    from coord.app.demo import DEMO_USERS

    password = demo_password
    for email, _name, role, department in DEMO_USERS:
        web.http.cookies.clear()  # a fresh browser for each account
        web.login(email, password)
        home = web.get("/d/" + department if department else "/departements")
        assert home.status_code == 200, (email, role)
    web.http.cookies.clear()
    web.login("national@demo.coord.fr", password)
    coverage = web.get("/conventions/couverture")
    assert coverage.status_code == 200 and "Hérault" in coverage.text


# Two moments of the year: the window of the yearly meeting (18 October ± 21 days) still ahead, and
# closed. The demo is built from the clock at load time, whatever the day.
SPRING = dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)
NOVEMBER = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize("instant", [SPRING, NOVEMBER], ids=["spring", "november"])
def test_the_national_coordinator_sees_france_in_every_state_of_the_yearly_cycle(db, web, instant):
    from coord.access import SYSTEM, Scope
    from coord.core.clock import FrozenClock, use_clock
    from coord.meetings.tables import Meeting
    from coord.scheduling.service import national_cycle
    from coord.territory.tables import Department
    from coord.territory.working_days import is_working_day

    use_clock(FrozenClock(instant))
    try:
        password = _load_demo()
        rows = run(national_cycle(Scope(SYSTEM), instant.year, instant))
        states = Counter(r["state"] for r in rows)
        assert len(rows) == 101
        held = states["cr_publie"] + states["tenue"]
        assert held > len(rows) / 2, states  # most départements held theirs, minutes published
        assert states["convoquee"] >= 5 and states["date_proposee"] >= 5, states
        assert 0 < states["en_retard"] <= 20, states

        # Every meeting seeded for France is on a working day of its département, in its own zone (the
        # Hérault's past meeting was confirmed on whatever day it fell: it is the Hérault demo's own).
        zones = {
            d["id"]: d
            for d in run(
                Department.select(Department.id, Department.code, Department.timezone, Department.holiday_subdivision)
            )
        }
        seeded = run(Meeting.select(Meeting.department, Meeting.starts_at).where(Meeting.kind == "annuelle_teh"))
        assert len(seeded) > 80
        for meeting in seeded:
            department = zones[meeting["department"]]
            if department["code"] == "34":
                continue
            local = meeting["starts_at"].astimezone(ZoneInfo(department["timezone"]))
            assert local.time() == dt.time(9, 30), department["code"]
            subdivision = department["holiday_subdivision"] or department["code"]
            assert is_working_day(local.date(), subdivision), (department["code"], local)

        web.login("national@demo.coord.fr", password)
        views = {}
        for view in ("", "?vue=actions", "?vue=conventions"):
            page = web.get("/national" + view)
            assert page.status_code == 200, view
            views[view] = page.text
        assert "En retard" in views[""] and "Convoquée" in views[""]
    finally:
        use_clock(None)


def test_the_national_spread_is_the_same_at_every_load():
    from coord.app.demo import _assign

    codes = [f"{n:02d}" for n in range(1, 96)]
    assert _assign(codes) == _assign(list(reversed(codes)))
    assert {"held", "convened", "planned", "late"} <= set(_assign(codes).values())
