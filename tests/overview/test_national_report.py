"""The national report of a plan over a period: per measure, the départements with items on it and
their items done / in progress / late / not started, the measure-22 meetings held, and the count of
measures done, partly done and never started, from the ground up and by département; as a page,
a PDF and an XLSX holding the same figures."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest

from tests.conftest import run
from tests.overview.support import counted_queries

PLAN = "2014-2016"  # the plan shipped with Coord: 23 measures


def _measures() -> dict[int, int]:
    from coord.plans.tables import Measure

    rows = run(Measure.select(Measure.id, Measure.number).where(Measure.plan.code == PLAN))
    return {r["number"]: r["id"] for r in rows}


def item(
    api: Any,
    measure: int,
    status: str = "a_faire",
    *,
    created: dt.date = dt.date(2014, 6, 1),
    due: dt.date = dt.date(2030, 1, 1),
    done: dt.date | None = None,
    title: str = "Action",
) -> dict[str, Any]:
    """An item on `measure`, moved to `status` through the API, dated back into the plan's years."""
    from coord.actions.tables import ActionItem

    response = api.post("/api/actions", json={"title": title, "measure": measure})
    assert response.status_code == 201, response.text
    created_item = response.json()
    if status != "a_faire":
        moved = api.post(f"/api/actions/{created_item['id']}/transition", json={"status": status})
        assert moved.status_code == 200, moved.text
    values: dict[Any, Any] = {ActionItem.created_on: created, ActionItem.due_on: due}
    if status == "fait":
        values[ActionItem.done_on] = done or dt.date(2015, 6, 1)
    run(ActionItem.update(values).where(ActionItem.id == created_item["id"]))
    return created_item


def held_meeting(api: Any, code: str, day: dt.date) -> None:
    """A measure-22 meeting of `code`'s CDPD, held on `day` at 10:00 local time."""
    from coord.meetings.tables import Meeting

    committee = api.post("/api/committees", json={"name": f"CDPD {code}", "kind": "cdpd_pleniere"}).json()
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    meeting = api.post(
        "/api/meetings",
        json={
            "committee": committee["id"],
            "title": "Réunion annuelle TEH",
            "kind": "annuelle_teh",
            "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "place": "Préfecture",
            "confirm_day": True,
        },
    )
    assert meeting.status_code == 201, meeting.text
    meeting = meeting.json()
    when = dt.datetime.combine(day, dt.time(9, 0), dt.UTC)
    run(
        Meeting.update(
            {Meeting.starts_at: when, Meeting.ends_at: when + dt.timedelta(hours=2), Meeting.status: "held"}
        ).where(Meeting.id == meeting["id"])
    )


@pytest.fixture
def seeded(api_as: Any) -> dict[str, Any]:
    """Hérault and Gard items on measures 1, 2, 3 and 22 of the first plan, some out of the period."""
    m = _measures()
    herault, gard = api_as("prefecture", "34"), api_as("prefecture", "30")
    # Measure 1: every item done, in both départements → done.
    item(herault, m[1], "fait")
    item(herault, m[1], "fait")
    item(gard, m[1], "fait")
    # Measure 2: the Hérault has one done and one in progress, the Gard one late, never started.
    item(herault, m[2], "fait")
    item(herault, m[2], "en_cours")
    item(gard, m[2], "a_faire", due=dt.date(2015, 3, 1))
    # Measure 3: the Gard has one not started (due later) and one abandoned → never.
    item(gard, m[3], "a_faire")
    item(gard, m[3], "abandonne")
    # Measure 22: the Hérault's blocked item is late; it was started → partly.
    item(herault, m[22], "bloque", due=dt.date(2016, 1, 15))
    # Out of the period: created after it, or done before it.
    item(herault, m[1], "a_faire", created=dt.date(2018, 1, 1), title="Hors période (après)")
    item(gard, m[2], "fait", created=dt.date(2013, 1, 1), done=dt.date(2013, 6, 1), title="Hors période (avant)")
    # Measure-22 meetings: the Hérault held one in 2015, the Gard's is of 2017 (out of the period).
    held_meeting(herault, "34", dt.date(2015, 11, 20))
    held_meeting(gard, "30", dt.date(2017, 11, 20))
    return {"measures": m}


