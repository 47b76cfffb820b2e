"""The limit of the heaviest pages: the same HTML from hand-written SQL and the same templates.

`/limit/d/{code}/actions` (the list, `?vue=tableau` the board) and `/limit/actions` (the national
view) render Coord's own templates through Coord's own Jinja environment (`template_config`), with the
context the handlers of `coord.actions.pages` build, for the benchmark's national account. What they
leave out is what Coord adds around the same bytes: the ORM (Piccolo's query building and row
mapping), the middleware stack (session, authentication, CSRF, unread count, security headers) and
dependency injection. The benchmark loads both and reports the ratio.

The simplest correct way, not a cache: every request reads the database (one `sqlite3` connection
per process on SQLite, an asyncpg pool on PostgreSQL), the national aggregates included, so the figures
are exact at every moment, as Coord's are (it reads counters kept by triggers). Read-only;
unfiltered pages only (the benchmark's routes), sorted by due date, first page. Served by
`uvicorn coord.bench.limits:app --workers N` with `COORD_DATABASE_URL`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, Protocol

import asyncpg
from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from coord.access import Principal
from coord.access.roles import Permission, Role
from coord.actions import board, transitions
from coord.actions.pages import SORT_LABELS
from coord.core.clock import local_today
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.settings import Settings, get_settings
from coord.web.templating import template_config

EMAIL = "bench@coord.test"  # the benchmark's national account (coord.bench.run.prepare)
PARIS = "Europe/Paris"
OPEN = transitions.OPEN
COLUMN = board.BOARD_COLUMN_SIZE
MEASURES = 'SELECT m.id, m.number, m.title, p.code FROM "measure" m JOIN "plan" p ON p.id = m.plan'


class Reader(Protocol):
    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]: ...

    async def close(self) -> None: ...


class SQLiteReader:
    """One connection for the process, reused by every request (uvicorn runs one thread per worker).
    Queries are written with PostgreSQL's `$n` placeholders; SQLite reads them as `?n`."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA query_only=1")

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        values = [a.isoformat() if isinstance(a, dt.date) else a for a in args]
        return self.connection.execute(_sqlite(sql), values).fetchall()

    async def close(self) -> None:
        self.connection.close()


@lru_cache(maxsize=256)
def _sqlite(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class PostgresReader:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str) -> PostgresReader:
        return cls(await asyncpg.create_pool(url, min_size=1, max_size=10))

    async def rows(self, sql: str, *args: Any) -> Sequence[Sequence[Any]]:
        async with self.pool.acquire() as connection:
            return await connection.fetch(sql, *args)

    async def close(self) -> None:
        await self.pool.close()


async def open_reader(settings: Settings) -> Reader:
    if settings.is_sqlite:
        return SQLiteReader(str(settings.sqlite_path))
    return await PostgresReader.open(settings.database_url)


def _day(value: Any) -> dt.date | None:
    """A DATE column: a date from asyncpg, ISO text from SQLite."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# -- who is reading -----------------------------------------------------------------------------


async def bench_principal(db: Reader) -> Principal:
    """The benchmark's account as the header shows it, read once per process (no login, no session)."""
    found = await db.rows(
        'SELECT u.id, u.email, u.full_name, u.role, u.department, d.code, u.manages_accounts FROM "coord_user" u'
        ' LEFT JOIN "department" d ON d.id = u.department WHERE u.email = $1',
        EMAIL,
    )
    if not found:
        raise RuntimeError(f"no account {EMAIL}: prepare the database with coord.bench.run.prepare")
    user_id, email, full_name, role, department, code, manages = found[0]
    if Role(role) is not Role.NATIONAL:
        raise RuntimeError(f"{EMAIL} must be a national account")
    return Principal(
        user_id=user_id,
        email=email,
        full_name=full_name,
        role=Role(role),
        department_id=department,
        department_code=code,
        manages_accounts=bool(manages),
    )


async def unread(db: Reader, user_id: int) -> int:
    found = await db.rows('SELECT count(*) FROM "notification" WHERE recipient = $1 AND read_at IS NULL', user_id)
    return int(found[0][0])


# -- a département's list and board -------------------------------------------------------------


