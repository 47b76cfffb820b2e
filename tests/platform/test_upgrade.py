"""Upgrades lose nothing and need no downtime, on both engines.

- Nothing is lost: a database made by an old release (its code, its migrations, its demo data) is
  upgraded by today's `coord migrate` with every row intact.
- No downtime (expand-then-contract): during a rolling deployment the previous release's web
  processes keep serving a schema today's migrations already changed. Its code reads and writes the
  upgraded database (pages of a signed-in agent, a contact, a meeting, an action, audit entries), and
  no migration added since that release drops or renames a column or a table.

The upgraded database is built once per engine for the session (`tests/support/upgrade.py`) and
serves both kinds of test, and the backup tests (tests/ops/test_backups.py).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run
from tests.support.upgrade import Upgraded, _extract, _git, _run_python


def test_a_database_of_the_previous_release_upgrades_with_every_row_intact(upgraded: Upgraded) -> None:
    before, after = upgraded.before, upgraded.after
    assert sum(len(rows) for rows in before.values()) > 500, "the previous release's demo data is there"
    assert before["meeting"] and before["action_item"] and before["convention"] and before["pilot_site"]
    for table, rows in before.items():
        assert table in after, f"table {table} disappeared"
        width = len(rows[0]) if rows else 0
        # New columns may be added at the end; every old value stays as it was.
        assert [row[:width] for row in after[table]] == rows, f"rows of {table} changed on upgrade"


# --- Rolling upgrades (expand-then-contract) -------------------------------------------------------

_MIGRATION = re.compile(r"^coord/[^/]+/piccolo_migrations/(?!__init__\.py$)[^/]+\.py$")


def _migrations_today() -> set[str]:
    """The migration files of the tree under test (the working tree: a migration not yet committed counts)."""
    found = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("coord/*/piccolo_migrations/*.py")}
    return {path for path in found if _MIGRATION.match(path)}


def _migrations_at(commit: str) -> set[str]:
    return {
        path
        for path in _git("ls-tree", "-r", "--name-only", commit, "--", "coord").splitlines()
        if _MIGRATION.match(path)
    }


@dataclass(frozen=True)
class RollingRelease:
    commit: str
    tree: Path
    added: list[str]  # the migration files added since that release


@pytest.fixture(scope="module")
def rolling_release(tmp_path_factory: pytest.TempPathFactory) -> RollingRelease:
    """Release N-1 of a rolling deployment: the newest commit whose migrations are fewer than today's.

    Walking back along the first-parent history from HEAD, it is the first commit whose migration files
    are a strict subset of the tree's, i.e. the last commit before the newest migration was added (HEAD
    itself while a new migration is not committed yet). Computed rather than named, so it follows the
    tree: the day a migration is added, the release before it is the one whose processes still run
    while the new schema is deployed. Its migrations must also be a prefix of today's for every app
    (the new files sort after the old ones), or today's migrate would run an old-dated step late.
    """
    today = _migrations_today()
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout: no previous release to run")
    for commit in _git("rev-list", "--first-parent", "--max-count=200", "HEAD").split():
        files = _migrations_at(commit)
        if not files <= today:
            pytest.fail(
                f"{commit} has migrations the tree no longer has ({sorted(files - today)}): "
                "a migration that shipped must never be deleted or renamed"
            )
        if files < today:
            added = sorted(today - files)
            for path in added:
                app = path.split("/")[1]
                older = [f for f in files if f.split("/")[1] == app and Path(f).name > Path(path).name]
                assert not older, f"{path} sorts before {older}, which shipped in {commit}: date it after them"
            tree = _extract(commit, tmp_path_factory.mktemp("rolling") / "release", ".")
            # The front-end packages npm installs (DSFR...) are not in git: the old release uses today's.
            for modules in ROOT.glob("tools/*/node_modules"):
                link = tree / modules.relative_to(ROOT)
                if link.parent.is_dir() and not link.exists():
                    link.symlink_to(modules, target_is_directory=True)
            return RollingRelease(commit, tree, added)
    pytest.skip("no commit with fewer migrations in the last 200 (shallow clone?)")


# Release N-1's code, run against the database today's migrations built: an agent of the Hérault is
# created and signs in, reads the main pages, creates a contact, a meeting and an action item through
# the services (each recording its audit entry) and records one more audit entry. It prints the ids.
ROLLING_SCRIPT = """
import asyncio, datetime as dt, json, os, re
from litestar.testing import TestClient
from coord.access import SYSTEM, Scope
from coord.accounts.service import create_user, load_principal
from coord.accounts.tables import User
from coord.actions import service as actions
from coord.audit.log import record
from coord.committees.tables import Committee
from coord.core.db import engine_for, use_engine
from coord.core.settings import Settings, use_settings
from coord.meetings import service as meetings
from coord.partners import service as partners
from coord.partners.tables import Organisation
from coord.territory.tables import Department
from coord.app.factory import create_app

