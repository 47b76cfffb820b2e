"""Attendance on the meeting's day, mandates, quorum, and convening again when it was not reached.

Quorum (domain.md, administrative commissions): half of the voting members present (in person or by
video) or represented by a mandate, one mandate per member. Voting members are the invitees who are
members of the committee with a voting role (`coord.committees.kinds.VOTING_ROLES`).

Attendance is recorded from 00:00 of the meeting's day in the département's zone (members sign the
sheet as they arrive), never before. Without quorum, `reconvene` creates the new meeting on the same
agenda and sends its convocation in the same step (R.133-10 CRPA), with the mention that no quorum
will be required (`RECONVENED_MENTION`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from coord.access import Scope, department_of
from coord.audit import log as audit
from coord.core.clock import Clock, local_today, now
from coord.core.db import transaction
from coord.core.errors import Conflict, ValidationFailed
from coord.core.french import date_fr
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.meetings import invitees, service, times
from coord.meetings.agenda_templates import copy_agenda
from coord.meetings.tables import Invitation, Meeting
from coord.territory.tables import Department
from coord.territory.working_days import is_working_day, next_working_day

ATTENDING = frozenset({"present", "video"})
# R.133-10 CRPA: the new convocation must say that no quorum will be required; the article's own words.
RECONVENED_MENTION = (
    "Nouvelle convocation faute de quorum, sur le même ordre du jour : aucun quorum ne sera exigé. "
    "Article R.133-10 du code des relations entre le public et l'administration : « Lorsque le quorum "
    "n'est pas atteint, la commission délibère valablement sans condition de quorum après une nouvelle "
    "convocation portant sur le même ordre du jour et spécifiant qu'aucun quorum ne sera exigé. »"
)
RECONVENE_AFTER = dt.timedelta(days=15)  # the default date of the new meeting, same local time
# What `reconvene` hands to `service.convene` (the urgency of a date inside the five-day lead).
CONVENE_OPTIONS = ("urgent", "urgency_reason")


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


def attendance_opens_at(meeting: Mapping[str, Any]) -> dt.datetime:
    """00:00 of the meeting's day in the département's zone, in UTC: when attendance may be recorded.

    Midnight is built in the zone itself, not by subtracting the start time, so a day whose offset
    changes (daylight saving) or an overseas zone gives that day's real midnight."""
    zone = ZoneInfo(meeting["timezone"])
    day = meeting["starts_at"].astimezone(zone).date()
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def attendance_open(meeting: Mapping[str, Any], clock: Clock | None = None) -> bool:
    """Whether attendance may be recorded now (pages show the sheet's form from then on)."""
    return now(clock) >= attendance_opens_at(meeting)


async def record_attendance(
    scope: Scope, meeting_id: int, entries: Mapping[int, Mapping[str, Any]], *, clock: Clock | None = None
) -> dict[str, Any]:
    """Record attendance for some invitations: {invitation_id: {attendance, represented_by}}.

    Open from 00:00 of the meeting's day in the département's zone. The whole sheet is checked as it
    will be after the change (one mandate per member, holder present)."""
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] == "cancelled":
        raise Conflict("La réunion a été annulée : il n'y a pas de présence à enregistrer.")
    if not attendance_open(meeting, clock):
        raise Conflict(
            "Les présences s'enregistrent à partir du jour de la réunion, le "
            f"{date_fr(meeting['starts_at'], meeting['timezone'])} (heure locale du département)."
        )
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


async def reconvene(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Without quorum, in one step: a new meeting on the same agenda, with the same invitees and no
    quorum required, convened at once (R.133-10 CRPA) through `service.convene`, whose rules hold
    (five days ahead unless urgent). If the convocation cannot go out, nothing is created.

    Its date defaults to the same local time fifteen days after the meeting (or after today, when
    that is later), moved to the next working day of the département."""
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
    await _refuse_second_reconvening(scope, meeting)
    starts_at, ends_at = await _new_times(meeting, data, clock)
    settings = current_settings()
    title = (
        meeting["title"]
        if "nouvelle convocation" in meeting["title"]
        else f"{meeting['title'][:175]} (nouvelle convocation)"
    )
    # One transaction: the new meeting, its agenda and invitees, and its convocation (convene's own
    # transaction joins this one), so a refused convocation leaves no draft behind.
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
        options = {k: data[k] for k in CONVENE_OPTIONS if k in data}
        return await service.convene(scope, row["id"], options, clock=clock)


async def _refuse_second_reconvening(scope: Scope, meeting: Mapping[str, Any]) -> None:
    """A retried or repeated request must not convene the members twice."""
    again = (
        await scope.select(Meeting, Meeting.id, Meeting.starts_at)
        .where((Meeting.reconvened_from == meeting["id"]) & (Meeting.status != "cancelled"))
        .first()
    )
    if again:
        raise Conflict(
            "L'instance a déjà été convoquée à nouveau pour le "
            f"{date_fr(again['starts_at'], meeting['timezone'], True)} : annulez cette réunion "
            "avant d'en convoquer une autre."
        )


async def _new_times(
    meeting: Mapping[str, Any], data: Mapping[str, Any], clock: Clock | None
) -> tuple[dt.datetime, dt.datetime]:
    """The times typed (form or API fields), else the default date at the meeting's local time."""
    tz = meeting["timezone"]
    if {"date", "start_time", "end_time", "starts_at", "ends_at"} & set(data):
        fields = Fields(data)
        times.read_times(fields, tz)
        values = fields.check()
        return values["starts_at"], values["ends_at"]
    local = times.to_local(meeting["starts_at"], tz)
    assert local is not None
    department = await department_of(meeting, Department.holiday_subdivision)
    subdivision = department["holiday_subdivision"] if department else None
    day = max(local.date(), local_today(tz, now(clock))) + RECONVENE_AFTER
    if not is_working_day(day, subdivision):
        day = next_working_day(day, subdivision)
    try:
        starts_at = times.local_to_utc(dt.datetime.combine(day, local.time().replace(tzinfo=None)), tz)
    except ValueError:  # that time is skipped by the change to summer time that day: same instant + days
        starts_at = meeting["starts_at"] + (day - local.date())
    return starts_at, starts_at + (meeting["ends_at"] - meeting["starts_at"])
