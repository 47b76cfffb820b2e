"""A private clamd for the demo and the tests: its own config, socket and signature database.

A deployment runs Debian's clamav-daemon with freshclam; the demo and the tests have no network, so
they start clamd as the current user with a database holding only the EICAR test signature (enough
to show that an infected upload is refused). Standard library only (ops is the lowest layer).
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CLAMD = "/usr/sbin/clamd"
# The standard anti-virus test file (eicar.org), split so this source is not itself flagged.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@dataclass
class LocalClamd:
    socket_path: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def clamd_binary() -> str | None:
    if Path(CLAMD).exists():
        return CLAMD
    return shutil.which("clamd")


def eicar_signature() -> str:
    """The .hdb line (md5:size:name) of the EICAR test file."""
    return f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n"  # noqa: S324 (ClamAV's format)


def eicar_body_signature() -> str:
    """The .ndb line (name:target:offset:hex) finding the EICAR string anywhere in any file, so a
    PDF carrying it is refused too (the .hdb line only matches the exact test file)."""
    return f"Eicar-Test-Signature-Body:0:*:{EICAR.hex()}\n"


def write_config(directory: Path) -> tuple[Path, Path]:
    """clamd.conf and the test database under `directory`; returns (config, socket path)."""
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "db"
    database.mkdir(exist_ok=True)
    (database / "test.hdb").write_text(eicar_signature(), encoding="ascii")
    (database / "test.ndb").write_text(eicar_body_signature(), encoding="ascii")
    socket_path = directory / "clamd.sock"
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                f"LocalSocket {socket_path}",
                "LocalSocketMode 600",
                f"DatabaseDirectory {database}",
                "Foreground yes",
                f"PidFile {directory / 'clamd.pid'}",
                "StreamMaxLength 60M",
                "MaxThreads 2",
                "",
            ]
        ),
        encoding="ascii",
    )
    return config, socket_path


def _answers_ping(socket_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(socket_path))
            sock.sendall(b"zPING\0")
            return sock.recv(16).rstrip(b"\0\n") == b"PONG"
    except OSError:
        return False


def start_local(directory: Path, *, timeout: float = 60.0) -> LocalClamd | None:
    """Start clamd with its own config under `directory` and wait until it answers PING.
    None when clamd is not installed."""
    binary = clamd_binary()
    if binary is None:
        return None
    config, socket_path = write_config(directory)
    if _answers_ping(socket_path):  # one already serves this directory (another demo process)
        return LocalClamd(socket_path, subprocess.Popen(["true"]))
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [binary, "--config-file", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clamd exited with status {process.returncode} (config {config})")
        if _answers_ping(socket_path):
            return LocalClamd(socket_path, process)
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError("clamd did not answer within the time allowed")