async def department_row(db: Reader, code: str) -> dict[str, Any]:
    found = await db.rows('SELECT id, code, name, timezone FROM "department" WHERE code = $1', code.upper())
    if not found:
        raise NotFoundException(f"Département « {code[:10]} » inconnu ou non accessible.")
    return dict(zip(("id", "code", "name", "timezone"), found[0], strict=True))


async def department_counts(db: Reader, department: dict[str, Any]) -> dict[str, int]:
    """Items by status, in all, open and overdue (open, due before the département's today)."""
    today = local_today(department["timezone"])
    found = await db.rows(
        'SELECT status, count(*), sum(CASE WHEN due_on < $2 THEN 1 ELSE 0 END) FROM "action_item"'
        " WHERE department = $1 GROUP BY status",
        department["id"],
        today,
    )
    counts = {"total": 0, "overdue": 0}
    for status, n, late in found:
        counts[status] = n
        counts["total"] += n
        counts["overdue"] += (late or 0) if status in OPEN else 0
    return {**counts, "open": sum(counts.get(s, 0) for s in OPEN)}


def _overdue(status: str, due_on: dt.date | None, today: dt.date) -> bool:
    return bool(due_on and status in OPEN and due_on < today)


async def list_items(db: Reader, department: dict[str, Any], pager: PageRequest) -> list[dict[str, Any]]:
    """The first page by due date, with what a row of the list shows."""
    today = local_today(department["timezone"])
    found = await db.rows(
        "SELECT i.id, i.title, i.status, i.due_on, i.progress, o.name, c.first_name, c.last_name, m.name"
        ' FROM "action_item" i LEFT JOIN "organisation" o ON o.id = i.owner_organisation'
        ' LEFT JOIN "contact" c ON c.id = i.owner_contact LEFT JOIN "committee" m ON m.id = i.committee'
        " WHERE i.department = $1 ORDER BY i.due_on ASC, i.id ASC LIMIT $2 OFFSET $3",
        department["id"],
        pager.per_page,
        pager.offset,
    )
    items = []
    for item_id, title, status, due, progress, organisation, first, last, committee in found:
        due_on = _day(due)
        items.append(
            {
                "id": item_id,
                "title": title,
                "status": status,
                "status_label": transitions.STATUSES.get(status, status),
                "due_on": due_on,
                "overdue": _overdue(status, due_on, today),
                "progress": progress,
                "owner_organisation_name": organisation or "",
                "owner_name": " ".join(p for p in (first, last) if p),
                "committee_name": committee or "",
            }
        )
    return items


