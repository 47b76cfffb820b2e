"""Online backup and restore of the embedded SQLite database.

The backup uses SQLite's online backup API: it copies a consistent snapshot while the service keeps
running (readers and the writer are not stopped). PostgreSQL deployments use `pg_dump` instead
(see README, "Operations").

`fingerprint` proves a backup on either engine: the rows of every table and a checksum of the audit
log, to compare between the database and its restored copy.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from dataclasses import dataclass
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
            # One step: copied in steps, a write between two steps restarts the copy, so a busy
            # database might never finish; in WAL mode one long read does not hold writers up.
            source.backup(destination, pages=-1)
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


AUDIT_TABLE = "audit_entry"


@dataclass(frozen=True)
class Fingerprint:
    """What a restored copy must show identically: each table's row count, the audit log's checksum."""

    rows: dict[str, int]  # every table (the migration log included), by name
    audit_md5: str  # md5 of the audit log's rows as text, in id order

    def differences(self, other: Fingerprint) -> list[str]:
        """What differs from another fingerprint, in French, for an operator (empty when identical)."""
        found = [
            f"table {name} : {self.rows.get(name, 'absente')} lignes, {other.rows.get(name, 'absente')} dans la copie"
            for name in sorted(self.rows.keys() | other.rows.keys())
            if self.rows.get(name) != other.rows.get(name)
        ]
        if self.audit_md5 != other.audit_md5:
            found.append("journal d'audit : le contenu diffère")
        return found


async def fingerprint(database_url: str) -> Fingerprint:
    """The fingerprint of a database (SQLite file or PostgreSQL URL), read in one snapshot by its own connection.

    Table names come from the database's catalogue, so every table counts, a new one included.
    """
    digest = hashlib.md5(usedforsecurity=False)
    if database_url.startswith("sqlite"):
        import aiosqlite

        path = database_url.split(":///", 1)[1]
        async with aiosqlite.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None) as conn:
            await conn.execute("BEGIN")  # one read snapshot for every count and the audit log
            names = [
                r[0]
                for r in await conn.execute_fetchall(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            rows = {n: (await conn.execute_fetchall(f'SELECT count(*) FROM "{n}"'))[0][0] for n in names}  # noqa: S608
            if AUDIT_TABLE in rows:
                async with conn.execute('SELECT * FROM "audit_entry" ORDER BY id') as cursor:
                    async for row in cursor:
                        digest.update(repr(tuple(row)).encode() + b"\n")
            await conn.execute("COMMIT")
        return Fingerprint(rows, digest.hexdigest())
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            names = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
            ]
            rows = {n: await conn.fetchval(f'SELECT count(*) FROM "{n}"') for n in names}  # noqa: S608
            if AUDIT_TABLE in rows:
                async for row in conn.cursor('SELECT * FROM "audit_entry" ORDER BY id'):
                    digest.update(repr(tuple(row.values())).encode() + b"\n")
    finally:
        await conn.close()
    return Fingerprint(rows, digest.hexdigest())
