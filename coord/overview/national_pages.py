"""The national dashboard (`/national`: the map, the ranking, the table) and the national exports
(`/national.csv|xlsx`, and the national cycle table's `/cycle.csv|xlsx`). National coordination only."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.response import Template

from coord.access import Scope
from coord.core.clock import now
from coord.overview import map_build, map_svg, national, national_exports
from coord.scheduling import ranking
from coord.scheduling import service as cycle_service
from coord.scheduling.cycle import STATES
from coord.web.forms import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
RANKING_SHOWN = 10


def _attachment(body: str | bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@get("/national")
async def dashboard(access: Scope, vue: str | None = None, annee: str | None = None) -> Template:
    national.require_national(access)
    at = now()
    year = cycle_service.read_year(annee, at)
    view = national.read_view(vue)
    data = await national.national_overview(access, year, at)
    rows = data["rows"]
    late = [r for r in rows if r["cycle_group"] == "late" or r["actions_overdue"]]
    try:
        drawn, map_error = map_svg.render(map_build.load_map(), rows, view), ""
    except map_build.MapUnavailable as exc:  # the figures stay readable in the table below
        drawn, map_error = None, str(exc)
    return page(
        "overview/national.html",
        section="national",
        year=year,
        years=list(range(at.year - 3, at.year + 2)),
        view=view,
        views=national.VIEWS,
        groups=national.GROUPS[view],
        counts=data["counts"][view],
        rows=rows,
        ranking=late[:RANKING_SHOWN],
        late_total=len(late),
        since=data["since"],
        map_svg=drawn,
        map_error=map_error,
        swatch=map_svg.swatch,
        states=STATES,
    )


@get("/national.csv")
async def dashboard_csv(access: Scope, annee: str | None = None) -> Response:
    national.require_national(access)
    at = now()
    year = cycle_service.read_year(annee, at)
    data = await national.national_overview(access, year, at)
    body = national_exports.to_csv(national_exports.OVERVIEW_HEADERS, national_exports.overview_rows(data["rows"]))
    return _attachment(body, CSV, f"national-{year}.csv")


@get("/national.xlsx")
async def dashboard_xlsx(access: Scope, annee: str | None = None) -> Response:
    national.require_national(access)
    at = now()
    year = cycle_service.read_year(annee, at)
    data = await national.national_overview(access, year, at)
    rows = national_exports.overview_rows(data["rows"])
    return _attachment(
        national_exports.to_xlsx(national_exports.OVERVIEW_HEADERS, rows, f"National {year}"),
        XLSX,
        f"national-{year}.xlsx",
    )


async def _cycle_rows(
    access: Scope, annee: str | None, etat: str | None, region: str | None
) -> tuple[int, list[dict[str, Any]]]:
    cycle_service.require_national(access)
    at = now()
    year = cycle_service.read_year(annee, at)
    rows = await cycle_service.national_cycle(
        access, year, at, state=etat if etat in STATES else None, region=region or None
    )
    timezones = {d["code"]: d["timezone"] for d in await access.departments()}
    return year, ranking.ranked(rows, timezones, at)


@get("/cycle.csv")
async def cycle_csv(
    access: Scope, annee: str | None = None, etat: str | None = None, region: str | None = None
) -> Response:
    year, rows = await _cycle_rows(access, annee, etat, region)
    body = national_exports.to_csv(national_exports.CYCLE_HEADERS, national_exports.cycle_rows(rows))
    return _attachment(body, CSV, f"cycle-national-{year}.csv")


@get("/cycle.xlsx")
async def cycle_xlsx(
    access: Scope, annee: str | None = None, etat: str | None = None, region: str | None = None
) -> Response:
    year, rows = await _cycle_rows(access, annee, etat, region)
    body = national_exports.to_xlsx(national_exports.CYCLE_HEADERS, national_exports.cycle_rows(rows), f"Cycle {year}")
    return _attachment(body, XLSX, f"cycle-national-{year}.xlsx")


ROUTES: list[Any] = [dashboard, dashboard_csv, dashboard_xlsx, cycle_csv, cycle_xlsx]
