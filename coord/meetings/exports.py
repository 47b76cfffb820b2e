"""The meetings list of a département as CSV, with the filters of the list page: one row per
meeting, its times in the département's zone and how its invitees answered."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from coord.core.csv_export import csv_document
from coord.meetings.tables import Invitation

HEADERS = [
    "N°",
    "Date",
    "Début",
    "Fin",
    "Fuseau horaire",
    "Intitulé",
    "Instance",
    "Type",
    "Statut",
    "Lieu",
    "Visioconférence",
    "Organisateur",
    "Convoquée le",
    "Compte rendu publié le",
    "Invités",
    "Acceptées",
    "Peut-être",
    "Déclinées",
    "Déléguées",
    "Sans réponse",
]
ANSWER_COLUMNS = ("accepted", "tentative", "declined", "delegated", "needs_action")


def _day(value: dt.datetime | None, zone: str) -> str:
    """The local day of an instant, « 03/12/2026 »."""
    return value.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y") if value else ""


async def answer_counts(meeting_ids: list[int]) -> dict[int, dict[str, int]]:
    """{meeting id: {answer: invitees}} of the invitees still invited, one query per 500 meetings."""
    counts: dict[int, dict[str, int]] = {}
    for start in range(0, len(meeting_ids), 500):
        chunk = meeting_ids[start : start + 500]
        rows = (
            await Invitation.select(Invitation.meeting, Invitation.answer, Count(Invitation.id, alias="n"))
            .where(Invitation.meeting.is_in(chunk) & Invitation.removed_at.is_null())
            .group_by(Invitation.meeting, Invitation.answer)
        )
        for row in rows:
            counts.setdefault(row["meeting"], {})[row["answer"]] = row["n"]
    return counts


def rows(meetings: list[dict[str, Any]], counts: dict[int, dict[str, int]]) -> list[list[Any]]:
    out = []
    for m in meetings:
        answers = counts.get(m["id"], {})
        zone = m["timezone"]
        organiser = " ".join(
            p for p in (m["organiser_name"], f"<{m['organiser_email']}>" if m["organiser_email"] else "") if p
        )
        out.append(
            [
                m["id"],
                m["local_start"].strftime("%d/%m/%Y") if m["local_start"] else "",
                m["start_time"],
                m["end_time"],
                zone,
                m["title"],
                m["committee_name"] or "",
                m["kind_label"],
                m["status_label"],
                m["place"],
                m["video_url"],
                organiser,
                _day(m["convened_at"], zone),
                _day(m["minutes_published_at"], zone),
                sum(answers.values()),
                *(answers.get(answer, 0) for answer in ANSWER_COLUMNS),
            ]
        )
    return out


async def to_csv(meetings: list[dict[str, Any]]) -> str:
    return csv_document(HEADERS, rows(meetings, await answer_counts([m["id"] for m in meetings])))
