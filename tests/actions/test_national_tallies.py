"""The national figures read tallies the database keeps in the writing transaction: whatever writes
the rows (the API, a bulk insert, a direct fix, a deleted measure), the tallies equal a recount, a
change made elsewhere shows at once, and an item falls overdue at the département's midnight."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.actions.support import due
from tests.conftest import run


def recount() -> dict[str, Counter]:
    """What the tallies should hold, counted from the rows themselves."""
    from coord.actions.tables import ActionItem
    from coord.committees.tables import Committee
    from coord.partners.tables import Contact, Organisation
    from coord.pilot_sites.tables import PilotSite

    items = run(ActionItem.select(ActionItem.department, ActionItem.measure, ActionItem.created_on, ActionItem.status))
    rows = {
        name: run(table.select(table.department))
        for name, table in (
            ("committee", Committee),
            ("organisation", Organisation),
            ("contact", Contact),
            ("pilot_site", PilotSite),
        )
    }
    return {
        "department": Counter((i["department"], i["created_on"].year, i["status"]) for i in items),
        "measure": Counter((i["measure"] or 0, i["created_on"].year, i["status"]) for i in items),
        "subjects": Counter((r["department"], name) for name, found in rows.items() for r in found),
    }


def tallies() -> dict[str, Counter]:
    from coord.actions.tables import ActionMeasureTally, ActionTally
    from coord.overview.tables import DepartmentTally

    def kept(rows: list[dict[str, Any]], *key: str) -> Counter:
        assert all(r["n"] >= 0 for r in rows), rows
        return Counter({tuple(r[k] for k in key): r["n"] for r in rows if r["n"]})

    return {
        "department": kept(run(ActionTally.select()), "department", "year", "status"),
        "measure": kept(run(ActionMeasureTally.select()), "measure", "year", "status"),
        "subjects": kept(run(DepartmentTally.select()), "department", "subject"),
    }


def test_the_tallies_equal_a_recount_whatever_writes_the_rows(api_as):
    from coord.actions.tables import ActionItem
    from coord.partners.tables import Contact
    from coord.plans.tables import Measure, Plan
    from coord.territory.tables import Department

    herault, gard = api_as("prefecture", "34"), api_as("prefecture", "30")
    measures = run(Measure.select(Measure.id).order_by(Measure.id).limit(2))

    def created(api: Any, path: str, **fields: Any) -> dict[str, Any]:
        response = api.post(path, json=fields)
        assert response.status_code == 201, response.text
        return response.json()

    org = created(herault, "/api/organisations", name="Conseil départemental", kind="conseil_departemental")
    contact = created(
        herault, "/api/contacts", organisation=org["id"], first_name="Isabelle", last_name="Moreau", email="i.m@cd.fr"
    )
    created(gard, "/api/organisations", name="Association du Gard", kind="association")
    created(herault, "/api/committees", name="CDPD", kind="cdpd_pleniere")
    created(herault, "/api/pilot-sites", plan="2014-2016", scheme="coordination")
    items = [
        herault.post("/api/actions", json={"title": f"Action {n}", "measure": m, "due_on": due(5)}).json()
        for n, m in enumerate([measures[0]["id"], measures[1]["id"], None])
    ]
    assert all("id" in item for item in items), items
    gard_item = gard.post("/api/actions", json={"title": "Former", "due_on": due(5)}).json()
    assert tallies() == recount()

    # Moves through the service: status, reopening, measure.
    herault.post(f"/api/actions/{items[0]['id']}/transition", json={"status": "fait"})
    herault.post(f"/api/actions/{items[1]['id']}/transition", json={"status": "abandonne"})
    herault.post(f"/api/actions/{items[1]['id']}/transition", json={"status": "en_cours", "reopen": True})
    changed = herault.patch(
        f"/api/actions/{items[2]['id']}", json={"measure": measures[0]["id"], "version": items[2]["version"]}
    )
    assert changed.status_code == 200, changed.text
    assert tallies() == recount()

    # Direct writes, as an import, a fix by hand or the benchmark generator make them.
    gard_id = run(Department.select(Department.id).where(Department.code == "30").first())["id"]
    run(ActionItem.update({ActionItem.created_on: dt.date(2019, 3, 1)}).where(ActionItem.id == items[0]["id"]))
    run(ActionItem.update({ActionItem.department: gard_id}).where(ActionItem.id == items[2]["id"]))
    run(
        ActionItem.insert(
            *(
                ActionItem(department=gard_id, title=f"Importée {n}", status=s, created_on=dt.date(2021, 6, 1))
                for n, s in enumerate(["fait", "fait", "bloque"])
            )
        )
    )
    run(ActionItem.delete().where(ActionItem.id == gard_item["id"]))
    erased = herault.post(f"/api/contacts/{contact['id']}/erase")
    assert erased.status_code == 200, erased.text
    run(Contact.delete().where(Contact.id == contact["id"]))
    assert tallies() == recount()

    # A measure deleted from the plan: its items lose it in the same transaction, and so do the tallies.
    plan = run(Plan.insert(Plan(code="essai", title="Plan d'essai", start_year=2030, end_year=2032)))[0]["id"]
    extra = run(Measure.insert(Measure(plan=plan, number=1, title="Mesure d'essai")))[0]["id"]
    run(ActionItem.update({ActionItem.measure: extra}).where(ActionItem.id == items[1]["id"]))
    assert tallies() == recount()
    run(Measure.delete().where(Measure.id == extra))
    assert run(ActionItem.select(ActionItem.measure).where(ActionItem.id == items[1]["id"]).first())["measure"] is None
    assert tallies() == recount()
    run(ActionItem.delete().where(ActionItem.department == gard_id))
    assert tallies() == recount()


def test_the_national_view_shows_at_once_a_change_another_process_made(api_as, db):
    """No copy of the figures lives in a process: a write committed through another connection (another
    app process, a script) is in the next answer of this one."""
    herault = api_as("prefecture", "34")
    item = herault.post("/api/actions", json={"title": "Réunir le CDPD", "due_on": due(5)}).json()
    national = api_as("national", None)

    def herault_row() -> dict[str, Any]:
        rows = national.get("/api/actions/national", params={"since": "tout"}).json()["departments"]
        return next(r for r in rows if r["code"] == "34")

    def herault_count() -> dict[str, Any]:
        from coord.access import system_scope
        from coord.overview.service import list_departments

        return next(r for r in run(list_departments(system_scope(), with_counts=True)) if r["code"] == "34")

    assert herault_row()["by_status"]["a_faire"] == 1
    run(_elsewhere(db, f"UPDATE action_item SET status = 'fait' WHERE id = {int(item['id'])}"))
    assert herault_row()["by_status"]["a_faire"] == 0 and herault_row()["done"] == 1
    run(_elsewhere(db, f"DELETE FROM action_item WHERE id = {int(item['id'])}"))
    assert herault_row()["total"] == 0

    assert herault_count()["organisations"] == 0
    run(
        _elsewhere(
            db,
            "INSERT INTO organisation (department, name, kind, acronym, address, email, phone, notes, created_at, "
            "updated_at) SELECT id, 'Importée', 'association', '', '', '', '', '', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP FROM department WHERE code = '34'",
        )
    )
    assert herault_count()["organisations"] == 1
    run(_elsewhere(db, "DELETE FROM organisation WHERE name = 'Importée'"))
    assert herault_count()["organisations"] == 0


async def _elsewhere(db: Any, sql: str) -> None:
    """`sql` committed on a connection of its own, as another process would."""
    if db.name == "postgres":
        import asyncpg

        conn = await asyncpg.connect(db.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    else:
        import aiosqlite

        async with aiosqlite.connect(str(db.path)) as conn:
            await conn.execute(sql)
            await conn.commit()


@pytest.fixture
def clock() -> Iterator[Any]:
    from coord.core.clock import FrozenClock, use_clock

    frozen = FrozenClock(dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC))
    use_clock(frozen)
    try:
        yield frozen
    finally:
        use_clock(None)


def test_an_open_item_falls_overdue_at_its_departements_midnight(api_as, clock):
    """La Réunion's midnight comes four hours before Paris's: its item is overdue first."""
    herault, reunion = api_as("prefecture", "34"), api_as("prefecture", "974")
    for api in (herault, reunion):
        created = api.post("/api/actions", json={"title": "Réunir le CDPD", "due_on": "2026-03-10"})
        assert created.status_code == 201, created.text
    national = api_as("national", None)

    def overdue() -> dict[str, int]:
        data = national.get("/api/actions/national").json()
        return {r["code"]: r["overdue"] for r in data["departments"] if r["code"] in ("34", "974")}

    clock.set(dt.datetime(2026, 3, 10, 19, 59, tzinfo=dt.UTC))  # 23:59 in La Réunion
    assert overdue() == {"34": 0, "974": 0}
    clock.set(dt.datetime(2026, 3, 10, 20, 1, tzinfo=dt.UTC))  # past midnight there, 21:01 in Paris
    assert overdue() == {"34": 0, "974": 1}
    clock.set(dt.datetime(2026, 3, 10, 23, 1, tzinfo=dt.UTC))  # past midnight in Paris
    assert overdue() == {"34": 1, "974": 1}
    own = herault.get("/api/actions", params={"overdue": "1"}).json()
    assert own["total"] == 1  # the list's filter agrees with the national count
