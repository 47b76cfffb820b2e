"""What the owners' document routes share (conventions, action items): the owner domain resolves and
checks its record in the scope, then hands its kind, id and département to these helpers."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from coord.access import Scope
from coord.access.roles import Permission
from coord.core.errors import CoordError, ValidationFailed
from coord.documents import service
from coord.documents.responses import document_response
from coord.documents.routes import read_upload
from coord.web.client_ip import client_ip
from coord.web.forms import redirect


def _message(exc: CoordError) -> str:
    if isinstance(exc, ValidationFailed):
        return " ".join(dict.fromkeys(exc.errors.values())) or exc.message
    return exc.message


async def upload(
    access: Scope,
    request: Request,
    *,
    owner_kind: str,
    owner_id: int,
    department_id: int,
    roles: tuple[str, ...],
    back_url: str,
    permission: Permission,
) -> Response:
    """Store the uploaded file and go back to the owner's page with the outcome (refusals in French)."""
    access.require(permission, department_id)  # a reader is refused before the body is even read
    try:
        filename, data, fields = await read_upload(request)
        role = fields.get("role") or roles[0]
        replaces = fields.get("replaces") or ""
        if role not in roles:
            raise ValidationFailed({"role": "Choisissez le type de document."}, "Choisissez le type de document.")
        row = await service.upload(
            access,
            owner_kind=owner_kind,
            owner_id=owner_id,
            department_id=department_id,
            role=role,
            filename=filename,
            data=data,
            permission=permission,
            replaces=int(replaces) if replaces.isdigit() and len(replaces) < 10 else None,
            ip=client_ip(request),
        )
    except CoordError as exc:
        if exc.status_code in (403, 404):
            raise
        return redirect(request, back_url, _message(exc), category="error")
    return redirect(request, back_url, f"Document « {row['filename']} » ajouté.")


async def download(access: Scope, owner_kind: str, owner_id: int, document_id: int) -> Response[bytes]:
    row = await service.get_document(access, document_id, owner_kind, owner_id)
    return document_response(row, await service.read(row))


async def remove(
    access: Scope,
    request: Request,
    *,
    owner_kind: str,
    owner_id: int,
    document_id: int,
    back_url: str,
    permission: Permission,
) -> Response:
    row = await service.delete(access, document_id, owner_kind, owner_id, permission=permission, ip=client_ip(request))
    return redirect(request, back_url, f"Document « {row['filename']} » supprimé.")


async def box(
    access: Scope,
    *,
    owner_kind: str,
    owner_id: int,
    department_id: int,
    roles: tuple[str, ...],
    base_url: str,
    owner_label: str,
    permission: Permission,
) -> dict[str, Any]:
    """The context of templates/documents/_panel.html for the owner's page."""
    return {
        "documents": await service.documents_of(access, owner_kind, owner_id, roles),
        "roles": {r: service.ROLES[r] for r in roles},
        "base_url": base_url,
        "owner_label": owner_label,
        "can_edit": access.may(permission, department_id),
    }
