"""A client of clamd's INSTREAM protocol over its local socket (clamd(8), "INSTREAM").

The command is `zINSTREAM\\0`, then chunks each preceded by its length as 4 bytes big-endian, then
a zero length; clamd answers `stream: OK` or `stream: <name> FOUND` (or `... ERROR`). Anything
else, or no answer in time, is a failure: the upload is then refused, never accepted unscanned.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd is not configured, not running, or answered something unexpected."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""  # the virus name when not clean


async def _exchange(socket_path: str, payload_chunks: list[bytes], command: bytes, seconds: float) -> bytes:
    if not socket_path:
        raise ScannerUnavailable("no clamd socket configured")
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(socket_path), seconds)
    except (OSError, TimeoutError) as exc:
        raise ScannerUnavailable(f"cannot reach clamd at {socket_path}: {exc}") from exc
    try:
        writer.write(command)
        for chunk in payload_chunks:
            writer.write(chunk)
        await asyncio.wait_for(writer.drain(), seconds)
        answer = await asyncio.wait_for(reader.readuntil(b"\0"), seconds)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise ScannerUnavailable(f"clamd did not answer: {exc}") from exc
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return answer.rstrip(b"\0").strip()


async def ping(socket_path: str, *, seconds: float = 5.0) -> bool:
    try:
        return await _exchange(socket_path, [], b"zPING\0", seconds) == b"PONG"
    except ScannerUnavailable:
        return False


async def scan(data: bytes, socket_path: str, *, seconds: float = 30.0) -> Verdict:
    chunks = []
    for start in range(0, len(data), CHUNK):
        piece = data[start : start + CHUNK]
        chunks.append(struct.pack(">I", len(piece)) + piece)
    chunks.append(struct.pack(">I", 0))
    answer = (await _exchange(socket_path, chunks, b"zINSTREAM\0", seconds)).decode("utf-8", "replace")
    if answer == "stream: OK":
        return Verdict(clean=True)
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        return Verdict(clean=False, signature=answer[len("stream: ") : -len(" FOUND")])
    raise ScannerUnavailable(f"unexpected clamd answer: {answer[:200]}")
