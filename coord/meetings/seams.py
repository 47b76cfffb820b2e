"""What other domains add to meetings, registered by the composition root (`coord.app.wiring`).

Meetings know no domain above them: the action items carried forward into a committee's next agenda
and convocation come from whatever function is registered here (none: an empty list).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
