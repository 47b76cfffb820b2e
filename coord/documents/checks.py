"""What an upload must be before it is stored: a sane name, a size within limits, and a type read
from its content (never from its name) among the few Coord accepts, agreeing with the extension."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype

from coord.core.errors import ValidationFailed

NAME_MAX = 200


@dataclass(frozen=True)
class Kind:
    mime: str
    extensions: tuple[str, ...]
    label: str


PDF = Kind("application/pdf", ("pdf",), "PDF")
ODT = Kind("application/vnd.oasis.opendocument.text", ("odt",), "ODT")
ODS = Kind("application/vnd.oasis.opendocument.spreadsheet", ("ods",), "ODS")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",), "DOCX")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",), "XLSX")
PNG = Kind("image/png", ("png",), "PNG")
JPEG = Kind("image/jpeg", ("jpg", "jpeg"), "JPEG")
KINDS = {k.mime: k for k in (PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG)}
ACCEPTED = "PDF, ODT, ODS, DOCX, XLSX, PNG ou JPEG"
# The part of [Content_Types].xml that names an OOXML package's main document.
OOXML_MAIN = {
    DOCX.mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX.mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}


def refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message}, message)


def clean_name(raw: str) -> str:
    """The original file name, checked: not empty, no path, no control character, not too long."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name or name in {".", ".."}:
        raise refuse("Le fichier n'a pas de nom : choisissez un fichier à envoyer.")
    if "/" in name or "\\" in name:
        raise refuse("Le nom du fichier ne doit pas contenir de chemin (« / » ou « \\ »).")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in name):
        raise refuse("Le nom du fichier contient des caractères de contrôle : renommez-le avant de l'envoyer.")
    if len(name) > NAME_MAX:
        raise refuse(f"Le nom du fichier est trop long ({len(name)} caractères, {NAME_MAX} au plus).")
    if "." not in name.strip(".") or name.rsplit(".", 1)[1] == "":
        raise refuse(f"Le nom du fichier doit finir par son extension ({ACCEPTED}).")
    return name


def check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise refuse("Le fichier est vide.")
    if len(data) > max_bytes:
        raise refuse(f"Le fichier dépasse la taille maximale de {mb(max_bytes)}.")


def mb(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f} Mo" if value >= 10 or value == int(value) else f"{value:.1f} Mo".replace(".", ",")


def _zip_member(data: bytes, name: str) -> bytes | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if name not in archive.namelist():
                return None
            return archive.read(name)[:4096] if name == "mimetype" else archive.read(name)[:200_000]
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return None


def _confirmed(kind: Kind, data: bytes) -> bool:
    """filetype guesses office formats from the first zip entries: confirm with the package itself."""
    if kind in (ODT, ODS):
        member = _zip_member(data, "mimetype")
        return member is not None and member.strip() == kind.mime.encode()
    if kind in (DOCX, XLSX):
        member = _zip_member(data, "[Content_Types].xml")
        return member is not None and OOXML_MAIN[kind.mime].encode() in member
    return True


def detect(data: bytes, name: str) -> Kind:
    """The accepted type of `data`, read from its bytes, whose extensions include the name's."""
    guess = filetype.guess(data)
    kind = KINDS.get(guess.mime) if guess is not None else None
    if kind is None or not _confirmed(kind, data):
        raise refuse(f"Ce type de fichier n'est pas accepté : envoyez un fichier {ACCEPTED}.")
    extension = name.rsplit(".", 1)[-1].lower()
    if extension not in kind.extensions:
        raise refuse(
            f"L'extension « .{extension[:10]} » ne correspond pas au contenu du fichier, qui est un {kind.label} : "
            f"renommez-le en .{kind.extensions[0]}."
        )
    return kind
