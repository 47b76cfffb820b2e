"""A meeting's annexes: of its convocation (previous minutes, a draft convention, a report) and of its
minutes. Agents upload and download them under the meeting's URL; invitees reach the convocation's
annexes from their answer page and their convocation mail, through their own signed link."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from coord.access import DepartmentRow, Scope
from coord.access.roles import Permission
from coord.core.errors import CoordError, NotFound, ValidationFailed
from coord.documents import service as documents
from coord.documents.responses import document_response
from coord.documents.routes import UPLOAD_BODY_LIMIT, read_upload
from coord.links import service as links
from coord.meetings import seams, service
from coord.meetings.annex_links import OWNER, convocation_annexes
from coord.meetings.seams import Panel
from coord.meetings.tables import Invitation
from coord.web.client_ip import client_ip
from coord.web.forms import redirect
from coord.web.params import IdQuery

ROLES = ("annexe_convocation", "annexe_compte_rendu")


def _url(department: dict[str, Any], meeting_id: int) -> str:
    return f"/d/{department['code']}/reunions/{meeting_id}#documents"


async def _meeting_in(access: Scope, department: dict[str, Any], meeting_id: int) -> dict[str, Any]:
    meeting = await service.get_meeting(access, meeting_id)
    access.require_in(meeting, department)
    return meeting


def _message(exc: CoordError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(dict.fromkeys(exc.errors.values())) or exc.message
    return exc.message


class MeetingDocuments(Controller):
    path = "/d/{code:str}/reunions/{meeting_id:int}/documents"

    @post("/", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(self, access: Scope, department: DepartmentRow, meeting_id: int, request: Request) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        access.require(Permission.MANAGE, department["id"])  # a reader is refused before the body is read
        try:
            filename, data, fields = await read_upload(request)
            role = fields.get("role") or "annexe_convocation"
            replaces = fields.get("replaces") or ""
            if role not in ROLES:
                raise ValidationFailed({"role": "Choisissez le type d'annexe."}, "Choisissez le type d'annexe.")
            row = await documents.upload(
                access,
                owner_kind=OWNER,
                owner_id=meeting["id"],
                department_id=department["id"],
                role=role,
                filename=filename,
                data=data,
                replaces=int(replaces) if replaces.isdigit() and len(replaces) < 10 else None,
                ip=client_ip(request),
            )
        except CoordError as exc:
            if exc.status_code in (403, 404):
                raise
            return redirect(request, _url(department, meeting_id), _message(exc), category="error")
        return redirect(request, _url(department, meeting_id), f"Document « {row['filename']} » ajouté.")

    @get("/{document_id:int}")
    async def download(self, access: Scope, department: DepartmentRow, meeting_id: int, document_id: int) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        row = await documents.get_document(access, document_id, OWNER, meeting["id"])
        return document_response(row, await documents.read(row))

    @post("/{document_id:int}/supprimer")
    async def remove(
        self, access: Scope, department: DepartmentRow, meeting_id: int, document_id: int, request: Request
    ) -> Response:
        meeting = await _meeting_in(access, department, meeting_id)
        row = await documents.delete(access, document_id, OWNER, meeting["id"], ip=client_ip(request))
        return redirect(request, _url(department, meeting_id), f"Document « {row['filename']} » supprimé.")


# -- invitees ----------------------------------------------------------------------------------
async def _invitation_meeting(token: str) -> tuple[links.ResolvedLink, int]:
    link = await links.resolve(token, "invitation")
    invitation = (
        await Invitation.select(Invitation.meeting, Invitation.contact, Invitation.removed_at)
        .where(Invitation.id == link.target_id)
        .first()
    )
    if invitation is None or invitation["removed_at"] is not None:
        raise NotFound("Document introuvable.")
    if link.contact_id is not None and link.contact_id != invitation["contact"]:
        raise NotFound("Document introuvable.")
    return link, invitation["meeting"]


@get("/r/invitation/{token:str}/annexe", opt={"exclude_from_auth": True}, include_in_schema=False)
async def invitee_download(token: str, document: IdQuery = None) -> Response[bytes]:
    """A convocation annex (`?document=` its first version's id) of the meeting this invitation link
    is for; any other document answers 404."""
    if document is None:
        raise NotFound("Document introuvable.")
    root = document
    link, meeting_id = await _invitation_meeting(token)
    for annex in await convocation_annexes(meeting_id, link.department_id):
        if annex["root"] == root:
            return document_response(annex, await documents.read(annex))
    raise NotFound("Document introuvable.")


# -- the meeting page's section ----------------------------------------------------------------
async def panel(access: Scope, department: dict[str, Any], meeting: dict[str, Any]) -> Panel:
    return Panel(
        "documents/_panel.html",
        {
            "documents": await documents.documents_of(access, OWNER, meeting["id"], ROLES),
            "roles": {r: documents.ROLES[r] for r in ROLES},
            "base_url": f"/d/{department['code']}/reunions/{meeting['id']}/documents",
            "owner_label": "cette réunion",
        },
    )


def register() -> None:
    seams.register_detail_panel("documents", panel)


ROUTES: list[Any] = [MeetingDocuments]
LINK_ROUTES: list[Any] = [invitee_download]
