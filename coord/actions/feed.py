"""Due dates of action items in the calendar feeds, as VTODOs: a département's feed holds its items,
a committee's feed the items of that committee, a contact's feed the items that contact owns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import system_scope
from coord.actions import transitions
from coord.actions.tables import ActionItem
from coord.calendar.feeds import register_todo_provider
from coord.core.settings import current_settings
from coord.ics.models import CalendarTodo, Person

PRIORITY = {"haute": 1, "normale": 5, "basse": 9}
TODO_STATUS = {
    "a_faire": "NEEDS-ACTION",
    "en_cours": "IN-PROCESS",
    "bloque": "NEEDS-ACTION",
    "fait": "COMPLETED",
    "abandonne": "CANCELLED",
}


@register_todo_provider
async def action_todos(
    kind: str, target_id: int, department: dict[str, Any], start: dt.datetime, end: dt.datetime
) -> list[CalendarTodo]:
    """Items due within the feed's window (indexed on status and due date, like the board)."""
    # A contact's feed holds the items that contact owns, a committee's those of the committee; all of
    # them only within the feed's own département (ids of different tables must never be compared).
    columns = {
        "department": ActionItem.department,
        "committee": ActionItem.committee,
        "contact": ActionItem.owner_contact,
    }
    column = columns.get(kind)
    if column is None:
        return []
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
            ActionItem.owner_organisation.name.as_alias("owner"),
        )
        .where(
            (column == target_id)
            & ActionItem.due_on.is_not_null()
            & (ActionItem.due_on >= start.date())
            & (ActionItem.due_on <= end.date())
        )
        .order_by(ActionItem.due_on)
    )
    settings = current_settings()
    base, domain = settings.base_url, settings.mail_domain
    organizer = Person(settings.organiser_email, settings.organiser_name)
    return [
        CalendarTodo(
            uid=f"action-{row['id']}@{domain}",
            summary=f"Action : {row['title']}",
            description=f"Responsable : {row['owner'] or 'à désigner'} · statut : "
            f"{transitions.STATUSES.get(row['status'], row['status'])}",
            due=row["due_on"],
            start=row["created_on"],
            url=f"{base}/d/{department['code']}/actions/{row['id']}",
            status=TODO_STATUS.get(row["status"], "NEEDS-ACTION"),
            organizer=organizer,
            priority=PRIORITY.get(row["priority"], 5),
        )
        for row in rows
    ]
