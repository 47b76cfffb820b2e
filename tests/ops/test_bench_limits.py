"""The benchmark's limit pages (`coord.bench.limits`) are Coord's pages: served by uvicorn next to
`coord serve` on the same benchmark database, each gives the national account the very bytes Coord
gives it (but the CSRF token), on SQLite and on PostgreSQL; and at an instant when an overseas
département already lives on the next day, their counts of overdue actions still follow each
département's own date, as Coord's do."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import ENGINES, run
from tests.ops.conftest import BenchDatabases

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ["/d/34/actions", "/d/34/actions?vue=tableau", "/actions"]
OVERSEAS = "974"  # La Réunion: UTC+4 all year, a day ahead of Paris every evening
OPEN = ("a_faire", "en_cours", "bloque")
TITLE = "Formation des agents de guichet"
CSRF = re.compile(r'name="_csrf_token" value="[^"]+"')


@dataclass
class Served:
    url: str
    coord: httpx.Client  # signed in as the benchmark's national account
    limit: httpx.Client


def _sign_in(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/connexion")
    token = CSRF.search(page.text).group(0).split('value="')[1].rstrip('"')
    response = client.post("/connexion", data={"email": email, "password": password, "_csrf_token": token})
    assert response.status_code == 303, response.text[:500]
    client.get("/plans")  # shows (and so spends) the welcome message


def _add_overseas_action(client: httpx.Client, due_on: dt.date) -> None:
    """An open action in La Réunion due on `due_on`, created through Coord's own form."""
    form = client.get(f"/d/{OVERSEAS}/actions/nouvelle")
    token = CSRF.search(form.text).group(0).split('value="')[1].rstrip('"')
    response = client.post(
        f"/d/{OVERSEAS}/actions/nouvelle",
        data={"title": TITLE, "due_on": due_on.isoformat(), "_csrf_token": token},
    )
    assert response.status_code == 303, response.text[:800]
    client.get("/plans")  # spends the « Action créée. » message


