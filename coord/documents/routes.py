"""Routes of documents that need no owner domain: a partner's signed link to one document, and the
helpers the owners' routes (meetings, conventions, action items) share to read an upload form."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import UploadFile

from coord.access.scope import link_scope
from coord.core.errors import ValidationFailed
from coord.core.settings import get_settings
from coord.documents import service
from coord.documents.responses import document_response
from coord.links import service as links


# Litestar refuses a larger body before reading it (413); the service gives the French message for
# a file between the limit and this (the form's other fields and multipart framing add a little).
def upload_body_limit(documents_max_file_mb: int) -> int:
    """The largest upload body, in bytes (nginx's client_max_body_size follows it: coord.app.deploy)."""
    return documents_max_file_mb * 1024 * 1024 + 256 * 1024


UPLOAD_BODY_LIMIT = upload_body_limit(get_settings().documents_max_file_mb)


async def read_upload(request: Request) -> tuple[str, bytes, dict[str, str]]:
    """(file name, bytes, other fields) of a multipart upload form."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        message = "Choisissez un fichier à envoyer."
        raise ValidationFailed({"file": message}, message)
    data = await upload.read()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
    return upload.filename or "", data, fields


@get("/r/document/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def download_by_link(token: str) -> Response[bytes]:
    """The document a partner's link names (its current version), and nothing else."""
    link = await links.resolve(token, service.LINK_PURPOSE)
    row = await service.current_version(link_scope(link.department_id), link.target_id)
    return document_response(row, await service.read(row))


ROUTES: list[Any] = [download_by_link]
