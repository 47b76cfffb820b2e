"""What other domains add to a committee's page, registered by the composition root (`coord.app.wiring`).

A provider receives the scope, the département row and the committee, and returns the template to
include with its context (`section` in the template), or None when it has nothing to show.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    template: str  # included by templates/committees/detail.html with `section` as its context
    context: dict[str, Any]


SectionProvider = Callable[[Any, dict[str, Any], dict[str, Any]], Awaitable[Section | None]]
_providers: dict[str, SectionProvider] = {}


def register_detail_section(name: str, provider: SectionProvider) -> None:
    """Register (or replace, by name) one section of the committee page; order of registration is kept."""
    _providers[name] = provider


async def detail_sections(access: Any, department: dict[str, Any], committee: dict[str, Any]) -> list[Section]:
    sections = []
    for provider in _providers.values():
        section = await provider(access, department, committee)
        if section is not None:
            sections.append(section)
    return sections
