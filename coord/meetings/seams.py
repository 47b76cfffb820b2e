"""What other domains add to meetings, registered by the composition root (`coord.app.wiring`).

Meetings know no domain above them: the action items carried forward into a committee's next agenda
and convocation come from whatever function is registered here (none: an empty list).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

CarriedForward = Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]]


async def _nothing_carried(meeting: dict[str, Any]) -> list[dict[str, Any]]:
    return []


_carried_forward: CarriedForward = _nothing_carried


def register_carried_forward(provider: CarriedForward) -> None:
    global _carried_forward
    _carried_forward = provider


async def carried_forward_items(meeting: dict[str, Any]) -> list[dict[str, Any]]:
    """The open items of the meeting's committee to show on its agenda and convocation."""
    return await _carried_forward(meeting)


# -- panels of the meeting page ----------------------------------------------------------------
# Domains above meetings (date polls, series) and beside them add a section to the meeting's page:
# a provider receives the scope, the département row and the meeting, and returns the template to
# include with its context, or None when it has nothing to show for this meeting.


@dataclass(frozen=True)
class Panel:
    template: str  # included by templates/meetings/detail.html with `panel` as its context
    context: dict[str, Any]


PanelProvider = Callable[[Any, dict[str, Any], dict[str, Any]], Awaitable[Panel | None]]
_panel_providers: dict[str, PanelProvider] = {}


def register_detail_panel(name: str, provider: PanelProvider) -> None:
    """Register (or replace, by name) one section of the meeting page; order of registration is kept."""
    _panel_providers[name] = provider


async def detail_panels(access: Any, department: dict[str, Any], meeting: dict[str, Any]) -> list[Panel]:
    panels = []
    for provider in _panel_providers.values():
        panel = await provider(access, department, meeting)
        if panel is not None:
            panels.append(panel)
    return panels
