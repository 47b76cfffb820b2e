"""Where documents' bytes live: one small interface, two back-ends chosen by `documents_storage`.

Keys are the SHA-256 of the content (the same file stored twice is one blob). The filesystem back-end
(the default) writes under `documents_dir` with a two-level fan-out, through a temporary file renamed
into place, so a reader never sees half a file; the database back-end keeps the bytes in a table, for
several instances sharing one PostgreSQL. Neither is ever served by path: routes check access first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Protocol

from coord.core.private_files import DIR_MODE, FILE_MODE, private_dir
from coord.core.settings import ROOT, Settings, current_settings
from coord.documents.tables import DocumentBlob

KEY = re.compile(r"^[0-9a-f]{64}$")


class StoredMissing(Exception):
    """No blob under that key (deleted by hand, or a wrong back-end setting)."""


class Storage(Protocol):
    async def put(self, data: bytes) -> str: ...
    async def open(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(key: str) -> str:
    if not KEY.match(key):
        raise StoredMissing(key)
    return key


class FilesystemStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key[2:4] / key

    async def put(self, data: bytes) -> str:
        key = key_of(data)
        path = self.path_of(key)
        if path.exists():
            return key
        private_dir(path.parent)
        partial = path.with_name(f".{key}.{os.getpid()}.{id(data)}.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)  # atomic: the file is whole under its name, or absent
        finally:
            partial.unlink(missing_ok=True)
        return key

    async def open(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoredMissing(key) from exc

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_of(key).unlink()


class DatabaseStorage:
    async def put(self, data: bytes) -> str:
        key = key_of(data)
        if not await DocumentBlob.exists().where(DocumentBlob.key == key):
            await DocumentBlob.insert(DocumentBlob(key=key, data=data))
        return key

    async def open(self, key: str) -> bytes:
        row = await DocumentBlob.select(DocumentBlob.data).where(DocumentBlob.key == _checked(key)).first()
        if row is None:
            raise StoredMissing(key)
        return bytes(row["data"])

    async def delete(self, key: str) -> None:
        await DocumentBlob.delete().where(DocumentBlob.key == _checked(key))


def documents_root(settings: Settings) -> Path:
    path = Path(settings.documents_dir)
    return path if path.is_absolute() else ROOT / path


def storage_for(settings: Settings | None = None) -> Storage:
    settings = settings or current_settings()
    if settings.documents_storage == "database":
        return DatabaseStorage()
    if settings.documents_storage != "filesystem":
        raise ValueError(
            f"setting documents_storage: expected filesystem or database, got {settings.documents_storage!r}"
        )
    return FilesystemStorage(documents_root(settings))


__all__ = ["DIR_MODE", "DatabaseStorage", "FilesystemStorage", "Storage", "StoredMissing", "storage_for"]
