"""Backups proven: a database full of demo data comes back from its backup with every row.

The proof is `coord.ops.backup.fingerprint` (every table's row count, a checksum of the audit log), the
same on the database and on its restored copy:

- PostgreSQL: `pg_dump --format=custom`, `pg_restore --no-owner` into an empty database; `coord migrate`
  on the restored copy then changes nothing.
- SQLite: `coord backup` while another connection keeps writing, `coord restore` into place.

Both start from the suite's upgraded database of the engine (`tests/support/upgrade.py`: an old
release's migrations, reference and demo data, then today's migrations), shared with the upgrade
tests: a database full of real rows without loading the demo data again (50 s on PostgreSQL here).
It is only read: the PostgreSQL dump is restored into a new database, the SQLite file is copied first.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from coord.ops.backup import Fingerprint
from tests.conftest import PG_ADMIN_DSN, _pg_admin, run
from tests.support.coord_server import coord_command
from tests.support.upgrade import Upgraded

PROBE = "backup_probe"  # the other connection's table in the SQLite test


def _coord_in_process(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """The `coord` command's own entry point, in this process (starting an interpreter costs ~8 s here)."""
    from coord.app.cli import main
    from coord.core.settings import get_settings

    forget = getattr(get_settings, "cache_clear", lambda: None)  # settings read once per process
    with monkeypatch.context() as patch:
        patch.setenv("COORD_DATABASE_URL", url)
        forget()
        try:
            main(list(args))
        finally:
            patch.undo()
            forget()


def _original(upgraded: Upgraded) -> Fingerprint:
    from coord.ops.backup import fingerprint

    original = run(fingerprint(upgraded.url))
    assert original.rows["meeting"] and original.rows["action_item"] and original.rows["contact"]
    assert original.rows["audit_entry"] > 20 and original.rows["migration"] > 10
    return original


def test_a_backup_restores_every_row_and_the_audit_log(
    upgraded: Upgraded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if upgraded.engine == "postgres":
        _postgres_round_trip(upgraded, tmp_path)
    else:
        _sqlite_round_trip(upgraded, tmp_path, monkeypatch, capsys)


def _postgres_round_trip(upgraded: Upgraded, tmp_path: Path) -> None:
    from coord.ops.backup import fingerprint

    original = _original(upgraded)
    dump = tmp_path / "coord.dump"
    dumped = subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", upgraded.url], capture_output=True, text=True, timeout=300
    )
    assert dumped.returncode == 0, dumped.stderr
    dbname = f"coord_restored_{uuid.uuid4().hex[:8]}"
    restored_url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname
    run(_pg_admin(f'CREATE DATABASE "{dbname}"'))
    try:
        restored = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={restored_url}", str(dump)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restored.returncode == 0, restored.stderr
        copy = run(fingerprint(restored_url))
        assert original.differences(copy) == []
        assert copy == original

        # The restored schema is current: `coord migrate` runs nothing (the migration log keeps its rows).
        migrated = coord_command("migrate", url=restored_url)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert run(fingerprint(restored_url)) == original
    finally:
        run(_pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))


class _Writer(threading.Thread):
    """Another connection writing while the backup runs: a transaction of two rows (n, -n) every 10 ms."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            while not self.stop.is_set():
                n = self.committed + 1
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(f"INSERT INTO {PROBE} (n) VALUES (?), (?)", (n, -n))
                connection.execute("COMMIT")
                self.committed = n
                if n >= 5:
                    self.started_writing.set()
                self.stop.wait(0.01)
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.started_writing.set()
        finally:
            connection.close()


def _sqlite_round_trip(
    upgraded: Upgraded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from coord.ops.backup import fingerprint

    original = _original(upgraded)
    # The live database of this test: a copy of the shared one, so restoring into place leaves that one alone.
    live = tmp_path / "coord.sqlite3"
    source, target = sqlite3.connect(upgraded.url.removeprefix("sqlite:///")), sqlite3.connect(live)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")  # as Coord runs it: readers and the backup never wait
        target.execute(f"CREATE TABLE {PROBE} (n INTEGER NOT NULL)")
        target.commit()
    finally:
        source.close()
        target.close()
    url = f"sqlite:///{live}"

    writer = _Writer(live)
    writer.start()
    try:
        assert writer.started_writing.wait(30) and writer.error is None, writer.error
        before = writer.committed
        backup = tmp_path / "sauvegardes" / "coord-copie.sqlite3"
        _coord_in_process(url, monkeypatch, "backup", "--output", str(backup))
        # The writer was never held up: it still commits after the backup (whose read never blocks it).
        for _ in range(1000):
            if writer.committed > before or writer.error is not None:
                break
            writer.stop.wait(0.01)
        kept_writing = writer.committed > before
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert f"Sauvegarde écrite : {backup}" in capsys.readouterr().out
    assert kept_writing, "the other connection kept writing while `coord backup` ran"

    # A consistent snapshot: Coord's tables as they were, and whole transactions of the other connection.
    copy = run(fingerprint(f"sqlite:///{backup}"))
    connection = sqlite3.connect(backup)
    try:
        probe = sorted(n for (n,) in connection.execute(f"SELECT n FROM {PROBE}"))
    finally:
        connection.close()
    k = len(probe) // 2
    assert probe == sorted([*range(1, k + 1), *range(-k, 0)]), "only whole transactions, in their order"
    assert 1 <= k <= writer.committed

    def coord_tables(fp: Fingerprint) -> Fingerprint:
        return Fingerprint({n: c for n, c in fp.rows.items() if n != PROBE}, fp.audit_md5)

    assert original.differences(coord_tables(copy)) == []

    # Something goes wrong on the live database; the service is stopped and the backup put in place.
    connection = sqlite3.connect(live)
    connection.execute("DELETE FROM audit_entry")
    connection.execute("DELETE FROM contact")
    connection.commit()
    connection.close()
    _coord_in_process(url, monkeypatch, "restore", str(backup))
    assert "Base restaurée" in capsys.readouterr().out
    assert live.with_suffix(".sqlite3.before-restore").exists()
    restored = run(fingerprint(url))
    assert restored == copy
    assert original.differences(coord_tables(restored)) == []
