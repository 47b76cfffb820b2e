"""CSV files as French spreadsheets open them: UTF-8 with a BOM, `;` between cells, CRLF line
ends, and no text cell a spreadsheet could run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from coord.core.spreadsheet import neutralise_formula

BOM = "\ufeff"  # makes French Excel read UTF-8


def csv_document(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole file as text; text cells neutralised, numbers kept as they are."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise_formula(h) for h in headers])
    writer.writerows([neutralise_formula(c) if isinstance(c, str) or c is None else c for c in row] for row in rows)
    return BOM + out.getvalue()
