"""Minutes (compte rendu), the list of decisions (relevé de décisions) and their publication.

Publishing mails the minutes, with the decisions in the body and the minutes' PDF attached
(`coord.meetings.printing.minutes_pdf`), to every invitee still invited whose contact is active.
Each publication of new content is an edition, recorded in the audit log (entity "minutes":
action "publish" for the first, "rectify" for the next ones, with the edition's number and a digest
of what it published). Corrections after publication (text, decisions, attendance) are saved as
usual and reach the invitees when the minutes are published again, as a « compte rendu rectifié ».

Dedupe key, one mail per invitee and edition (publishing again without a correction, or a retried
request, sends nothing twice):
    minutes:{meeting}:{invitation}:{edition}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from coord.access import Scope
from coord.audit import log as audit
from coord.audit.tables import AuditEntry
from coord.core.clock import Clock, now
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.mail import outbox
from coord.mail import render as mails
from coord.mail.message import Attachment
from coord.meetings import printing, service
from coord.meetings.notify import when_fr, zone_label
from coord.meetings.tables import Decision, Invitation

NO_VICTIM_DATA = (
    "Ne jamais saisir de données concernant des victimes (noms, âges, situations) : le compte rendu "
    "ne mentionne que des institutions, des fonctions et des données agrégées."
)
MAX_MINUTES = 100_000

DECISION_COLUMNS = (Decision.id, Decision.meeting, Decision.position, Decision.text, Decision.department)
EDITION_ACTIONS = ("publish", "rectify")  # audit actions of a publication of new content


def decision_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "meeting": row["meeting"], "position": row["position"], "text": row["text"]}


async def _meeting_after_start(scope: Scope, meeting_id: int, clock: Clock | None = None) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] == "cancelled":
        raise Conflict("La réunion a été annulée : elle n'a pas de compte rendu.")
    if meeting["starts_at"] > now(clock):
        raise Conflict("Le compte rendu et les décisions s'enregistrent une fois la réunion commencée.")
    return meeting


async def update_minutes(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    fields = Fields(data)
    fields.integer("version", required=True, minimum=1)
    fields.text("minutes", max_length=MAX_MINUTES, multiline=True)
    values = fields.check()
    async with transaction():
        await service.write_meeting(
            scope,
            meeting,
            {"minutes": values["minutes"] or ""},
            version=values["version"],
            summary=_summary("Compte rendu", meeting),
            action="minutes",
        )
    return await service.get_meeting(scope, meeting_id)


def _summary(what: str, meeting: Mapping[str, Any]) -> str:
    """An audit summary; a change after publication says it is a correction still to publish."""
    if meeting["minutes_published_at"] is not None:
        return f"Correction après publication : {what[0].lower()}{what[1:]} de « {meeting['title']} » (à publier)"
    return f"{what} de « {meeting['title']} »"


# -- publication ----------------------------------------------------------------------------------
async def _last_edition(meeting_id: int) -> dict[str, Any] | None:
    """The last edition published ({edition, digest, published_at}), from the audit log (its
    entries are never deleted, and hold the digest of what each edition published)."""
    row = (
        await AuditEntry.select(AuditEntry.after, AuditEntry.at)
        .where(
            (AuditEntry.entity == "minutes")
            & (AuditEntry.entity_id == meeting_id)
            & AuditEntry.action.is_in(list(EDITION_ACTIONS))
        )
        .order_by(AuditEntry.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if row is None or not isinstance(row["after"], dict):
        return None
    after = row["after"]
    published_at = dt.datetime.fromisoformat(after["published_at"]) if after.get("published_at") else row["at"]
    return {"edition": int(after["edition"]), "digest": after["digest"], "published_at": published_at}


async def _digest(scope: Scope, meeting: Mapping[str, Any]) -> str:
    """A fingerprint of what the minutes publish: the text, the decisions, the attendance."""
    decisions = await printing.decisions_of(scope, meeting["id"])
    sheet = (
        await scope.select(Invitation, Invitation.id, Invitation.attendance, Invitation.represented_by)
        .where((Invitation.meeting == meeting["id"]) & Invitation.removed_at.is_null())
        .order_by(Invitation.id)
    )
    content = {
        "minutes": meeting["minutes"],
        "decisions": [d["text"] for d in decisions],
        "attendance": [[i["id"], i["attendance"], i["represented_by"]] for i in sheet],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


async def publication(scope: Scope, meeting_id: int) -> dict[str, Any]:
    """Where the minutes stand: `edition` (0: never published), `published_at` of that edition,
    and `pending` when corrections saved since are not published yet."""
    meeting = await service.load(scope, meeting_id)
    last = await _last_edition(meeting_id)
    if last is None:
        return {"edition": 0, "published_at": None, "pending": False}
    pending = await _digest(scope, meeting) != last["digest"]
    return {"edition": last["edition"], "published_at": last["published_at"], "pending": pending}


async def publish(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Publish the minutes and mail them to the invitees: a first edition, or a rectified one when
    they were corrected since the last. Publishing again without a correction changes nothing and
    only sends the current edition to an invitee who has not received it."""
    data = data or {}
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    version = service.read_version(data, required=False)
    if not meeting["minutes"].strip():
        raise ValidationFailed({"minutes": "Rédigez le compte rendu avant de le publier."}, "Le compte rendu est vide.")
    async with transaction():
        last = await _last_edition(meeting_id)
        digest = await _digest(scope, meeting)
        if last is not None and last["digest"] == digest:
            edition, published_at, action = last["edition"], last["published_at"], "resend"
        else:
            edition, published_at = (last["edition"] + 1 if last else 1), now(clock)
            action = "rectify" if edition > 1 else "publish"
            await _write_publication(scope, meeting, version, published_at, rectified=edition > 1)
        mailed = await _queue_minutes(scope, meeting_id, edition, published_at)
        if action != "resend" or mailed:
            what = "Compte rendu rectifié" if edition > 1 else "Compte rendu"
            await audit.record(
                scope.principal,
                action,
                "minutes",
                meeting_id,
                department_id=meeting["department"],
                summary=f"{what} de « {meeting['title']} » (version n° {edition}) envoyé à {mailed} invité(s)",
                after={"edition": edition, "digest": digest, "published_at": published_at, "mailed": mailed},
            )
    return await service.get_meeting(scope, meeting_id)