PASSWORD = "Motdepasse-de-roulement-2026"
EMAIL = "agent.roulement@herault.gouv.fr"
settings = Settings(
    database_url=os.environ["COORD_DATABASE_URL"], database_pool=False, base_url="http://testserver.local",
    secret_key="rolling-upgrade-secret-0123456789", scheduler_enabled=False,
    organiser_email="coord-test@prefecture.example.gouv.fr", smtp_port=1,
)
use_settings(settings)
engine = engine_for(settings)
use_engine(engine)

async def writes():
    await create_user(Scope(SYSTEM), {"email": EMAIL, "password": PASSWORD, "role": "prefecture",
                                      "department": "34", "full_name": "Agent Roulement"})
    user = await User.select(User.id).where(User.email == EMAIL).first()
    scope = Scope(await load_principal(user["id"]))
    herault = await Department.select(Department.id).where(Department.code == "34").first()
    organisation = await Organisation.select(Organisation.id).where(Organisation.department == herault["id"]).first()
    committee = await Committee.select(Committee.id).where(Committee.department == herault["id"]).first()
    contact = await partners.create_contact(scope, {"organisation": organisation["id"], "first_name": "Rosa",
                                                    "last_name": "Roulement", "email": "rosa.roulement@exemple.fr"})
    day = dt.date.today() + dt.timedelta(days=21)
    meeting = await meetings.create_meeting(scope, {"committee": committee["id"], "title": "Réunion du roulement",
        "date": day.isoformat(), "start_time": "10:00", "end_time": "11:00", "place": "Préfecture",
        "confirm_day": True})
    item = await actions.create_item(scope, {"department": "34", "title": "Action du roulement",
        "owner_contact": contact["id"], "due_on": (day + dt.timedelta(days=30)).isoformat()})
    await record(scope.principal, "update", "meeting", meeting["id"], department_id=herault["id"],
                 summary="Entrée du roulement")
    return {"user": user["id"], "contact": contact["id"], "meeting": meeting["id"], "action": item["id"]}

ids = asyncio.run(writes())
with TestClient(create_app(settings, engine=engine), base_url="http://testserver.local") as client:
    client.get("/connexion")
    signed_in = client.post("/connexion", data={"email": EMAIL, "password": PASSWORD,
        "_csrf_token": client.cookies["coord_csrf"]}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text[-2000:]
    pages = {
        "/d/34": "Hérault",
        "/d/34/reunions": "Réunion du roulement",
        f"/d/34/reunions/{ids['meeting']}": "Réunion du roulement",
        "/d/34/actions": "Action du roulement",
        f"/d/34/actions/{ids['action']}": "Action du roulement",
        "/d/34/contacts": "Roulement",
    }
    for url, text in pages.items():
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code, page.text[-2000:])
        assert text in page.text, (url, text)
    demo = [int(m) for m in re.findall(r"/d/34/reunions/(\\d+)", client.get("/d/34/reunions").text)]
    for meeting_id in sorted(set(demo) - {ids["meeting"]})[:2]:  # the demo's meetings too
        page = client.get(f"/d/34/reunions/{meeting_id}")
        assert page.status_code == 200, (meeting_id, page.status_code, page.text[-2000:])
