"""Carried forward: the open items of a committee appear in its next meeting's agenda and
convocation by themselves, computed when the page or mail is rendered (nothing is copied, so an
item closed in the meantime drops out)."""

from __future__ import annotations

from typing import Any

from coord.actions import transitions
from coord.actions.service import ITEM_COLUMNS, item_out
from coord.actions.tables import ActionItem


async def open_items_for(meeting: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
    """Open items of the meeting's committee created before it, the ones due first at the top."""
    rows = (
        await ActionItem.select(*ITEM_COLUMNS)
        .where(
            (ActionItem.committee == meeting["committee"])
            & ActionItem.status.is_in(list(transitions.OPEN))
            & (ActionItem.created_at < meeting["starts_at"])
        )
        .order_by(ActionItem.due_on)
        .order_by(ActionItem.id)
        .limit(limit)
    )
    return [item_out(r) for r in rows if r["meeting"] != meeting["id"]]
