"""Documents' tests run on both engines and both storage back-ends, with a real clamd."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support.clamav import clamd  # noqa: F401 (session fixture)


@pytest.fixture(params=["filesystem", "database"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(settings: Any, clamd: Any, storage_kind: str, tmp_path: Any) -> Any:  # noqa: F811
    from coord.core.settings import use_settings

    configured = replace(
        settings,
        clamd_socket=str(clamd.socket_path),
        documents_storage=storage_kind,
        documents_dir=str(tmp_path / "documents"),
        documents_max_file_mb=1,
        documents_max_owner_mb=2,
    )
    use_settings(configured)
    return configured