async def _write_publication(
    scope: Scope, meeting: Mapping[str, Any], version: int | None, at: dt.datetime, *, rectified: bool
) -> None:
    changes: dict[str, Any] = {"minutes_published_at": at}
    if meeting["status"] == "convened":
        changes["status"] = "held"
        changes["sequence"] = meeting["sequence"] + 1
    await service.write_meeting(
        scope,
        meeting,
        changes,
        version=version,
        summary=f"{'Rectification' if rectified else 'Publication'} du compte rendu de « {meeting['title']} »",
        action="rectify" if rectified else "publish",
    )


async def _recipients(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    """Invitees still invited whose contact is active (a deactivated or erased contact gets nothing)."""
    rows = (
        await scope.select(
            Invitation,
            Invitation.id,
            Invitation.contact.email.as_alias("email"),
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
        )
        .where(
            (Invitation.meeting == meeting_id) & Invitation.removed_at.is_null() & Invitation.contact.active.eq(True)
        )
        .order_by(Invitation.id)
    )
    return [r for r in rows if r["email"]]


async def _queue_minutes(scope: Scope, meeting_id: int, edition: int, published_at: dt.datetime) -> int:
    """One mail per recipient with the minutes' PDF; returns how many were queued (not already)."""
    recipients = await _recipients(scope, meeting_id)
    keys = {r["id"]: f"minutes:{meeting_id}:{r['id']}:{edition}" for r in recipients}
    sent = await outbox.already_queued_many(keys.values())
    targets = [r for r in recipients if keys[r["id"]] not in sent]
    if not targets:
        return 0
    data = await printing.document_data(scope, meeting_id)
    state = {"edition": edition, "published_at": published_at, "pending": False}
    pdf = Attachment(
        filename=printing.minutes_filename(data, state),
        content_type="application/pdf",
        data=printing.minutes_pdf(data, state),
    )
    meeting = data["meeting"]
    count = 0
    for recipient in targets:
        name = f"{recipient['first_name']} {recipient['last_name']}".strip()
        mail = mails.render("minutes", _mail_context(data, state, name), strict=True)
        queued = await outbox.queue(
            dedupe_key=keys[recipient["id"]],
            kind="minutes",
            to_email=recipient["email"],
            to_name=name,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            attachments=(pdf,),
            department_id=data["department"]["id"],
            entity="meeting",
            entity_id=meeting["id"],
        )
        count += int(queued)
    return count


def _mail_context(data: Mapping[str, Any], state: Mapping[str, Any], recipient: str) -> dict[str, Any]:
    meeting, department = data["meeting"], data["department"]
    tz = department["timezone"]
    settings = current_settings()
    return {
        "meeting": meeting,
        "department": department,
        "committee": data["committee"]["name"],
        "recipient": recipient,
        "rectified": state["edition"] > 1,
        "edition": state["edition"],
        "published": printing.publication_line(state, tz),
        "when": when_fr(meeting["starts_at"], meeting["ends_at"], tz),
        "overseas": tz != "Europe/Paris",
        "zone": zone_label(tz, meeting["starts_at"]),
        "minutes": meeting["minutes"],
        "decisions": data["decisions"],
        "present": [
            f"{p['name']} ({p['organisation_name']}) : {printing.presence_text(p)}" for p in printing.attending(data)
        ],
        "reconvened_mention": data["reconvened_mention"],
        "organiser_name": meeting["organiser_name"] or settings.organiser_name,
        "organiser_email": meeting["organiser_email"] or settings.organiser_email,
    }


async def list_decisions(scope: Scope, meeting_id: int) -> list[dict[str, Any]]:
    await service.load(scope, meeting_id)
    rows = (
        await scope.select(Decision, *DECISION_COLUMNS)
        .where(Decision.meeting == meeting_id)
        .order_by(Decision.position)
        .order_by(Decision.id)
    )
    return [decision_out(r) for r in rows]


def _text(data: Mapping[str, Any]) -> str:
    fields = Fields(data)
    text = fields.text("text", required=True, max_length=4000, multiline=True)
    fields.check()
    assert text is not None
    return text


async def _decision(scope: Scope, meeting_id: int, decision_id: int) -> dict[str, Any]:
    row = await scope.get(Decision, decision_id, *DECISION_COLUMNS)
    if row["meeting"] != meeting_id:
        raise NotFound()
    return row


async def add_decision(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    text = _text(data)
    async with transaction():
        last = (
            await Decision.select(Decision.position)
            .where(Decision.meeting == meeting_id)
            .order_by(Decision.position, ascending=False)
            .first()
        )
        row = (
            await Decision.insert(
                Decision(
                    department=meeting["department"],
                    meeting=meeting_id,
                    text=text,
                    position=(last["position"] if last else 0) + 1,
                )
            ).returning(*DECISION_COLUMNS)
        )[0]
        await audit.record(
            scope.principal,
            "create",
            "decision",
            row["id"],
            department_id=meeting["department"],
            summary=_summary(f"Décision n° {row['position']}", meeting),
            after={"text": text},
        )
    return decision_out(row)


async def update_decision(
    scope: Scope, meeting_id: int, decision_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    before = await _decision(scope, meeting_id, decision_id)
    text = _text(data)
    async with transaction():
        row = (
            await Decision.update({Decision.text: text}).where(Decision.id == decision_id).returning(*DECISION_COLUMNS)
        )[0]
        await audit.record(
            scope.principal,
            "update",
            "decision",
            decision_id,
            department_id=meeting["department"],
            summary=_summary(f"Décision n° {before['position']}", meeting),
            before={"text": before["text"]},
            after={"text": text},
        )
    return decision_out(row)


async def delete_decision(scope: Scope, meeting_id: int, decision_id: int, *, clock: Clock | None = None) -> None:
    meeting = await _meeting_after_start(scope, meeting_id, clock)
    before = await _decision(scope, meeting_id, decision_id)
    async with transaction():
        await Decision.delete().where(Decision.id == decision_id)
        rows = (
            await Decision.select(Decision.id)
            .where(Decision.meeting == meeting_id)
            .order_by(Decision.position)
            .order_by(Decision.id)
        )
        for position, row in enumerate(rows, start=1):
            await Decision.update({Decision.position: position}).where(Decision.id == row["id"])
        await audit.record(
            scope.principal,
            "delete",
            "decision",
            decision_id,
            department_id=meeting["department"],
            summary=_summary(f"Suppression de la décision n° {before['position']}", meeting),
            before={"text": before["text"]},
        )
