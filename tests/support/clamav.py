"""A real clamd for the tests that upload: started once per session with its own config, socket and a
signature database holding only the EICAR test signature (coord.ops.clamd)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coord.ops.clamd import LocalClamd, start_local


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalClamd]:
    # AF_UNIX paths are limited to 108 bytes: pytest's temp dirs can be long, /tmp is short.
    directory = Path(tmp_path_factory.mktemp("clamd", numbered=True))
    daemon = start_local(directory)
    if daemon is None:
        pytest.fail("clamd is not installed: tests/run.py installs clamav-daemon (Debian)")
    yield daemon
    daemon.stop()