def _national(make_user: Any, web: Any) -> Any:
    user = make_user("national", None)
    web.login(user.email)
    return web


def _row(page: str, attribute: str, value: Any, section: str | None = None) -> dict[str, str]:
    if section:
        page = re.search(rf'id="{section}"(.*?)</section>', page, re.S).group(1)
    match = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attribute}={value}"
    return dict(re.findall(r'class="fig-([a-z_]+)">(\d+)<', match.group(1)))


def _detail(page: str, measure: int, code: str) -> dict[str, str]:
    block = re.search(rf'data-measure-detail="{measure}">(.*?)</details>', page, re.S)
    assert block, f"no detail for measure {measure}"
    return _row(block.group(1), "data-department", code)


def test_the_report_counts_each_measure_and_each_department_from_the_items(seeded, make_user, web):
    web = _national(make_user, web)
    response = web.get(f"/plans/{PLAN}/rapport")
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    assert "du 01/01/2014 au 31/12/2016" in page and "Tous les départements" in page

    figures = lambda **kw: {k: str(v) for k, v in kw.items()}  # noqa: E731
    assert _row(page, "data-measure", 1) == figures(
        departments=2, done=3, in_progress=0, late=0, not_started=0, abandoned=0
    )
    assert _row(page, "data-measure", 2) == figures(
        departments=2, done=1, in_progress=1, late=1, not_started=0, abandoned=0
    )
    assert _row(page, "data-measure", 3) == figures(
        departments=1, done=0, in_progress=0, late=0, not_started=1, abandoned=1
    )
    assert _row(page, "data-measure", 22) == figures(
        departments=1, done=0, in_progress=0, late=1, not_started=0, abandoned=0
    )
    assert _row(page, "data-measure", 5) == figures(
        departments=0, done=0, in_progress=0, late=0, not_started=0, abandoned=0
    )
    states = dict(re.findall(r'<tr data-measure="(\d+)">.*?fr-badge[^>]*>([^<]+)</span>', page, re.S))
    assert (states["1"], states["2"], states["3"], states["22"], states["5"]) == (
        "Réalisée",
        "Partiellement réalisée",
        "Non engagée",
        "Partiellement réalisée",
        "Non engagée",
    )

    # The evaluation's count: 1 measure done, 2 partly, the 20 others never.
    summary = re.search(r'id="synthese"(.*?)</section>', page, re.S).group(1)
    assert re.search(r'id="synthese-fait">.*?1 mesure\(s\).*?Réalisée sur 23', summary, re.S)
    assert re.search(r'id="synthese-partiel">.*?2 mesure\(s\)', summary, re.S)
    assert re.search(r'id="synthese-jamais">.*?20 mesure\(s\)', summary, re.S)
    assert "tenues dans la période : <strong>1</strong>, dans 1 département(s) sur 101" in summary

    # By département, per measure and overall.
    assert _detail(page, 2, "34") == figures(done=1, in_progress=1, late=0, not_started=0, abandoned=0)
    assert _detail(page, 2, "30") == figures(done=0, in_progress=0, late=1, not_started=0, abandoned=0)
    block2 = re.search(r'data-measure-detail="2">(.*?)</details>', page, re.S).group(1)
    assert re.search(r'data-department="30">.*?Non engagée', block2, re.S)  # late, never started
    assert _row(page, "data-department", "34", "par-departement") == figures(
        fait=1, partiel=2, jamais=20, items=5, meetings=1
    )
    assert _row(page, "data-department", "30", "par-departement") == figures(
        fait=1, partiel=0, jamais=22, items=4, meetings=0
    )
    assert _row(page, "data-department", "48", "par-departement") == figures(
        fait=0, partiel=0, jamais=23, items=0, meetings=0
    )

    # A shorter period: only 2016, the Gard's meeting of 2017 and items done in 2015 drop out.
    later = html.unescape(web.get(f"/plans/{PLAN}/rapport?du=2016-01-01&au=2016-12-31").text)
    assert _row(later, "data-measure", 1)["done"] == "0"
    assert "tenues dans la période : <strong>0</strong>" in later


