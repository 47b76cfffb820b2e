"""Documents of meetings, conventions and action items: upload (checked, scanned, audited), versions,
listing, reading and soft deletion. The owner (a meeting, a convention, an action item) is resolved
and checked by its own domain, which passes its kind, id and département here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Scope
from coord.access.roles import Permission
from coord.access.scope import system_scope
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.documents import checks, scanner
from coord.documents.storage import storage_for
from coord.documents.tables import Document
from coord.links import service as links

OWNER_KINDS = ("meeting", "convention", "action_item")
ROLES: dict[str, str] = {
    "annexe_convocation": "Annexe de la convocation",
    "annexe_compte_rendu": "Annexe du compte rendu",
    "texte": "Texte",
    "scan_signe": "Scan signé",
    "avenant": "Avenant",
    "livrable": "Livrable",
}
LINK_PURPOSE = "document"
SCANNER_DOWN = (
    "Le fichier n'a pas pu être analysé par l'antivirus, qui est indisponible : il n'a pas été enregistré. "
    "Réessayez dans quelques minutes ou prévenez l'administrateur de Coord."
)


def _infected(signature: str) -> str:
    return f"Le fichier est infecté ({signature[:80]}) : il a été refusé et n'a pas été enregistré."


async def _live(access: Scope, owner_kind: str, owner_id: int) -> list[dict[str, Any]]:
    return (
        await access.select(Document)
        .where((Document.owner_kind == owner_kind) & (Document.owner_id == owner_id) & Document.deleted_at.is_null())
        .order_by(Document.id)
    )


async def documents_of(access: Scope, owner_kind: str, owner_id: int, roles: tuple[str, ...] = ()) -> list[dict]:
    """The owner's documents, each its newest version with `versions` (all of them, newest first)."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in await _live(access, owner_kind, owner_id):
        if roles and row["role"] not in roles:
            continue
        grouped.setdefault(row["root"] or row["id"], []).append(row)
    out = []
    for root, versions in grouped.items():
        versions.sort(key=lambda r: r["version"], reverse=True)
        out.append(
            {**versions[0], "root": root, "role_label": ROLES.get(versions[0]["role"], ""), "versions": versions}
        )
    out.sort(key=lambda d: d["root"])
    return out


async def get_document(access: Scope, document_id: int, owner_kind: str, owner_id: int) -> dict[str, Any]:
    """One live version of the owner's documents (404 for another owner or département)."""
    row = await access.get(Document, document_id)
    if row["owner_kind"] != owner_kind or row["owner_id"] != owner_id or row["deleted_at"] is not None:
        raise NotFound("Document introuvable.")
    return row


async def _used_bytes(owner_kind: str, owner_id: int, department_id: int) -> int:
    """What the owner's live documents (every version) already take, against the per-owner limit."""
    rows = await (
        system_scope(department_id)
        .select(Document, Document.size)
        .where((Document.owner_kind == owner_kind) & (Document.owner_id == owner_id) & Document.deleted_at.is_null())
    )
    return sum(r["size"] for r in rows)


async def upload(
    access: Scope,
    *,
    owner_kind: str,
    owner_id: int,
    department_id: int,
    role: str,
    filename: str,
    data: bytes,
    permission: Permission = Permission.MANAGE,
    replaces: int | None = None,
    ip: str = "",
) -> dict[str, Any]:
    """Store a new document, or a new version of `replaces` (a document id of the same owner).
    Everything is checked before anything is written: a refused file leaves no blob and no row."""
    access.require(permission, department_id)
    if owner_kind not in OWNER_KINDS or role not in ROLES:
        raise ValidationFailed({"role": "Choisissez le type de document."}, "Choisissez le type de document.")
    settings = current_settings()
    name = checks.clean_name(filename)
    checks.check_size(data, settings.documents_max_file_mb * 1024 * 1024)
    kind = checks.detect(data, name)
    previous = None
    if replaces is not None:
        previous = await get_document(access, replaces, owner_kind, owner_id)
        role = previous["role"]
    limit = settings.documents_max_owner_mb * 1024 * 1024
    if await _used_bytes(owner_kind, owner_id, department_id) + len(data) > limit:
        raise checks.refuse(
            f"Les documents de cet élément dépasseraient {checks.mb(limit)} au total : supprimez-en d'abord."
        )
    try:
        verdict = await scanner.scan(data, settings.clamd_socket, seconds=settings.clamd_timeout_seconds)
    except scanner.ScannerUnavailable as exc:
        raise checks.refuse(SCANNER_DOWN) from exc
    if not verdict.clean:
        raise checks.refuse(_infected(verdict.signature))
    return await _store(access, owner_kind, owner_id, department_id, role, name, kind.mime, data, previous, ip)


