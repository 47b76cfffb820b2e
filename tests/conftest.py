"""Test fixtures: the same tests run on SQLite and on PostgreSQL.

A test that asks for `db` (directly or through `client`, `api`, ...) runs once per engine. The schema is
built by the real migrations (`coord migrate`, in a subprocess, as in production), the reference data
is loaded once per engine, and every test starts from empty tables (truncation, not rollback: the
Litestar test client runs the app on another thread and event loop, see stack-notes).

`COORD_TEST_ENGINES=sqlite` (or `postgres`) restricts the run to one engine while developing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import subprocess
import sys
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PICCOLO_CONF", "coord.app.piccolo_conf")
os.environ.setdefault("COORD_DATABASE_URL", "sqlite:///var/test-import.sqlite3")

PG_ADMIN_DSN = os.environ.get("COORD_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = [e.strip() for e in os.environ.get("COORD_TEST_ENGINES", "sqlite,postgres").split(",") if e.strip()]
REFERENCE_TABLES = {"department", "institution_kind", "plan", "measure", "migration"}
PASSWORD = "Motdepasse-de-test-2026"

from tests.support.oidc_provider import oidc_provider  # noqa: E402,F401 (session fixture: the loopback ProConnect)
from tests.support.upgrade import upgraded  # noqa: E402,F401 (session fixture: an old release's database, upgraded)

T = TypeVar("T")
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion from sync or async test code (on its own loop and thread)."""

    async def wrapper() -> T:
        return await coro

    return _executor.submit(asyncio.run, wrapper()).result()


@dataclass
class Database:
    name: str  # "sqlite" | "postgres"
    url: str
    engine: Any
    path: Path | None = None

    def truncate(self) -> None:
        run(_truncate(self))


async def _truncate(db: Database) -> None:
    from coord.core.db import all_tables
    from coord.plans.importer import parse_plan_file, shipped_plan_files

    tables = [t._meta.tablename for t in all_tables() if t._meta.tablename not in REFERENCE_TABLES]
    shipped = tuple(parse_plan_file(p).code for p in shipped_plan_files())
    if db.name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(db.url)
        try:
            # A connection a previous test left inside a transaction would make TRUNCATE wait for ever:
            # wait a few seconds, then name it in a warning, end it and truncate again.
            await conn.execute("SET lock_timeout = '5s'")
            try:
                used = await _pg_used_tables(conn, tables)
                if used:
                    await conn.execute(_pg_truncate(used))
            except asyncpg.exceptions.LockNotAvailableError:
                await _end_leftover_sessions(conn)
                await conn.execute(_pg_truncate(tables))
            await conn.execute("DELETE FROM plan WHERE NOT (code = ANY($1::text[]))", list(shipped))
        finally:
            await conn.close()
    else:
        import aiosqlite

        async with aiosqlite.connect(str(db.path)) as conn:
            await conn.execute("PRAGMA foreign_keys=OFF")
            for table in tables:
                await conn.execute(f'DELETE FROM "{table}"')
            await conn.execute(f"DELETE FROM plan WHERE code NOT IN ({','.join('?' * len(shipped))})", shipped)
            await conn.execute("DELETE FROM measure WHERE plan NOT IN (SELECT id FROM plan)")
            await conn.commit()


def _pg_truncate(tables: list[str]) -> str:
    return "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"


