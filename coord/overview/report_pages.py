"""The national report of a plan: the page (`/plans/{code}/rapport?du=…&au=…`), its PDF and XLSX.

Every reader of the plans may open it; the figures are those of the départements the reader's scope
sees (all for a national user, their own for a département's user)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Response, get
from litestar.response import Template

from coord.access import Scope
from coord.core import clock
from coord.core.errors import ValidationFailed
from coord.overview import report, report_files
from coord.web.forms import page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _query(du: str | None, au: str | None) -> str:
    params = {k: v for k, v in (("du", du), ("au", au)) if v}
    return "?" + urlencode(params) if params else ""


class ReportPages(Controller):
    path = "/plans/{code:str}"

    @get("/rapport")
    async def report_page(self, access: Scope, code: str, du: str | None = None, au: str | None = None) -> Template:
        try:
            data = await report.plan_report(access, code, du, au, clock.now())
        except ValidationFailed as exc:
            plan = await report.get_plan(code)
            return page(
                "overview/report.html",
                status=422,
                section="plans",
                plan=plan,
                errors=exc.errors,
                values={"du": du or "", "au": au or ""},
                data=None,
            )
        period = data["period"]
        return page(
            "overview/report.html",
            section="plans",
            plan=data["plan"],
            errors={},
            values={"du": period.start.isoformat(), "au": period.end.isoformat()},
            data=data,
            states=report.STATES,
            figure_labels=report.FIGURE_LABELS,
            figures=report.FIGURES,
            files_query=_query(period.start.isoformat(), period.end.isoformat()),
        )

    @get("/rapport.pdf")
    async def report_pdf(self, access: Scope, code: str, du: str | None = None, au: str | None = None) -> Response:
        data = await report.plan_report(access, code, du, au, clock.now())
        return Response(
            report_files.to_pdf(data),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{report_files.filename(data, "pdf")}"'},
        )

    @get("/rapport.xlsx")
    async def report_xlsx(self, access: Scope, code: str, du: str | None = None, au: str | None = None) -> Response:
        data = await report.plan_report(access, code, du, au, clock.now())
        return Response(
            report_files.to_xlsx(data),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{report_files.filename(data, "xlsx")}"'},
        )


ROUTES: list[Any] = [ReportPages]
