from __future__ import annotations

from typing import Any

import pytest

from tests.conventions.support import Dept


@pytest.fixture
def herault(db: Any) -> Dept:
    """The Hérault, with a prefecture agent's scope (a pilot département)."""
    return Dept("34")
