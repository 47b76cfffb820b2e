"""Cells for exported spreadsheets (CSV, XLSX) that no spreadsheet runs as a formula."""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "neutralise_formula"]

# A cell starting with one of these may be read as a formula by whoever opens the export (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> str:
    """`value` as text (None: ""), with a leading apostrophe when it could start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
