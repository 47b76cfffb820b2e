"""The one spreadsheet formula neutraliser shared by every export."""

from __future__ import annotations

import pytest

from coord.core.spreadsheet import neutralise_formula


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_could_start_a_formula_is_exported_as_text(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize(
    ("value", "expected"), [("Former", "Former"), ("", ""), (None, ""), (12, "12"), ("a=b", "a=b")]
)
def test_other_cells_are_kept(value: object, expected: str) -> None:
    assert neutralise_formula(value) == expected
