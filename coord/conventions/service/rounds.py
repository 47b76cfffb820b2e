"""Signature rounds of a convention: the round of the text in force (the signatories whose
`amendment` is the convention's) and the round of its open amendment, numbered after it; earlier
or abandoned rounds are history. Reading amendments, their output, and the convention's output with
both states side by side.

The functions here read without a scope: their callers have already read the convention through
one (or act as the system, for the periodic job).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coord.access import Principal
from coord.audit import log as audit
from coord.conventions import lifecycle
from coord.conventions.lifecycle import AMENDMENT_STATUSES
from coord.conventions.models import ConventionModel
from coord.conventions.service.records import (
    LINK_PURPOSE,
    SIGNATORY_COLUMNS,
    convention_out,
    signatory_out,
)
from coord.conventions.tables import ConventionAmendment, ConventionSignatory
from coord.core import clock
from coord.links import service as links

AMENDMENT_COLUMNS = (
    ConventionAmendment.id,
    ConventionAmendment.department,
    ConventionAmendment.convention,
    ConventionAmendment.number,
    ConventionAmendment.subject,
    ConventionAmendment.text,
    ConventionAmendment.status,
    ConventionAmendment.signed_on,
    ConventionAmendment.in_force_from,
    ConventionAmendment.closed_on,
    ConventionAmendment.close_reason,
    ConventionAmendment.created_at,
)


@dataclass(frozen=True)
class Round:
    """What a signature round is to its convention: the text in force ("convention"), the open
    amendment ("amendment") or history (an earlier text, an abandoned or lapsed amendment)."""

    number: int
    kind: str
    amendment: dict[str, Any] | None = None

    @property
    def is_amendment(self) -> bool:
        return self.kind == "amendment"

    @property
    def is_history(self) -> bool:
        return self.kind == "history"

    def collecting(self, convention: dict[str, Any]) -> bool:
        """Whether signatures of this round are being collected (requests, reminders, undoing one)."""
        return self.is_amendment or (self.kind == "convention" and convention["status"] in lifecycle.SIGNING)

    def closed_message(self) -> str:
        """Why a signature of a historical round is no longer expected (French, shown as is)."""
        status = self.amendment["status"] if self.amendment else ""
        if status == "withdrawn":
            return f"L'avenant n° {self.number} a été abandonné : cette signature n'est plus attendue."
        if status == "lapsed":
            return (
                f"L'avenant n° {self.number} est caduc (la convention a pris fin avant sa signature) : "
                "cette signature n'est plus attendue."
            )
        return "Cette demande de signature concerne une version antérieure de la convention."


async def amendments_of(convention_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Every amendment of each convention, by number."""
    ids = list(dict.fromkeys(convention_ids))
    result: dict[int, list[dict[str, Any]]] = {cid: [] for cid in ids}
    if not ids:
        return result
    rows = (
        await ConventionAmendment.select(*AMENDMENT_COLUMNS)
        .where(ConventionAmendment.convention.is_in(ids))
        .order_by(ConventionAmendment.number)
    )
    for row in rows:
        result[row["convention"]].append(row)
    return result


async def open_amendment(convention_id: int) -> dict[str, Any] | None:
    return (
        await ConventionAmendment.select(*AMENDMENT_COLUMNS)
        .where((ConventionAmendment.convention == convention_id) & (ConventionAmendment.status == "open"))
        .first()
    )


async def amendment_by_number(convention_id: int, number: int) -> dict[str, Any] | None:
    return (
        await ConventionAmendment.select(*AMENDMENT_COLUMNS)
        .where((ConventionAmendment.convention == convention_id) & (ConventionAmendment.number == number))
        .first()
    )


async def round_of(convention: dict[str, Any], number: int) -> Round:
    if number == convention["amendment"]:
        return Round(number, "convention")
    amendment = await amendment_by_number(convention["id"], number)
    if amendment is not None and amendment["status"] == "open":
        return Round(number, "amendment", amendment)
    return Round(number, "history", amendment)


async def round_signatories(convention_id: int, number: int) -> list[dict[str, Any]]:
    return (
        await ConventionSignatory.select(*SIGNATORY_COLUMNS)
        .where((ConventionSignatory.convention == convention_id) & (ConventionSignatory.amendment == number))
        .order_by(ConventionSignatory.id)
    )


async def signatories_by_round(convention_ids: Iterable[int]) -> dict[int, dict[int, list[dict[str, Any]]]]:
    """Signatories of each convention, by round number."""
    ids = list(dict.fromkeys(convention_ids))
    result: dict[int, dict[int, list[dict[str, Any]]]] = {cid: {} for cid in ids}
    if not ids:
        return result
    rows = (
        await ConventionSignatory.select(*SIGNATORY_COLUMNS)
        .where(ConventionSignatory.convention.is_in(ids))
        .order_by(ConventionSignatory.id)
    )
    for row in rows:
        result[row["convention"]].setdefault(row["amendment"], []).append(row)
    return result