async def _store(
    access: Scope,
    owner_kind: str,
    owner_id: int,
    department_id: int,
    role: str,
    name: str,
    mime: str,
    data: bytes,
    previous: dict[str, Any] | None,
    ip: str,
) -> dict[str, Any]:
    storage = storage_for()
    async with transaction():
        key = await storage.put(data)  # database back-end: inside the transaction, so undone with it
        root = (previous["root"] or previous["id"]) if previous else None
        version = 1
        if root is not None:
            rows = await Document.select(Document.version).where((Document.root == root) | (Document.id == root))
            version = max(r["version"] for r in rows) + 1
        row = (
            await Document.insert(
                Document(
                    department=department_id,
                    owner_kind=owner_kind,
                    owner_id=owner_id,
                    role=role,
                    root=root,
                    version=version,
                    filename=name,
                    size=len(data),
                    content_type=mime,
                    sha256=key,
                    storage_key=key,
                    uploaded_by=access.principal.label[:254],
                )
            ).returning(*Document.all_columns())
        )[0]
        if root is None:
            await Document.update({Document.root: row["id"]}).where(Document.id == row["id"])
            row["root"] = row["id"]
        await audit.record(
            access.principal,
            "document.upload",
            owner_kind,
            owner_id,
            department_id=department_id,
            summary=f"Document « {name} » ({ROLES[role]}, version {version}) ajouté",
            after={"document": row["id"], "filename": name, "size": len(data), "sha256": key, "version": version},
            ip=ip,
        )
    return row


async def delete(
    access: Scope,
    document_id: int,
    owner_kind: str,
    owner_id: int,
    *,
    permission: Permission = Permission.MANAGE,
    ip: str = "",
) -> dict[str, Any]:
    """Soft-delete a document with all its versions (the bytes stay for the audit trail's sake)."""
    row = await get_document(access, document_id, owner_kind, owner_id)
    access.require(permission, row["department"])
    now = clock.now()
    async with transaction():
        await access.update(
            Document, {Document.deleted_at: now, Document.deleted_by: access.principal.label[:254]}
        ).where((Document.root == row["root"]) & Document.deleted_at.is_null())
        await audit.record(
            access.principal,
            "document.delete",
            owner_kind,
            owner_id,
            department_id=row["department"],
            summary=f"Document « {row['filename']} » supprimé",
            before={"document": row["id"], "filename": row["filename"], "root": row["root"]},
            ip=ip,
        )
    return row


async def read(row: dict[str, Any]) -> bytes:
    return await storage_for().open(row["storage_key"])


# -- partners' signed links --------------------------------------------------------------------
async def issue_links(
    documents: list[dict[str, Any]], *, department_id: int, contact_id: int | None, valid_for: dt.timedelta
) -> dict[int, str]:
    """{document root: URL} opening each document's current version, for one partner."""
    targets = [links.LinkTarget(d["root"], department_id, contact_id) for d in documents]
    tokens = await links.issue_many(LINK_PURPOSE, targets, valid_for=valid_for)
    base = current_settings().base_url
    return {root: f"{base}/r/document/{token}" for root, token in tokens.items()}


async def current_version(access: Scope, root: int) -> dict[str, Any]:
    """The newest live version of the document whose first version is `root`."""
    row = (
        await access.select(Document)
        .where((Document.root == root) & Document.deleted_at.is_null())
        .order_by(Document.version, ascending=False)
        .first()
    )
    if row is None:
        raise NotFound("Ce document n'est plus disponible.")
    return row
