"""Response bodies of the search API."""

from __future__ import annotations

import msgspec


class ResultOut(msgspec.Struct):
    kind: str
    id: int
    title_html: str  # escaped HTML, the words found in <mark>
    snippet_html: str
    url: str  # the record's page
    context: str


class GroupOut(msgspec.Struct):
    kind: str
    label: str
    total: int  # matches of this kind in all; `results` lists the best ones
    results: list[ResultOut]


class SearchOut(msgspec.Struct):
    department: str
    query: str
    total: int
    groups: list[GroupOut]