async def _pg_used_tables(conn: Any, tables: list[str]) -> list[str]:
    """The tables an earlier test touched: holding a row, or with a sequence that moved (a rolled-back insert).

    TRUNCATE costs a new file per table and index, so emptying only these (with RESTART IDENTITY CASCADE,
    as before) leaves the same state as truncating all tables at a fraction of the cost.
    """
    moved = await conn.fetch(
        "SELECT t.relname FROM pg_sequences s"
        " JOIN pg_class sc ON sc.relname = s.sequencename AND sc.relkind = 'S'"
        " JOIN pg_depend d ON d.objid = sc.oid AND d.deptype IN ('a', 'i')"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " WHERE s.schemaname = 'public' AND s.last_value IS NOT NULL"
    )
    nonempty = await conn.fetch(
        " UNION ALL ".join(f"SELECT '{t}' AS relname WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    )
    wanted = {r["relname"] for r in moved} | {r["relname"] for r in nonempty}
    return [t for t in tables if t in wanted]


async def _end_leftover_sessions(conn: Any) -> None:
    leftovers = await conn.fetch(
        "SELECT pid, state, application_name, left(query, 200) AS query FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    warnings.warn(f"sessions left open by an earlier test, now ended: {[dict(r) for r in leftovers]}", stacklevel=1)
    for row in leftovers:
        await conn.execute("SELECT pg_terminate_backend($1)", row["pid"])


def _migrate(url: str) -> None:
    env = {**os.environ, "COORD_DATABASE_URL": url, "PICCOLO_CONF": "coord.app.piccolo_conf"}
    result = subprocess.run(
        [sys.executable, "-m", "coord.app.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrations failed on {url}:\n{result.stdout}\n{result.stderr}")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class _ArgonOncePerInput:
    """The application's Argon2id hasher (same parameters, real hashes), doing each distinct piece of work once.

    A hash or a check costs ~0.2 s and the suite makes thousands, nearly all of the one test password: a
    password hashed before gets the same real hash back (its salt shared between test accounts), and a
    (hash, password) pair checked before gets the same answer, mismatches included.
    """

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._hashes: dict[str, str] = {}
        self._checks: dict[tuple[str, str], BaseException | bool] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._hasher.hash(password)
        return self._hashes[password]

    def verify(self, hash: str, password: str) -> bool:
        key = (hash, password)
        if key not in self._checks:
            try:
                self._checks[key] = self._hasher.verify(hash, password)
            except Exception as exc:  # argon2's mismatch and invalid-hash errors, raised again below
                self._checks[key] = exc
        outcome = self._checks[key]
        if isinstance(outcome, BaseException):
            raise type(outcome)(*outcome.args)
        return outcome

    def __getattr__(self, name: str) -> Any:  # check_needs_rehash, the parameters
        return getattr(self._hasher, name)


@pytest.fixture(scope="session", autouse=True)
def _argon_once_per_input() -> Iterator[None]:
    from coord.accounts import passwords

    real = passwords._hasher
    passwords._hasher = _ArgonOncePerInput(real)
    yield
    passwords._hasher = real


@pytest.fixture(scope="session", params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from piccolo.engine.postgres import PostgresEngine

    from coord.app.reference import load_all
    from coord.core.db import PooledSQLiteEngine, use_engine

    name = request.param
    if name == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "coord-test.sqlite3"
        url = f"sqlite:///{path}"
        _migrate(url)
        db = Database(name, url, PooledSQLiteEngine(path=str(path), timeout=30), path)
        dbname = None
    else:
        dbname = f"coord_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        run(_pg_admin(f'CREATE DATABASE "{dbname}"'))
        # A commit does not wait for its WAL to reach the disk (what a crash of the server would lose, the
        # suite never needs): on a busy disk that wait was most of the PostgreSQL run. Nothing else changes.
        run(_pg_admin(f'ALTER DATABASE "{dbname}" SET synchronous_commit = off'))
        url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname
        _migrate(url)
        db = Database(name, url, PostgresEngine(config={"dsn": url}))
    use_engine(db.engine)
    run(load_all())
    yield db
    if dbname:
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


@pytest.fixture
def db(database: Database) -> Database:
    """A database of the current engine with reference data and nothing else."""
    from coord.core.db import use_engine

    use_engine(database.engine)
    database.truncate()
    return database


@pytest.fixture
def settings(db: Database) -> Any:
    from coord.core.settings import Settings

    return Settings(
        database_url=db.url,
        database_pool=False,
        base_url="http://testserver.local",
        secret_key="test-secret-key-0123456789",
        scheduler_enabled=False,
        organiser_email="coord-test@prefecture.example.gouv.fr",
        smtp_port=1,
    )


# Building the app registers ~1,900 route handlers (0.7-0.9 s): it is built once per engine and settings,
# and each test gets it back with the state it had when built (settings are frozen; the app keeps no
# other per-request memory: sessions are signed cookies, data lives in the database).
_APPS: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}
_APPS_KEPT = 4


@pytest.fixture
def app(db: Database, settings: Any) -> Any:
    from coord.app.factory import create_app
    from coord.core.settings import use_settings

    key = (id(db.engine), repr(settings))
    if key not in _APPS:
        # Tests with their own settings (a temporary folder in them) each build one: keep the last few only.
        while len(_APPS) >= _APPS_KEPT:
            del _APPS[next(iter(_APPS))]
        built = create_app(settings, engine=db.engine)
        _APPS[key] = (built, dict(built.state))
    use_settings(settings)  # as create_app does, for the code that reads the current settings
    built, state = _APPS[key]
    for name in [n for n in built.state if n not in state]:
        del built.state[name]
    built.state.update(state)
    return built


class WebClient:
    """A browser-like client: follows the CSRF cookie, logs in through the login page."""

    def __init__(self, client: Any) -> None:
        self.http = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.http.get(url, **kwargs)

    def csrf(self) -> str:
        if "coord_csrf" not in self.http.cookies:
            self.http.get("/connexion")
        return self.http.cookies["coord_csrf"]

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.http.post(url, data={**(data or {}), "_csrf_token": self.csrf()}, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        response = self.post("/connexion", {"email": email, "password": password}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def web(client: Any) -> WebClient:
    return WebClient(client)


@pytest.fixture
def new_web(app: Any) -> Iterator[Callable[[], WebClient]]:
    """Extra independent browsers (another user at the same time)."""
    from litestar.testing import TestClient

    clients: list[Any] = []

    def make() -> WebClient:
        c = TestClient(app, base_url="http://testserver.local")
        c.__enter__()
        clients.append(c)
        return WebClient(c)

    yield make
    # Closed in the reverse order of opening: Litestar's test clients of one app hang otherwise.
    for c in reversed(clients):
        c.__exit__(None, None, None)


@dataclass
class Account:
    email: str
    role: str
    department: str | None
    token: str


@pytest.fixture
def make_user(db: Database) -> Callable[..., Account]:
    from coord.access import SYSTEM, Scope
    from coord.accounts.service import create_token, create_user

    counter = iter(range(1, 10_000))

    def make(
        role: str = "prefecture",
        department: str | None = "34",
        email: str | None = None,
        *,
        manages_accounts: bool = False,
    ) -> Account:
        email = email or f"{role}{next(counter)}-{department or 'nat'}@test.gouv.fr"
        run(
            create_user(
                Scope(SYSTEM),
                {
                    "email": email,
                    "password": PASSWORD,
                    "role": role,
                    "department": department or "",
                    "full_name": email.split("@")[0],
                    "manages_accounts": manages_accounts,
                },
            )
        )
        return Account(email, role, department, run(create_token(email, "tests")))

    return make


class ApiClient:
    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(url: str, **kwargs: Any) -> Any:
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(url, headers=headers, **kwargs)

        return call


@pytest.fixture
def api_as(client: Any, make_user: Callable[..., Account]) -> Callable[..., ApiClient]:
    """`api_as("prefecture", "34")`: a JSON API client authenticated as a new user of that role."""

    def make(role: str = "prefecture", department: str | None = "34") -> ApiClient:
        return ApiClient(client, make_user(role, department).token)

    return make


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    """The app served over real HTTP on loopback, for browser tests."""
    from tests.support.live_server import live_server

    with live_server(app) as url:
        yield url


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from tests.support.live_server import chromium_page

    with chromium_page() as page:
        yield page


@pytest.fixture
def smtp_sink() -> Iterator[Any]:
    """A real SMTP server on loopback that keeps what it receives."""
    from tests.support.smtp_sink import SmtpSink

    sink = SmtpSink(host="127.0.0.1", port=0)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