def test_the_pdf_and_the_xlsx_hold_the_same_figures(seeded, make_user, web):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    web = _national(make_user, web)
    pdf = web.get(f"/plans/{PLAN}/rapport.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "rapport-2014-2016-2014-01-01-2016-12-31.pdf" in pdf.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Rapport national" in flat and "du 01/01/2014 au 31/12/2016" in flat
    assert "Réalisée 1" in flat and "Partiellement réalisée 2" in flat and "Non engagée 20" in flat
    assert "Réunions annuelles (mesure 22) tenues 1" in flat
    assert "34 · Hérault" in flat and "30 · Gard" in flat
    assert re.search(r"34 Hérault 1 2 20 5 1", flat), flat[-2000:]

    xlsx = web.get(f"/plans/{PLAN}/rapport.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0]: row[1] for row in book["Synthèse"].iter_rows(min_row=2, values_only=True)}
    assert summary["Réalisée"] == 1 and summary["Partiellement réalisée"] == 2 and summary["Non engagée"] == 20
    assert summary["Réunions annuelles (mesure 22) tenues"] == 1
    measures = {row[0]: row for row in book["Mesures"].iter_rows(min_row=2, values_only=True)}
    assert measures[2][2:] == (2, 1, 1, 1, 0, 0, "Partiellement réalisée")
    assert measures[1][2:] == (2, 3, 0, 0, 0, 0, "Réalisée")
    breakdown = [row for row in book["Mesures par département"].iter_rows(min_row=2, values_only=True)]
    assert (2, "30 · Gard", 0, 0, 1, 0, 0, "Non engagée") in breakdown
    departments = {row[0]: row for row in book["Départements"].iter_rows(min_row=2, values_only=True)}
    assert departments["34"] == ("34", "Hérault", 1, 2, 20, 5, 1)
    assert len(departments) == 101


def test_a_department_user_sees_only_their_own_figures(seeded, make_user, web):
    user = make_user("prefecture", "34")
    web.login(user.email)
    page = html.unescape(web.get(f"/plans/{PLAN}/rapport").text)
    assert 'id="report-scope">34 · Hérault<' in page and "Vous ne voyez que les chiffres de votre département" in page
    assert "Gard" not in page
    assert _row(page, "data-measure", 1)["done"] == "2" and _row(page, "data-measure", 1)["departments"] == "1"
    assert _row(page, "data-measure", 3)["not_started"] == "0"  # the Gard's items are not counted
    book_bytes = web.get(f"/plans/{PLAN}/rapport.xlsx").content
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(book_bytes))
    assert [row[0] for row in book["Départements"].iter_rows(min_row=2, values_only=True)] == ["34"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("du=2016-01-01&au=2015-01-01", "La date de fin (01/01/2015) précède la date de début (01/01/2016)"),
        ("du=hier", "Date de début invalide : « hier »"),
        ("au=2015-02-30", "Date de fin invalide"),
        ("du=1850-01-01", "La date de début doit être comprise entre 2000 et 2100"),
    ],
)
def test_a_bad_period_is_refused_in_french(query, message, make_user, web):
    web = _national(make_user, web)
    page = web.get(f"/plans/{PLAN}/rapport?{query}")
    assert page.status_code == 422
    text = html.unescape(page.text)
    assert message in text and 'name="du"' in text  # the form is shown again, with the message
    for extension in ("pdf", "xlsx"):
        refused = web.get(f"/plans/{PLAN}/rapport.{extension}?{query}")
        assert refused.status_code == 422 and message in html.unescape(refused.text)


def test_an_unknown_plan_is_a_french_404(make_user, web):
    web = _national(make_user, web)
    response = web.get("/plans/1999-2000/rapport")
    assert response.status_code == 404 and "inconnu" in html.unescape(response.text)


def test_the_report_costs_the_same_queries_for_more_items_and_departments(seeded, api_as):
    """Grouped counts: more items, on more measures, in more départements, add no query."""
    from coord.access import SYSTEM, Scope
    from coord.core import clock
    from coord.overview import report

    def count() -> int:
        return run(counted_queries(lambda: report.plan_report(Scope(SYSTEM), PLAN, None, None, clock.now())))

    before = count()
    assert before >= 5
    m = seeded["measures"]
    for code in ("13", "75"):
        api = api_as("prefecture", code)
        for number in (4, 5, 6):
            item(api, m[number], "en_cours")
        held_meeting(api, code, dt.date(2016, 3, 10))
    assert count() == before