async def board_columns(db: Reader, department: dict[str, Any], counts: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each status's most urgent cards (one indexed LIMIT per status, in one statement) and its total."""
    today = local_today(department["timezone"])
    shown = [s for s in transitions.STATUSES if counts.get(s)]
    cards: dict[str, list[dict[str, Any]]] = {s: [] for s in transitions.STATUSES}
    if shown:
        per_status = " UNION ALL ".join(
            'SELECT * FROM (SELECT id, title, status, due_on, owner_organisation FROM "action_item"'  # noqa: S608 (no input in it)
            f" WHERE department = $1 AND status = ${n + 2} ORDER BY due_on ASC, id ASC LIMIT {COLUMN}) s{n}"
            for n in range(len(shown))
        )
        found = await db.rows(
            f"SELECT i.id, i.title, i.status, i.due_on, o.name FROM ({per_status}) i"  # noqa: S608 (no input in it)
            ' LEFT JOIN "organisation" o ON o.id = i.owner_organisation ORDER BY i.due_on ASC, i.id ASC',
            department["id"],
            *shown,
        )
        for item_id, title, status, due, organisation in found:
            due_on = _day(due)
            cards[status].append(
                {
                    "id": item_id,
                    "title": title,
                    "status": status,
                    "due_on": due_on,
                    "overdue": _overdue(status, due_on, today),
                    "owner_organisation_name": organisation or "",
                }
            )
    return {s: {"items": cards[s], "total": counts.get(s, 0)} for s in transitions.STATUSES}


async def filter_choices(db: Reader, department_id: int) -> dict[str, dict[str, str]]:
    organisations = await db.rows(
        'SELECT id, name FROM "organisation" WHERE department = $1 ORDER BY name ASC', department_id
    )
    committees = await db.rows(
        'SELECT id, name FROM "committee" WHERE department = $1 ORDER BY name ASC', department_id
    )
    measures = await db.rows(f"{MEASURES} ORDER BY p.code ASC, m.number ASC")
    return {
        "organisations": {str(i): name for i, name in organisations},
        "committees": {str(i): name for i, name in committees},
        "measures": {str(i): f"{plan} – mesure {number}" for i, number, _, plan in measures},
    }


async def department_page(db: Reader, principal: Principal, code: str, view: str) -> dict[str, Any]:
    """The context `ActionPages.list` gives `actions/list.html`, unfiltered."""
    department = await department_row(db, code)
    counts = await department_counts(db, department)
    pager = PageRequest()
    items: list[dict[str, Any]] = []
    columns: dict[str, dict[str, Any]] = {}
    if view == "tableau":
        columns = await board_columns(db, department, counts)
    else:
        items = await list_items(db, department, pager)
    choices = await filter_choices(db, department["id"])
    return {
        "department": department,
        "section": "actions",
        "can_manage": principal.can(Permission.MANAGE),  # a national account may act in every département
        "can_track": principal.can(Permission.TRACK_ACTIONS),
        "items": items,
        "total": counts["total"],
        "pager": pager,
        "view": view,
        "columns": columns,
        "counts": counts,
        "filters": {"vue": "tableau"} if view == "tableau" else {},
        "statuses": transitions.STATUSES,
        "sorts": SORT_LABELS,
        **choices,
    }


# -- the national view --------------------------------------------------------------------------


def _late(departments: list[dict[str, Any]], first_param: int) -> tuple[str, list[dt.date]]:
    """The SQL of "due before its département's today" and its parameters: one comparison most of the
    day; one per date while overseas zones are on another date than Paris."""
    by_day: dict[dt.date, list[int]] = {}
    for department in departments:
        by_day.setdefault(local_today(department["timezone"]), []).append(department["id"])
    if len(by_day) <= 1:
        return f"due_on < ${first_param}", [next(iter(by_day), local_today(PARIS))]
    parts = [
        f"(department IN ({', '.join(map(str, ids))}) AND due_on < ${first_param + n})"
        for n, ids in enumerate(by_day.values())
    ]
    return "(" + " OR ".join(parts) + ")", list(by_day)


async def national_data(db: Reader, since_year: int | None) -> dict[str, Any]:
    """What `board.national` returns: every département's and every measure's progress."""
    found = await db.rows('SELECT id, code, name, timezone FROM "department" ORDER BY id')
    departments = [dict(zip(("id", "code", "name", "timezone"), row, strict=True)) for row in found]
    since = [dt.date(since_year, 1, 1)] if since_year is not None else []
    period = " AND created_on >= $1" if since else ""
    late, days = _late(departments, len(since) + 1)
    by_department = await db.rows(
        f"SELECT department, status, count(*), sum(CASE WHEN {late} THEN 1 ELSE 0 END)"  # noqa: S608 (no input)
        f' FROM "action_item" WHERE TRUE{period} GROUP BY department, status',
        *since,
        *days,
    )
    counts: dict[int, dict[str, int]] = {}
    for department, status, n, overdue in by_department:
        entry = counts.setdefault(department, {"total": 0, "overdue": 0})
        entry[status] = n
        entry["total"] += n
        entry["overdue"] += (overdue or 0) if status in OPEN else 0
    rows = []
    for department in departments:
        entry = counts.get(department["id"], {"total": 0, "overdue": 0})
        rows.append(
            {
                "code": department["code"],
                "name": department["name"],
                "total": entry["total"],
                "open": sum(entry.get(s, 0) for s in OPEN),
                "done": entry.get("fait", 0),
                "overdue": entry["overdue"],
                "progress": board.progress(entry),
                "by_status": {s: entry.get(s, 0) for s in transitions.STATUSES},
            }
        )
    return {"since": since_year, "departments": rows, "measures": await _measures(db, late, since, days)}


async def _measures(db: Reader, late: str, since: list[dt.date], days: list[dt.date]) -> list[dict[str, Any]]:
    period = " AND created_on >= $1" if since else ""
    by_measure = await db.rows(
        f"SELECT measure, status, count(*), sum(CASE WHEN {late} THEN 1 ELSE 0 END) FROM "  # noqa: S608 (no input)
        f'"action_item" WHERE measure IS NOT NULL{period} GROUP BY measure, status',
        *since,
        *days,
    )
    if not by_measure:
        return []
    labels = {row[0]: row for row in await db.rows(MEASURES)}
    measures: dict[int, dict[str, Any]] = {}
    for measure, status, n, overdue in by_measure:
        _, number, title, plan = labels[measure]
        entry = measures.setdefault(
            measure,
            {
                "measure": measure,
                "label": f"{plan} – mesure {number}",
                "title": title,
                "plan": plan,
                "number": number,
                "total": 0,
                "done": 0,
                "open": 0,
                "overdue": 0,
                "by_status": dict.fromkeys(transitions.STATUSES, 0),
            },
        )
        entry["total"] += n
        entry["by_status"][status] = entry["by_status"].get(status, 0) + n
        entry["done"] += n if status == "fait" else 0
        entry["open"] += n if status in OPEN else 0
        entry["overdue"] += (overdue or 0) if status in OPEN else 0
    for entry in measures.values():
        entry["progress"] = board.progress({"total": entry["total"], **entry["by_status"]})
    return sorted(measures.values(), key=lambda m: (m["plan"], m["number"]))


async def national_page(db: Reader, depuis: str | None) -> dict[str, Any]:
    """The context `national_view` gives `actions/national.html`."""
    found = await db.rows('SELECT code, title, start_year, end_year FROM "plan" ORDER BY start_year DESC')
    periods = [dict(zip(("code", "title", "start_year", "end_year"), row, strict=True)) for row in found]
    today = local_today(PARIS)
    try:
        since = board.read_since(depuis, periods, today)
    except ValidationFailed:
        since = board.read_since(None, periods, today)
    return {
        "data": await national_data(db, since),
        "section": "actions",
        "statuses": transitions.STATUSES,
        "periods": board.period_choices(periods, today),
        "since": board.ALL_HISTORY if since is None else str(since),
    }


# -- the application ----------------------------------------------------------------------------


async def render(request: Request, template: str, context: dict[str, Any]) -> Response:
    """Coord's template through Coord's environment, with what base.html reads of the request: the
    account (`scope["user"]`, set by Coord's authentication), the unread count and a CSRF field."""
    state = request.app.state
    request.scope["user"] = state.principal  # type: ignore[typeddict-unknown-key]
    request.scope["unread_notifications"] = await unread(state.db, state.principal.user_id)  # type: ignore[typeddict-unknown-key]
    html = (
        request.app.template_engine.get_template(template)  # type: ignore[union-attr]
        .render(**context, request=request, csrf_input=state.csrf_input)
        .encode()
    )
    return Response(html, media_type="text/html")  # Litestar adds "; charset=utf-8"


@get("/limit/d/{code:str}/actions")
async def department_actions(request: Request, code: str, vue: str | None = None) -> Response:
    state = request.app.state
    view = "tableau" if vue == "tableau" else "liste"
    return await render(request, "actions/list.html", await department_page(state.db, state.principal, code, view))


@get("/limit/actions")
async def national_actions(request: Request, depuis: str | None = None) -> Response:
    return await render(request, "actions/national.html", await national_page(request.app.state.db, depuis))


def create_limit_app(settings: Settings | None = None) -> Litestar:
    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        chosen = settings or get_settings()
        app.state.db = await open_reader(chosen)
        app.state.demo = chosen.demo_mode
        app.state.principal = await bench_principal(app.state.db)
        # What Litestar's CSRF middleware puts in a form: a per-session token of the same length.
        token = secrets.token_hex(64)
        app.state.csrf_input = f'<input type="hidden" name="_csrf_token" value="{token}" />'
        try:
            yield
        finally:
            await app.state.db.close()

    return Litestar(
        route_handlers=[department_actions, national_actions],
        template_config=template_config(),
        lifespan=[database],
        state=State({}),
        openapi_config=None,
        logging_config=None,
    )


app = create_limit_app()
