"""The national coordinator sees France at a glance: a map of the 101 départements coloured by this
year's measure-22 status (or action progress, or convention coverage), the same figures as a table,
as CSV and XLSX, ranked by how late each département is; nobody else sees it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from tests.conftest import run

# 20 November 2026: the window of the yearly meeting (18 October ± 21 days) closed on 8 November.
NOVEMBER = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
OVERSEAS = {"971", "972", "973", "974", "976"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def november() -> Iterator[None]:
    from coord.core.clock import FrozenClock, use_clock

    use_clock(FrozenClock(NOVEMBER))
    try:
        yield
    finally:
        use_clock(None)


async def _department_id(code: str) -> int:
    from coord.territory.tables import Department

    return (await Department.select(Department.id).where(Department.code == code).first())["id"]


async def _meeting(code: str, starts: dt.datetime, status: str, *, minutes: bool = False) -> None:
    """A measure-22 meeting of `code`'s CDPD in the state the scenario needs (its convocation or its
    holding happened before the test: their own flows are tested elsewhere)."""
    from coord.committees.tables import Committee
    from coord.meetings.tables import Meeting

    department = await _department_id(code)
    committee = await Committee.select(Committee.id).where(Committee.department == department).first()
    if committee is None:
        inserted = await Committee.insert(Committee(department=department, name=f"CDPD {code}", kind="cdpd_pleniere"))
        committee = {"id": inserted[0]["id"]}
    await Meeting.insert(
        Meeting(
            department=department,
            committee=committee["id"],
            title=f"Séance annuelle traite {code}",
            kind="annuelle_teh",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            place="Préfecture",
            status=status,
            uid=f"{uuid4()}@test",
            convened_at=starts - dt.timedelta(days=20) if status in ("convened", "held") else None,
            minutes_published_at=starts + dt.timedelta(days=3) if minutes else None,
        )
    )


async def _action(code: str, status: str, due: dt.date) -> None:
    from coord.actions.tables import ActionItem

    await ActionItem.insert(
        ActionItem(
            department=await _department_id(code),
            title=f"Action {status} {code}",
            status=status,
            due_on=due,
            created_on=dt.date(2026, 3, 1),
            done_on=dt.date(2026, 5, 1) if status == "fait" else None,
        )
    )


def _seed() -> None:
    """Five départements in five situations; the 96 others have held nothing: late since 9 November."""

    async def seed() -> None:
        await _meeting("69", dt.datetime(2026, 10, 15, 8, tzinfo=dt.UTC), "held", minutes=True)  # held
        await _meeting("33", dt.datetime(2026, 12, 3, 8, tzinfo=dt.UTC), "convened")  # convened
        await _meeting("13", dt.datetime(2026, 12, 15, 8, tzinfo=dt.UTC), "draft")  # planned
        await _meeting("59", dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC), "held")  # minutes late since 31/10
        await _meeting("974", dt.datetime(2026, 10, 20, 6, tzinfo=dt.UTC), "held", minutes=True)  # held overseas
        for status, due in (("fait", dt.date(2026, 6, 1)), ("en_cours", dt.date(2026, 9, 1))):
            await _action("69", status, due)  # one done, one overdue
        await _action("33", "fait", dt.date(2026, 6, 1))
        await _action("33", "fait", dt.date(2026, 7, 1))

    run(seed())


def _map_departments(html: str) -> dict[str, dict[str, str]]:
    """Each département link of the map: {code: {"group", "fill", "title"}}."""
    svg = html[
        html.index('<svg xmlns="http://www.w3.org/2000/svg" class="nm-map"') : html.index(
            "</svg>", html.index('class="nm-map"')
        )
    ]
    found = {}
    for match in re.finditer(
        r'<a href="/d/(?P<href>[^"]+)" class="nm-dep nm-(?P<cls>\w+)" data-code="(?P<code>[^"]+)" '
        r'data-group="(?P<group>\w+)" aria-label="[^"]*"><title>(?P<title>[^<]*)</title>'
        r'<path d="(?P<d>[^"]+)" fill="url\(#(?P<pattern>[^)]+)\)" data-fill="(?P<fill>[^"]+)"',
        svg,
    ):
        assert match["href"] == match["code"] and match["cls"] == match["group"] and len(match["d"]) > 20
        found[match["code"]] = match.groupdict()
    return found


def _table_rows(html: str) -> dict[str, list[str]]:
    body = html[html.index('<table id="nm-table">') : html.index("</table>", html.index('<table id="nm-table">'))]
    rows = {}
    for match in re.finditer(r'<tr data-code="([^"]+)" data-group="\w+">(.*?)</tr>', body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", match[2], re.S)]
        rows[match[1]] = cells
    return rows


def test_the_map_draws_the_101_departements_with_the_five_overseas_insets(november, web, make_user):
    web.login(make_user("national", None).email)
    page = web.get("/national")
    assert page.status_code == 200
    shapes = _map_departments(page.text)
    assert len(shapes) == 101
    assert {"2A", "2B"} <= set(shapes) and set(shapes) >= OVERSEAS
    for inset in ("Guadeloupe", "Martinique", "Guyane", "La Réunion", "Mayotte", "Paris et petite couronne"):
        assert f">{inset}</text>" in page.text
    # Every département of the reference data is on the map, by the same code.
    from coord.territory.tables import Department

    assert set(shapes) == {r["code"] for r in run(Department.select(Department.code))}


def test_each_departement_is_coloured_by_the_cycle_status_the_service_computes(november, web, make_user):
    from coord.access import SYSTEM, Scope
    from coord.overview.national import CYCLE_GROUP, group
    from coord.scheduling.service import department_cycle

    _seed()
    web.login(make_user("national", None).email)
    page = web.get("/national?vue=cycle")
    assert page.status_code == 200
    shapes = _map_departments(page.text)
    scope = Scope(SYSTEM)
    states = {}
    for code, shape in shapes.items():
        state = run(department_cycle(scope, code, 2026, NOVEMBER))["state"]
        states[code] = state
        expected = group("cycle", CYCLE_GROUP[state])
        assert (shape["group"], shape["fill"]) == (expected.code, expected.colour), code
    assert states["69"] == "cr_publie" and states["974"] == "cr_publie"
    assert states["33"] == "convoquee" and states["13"] == "date_proposee" and states["59"] == "en_retard"
    assert states["01"] == "en_retard"
    assert shapes["69"]["group"] == "held" and shapes["33"]["group"] == "convened"
    assert shapes["13"]["group"] == "planned" and shapes["59"]["group"] == "late"
    # Hovering (or focusing) a département tells its figures.
    assert "Rhône (69)" in shapes["69"]["title"] and "1 faite(s) sur 2, 1 en retard" in shapes["69"]["title"]
    # The legend says each group in words, with its count.
    assert re.search(r'<span class="nm-label">En retard</span> : <strong>97</strong>', page.text)
    assert re.search(r'<span class="nm-label">Tenue</span> : <strong>2</strong>', page.text)


def test_the_table_holds_the_same_figures_ranked_by_how_late_and_the_exports_the_same_rows(november, web, make_user):
    _seed()
    web.login(make_user("national", None).email)
    page = web.get("/national")
    shapes = _map_departments(page.text)
    table = _table_rows(page.text)
    assert set(table) == set(shapes)
    ranked = sorted(table.values(), key=lambda cells: int(cells[0]))
    # Late since 9 November (11 days) for the 96 without a meeting; the Nord's minutes are late
    # since 31 October (20 days): the Nord comes first, then the late ones by code.
    assert ranked[0][1].startswith("59") and ranked[0][4] == "20"
    assert ranked[1][1].startswith("01") and ranked[1][4] == "11"
    assert [cells[1][:2] for cells in ranked[-4:]] == ["13", "33", "69", "97"]
    assert table["69"][3] == "Compte rendu publié" and table["69"][5:8] == ["1 / 2", "1", "50 %"]
    assert table["33"][5:8] == ["2 / 2", "0", "100 %"]
    assert "Classement" in page.text and "Nord (59)</a> :" in page.text

    csv_response = web.get("/national.csv")
    assert csv_response.status_code == 200 and csv_response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:6] == ["Rang", "Code", "Département", "Région", "Réunion annuelle (mesure 22)", "Jours de retard"]
    by_code = {line[1]: line for line in lines[1:]}
    assert len(by_code) == 101
    for code, cells in table.items():
        line = by_code[code]
        assert line[0] == cells[0] and line[4] == cells[3] and line[5] == cells[4], code
        assert f"{line[8]} / {line[7]}" == cells[5] and line[9] == cells[6] and f"{line[12]} / {line[11]}" == cells[8]

    xlsx = web.get("/national.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert values == lines


def test_the_switch_colours_by_action_progress_and_by_convention_coverage(november, web, make_user):
    _seed()
    web.login(make_user("national", None).email)
    actions = _map_departments(web.get("/national?vue=actions").text)
    assert actions["69"]["group"] == "late" and actions["33"]["group"] == "advanced"
    assert actions["01"]["group"] == "none"
    coverage = web.get("/national?vue=conventions")
    shapes = _map_departments(coverage.text)
    assert {s["group"] for s in shapes.values()} == {"none"}  # no pilot site yet anywhere
    assert 'id="vue-conventions" name="vue"' in coverage.text and "checked" in coverage.text


def test_the_national_cycle_table_is_ranked_and_exported(november, web, make_user):
    _seed()
    web.login(make_user("national", None).email)
    response = web.get("/cycle.csv?annee=2026")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:7] == ["Rang", "Code", "Département", "Région", "Année", "État", "Jours de retard"]
    assert [line[1] for line in lines[1:3]] == ["59", "01"] and lines[1][6] == "20"
    assert "Compte rendu non publié" in lines[1][7]
    assert len(lines) == 102
    late = web.get("/cycle.xlsx?annee=2026&etat=en_retard")
    rows = list(load_workbook(io.BytesIO(late.content)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 97 and {r[5] for r in rows[1:]} == {"En retard"}
    assert "/cycle.csv?annee=2026" in web.get("/cycle?annee=2026").text


@pytest.mark.parametrize("role", ["prefecture", "observer"])
def test_a_departement_user_cannot_see_the_national_dashboard_nor_its_exports(november, web, make_user, role):
    _seed()
    web.login(make_user(role, "34").email)
    for url in ("/national", "/national.csv", "/national.xlsx", "/cycle.csv", "/cycle.xlsx"):
        response = web.get(url)
        assert response.status_code in (403, 404), url
        assert "Rhône" not in response.text and "nm-map" not in response.text
    home = web.get("/", follow_redirects=False)
    assert home.headers["location"] == "/d/34"


def test_the_national_coordinator_lands_on_the_map(november, web, make_user):
    web.login(make_user("national", None).email)
    assert web.get("/", follow_redirects=False).headers["location"] == "/national"


def test_the_map_outlines_are_built_from_the_pinned_open_data_source():
    from coord.overview.map_build import OVERSEAS as INSETS
    from coord.overview.map_build import SOURCE_PACKAGE, load_map, output_path

    data: dict[str, Any] = load_map()
    assert output_path().exists() and SOURCE_PACKAGE in data["source"]
    assert len(data["departments"]) == 101
    assert [i["code"] for i in data["insets"]] == list(INSETS)
    for code in OVERSEAS:
        inset = next(i for i in data["insets"] if i["code"] == code)
        xs = [float(v) for v in re.findall(r"[ML](-?[\d.]+) ", data["departments"][code]["d"])]
        assert inset["x"] <= min(xs) and max(xs) <= inset["x"] + inset["w"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True, scope="session")
def test_in_a_browser_the_map_is_reached_by_keyboard_is_accessible_and_a_click_opens_the_departement(
    november, make_user, live_url
):
    """Debian Chromium: Tab reaches the départements of the map (each says its figures), Enter opens
    one; axe finds no violation in any view at 1280 and 390 px, and on a phone the page does not
    scroll sideways. A screenshot is kept under var/screenshots/ for people to look at."""
    from tests.support.axe import axe_context, horizontal_overflow, run_axe, summarise
    from tests.support.seeded_site import chromium, sign_in

    _seed()
    national = make_user("national", None)
    with chromium() as browser, axe_context(browser) as context:
        page = context.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_url, national.email)
        assert page.url.endswith("/national")
        rhone = page.locator('a.nm-dep[data-code="69"]')
        assert "Rhône (69) : Réunion annuelle : Compte rendu publié" in rhone.get_attribute("aria-label")
        assert "Rhône (69)" in rhone.locator("title").text_content()
        page.locator('a.nm-dep[data-code="01"]').focus()
        page.keyboard.press("Tab")  # the next département of the map, by keyboard
        assert page.evaluate("document.activeElement.getAttribute('data-code')") == "02"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "national-map-1280px.png"))
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_url}/d/02")
        violations = []
        for view in ("cycle", "actions", "conventions"):
            page.goto(f"{live_url}/national?vue={view}")
            assert page.locator("a.nm-dep").count() == 101
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                violations.extend(run_axe(page, width))
                assert horizontal_overflow(page) <= 0, (view, width)
        page.goto(f"{live_url}/cycle")
        violations.extend(run_axe(page, 390))
        assert not violations, summarise(violations)


def test_the_projection_is_lambert_93():
    """EPSG:2154: origin (3°E, 46.5°N) at (700 000, 6 600 000) m, true scale on the standard parallels
    44°N and 49°N, slightly smaller between them."""
    import math

    from coord.overview.map_build import lambert93

    assert lambert93(3.0, 46.5) == pytest.approx((700000.0, 6600000.0), abs=0.01)

    def scale(lat: float) -> float:
        a, e2, step = 6378137.0, 0.00669438002290, 1e-4  # GRS80
        x0, y0 = lambert93(3.0, lat)
        x1, y1 = lambert93(3.0 + step, lat)
        ground = a / math.sqrt(1 - e2 * math.sin(math.radians(lat)) ** 2) * math.cos(math.radians(lat))
        return math.hypot(x1 - x0, y1 - y0) / (ground * math.radians(step))

    assert scale(44.0) == pytest.approx(1.0, abs=1e-6) and scale(49.0) == pytest.approx(1.0, abs=1e-6)
    assert 0.999 < scale(46.5) < 0.9995
