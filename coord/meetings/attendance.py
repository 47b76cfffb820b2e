"""Attendance after the meeting, mandates, quorum, and convening again when it was not reached.

Quorum (domain.md, administrative commissions): half of the voting members present (in person or by
video) or represented by a mandate, one mandate per member. Voting members are the invitees who are
members of the committee with a voting role (`coord.committees.kinds.VOTING_ROLES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from coord.access import Scope
from coord.audit import log as audit
from coord.core.clock import Clock, now
from coord.core.db import transaction
from coord.core.errors import Conflict, ValidationFailed
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.meetings import invitees, service
from coord.meetings.agenda_templates import copy_agenda
from coord.meetings.tables import Invitation, Meeting

ATTENDING = frozenset({"present", "video"})


def quorum(invitations: list[Mapping[str, Any]], *, required: bool = True) -> dict[str, Any]:
    """Count the voting invitees present or represented; `reached` if at least half of them."""
    voting = [i for i in invitations if i["voting"] and i.get("removed_at") is None]
    by_id = {i["id"]: i for i in voting}
    present = sum(1 for i in voting if i["attendance"] in ATTENDING)
    represented = sum(
        1
        for i in voting
        if i["attendance"] == "represented"
        and i["represented_by"] in by_id
        and by_id[i["represented_by"]]["attendance"] in ATTENDING
    )
    total = len(voting)
    needed = (total + 1) // 2
    reached = total > 0 and present + represented >= needed
    return {
        "voting_members": total,
        "present": present,
        "represented": represented,
        "needed": needed,
        "reached": reached if required else True,
        "quorum_required": required,
        "recorded": any(i["attendance"] != "unknown" for i in voting),
    }


async def attendance(scope: Scope, meeting_id: int) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    items = await invitees.list_invitations(scope, meeting_id)
    return {"invitations": items, "quorum": quorum(items, required=meeting["quorum_required"])}


def _validate(final: dict[int, dict[str, Any]], fields: Fields, labels: dict[int, str]) -> None:
    """Check the whole attendance sheet as it would be saved; errors are keyed by invitation."""
    holders: dict[int, int] = {}
    for invitation_id, entry in final.items():
        key = f"attendance_{invitation_id}"
        if entry["attendance"] != "represented":
            continue
        holder_id = entry["represented_by"]
        holder = final.get(holder_id) if holder_id else None
        if holder is None:
            fields.error(key, f"{labels[invitation_id]} : indiquez le membre qui détient le mandat.")
        elif holder_id == invitation_id:
            fields.error(key, f"{labels[invitation_id]} ne peut pas se représenter lui-même ou elle-même.")
        elif not holder["voting"]:
            fields.error(
                key,
                f"{labels[holder_id]} n'est pas membre votant de l'instance : il ou elle ne peut pas "
                "recevoir de mandat.",
            )
        elif holder["attendance"] not in ATTENDING:
            fields.error(
                key,
                f"{labels[holder_id]} doit être présent(e) (sur place ou en visioconférence) pour porter un mandat.",
            )
        elif holder_id in holders:
            fields.error(
                key,
                f"{labels[holder_id]} détient déjà le mandat de {labels[holders[holder_id]]} : "
                "un membre ne peut détenir qu'un seul mandat.",
            )
        else:
            holders[holder_id] = invitation_id


async def record_attendance(
    scope: Scope, meeting_id: int, entries: Mapping[int, Mapping[str, Any]], *, clock: Clock | None = None
) -> dict[str, Any]:
    """Record attendance for some invitations: {invitation_id: {attendance, represented_by}}.

    The whole sheet is checked as it will be after the change (one mandate per member, holder present)."""
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] == "cancelled":
        raise Conflict("La réunion a été annulée : il n'y a pas de présence à enregistrer.")
    if meeting["starts_at"] > now(clock):
        raise Conflict("Les présences s'enregistrent une fois la réunion commencée.")
    current = {i["id"]: i for i in await invitees.list_invitations(scope, meeting_id)}
    labels = {i: row["name"] for i, row in current.items()}
    fields = Fields({})
    final = {
        i: {"attendance": r["attendance"], "represented_by": r["represented_by"], "voting": r["voting"]}
        for i, r in current.items()
    }
    for invitation_id, entry in entries.items():
        key = f"attendance_{invitation_id}"
        if invitation_id not in current:
            fields.error(key, "Invitation inconnue pour cette réunion.")
            continue
        sub = Fields(entry, partial=True)
        value = sub.choice("attendance", invitees.ATTENDANCE)
        holder = sub.integer("represented_by", minimum=1)
        for message in sub.errors.values():
            fields.error(key, f"{labels[invitation_id]} : {message}")
        if sub.errors:
            continue
        if value is not None:
            final[invitation_id]["attendance"] = value
        if "represented_by" in entry:
            final[invitation_id]["represented_by"] = holder
        if final[invitation_id]["attendance"] != "represented":
            final[invitation_id]["represented_by"] = None
    _validate(final, fields, labels)
    if fields.errors:
        raise ValidationFailed(fields.errors, "La feuille de présence contient des erreurs.")
    changed = {
        i: v
        for i, v in final.items()
        if (v["attendance"], v["represented_by"]) != (current[i]["attendance"], current[i]["represented_by"])
    }
    if changed:
        async with transaction():
            for invitation_id, value in changed.items():
                await Invitation.update(
                    {Invitation.attendance: value["attendance"], Invitation.represented_by: value["represented_by"]}
                ).where(Invitation.id == invitation_id)
            await audit.record(
                scope.principal,
                "attendance",
                "meeting",
                meeting_id,
                department_id=meeting["department"],
                summary=f"Présences de « {meeting['title']} »",
                before={str(i): current[i]["attendance"] for i in changed},
                after={str(i): v["attendance"] for i, v in changed.items()},
            )
    return await attendance(scope, meeting_id)


async def patch_invitation(
    scope: Scope, meeting_id: int, invitation_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """API PATCH of an invitation: `role` (before the meeting), `attendance`/`represented_by` (after)."""
    if not data:
        raise ValidationFailed({"role": "Indiquez au moins un champ à modifier (role, attendance, represented_by)."})
    await invitees.get_invitation(scope, meeting_id, invitation_id)
    if "role" in data:
        await invitees.update_role(scope, meeting_id, invitation_id, data["role"])
    if "attendance" in data or "represented_by" in data:
        entry = {k: data[k] for k in ("attendance", "represented_by") if k in data}
        await record_attendance(scope, meeting_id, {invitation_id: entry})
    return await invitees.get_invitation(scope, meeting_id, invitation_id)


async def reconvene(scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Without quorum: a new draft meeting on the same agenda, with the same invitees and no quorum
    required (R.133-10 CRPA). Its date defaults to the same local time fifteen days later."""
    data = data or {}
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] not in {"convened", "held"}:
        raise Conflict("Seule une réunion convoquée ou tenue peut être convoquée à nouveau.")
    state = await attendance(scope, meeting_id)
    if state["quorum"]["reached"]:
        raise Conflict("Le quorum a été atteint : il n'y a pas lieu de convoquer à nouveau l'instance.")
    if not state["quorum"]["recorded"]:
        raise Conflict("Enregistrez d'abord les présences pour constater que le quorum n'est pas atteint.")
    fields = Fields(data)
    tz = meeting["timezone"]
    if {"date", "start_time", "end_time", "starts_at", "ends_at"} & set(data):
        service.read_times(fields, tz)
        values = fields.check()
        starts_at, ends_at = values["starts_at"], values["ends_at"]
    else:
        local = service.to_local(meeting["starts_at"], tz)
        assert local is not None
        next_day = local.date() + dt.timedelta(days=15)
        starts_at = (
            service.local_to_utc(dt.datetime.combine(next_day, local.time().replace(tzinfo=None)), tz)
            if _exists(next_day, local, tz)
            else meeting["starts_at"] + dt.timedelta(days=15)
        )
        ends_at = starts_at + (meeting["ends_at"] - meeting["starts_at"])
    settings = current_settings()
    title = (
        meeting["title"]
        if "nouvelle convocation" in meeting["title"]
        else f"{meeting['title'][:175]} (nouvelle convocation)"
    )
    async with transaction():
        row = (
            await Meeting.insert(
                Meeting(
                    department=meeting["department"],
                    committee=meeting["committee"],
                    title=title,
                    kind=meeting["kind"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    place=meeting["place"],
                    video_url=meeting["video_url"],
                    status="draft",
                    organiser_email=settings.organiser_email,
                    organiser_name=settings.organiser_name,
                    uid=f"{uuid4()}@{settings.mail_domain}",
                    sequence=0,
                    version=1,
                    urgent=False,
                    quorum_required=False,
                    reconvened_from=meeting_id,
                )
            ).returning(*Meeting._meta.columns)
        )[0]
        await copy_agenda(meeting_id, row)
        for invitation in state["invitations"]:
            await Invitation.insert(
                Invitation(
                    department=meeting["department"],
                    meeting=row["id"],
                    contact=invitation["contact"],
                    role=invitation["role"],
                )
            )
        await audit.record(
            scope.principal,
            "reconvene",
            "meeting",
            row["id"],
            department_id=meeting["department"],
            summary=f"Nouvelle convocation de « {meeting['title']} » faute de quorum",
            after={"reconvened_from": meeting_id, "title": title},
        )
    return await service.get_meeting(scope, row["id"])


def _exists(day: dt.date, local: dt.datetime, tz: str) -> bool:
    try:
        service.local_to_utc(dt.datetime.combine(day, local.time().replace(tzinfo=None)), tz)
    except ValueError:
        return False
    return True
