"""Response bodies of the audit log's JSON API (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class AuditEntryOut(msgspec.Struct):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    summary: str
    before: Any
    after: Any
    department: str | None
    request_id: str | None = None  # the HTTP request that made the change (None: worker, command line)
