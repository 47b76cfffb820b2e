"""The national coordinator sees, for each département and each plan measure, how many items are in
each status, how many are late, and the share done."""

from __future__ import annotations

import datetime as dt
import html

from coord.core.clock import local_today
from tests.actions.support import due
from tests.conftest import run


def test_progress_by_department_and_measure_counts_every_status_and_the_late_ones(api_as, web, make_user):
    from coord.actions.tables import ActionItem
    from coord.plans.tables import Measure

    measure = run(Measure.select(Measure.id, Measure.number).where(Measure.number == 22).first())
    herault, gard = api_as("prefecture", "34"), api_as("prefecture", "30")
    items = [
        herault.post("/api/actions", json={"title": t, "measure": measure["id"], "due_on": due(5)}).json()
        for t in ("Réunir le CDPD", "Installer le comité de pilotage", "Informer le CODAF", "Abandonnée")
    ]
    herault.post(f"/api/actions/{items[0]['id']}/transition", json={"status": "fait"})
    herault.post(f"/api/actions/{items[1]['id']}/transition", json={"status": "bloque"})
    herault.post(f"/api/actions/{items[3]['id']}/transition", json={"status": "abandonne"})
    late = gard.post("/api/actions", json={"title": "Former", "measure": measure["id"], "due_on": due(5)}).json()
    run(
        ActionItem.update({ActionItem.created_on: dt.date(2020, 1, 1), ActionItem.due_on: dt.date(2020, 2, 1)}).where(
            ActionItem.id == late["id"]
        )
    )

    national = api_as("national", None)
    data = national.get("/api/actions/national", params={"since": "tout"}).json()
    assert data["since"] is None
    by_code = {d["code"]: d for d in data["departments"]}
    assert by_code["34"]["by_status"] == {"a_faire": 1, "en_cours": 0, "bloque": 1, "fait": 1, "abandonne": 1}
    assert by_code["34"]["progress"] == 33  # one done among the three not abandoned
    assert by_code["30"]["overdue"] == 1 and by_code["30"]["progress"] == 0
    [row] = [m for m in data["measures"] if m["measure"] == measure["id"]]
    assert row["total"] == 5 and row["overdue"] == 1 and row["by_status"]["fait"] == 1 and row["progress"] == 25

    # By default only the recent years count: the Gard's item of 2020 belongs to an earlier period.
    recent = national.get("/api/actions/national").json()
    assert recent["since"] == local_today("Europe/Paris").year - 2  # no plan in force is on file
    by_code = {d["code"]: d for d in recent["departments"]}
    assert by_code["30"]["total"] == 0 and by_code["34"]["total"] == 4
    [row] = [m for m in recent["measures"] if m["measure"] == measure["id"]]
    assert row["total"] == 4 and row["overdue"] == 0
    since_2020 = national.get("/api/actions/national", params={"since": "2020"}).json()
    assert {d["code"]: d["total"] for d in since_2020["departments"]}["30"] == 1
    for bad in ("hier", "1850", "3000"):
        refused = national.get("/api/actions/national", params={"since": bad})
        assert refused.status_code == 422 and "since" in refused.json()["errors"], refused.text

    # A département sees only itself, nationally too.
    own = herault.get("/api/actions/national").json()
    assert [d["code"] for d in own["departments"]] == ["34"] and own["measures"][0]["total"] == 4

    user = make_user("national", None)
    web.login(user.email)
    page = html.unescape(web.get("/actions").text)
    assert "Bloqué" in page and "33 %" in page and "mesure 22" in page
    assert "Les trois dernières années" in page and "Tout l'historique" in page
    everything = html.unescape(web.get("/actions?depuis=tout").text)
    assert "sur tout l'historique" in everything and "30 · Gard" in everything
    assert "30 · Gard" not in page
    assert web.get("/actions?depuis=n'importe-quoi").status_code == 200  # a forged period: the default one


def test_the_national_view_shows_a_change_made_a_moment_ago(api_as):
    """The national figures are counters moved in the transaction of each change: an item closed by a
    prefecture counts as done on the next look, in every process."""
    herault = api_as("prefecture", "34")
    item = herault.post("/api/actions", json={"title": "Réunir le CDPD", "due_on": due(5)}).json()
    national = api_as("national", None)

    def herault_row() -> dict:
        departments = national.get("/api/actions/national").json()["departments"]
        return next(d for d in departments if d["code"] == "34")

    assert herault_row()["by_status"]["a_faire"] == 1
    assert herault.post(f"/api/actions/{item['id']}/transition", json={"status": "fait"}).status_code == 200
    row = herault_row()
    assert row["by_status"]["fait"] == 1 and row["by_status"]["a_faire"] == 0 and row["progress"] == 100


def test_overdue_is_counted_with_each_departments_own_date(api_as):
    """La Réunion is a day ahead of Paris in its early hours, Guyane a day behind in Paris's: an item
    due on day D is late there by their own calendar, not by Paris's."""
    from coord.access import Principal, Scope
    from coord.access.roles import Role
    from coord.actions import board
    from coord.territory.tables import Department

    day = dt.date.fromisoformat(due(5))
    for code in ("34", "974", "973"):
        created = api_as("prefecture", code).post("/api/actions", json={"title": "Réunir le CDPD", "due_on": due(5)})
        assert created.status_code == 201, created.text
    ids = {
        row["code"]: row["id"]
        for row in run(
            Department.select(Department.id, Department.code).where(Department.code.is_in(["34", "974", "973"]))
        )
    }
    national = Scope(Principal(user_id=None, email="miprof@coord.test", full_name="MIPROF", role=Role.NATIONAL))

    def late_at(instant: dt.datetime) -> dict[str, int]:
        counts = run(board.counts_by_department(national, now=instant))
        return {code: counts[i]["overdue"] for code, i in ids.items()}

    evening = dt.datetime.combine(day, dt.time(21), tzinfo=dt.UTC)  # 01:00 the next day in La Réunion
    assert late_at(evening) == {"34": 0, "974": 1, "973": 0}
    past_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 30), tzinfo=dt.UTC)
    assert late_at(past_midnight) == {"34": 1, "974": 1, "973": 0}  # still day D in Cayenne
    next_morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    assert late_at(next_morning) == {"34": 1, "974": 1, "973": 1}
    own = Scope(
        Principal(
            user_id=None,
            email="p@974.test",
            full_name="P",
            role=Role.PREFECTURE,
            department_id=ids["974"],
            department_code="974",
        )
    )
    assert run(board.counts_by_department(own, ids["974"], now=evening))[ids["974"]]["overdue"] == 1