async def next_amendment_number(convention: dict[str, Any]) -> int:
    """Numbers are never reused, an abandoned amendment's included."""
    last = (
        await ConventionAmendment.select(ConventionAmendment.number)
        .where(ConventionAmendment.convention == convention["id"])
        .order_by(ConventionAmendment.number, ascending=False)
        .first()
    )
    return max(convention["amendment"], last["number"] if last else 0) + 1


EMPTY_PROGRESS: dict[str, Any] = {"required_count": 0, "signed_count": 0, "complete": False, "missing_roles": []}


def amendment_out(
    row: dict[str, Any],
    signatories: list[dict[str, Any]],
    model: ConventionModel | None,
    *,
    with_signatories: bool = True,
) -> dict[str, Any]:
    done = lifecycle.progress(model, signatories) if model else None
    return {
        "id": row["id"],
        "convention": row["convention"],
        "number": row["number"],
        "subject": row["subject"],
        "text": row["text"],
        "status": row["status"],
        "status_label": AMENDMENT_STATUSES.get(row["status"], row["status"]),
        "opened_at": row["created_at"],
        "signed_on": row["signed_on"],
        "in_force_from": row["in_force_from"],
        "closed_on": row["closed_on"],
        "close_reason": row["close_reason"],
        **(done.as_dict() if done else EMPTY_PROGRESS),
        "progress_label": (
            lifecycle.amendment_progress_label(row["number"], done) if done else f"Avenant n° {row['number']}"
        ),
        "signatories": [signatory_out(s) for s in signatories] if with_signatories else None,
    }


def _with_rounds(
    row: dict[str, Any],
    rounds: dict[int, list[dict[str, Any]]],
    amendments: list[dict[str, Any]],
    catalogue: dict[str, ConventionModel],
    *,
    with_signatories: bool,
) -> dict[str, Any]:
    current = rounds.get(row["amendment"], [])
    out = convention_out(row, current, catalogue)
    in_force = next((a for a in amendments if a["number"] == row["amendment"]), None)
    opened = next((a for a in amendments if a["status"] == "open"), None)
    model = catalogue.get(row["model_code"])
    out.update(
        version_label=lifecycle.version_label(row["amendment"]),
        amendment_text=in_force["text"] if in_force else "",
        text_in_force_since=in_force["in_force_from"] if in_force else row["effective_from"],
        open_amendment=(
            amendment_out(opened, rounds.get(opened["number"], []), model, with_signatories=with_signatories)
            if opened
            else None
        ),
    )
    if with_signatories:
        out["signatories"] = [signatory_out(s) for s in current]
    return out


async def conventions_out(
    rows: list[dict[str, Any]], catalogue: dict[str, ConventionModel], *, with_signatories: bool = False
) -> list[dict[str, Any]]:
    """Each convention with the state of its text in force and of its open amendment, if any."""
    ids = [r["id"] for r in rows]
    rounds = await signatories_by_round(ids)
    amendments = await amendments_of(ids)
    return [
        _with_rounds(r, rounds[r["id"]], amendments[r["id"]], catalogue, with_signatories=with_signatories)
        for r in rows
    ]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"created_at", "updated_at"}}


async def write_amendment(
    actor: Principal, before: dict[str, Any], changes: dict[str, Any], *, action: str, summary: str
) -> None:
    """Update an amendment inside the caller's transaction, with its audit entry."""
    if not changes:
        return
    values = {**changes, "updated_at": clock.now()}
    await ConventionAmendment.update({getattr(ConventionAmendment, k): v for k, v in values.items()}).where(
        ConventionAmendment.id == before["id"]
    )
    old, new = audit.changed_fields(_plain(before), changes)
    if new:
        await audit.record(
            actor,
            action,
            "convention_amendment",
            before["id"],
            department_id=before["department"],
            summary=summary,
            before=old,
            after=new,
        )


async def retire_round(signatories: Iterable[dict[str, Any]], *, now: dt.datetime) -> None:
    """Signatures of a round no longer expected: their links stop working, their reminders stop."""
    for s in signatories:
        if s["status"] == "signed":
            continue
        await links.revoke(LINK_PURPOSE, s["id"], now=now)
        if s["next_reminder_at"] is not None:
            await ConventionSignatory.update({ConventionSignatory.next_reminder_at: None}).where(
                ConventionSignatory.id == s["id"]
            )


async def close_open_amendment(
    actor: Principal,
    convention: dict[str, Any],
    *,
    status: str,
    day: dt.date,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any] | None:
    """Close the open amendment (withdrawn, or lapsed when the convention ends) inside the caller's
    transaction. Returns the amendment as it was, or None when there was none."""
    amendment = await open_amendment(convention["id"])
    if amendment is None:
        return None
    await retire_round(await round_signatories(convention["id"], amendment["number"]), now=now)
    label = "abandonné" if status == "withdrawn" else "caduc"
    await write_amendment(
        actor,
        amendment,
        {"status": status, "closed_on": day, "close_reason": reason},
        action="withdraw" if status == "withdrawn" else "update",
        summary=f"Avenant n° {amendment['number']} à « {convention['title']} » : {label}",
    )
    return amendment
