"""Files only the service's own account may read: the SQLite database and the generated secret.

The database holds every contact and account of the deployment, `var/secret_key` signs sessions and
partners' links: another local account reading either is a breach. Files are created 0600 from the
start (never world-readable for an instant: no write-then-chmod), directories Coord creates are
0700, and files that already exist are brought back to 0600 when the service starts (a copy or a
restore made with the default umask, a file of an older version of Coord).

SQLite creates its `-wal`, `-shm` and `-journal` files with the mode of the database file, so a
0600 database keeps them private too; existing ones are fixed here as well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger("coord")

FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) as 0700; an existing directory is left as it is (it may be
    shared on purpose, as the project's root)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process created it meanwhile
            directory.mkdir(mode=DIR_MODE)
            directory.chmod(DIR_MODE)  # mkdir's mode goes through the umask


def restrict(path: Path) -> None:
    """Make an existing file 0600 (a warning instead when the account does not own it)."""
    try:
        if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
            path.chmod(FILE_MODE)
    except FileNotFoundError:
        return
    except PermissionError:
        logger.warning("cannot restrict %s to mode 0600: not owned by this account", path)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist, else make it 0600."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        restrict(path)
        return
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have removed bits, never added any: be exact anyway
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Write a new file, 0600 from its creation, and whole or not at all: written under a temporary
    name, then linked to `path`, which raises FileExistsError if another process was first (never
    overwrite a secret others may already use)."""
    private_dir(path.parent)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def secure_sqlite(path: Path) -> None:
    """The database file (created empty if missing: SQLite takes an empty file as an empty
    database) and its companions, 0600."""
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        restrict(Path(str(path) + suffix))
