"""The text, signed scans and amendments of a convention: uploaded, listed, downloaded and deleted under its page's URL
(coord.documents.owner_routes), for the agents of its département only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from coord.access import DepartmentRow, Scope
from coord.access.roles import Permission
from coord.conventions import service
from coord.documents import owner_routes
from coord.documents.routes import UPLOAD_BODY_LIMIT

OWNER = "convention"
ROLES = ("texte", "scan_signe", "avenant")
PERMISSION = Permission.MANAGE


async def _owner_in(access: Scope, department: dict[str, Any], owner_id: int) -> dict[str, Any]:
    record = await service.get_convention(access, owner_id)
    access.require_in(record, department)
    return record


def _base(department: dict[str, Any], owner_id: int) -> str:
    return f"/d/{department['code']}/conventions/{owner_id}/documents"


def _back(department: dict[str, Any], owner_id: int) -> str:
    return f"/d/{department['code']}/conventions/{owner_id}#documents"


async def documents_box(access: Scope, department: dict[str, Any], owner_id: int) -> dict[str, Any]:
    """The documents section of the page (templates/documents/_panel.html)."""
    return await owner_routes.box(
        access,
        owner_kind=OWNER,
        owner_id=owner_id,
        department_id=department["id"],
        roles=ROLES,
        base_url=_base(department, owner_id),
        owner_label="cette convention",
        permission=PERMISSION,
    )


class Documents(Controller):
    path = "/d/{code:str}/conventions/{convention_id:int}/documents"

    @post("/", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def upload(self, access: Scope, department: DepartmentRow, convention_id: int, request: Request) -> Response:
        record = await _owner_in(access, department, convention_id)
        return await owner_routes.upload(
            access,
            request,
            owner_kind=OWNER,
            owner_id=record["id"],
            department_id=department["id"],
            roles=ROLES,
            back_url=_back(department, record["id"]),
            permission=PERMISSION,
        )

    @get("/{document_id:int}")
    async def download(
        self, access: Scope, department: DepartmentRow, convention_id: int, document_id: int
    ) -> Response:
        record = await _owner_in(access, department, convention_id)
        return await owner_routes.download(access, OWNER, record["id"], document_id)

    @post("/{document_id:int}/supprimer")
    async def remove(
        self, access: Scope, department: DepartmentRow, convention_id: int, document_id: int, request: Request
    ) -> Response:
        record = await _owner_in(access, department, convention_id)
        return await owner_routes.remove(
            access,
            request,
            owner_kind=OWNER,
            owner_id=record["id"],
            document_id=document_id,
            back_url=_back(department, record["id"]),
            permission=PERMISSION,
        )


ROUTES: list[Any] = [Documents]