@pytest.fixture(scope="module", params=ENGINES)
def served(
    request: pytest.FixtureRequest, bench_databases: BenchDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Coord and the limit pages on a copy of the small benchmark database (each engine writes to its own)."""
    from coord.bench.load import wait_until_up
    from coord.bench.net import free_port
    from coord.bench.run import PASSWORD, copy_database

    database = None
    if request.param == "postgres":
        from coord.bench.postgres import drop_database, prepare_postgres

        database = f"coord_limits_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        url, _ = prepare_postgres(bench_databases.path(), database)
    else:
        copy = copy_database(bench_databases.path(), tmp_path_factory.mktemp("bench-limits") / "written.sqlite3")
        url = f"sqlite:///{copy}"
    coord_port, limit_port = free_port(), free_port()
    env = {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    coord = subprocess.Popen(
        [sys.executable, "-m", "coord.app.cli", "serve", "--port", str(coord_port), "--workers", "1"],
        cwd=ROOT,
        env={**env, "COORD_SCHEDULER_ENABLED": "false", "COORD_BASE_URL": f"http://127.0.0.1:{coord_port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    limit = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "coord.bench.limits:app", "--port", str(limit_port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{coord_port}/health", coord, "coord serve")
        wait_until_up(f"http://127.0.0.1:{limit_port}/limit/actions", limit, "the limit pages")
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{coord_port}", timeout=30) as signed_in,
            httpx.Client(base_url=f"http://127.0.0.1:{limit_port}/limit", timeout=30) as bare,
        ):
            _sign_in(signed_in, "bench@coord.test", PASSWORD)
            yield Served(url, signed_in, bare)
    finally:
        for process in (coord, limit):
            process.terminate()
            process.wait(timeout=30)
        if database:
            drop_database(database)


@pytest.mark.parametrize("route", ROUTES)
def test_the_limit_page_is_the_page_coord_serves(served: Served, route: str):
    coord, limit = served.coord.get(route), served.limit.get(route)
    assert coord.status_code == limit.status_code == 200
    assert limit.headers["content-type"] == coord.headers["content-type"]
    # Not two empty pages: the list, the board and the national table show actions.
    assert re.search(r'href="/d/\d+/actions(/\d+)?"', limit.text)
    assert CSRF.sub("CSRF", limit.text) == CSRF.sub("CSRF", coord.text)


def test_the_limit_changes_with_the_data_as_coord_does(served: Served):
    """Nothing is kept between two requests: an action Coord creates is on the next limit page."""
    before = served.limit.get("/d/974/actions").text
    _add_overseas_action(served.coord, dt.date.today() + dt.timedelta(days=10))
    after = served.limit.get("/d/974/actions").text
    assert TITLE not in before
    assert TITLE in after
    assert CSRF.sub("CSRF", after) == CSRF.sub("CSRF", served.coord.get("/d/974/actions").text)


def _evening_in_paris(day: dt.date) -> dt.datetime:
    """22:30 in Paris on `day`: already the next day in La Réunion."""
    return dt.datetime.combine(day, dt.time(22, 30), ZoneInfo("Europe/Paris")).astimezone(dt.UTC)


def test_overdue_counts_follow_each_departments_own_date(served: Served):
    """On an evening when La Réunion is already on the next day, an action due that day is overdue there
    (and nowhere on Paris's date): the limit counts it as Coord does, on the list, the board and the
    national view."""
    from coord.access import Scope
    from coord.actions import board
    from coord.bench import limits
    from coord.core.clock import FrozenClock, local_today, use_clock
    from coord.core.db import current_engine, engine_for, use_engine
    from coord.core.pagination import PageRequest
    from coord.core.settings import Settings

    due_on = dt.date.today() + dt.timedelta(days=20)  # a later evening, frozen below
    _add_overseas_action(served.coord, due_on)
    settings = Settings(database_url=served.url)
    previous_engine, engine = current_engine(), engine_for(settings)
    previous_clock = use_clock(FrozenClock(_evening_in_paris(due_on)))

    async def both() -> tuple[dict, dict]:
        reader = await limits.open_reader(settings)
        try:
            principal = await limits.bench_principal(reader)
            scope = Scope(principal)
            department = await limits.department_row(reader, OVERSEAS)
            counts = await limits.department_counts(reader, department)
            items = await limits.list_items(reader, department, PageRequest())
            periods = await board.plan_periods()
            default = board.read_since(None, periods, local_today("Europe/Paris"))
            limit_side = {
                "counts": counts,
                "board": await limits.board_columns(reader, department, counts),
                "items": items,
                "national": [await limits.national_data(reader, since) for since in (None, default)],
            }
            within = scope.within(department["id"])
            coord_counts = (await board.counts_by_department(within, department["id"]))[department["id"]]
            filters = board.Filters(department=OVERSEAS)
            coord_items, _ = await board.list_items(within, PageRequest(), filters, with_count=False)
            coord_side = {
                "counts": {**coord_counts, "open": sum(coord_counts.get(s, 0) for s in OPEN)},
                "board": await board.board(within, filters),
                "items": [{k: item[k] for k in items[0]} for item in coord_items],
                "national": [await board.national(scope, since) for since in (None, default)],
            }
            return limit_side, coord_side
        finally:
            await reader.close()

    try:
        use_engine(engine)
        assert local_today("Indian/Reunion") > local_today("Europe/Paris") == due_on
        limit_side, coord_side = run(both())
    finally:
        use_clock(previous_clock)
        use_engine(previous_engine)
    assert limit_side == coord_side
    late = next(i for i in limit_side["items"] if i["title"] == TITLE and i["due_on"] == due_on)
    assert late["overdue"]
    reunion = next(d for d in limit_side["national"][0]["departments"] if d["code"] == OVERSEAS)
    assert reunion["overdue"] >= 1
