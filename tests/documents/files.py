"""Small real files of every accepted type, and some that must be refused."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib

from fpdf import FPDF

from coord.ops.clamd import EICAR


def pdf(text: str = "Compte rendu") -> bytes:
    document = FPDF()
    document.set_creation_date(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))  # the same bytes every time
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return bytes(document.output())


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0"))
        + chunk(b"IEND", b"")
    )


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "Indicateurs"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fake_docx() -> bytes:
    """A zip whose first entry looks like Word's but that declares no Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w/>")
    return buffer.getvalue()


def html() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def exe() -> bytes:
    return b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200


def eicar() -> bytes:
    return EICAR


def infected_pdf() -> bytes:
    """A genuine PDF carrying the EICAR test string: passes the type check, must fail the scan."""
    return pdf() + b"\n" + EICAR + b"\n"
