"""The benchmark's small databases, generated once for every benchmark test of the session.

They stay as generated: `coord bench --reuse` works on copies of its own, the PostgreSQL copy only
reads them, and a test that serves one to write to it serves a copy (`coord.bench.run.copy_database`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

SMALL_SCALE = 0.02


@dataclass(frozen=True)
class BenchDatabases:
    directory: Path
    counts: dict[str, int]  # the rows of the ten-year database, as the generator reported them

    def path(self, years: int = 10) -> Path:
        from coord.bench.run import database_path

        return database_path(self.directory, SMALL_SCALE, years)


@pytest.fixture(scope="session")
def bench_databases(tmp_path_factory: pytest.TempPathFactory) -> BenchDatabases:
    """`coord bench`'s ten-year and one-year SQLite databases at the small scale, as it generates them."""
    from coord.bench.run import prepare

    directory = tmp_path_factory.mktemp("bench-databases")
    _, counts = prepare(directory, SMALL_SCALE)
    prepare(directory, SMALL_SCALE, years=1)
    return BenchDatabases(directory, counts)
