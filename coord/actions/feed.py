"""Due dates of action items in the calendar feeds, as VTODOs: a département's feed holds its items,
a committee's feed the items of that committee, a contact's feed the items that contact owns.

Each batch says when its newest row last changed (the item, or the owner organisation whose name it
shows), so the feed's Last-Modified moves with the items: created, edited, moved to another status,
abandoned. Items that leave a feed (handed to another owner, due date moved out of the window) are
audited, which the feed also follows (coord.calendar.feeds, "Validators")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import system_scope
from coord.actions import transitions
from coord.actions.tables import ActionItem
from coord.calendar.feeds import TodoBatch, feed_organizer, register_todo_provider
from coord.core.settings import current_settings
from coord.ics.models import CalendarTodo

PRIORITY = {"haute": 1, "normale": 5, "basse": 9}
TODO_STATUS = {
    "a_faire": "NEEDS-ACTION",
    "en_cours": "IN-PROCESS",
    "bloque": "NEEDS-ACTION",
    "fait": "COMPLETED",
    "abandonne": "CANCELLED",
}


def _todo(row: dict[str, Any], department: dict[str, Any]) -> CalendarTodo:
    settings = current_settings()
    status = transitions.STATUSES.get(row["status"], row["status"])
    return CalendarTodo(
        uid=f"action-{row['id']}@{settings.mail_domain}",
        summary=f"Action : {row['title']}",
        description=f"Responsable : {row['owner'] or 'à désigner'} · statut : {status}",
        due=row["due_on"],
        start=row["created_on"],
        url=f"{settings.base_url}/d/{department['code']}/actions/{row['id']}",
        status=TODO_STATUS.get(row["status"], "NEEDS-ACTION"),
        organizer=feed_organizer(),
        priority=PRIORITY.get(row["priority"], 5),
    )


@register_todo_provider
async def action_todos(
    kind: str, target_id: int, department: dict[str, Any], start: dt.datetime, end: dt.datetime
) -> TodoBatch:
    """Items due within the feed's window (indexed on status and due date, like the board), in one
    query with their owner organisation."""
    # A contact's feed holds the items that contact owns, a committee's those of the committee; all of
    # them only within the feed's own département (ids of different tables must never be compared).
    columns = {
        "department": ActionItem.department,
        "committee": ActionItem.committee,
        "contact": ActionItem.owner_contact,
    }
    column = columns.get(kind)
    if column is None:
        return TodoBatch(())
    rows = (
        await system_scope(department["id"])
        .select(
            ActionItem,
            ActionItem.id,
            ActionItem.title,
            ActionItem.status,
            ActionItem.due_on,
            ActionItem.created_on,
            ActionItem.priority,
            ActionItem.updated_at,
            ActionItem.owner_organisation.name.as_alias("owner"),
            ActionItem.owner_organisation.updated_at.as_alias("owner_updated_at"),
        )
        .where(
            (column == target_id)
            & ActionItem.due_on.is_not_null()
            & (ActionItem.due_on >= start.date())
            & (ActionItem.due_on <= end.date())
        )
        .order_by(ActionItem.due_on)
        .order_by(ActionItem.id)
    )
    changes = [c for row in rows for c in (row["updated_at"], row["owner_updated_at"]) if c is not None]
    return TodoBatch([_todo(row, department) for row in rows], max(changes, default=None))
