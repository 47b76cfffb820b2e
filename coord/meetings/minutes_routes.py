"""The minutes as a printable page and a PDF, next to the meeting's other printable documents.

Whoever sees the meeting sees its minutes; before publication, and while corrections are not
published yet, the document says it is a draft (« Projet »).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.response import Template

from coord.access import DepartmentRow, Scope
from coord.meetings import minutes, printing, service
from coord.web.forms import page


async def _minutes_document(
    access: Scope, department: DepartmentRow, meeting_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    meeting = await service.get_meeting(access, meeting_id)
    access.require_in(meeting, department)
    return await printing.document_data(access, meeting_id), await minutes.publication(access, meeting_id)


class MinutesPrintPages(Controller):
    path = "/d/{code:str}/reunions/{meeting_id:int}/imprimer"

    @get("/compte-rendu")
    async def minutes_page(self, access: Scope, department: DepartmentRow, code: str, meeting_id: int) -> Template:
        data, state = await _minutes_document(access, department, meeting_id)
        return page(
            "meetings/print_compte_rendu.html",
            **data,
            document=printing.MINUTES,
            document_title=printing.minutes_title(state),
            publication_text=printing.publication_line(state, data["department"]["timezone"]),
            present=[{**p, "presence": printing.presence_text(p)} for p in printing.attending(data)],
            excused=printing.not_attending(data, "excused"),
            absent=printing.not_attending(data, "absent"),
        )

    @get("/compte-rendu.pdf")
    async def minutes_pdf(
        self, access: Scope, department: DepartmentRow, code: str, meeting_id: int
    ) -> Response[bytes]:
        data, state = await _minutes_document(access, department, meeting_id)
        return Response(
            printing.minutes_pdf(data, state),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{printing.minutes_filename(data, state)}"'},
        )


ROUTES: list[Any] = [MinutesPrintPages]
