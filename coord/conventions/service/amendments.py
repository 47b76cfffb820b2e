"""Amendments (avenants): opened on a convention in force with a signature round of their own,
edited while nobody has signed them, abandoned; they enter into force when their last required
signature is recorded (`signatures.py`) and lapse when the convention ends (`drafting.terminate`,
the periodic job).

While an amendment is open the convention is untouched: it stays in force on its current text, is
renewed or expires on its dates, and keeps covering its pilot site.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import Scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.conventions.lifecycle import ACTIVE
from coord.conventions.service.listing import get_convention, get_open_amendment
from coord.conventions.service.records import (
    _convention_row,
    _current_signatories,
    _locked_row,
)
from coord.conventions.service.rounds import (
    close_open_amendment,
    next_amendment_number,
    open_amendment,
    round_signatories,
    write_amendment,
)
from coord.conventions.service.signatories import add_signatory
from coord.conventions.tables import ConventionAmendment, ConventionSignatory
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict
from coord.core.validation import Fields

SUBJECT_MAX = 2000
TEXT_MAX = 20000


def _already_open(amendment: dict[str, Any]) -> Conflict:
    return Conflict(
        f"L'avenant n° {amendment['number']} est déjà en cours de signature : il doit entrer en vigueur "
        "ou être abandonné avant d'en ouvrir un autre."
    )


def _no_open_amendment() -> Conflict:
    return Conflict("Aucun avenant n'est en cours de signature sur cette convention.")


async def amend(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Open amendment n° N+1 with its own round: the signatories of the text in force (but those who
    refused) are carried over « to send ». The convention's status, dates and signatures do not
    change. Returns the convention (its `open_amendment` is the new one)."""
    now = now or clock.now()
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    fields = Fields(data)
    subject = fields.text("subject", required=True, max_length=SUBJECT_MAX, multiline=True)
    text = fields.text("text", max_length=TEXT_MAX, multiline=True)
    fields.check()
    async with transaction():
        convention = await _locked_row(convention_id)
        if convention["status"] not in ACTIVE:
            raise Conflict("Un avenant ne peut être ouvert que sur une convention en vigueur.")
        if convention["terminated_on"] is not None:
            raise Conflict(
                f"La convention est résiliée au {convention['terminated_on']:%d/%m/%Y} : "
                "aucun avenant ne peut plus être ouvert."
            )
        opened = await open_amendment(convention_id)
        if opened is not None:
            raise _already_open(opened)
        number = await next_amendment_number(convention)
        row = (
            await ConventionAmendment.insert(
                ConventionAmendment(
                    department=convention["department"],
                    convention=convention_id,
                    number=number,
                    subject=subject or "",
                    text=text or "",
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
            ).returning(ConventionAmendment.id)
        )[0]
        carried = []
        for s in (await _current_signatories([convention]))[convention_id]:
            if s["status"] == "refused":
                continue
            await ConventionSignatory.insert(
                ConventionSignatory(
                    department=convention["department"],
                    convention=convention_id,
                    amendment=number,
                    organisation=s["organisation"],
                    contact=s["contact"],
                    role=s["role"],
                    signer_name=s["signer_name"],
                    signer_title=s["signer_title"],
                    status="to_send",
                )
            )
            carried.append(s["organisation_name"])
        await audit.record(
            scope.principal,
            "amend",
            "convention_amendment",
            row["id"],
            department_id=convention["department"],
            summary=f"Avenant n° {number} à « {convention['title']} » ouvert à la signature",
            after={"convention": convention_id, "number": number, "subject": subject, "signatories": carried},
        )
    return await get_convention(scope, convention_id)


async def update_amendment(scope: Scope, convention_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The subject and text of the open amendment, as long as nobody has signed it (a signature
    is given on a text). Returns the amendment."""
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    fields = Fields(data, partial=True)
    fields.text("subject", required=True, max_length=SUBJECT_MAX, multiline=True)
    fields.text("text", max_length=TEXT_MAX, multiline=True)
    values = fields.check()
    async with transaction():
        convention = await _locked_row(convention_id)
        amendment = await open_amendment(convention_id)
        if amendment is None:
            raise _no_open_amendment()
        changes = {k: v for k, v in values.items() if amendment[k] != v}
        signatories = await round_signatories(convention_id, amendment["number"])
        if changes and any(s["status"] == "signed" for s in signatories):
            raise Conflict(
                "Des signatures de cet avenant sont déjà enregistrées sur ce texte : pour le changer, "
                "abandonnez l'avenant et ouvrez-en un nouveau."
            )
        await write_amendment(
            scope.principal,
            amendment,
            changes,
            action="update",
            summary=f"Avenant n° {amendment['number']} à « {convention['title']} »",
        )
    return await get_open_amendment(scope, convention_id)


async def withdraw_amendment(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Abandon the open amendment: its signature links stop working, its reminders stop, its round
    stays in the history; the convention goes on on its text in force. Returns the convention."""
    now = now or clock.now()
    current = await _convention_row(scope, convention_id)
    scope.require(Permission.MANAGE, current["department"])
    fields = Fields(data)
    reason = fields.text("reason", max_length=SUBJECT_MAX, multiline=True)
    fields.check()
    async with transaction():
        convention = await _locked_row(convention_id)
        closed = await close_open_amendment(
            scope.principal,
            convention,
            status="withdrawn",
            day=clock.local_today(convention["timezone"], now),
            reason=reason or "",
            now=now,
        )
        if closed is None:
            raise _no_open_amendment()
    return await get_convention(scope, convention_id)


async def add_amendment_signatory(
    scope: Scope, convention_id: int, data: dict[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """A signatory of the open amendment only (the text in force keeps its signatories)."""
    return await add_signatory(scope, convention_id, data, now=now, to_amendment=True)
