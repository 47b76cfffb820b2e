"""The agenda a new meeting starts with, and a copy of another meeting's (reconvening).

Both run inside the transaction that creates the meeting, so they take the meeting row and check
nothing themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.meetings.tables import AgendaItem

# domain.md, "A typical agenda".
DEFAULT_AGENDA: tuple[tuple[str, int], ...] = (
    ("Ouverture", 5),
    ("Approbation du compte rendu précédent", 5),
    ("Données départementales (agrégées, jamais nominatives)", 20),
    ("Suivi du plan d'action et des conventions", 30),
    ("Points thématiques", 30),
    ("Questions diverses", 10),
    ("Date de la prochaine réunion", 5),
)


async def insert_default_agenda(meeting: Mapping[str, Any]) -> None:
    """Inside the creating transaction."""
    for position, (title, minutes) in enumerate(DEFAULT_AGENDA, start=1):
        await AgendaItem.insert(
            AgendaItem(
                department=meeting["department"],
                meeting=meeting["id"],
                position=position,
                title=title,
                duration_minutes=minutes,
            )
        )


async def copy_agenda(source_meeting_id: int, target: Mapping[str, Any]) -> None:
    """Inside a transaction: the same items, in the same order, for another meeting."""
    rows = (
        await AgendaItem.select()
        .where(AgendaItem.meeting == source_meeting_id)
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    for position, row in enumerate(rows, start=1):
        await AgendaItem.insert(
            AgendaItem(
                department=target["department"],
                meeting=target["id"],
                position=position,
                title=row["title"],
                presenter=row["presenter"],
                duration_minutes=row["duration_minutes"],
                measure=row["measure"],
                notes=row["notes"],
            )
        )