print("IDS " + json.dumps(ids))
"""


async def _rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        import aiosqlite

        async with aiosqlite.connect(url.removeprefix("sqlite:///")) as conn:
            return [tuple(r) for r in await conn.execute_fetchall(sql.replace("$1", "?"), args)]
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(r.values()) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


def test_the_previous_release_reads_and_writes_a_schema_migrated_by_today(
    upgraded: Upgraded, rolling_release: RollingRelease
) -> None:
    out = _run_python(
        ROLLING_SCRIPT,
        url=upgraded.url,
        pythonpath=rolling_release.tree,
        cwd=rolling_release.tree,
        piccolo_conf="coord.app.piccolo_conf",
    )
    ids = json.loads(out.rsplit("IDS ", 1)[1])
    # What the old release wrote is there for today's code, its audit entries with it.
    assert run(_rows(upgraded.url, "SELECT last_name FROM contact WHERE id = $1", ids["contact"])) == [("Roulement",)]
    assert run(_rows(upgraded.url, "SELECT title FROM meeting WHERE id = $1", ids["meeting"]))
    assert run(_rows(upgraded.url, "SELECT title FROM action_item WHERE id = $1", ids["action"]))
    logged = run(_rows(upgraded.url, "SELECT entity, summary FROM audit_entry WHERE actor_user_id = $1", ids["user"]))
    entities = {entity for entity, _ in logged}
    assert {"contact", "meeting", "action_item"} <= entities, logged
    assert ("meeting", "Entrée du roulement") in logged


# Piccolo's destructive operations, and raw SQL that loses or moves data a running release still reads.
_DESTRUCTIVE_CALLS = {"drop_column", "rename_column", "drop_table", "rename_table"}
_DESTRUCTIVE_SQL = re.compile(
    r"\bDROP\s+(TABLE|COLUMN)\b|\bALTER\s+TABLE\b.*\bDROP\b|\bRENAME\b", re.IGNORECASE | re.DOTALL
)


def _destructive_steps(source: str) -> list[str]:
    """The destructive steps a migration runs forwards.

    Everything reachable from `forwards()` counts (module-level functions and constants it names,
    transitively), except what is handed to `add_raw_backwards`: undoing a migration may drop what it
    created.
    """
    tree = ast.parse(source)
    defs: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = node

    def is_backwards(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_raw_backwards"
        )

    found: list[str] = []
    seen: set[str] = set()
    pending = ["forwards"]
    while pending:
        name = pending.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        stack: list[ast.AST] = [defs[name]]
        while stack:
            node = stack.pop()
            if is_backwards(node):
                continue
            if isinstance(node, ast.Name):
                pending.append(node.id)
            elif isinstance(node, ast.Attribute) and node.attr in _DESTRUCTIVE_CALLS:
                found.append(f"line {node.lineno}: {node.attr}")
            elif isinstance(node, ast.JoinedStr | ast.Constant):
                if isinstance(node, ast.JoinedStr):
                    text = "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
                    node_children: list[ast.AST] = [v for v in node.values if not isinstance(v, ast.Constant)]
                    stack.extend(node_children)
                else:
                    text = node.value if isinstance(node.value, str) else ""
                if _DESTRUCTIVE_SQL.search(str(text)):
                    found.append(f"line {node.lineno}: {str(text).strip()[:120]}")
                continue
            stack.extend(ast.iter_child_nodes(node))
    return found


def test_the_scan_finds_destructive_steps_and_spares_backwards_ones() -> None:
    migration = """
DROPS = ['DROP TABLE IF EXISTS "old"']
async def undo():
    await engine.run_ddl(f'DROP TABLE IF EXISTS "{name}"')
def sql(table):
    return f'ALTER TABLE "{table}" RENAME COLUMN a TO b'
async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="x")
    manager.add_raw(lambda: run([sql("t"), 'DROP TRIGGER IF EXISTS t_insert', *DROPS]))
    manager.drop_column(table_class_name="T", tablename="t", column_name="c")
    manager.add_raw_backwards(undo)
    return manager
"""
    found = _destructive_steps(migration)
    # The constant and the function forwards names, the Piccolo call; not the trigger, not the backwards step.
    assert sorted(f.split(":")[0] for f in found) == ["line 10", "line 2", "line 6"], found


def test_no_migration_since_the_previous_release_drops_or_renames(rolling_release: RollingRelease) -> None:
    problems = {
        path: steps for path in rolling_release.added if (steps := _destructive_steps((ROOT / path).read_text()))
    }
    assert not problems, (
        f"Migrations added since {rolling_release.commit[:10]} drop or rename a column or a table: {problems}. "
        "During a rolling deployment the previous release keeps running on the migrated schema, so a "
        "migration only expands it (new tables, nullable or defaulted columns). Contract in two releases: "
        "first stop reading and writing the old column or table (and, for a rename, write both names), "
        "then drop it in a later release's migration, once no process of the release that used it runs. "
        "Then allow that drop here explicitly."
    )
