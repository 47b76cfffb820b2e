"""Response bodies of the départements' JSON API (msgspec)."""

from __future__ import annotations

import msgspec


class DepartmentOut(msgspec.Struct):
    code: str
    name: str
    region: str
    region_code: str
    prefecture: str
    timezone: str
    holiday_subdivision: str | None
