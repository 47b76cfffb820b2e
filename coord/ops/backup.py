"""Online backup and restore of the embedded SQLite database.

The backup uses SQLite's online backup API: it copies a consistent snapshot while the service keeps
running (readers and the writer are not stopped). PostgreSQL deployments use `pg_dump` instead
(see README, "Operations").
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from coord.core import clock
from coord.core.private_files import private_dir, private_file, restrict


class BackupError(RuntimeError):
    pass


def backup_sqlite(database: Path, target: Path | None = None) -> Path:
    if not database.exists():
        raise BackupError(f"base de données introuvable : {database}")
    if target is None:
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        target = database.parent / "backups" / f"{database.stem}-{stamp}.sqlite3"
    private_dir(target.parent)
    partial = target.with_suffix(target.suffix + ".part")
    private_file(partial)  # a copy of the whole database: 0600 like the database itself
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination, pages=1024)
        finally:
            destination.close()
    finally:
        source.close()
    _check_integrity(partial)
    partial.replace(target)  # atomic: a crash never leaves a half-written backup under the final name
    return target


def restore_sqlite(backup: Path, database: Path) -> Path:
    """Replace the database by a backup (stop the service first). The current file is kept aside."""
    if not backup.exists():
        raise BackupError(f"sauvegarde introuvable : {backup}")
    _check_integrity(backup)
    kept = database.with_suffix(database.suffix + ".before-restore")
    if database.exists():
        shutil.copy2(database, kept)
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    staged = database.with_suffix(database.suffix + ".restoring")
    shutil.copy2(backup, staged)
    restrict(staged)
    staged.replace(database)
    return kept


def _check_integrity(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    if result != "ok":
        raise BackupError(f"{path} est corrompue : {result}")
