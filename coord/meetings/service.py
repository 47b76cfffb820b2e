"""Meetings of a committee: creation, edition with optimistic locking, and the status lifecycle.

Times are typed in the département's zone (forms: a date and "HH:MM"; API: ISO datetimes, naive ones
being local) and stored in UTC. Every write checks `Scope.require(MANAGE)`, runs in one transaction
with its audit entry and the mails it causes (`coord.meetings.notify`), so they commit together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from piccolo.columns.combination import And

from coord.access import Scope, belongs_to, department_of, is_valid_id
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.audit.tables import AuditEntry
from coord.committees.kinds import VOTING_ROLES
from coord.committees.tables import Committee, CommitteeMember
from coord.core.clock import Clock, now
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.pagination import PageRequest
from coord.core.settings import current_settings
from coord.core.validation import Fields
from coord.meetings import notify, rules
from coord.meetings.agenda_templates import insert_default_agenda
from coord.meetings.rules import CONVOCATION_LEAD
from coord.meetings.tables import AgendaItem, Decision, Invitation, Meeting
from coord.meetings.times import read_times, to_local
from coord.partners.tables import Contact

KINDS: dict[str, str] = {
    "ordinaire": "Réunion ordinaire",
    "annuelle_teh": "Réunion annuelle de coordination TEH (mesure 22)",
    "extraordinaire": "Réunion extraordinaire",
}
STATUSES: dict[str, str] = {
    "draft": "En préparation",
    "convened": "Convoquée",
    "held": "Tenue",
    "cancelled": "Annulée",
}
# Changing one of these moves the event: invitees are asked to answer again.
SIGNIFICANT_FIELDS = frozenset({"starts_at", "ends_at", "place"})
# Changing one of these updates the invitees' calendars and keeps their answers.
DETAIL_FIELDS = frozenset({"title", "video_url"})
EDITABLE_STATUSES = frozenset({"draft", "convened"})

MEETING_COLUMNS = (
    *Meeting._meta.columns,
    Meeting.department.code.as_alias("department_code"),
    Meeting.department.timezone.as_alias("timezone"),
    Meeting.department.holiday_subdivision.as_alias("holiday_subdivision"),
    Meeting.committee.name.as_alias("committee_name"),
    Meeting.committee.kind.as_alias("committee_kind"),
)


def _video_url(fields: Fields) -> None:
    url = fields.text("video_url", max_length=500)
    if url and (not url.lower().startswith("https://") or " " in url or len(url) < 12):
        fields.error(
            "video_url",
            "Le lien de visioconférence doit être une adresse https:// complète "
            "(exemple : https://webconf.numerique.gouv.fr/...).",
        )


# -- reading ------------------------------------------------------------------------------------
def meeting_out(row: dict[str, Any]) -> dict[str, Any]:
    tz = row["timezone"]
    local_start, local_end = to_local(row["starts_at"], tz), to_local(row["ends_at"], tz)
    return {
        "id": row["id"],
        "department": row["department_code"],
        "timezone": tz,
        "committee": row["committee"],
        "committee_name": row["committee_name"],
        "title": row["title"],
        "kind": row["kind"],
        "kind_label": KINDS.get(row["kind"], row["kind"]),
        "starts_at": row["starts_at"],
        "ends_at": row["ends_at"],
        "local_start": local_start,
        "local_end": local_end,
        "date": local_start.date().isoformat() if local_start else "",
        "start_time": local_start.strftime("%H:%M") if local_start else "",
        "end_time": local_end.strftime("%H:%M") if local_end else "",
        "place": row["place"],
        "video_url": row["video_url"],
        "status": row["status"],
        "status_label": STATUSES.get(row["status"], row["status"]),
        "organiser_email": row["organiser_email"],
        "organiser_name": row["organiser_name"],
        "uid": row["uid"],
        "sequence": row["sequence"],
        "version": row["version"],
        "urgent": row["urgent"],
        "urgency_reason": row["urgency_reason"],
        "answers_sequence": row["answers_sequence"],
        "quorum_required": row["quorum_required"],
        "reconvened_from": row["reconvened_from"],
        "minutes": row["minutes"],
        "minutes_published_at": row["minutes_published_at"],
        "convened_at": row["convened_at"],
        "cancelled_at": row["cancelled_at"],
        "updated_at": row["updated_at"],
        "duration_minutes": int((row["ends_at"] - row["starts_at"]).total_seconds() // 60),
    }


async def load(scope: Scope, meeting_id: int) -> dict[str, Any]:
    """The meeting as stored (with its département's code and zone), 404 outside the scope."""
    return await scope.get(Meeting, meeting_id, *MEETING_COLUMNS)


async def get_meeting(scope: Scope, meeting_id: int) -> dict[str, Any]:
    return meeting_out(await load(scope, meeting_id))


async def list_meetings(
    scope: Scope,
    page: PageRequest | None,
    *,
    department: str | None = None,
    committee: int | None = None,
    status: str | None = None,
    start_from: dt.datetime | None = None,
    start_to: dt.datetime | None = None,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    scope = await scope.within_code(department)
    conditions = []
    if committee is not None:
        if not is_valid_id(committee):
            return [], 0
        conditions.append(Meeting.committee == committee)
    if status:
        if status not in STATUSES:
            raise ValidationFailed({"status": f"Statut inconnu « {status} » (valeurs : {', '.join(STATUSES)})."})
        conditions.append(Meeting.status == status)
    if start_from:
        conditions.append(Meeting.starts_at >= start_from)
    if start_to:
        conditions.append(Meeting.starts_at < start_to)
    query, count = scope.select(Meeting, *MEETING_COLUMNS), scope.count(Meeting)
    for condition in conditions:
        query, count = query.where(condition), count.where(condition)
    query = query.order_by(Meeting.starts_at, ascending=not descending).order_by(Meeting.id)
    if page is None:  # every row (the exports): no count needed
        rows = await query
        return [meeting_out(r) for r in rows], len(rows)
    rows = await query.limit(page.per_page).offset(page.offset)
    return [meeting_out(r) for r in rows], await count


async def committee_choices(scope: Scope, department_id: int) -> dict[str, str]:
    rows = (
        await scope.within(department_id)
        .select(Committee, Committee.id, Committee.name)
        .where(Committee.active.eq(True))
        .order_by(Committee.name)
    )
    return {str(r["id"]): r["name"] for r in rows}


# -- writing helpers ----------------------------------------------------------------------------
_MEETING_FIELDS = frozenset(c._meta.name for c in Meeting._meta.columns) - {"created_at", "updated_at"}


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in _MEETING_FIELDS}


async def last_editor(meeting_id: int) -> str:
    row = (
        await AuditEntry.select(AuditEntry.actor)
        .where((AuditEntry.entity == "meeting") & (AuditEntry.entity_id == meeting_id))
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    return row["actor"] if row else "un autre utilisateur"


async def conflict(meeting_id: int) -> Conflict:
    who = await last_editor(meeting_id)
    return Conflict(
        f"Cette réunion a été modifiée entre-temps par {who}. Rechargez la page pour voir ses "
        "changements, puis refaites les vôtres."
    )


def read_version(data: Mapping[str, Any], *, required: bool = True) -> int | None:
    fields = Fields(data)
    version = fields.integer("version", required=required, minimum=1)
    fields.check()
    return version


async def write_meeting(
    scope: Scope,
    current: Mapping[str, Any],
    changes: dict[str, Any],
    *,
    version: int | None,
    summary: str,
    action: str = "update",
) -> dict[str, Any]:
    """Apply `changes` if the meeting is still at `version` (None: at the version just read), bumping
    the version. Must run inside a transaction; writes the audit entry."""
    expected = current["version"] if version is None else version
    values = {**changes, "version": expected + 1, "updated_at": now()}
    rows = (
        await Meeting.update({getattr(Meeting, k): v for k, v in values.items()})
        .where(And(Meeting.id == current["id"], Meeting.version == expected))
        .returning(*Meeting._meta.columns)
    )
    if not rows:
        raise await conflict(current["id"])
    old, new = audit.changed_fields(_plain(current), _plain(rows[0]))
    await audit.record(
        scope.principal,
        action,
        "meeting",
        current["id"],
        department_id=current["department"],
        summary=summary,
        before=old,
        after=new,
    )
    return rows[0]


def require_manage(scope: Scope, meeting: Mapping[str, Any]) -> None:
    scope.require(Permission.MANAGE, meeting["department"])


def _chair_role(member: Mapping[str, Any], chair_contact: int | None) -> str:
    return "chair" if member["role"] == "president" or member["contact"] == chair_contact else "required"


async def committee_members(committee_id: int) -> list[dict[str, Any]]:
    """Members of a committee whose contact is active, with their role and contact id."""
    return (
        await CommitteeMember.select(CommitteeMember.contact, CommitteeMember.role)
        .where(
            (CommitteeMember.committee == committee_id) & (CommitteeMember.contact.active == True)  # noqa: E712
        )
        .order_by(CommitteeMember.id)
    )


async def voting_contacts(committee_id: int) -> set[int]:
    rows = await CommitteeMember.select(CommitteeMember.contact).where(
        (CommitteeMember.committee == committee_id) & CommitteeMember.role.is_in(list(VOTING_ROLES))
    )
    return {r["contact"] for r in rows}


async def invite_committee_members(meeting: Mapping[str, Any], committee: Mapping[str, Any]) -> list[int]:
    """Invite every member not invited yet (president: chair). Inside a transaction. Returns new ids."""
    existing = {
        r["contact"]
        for r in await Invitation.select(Invitation.contact).where(
            (Invitation.meeting == meeting["id"]) & Invitation.removed_at.is_null()
        )
    }
    created: list[int] = []
    for member in await committee_members(committee["id"]):
        if member["contact"] in existing:
            continue
        existing.add(member["contact"])
        row = (
            await Invitation.insert(
                Invitation(
                    department=meeting["department"],
                    meeting=meeting["id"],
                    contact=member["contact"],
                    role=_chair_role(member, committee.get("chair")),
                )
            ).returning(Invitation.id)
        )[0]
        created.append(row["id"])
    return created


# -- create / update / delete -------------------------------------------------------------------
async def _committee_for(scope: Scope, fields: Fields, department_id: int | None) -> dict[str, Any] | None:
    committee_id = fields.integer("committee", required=True, minimum=1)
    if not committee_id:
        return None
    try:
        committee = await scope.get(Committee, committee_id)
    except NotFound:
        committee = None
    if committee is None or (department_id is not None and not belongs_to(committee, department_id)):
        fields.error("committee", "Instance inconnue ou d'un autre département.")
        return None
    if not committee["active"]:
        fields.error("committee", "Cette instance est inactive : réactivez-la avant de la réunir.")
        return None
    return committee


async def _department_of(scope: Scope, fields: Fields, code: Any) -> dict[str, Any] | None:
    if code:
        try:
            return await scope.department(str(code))
        except NotFound:
            fields.error("department", f"Département « {code} » inconnu ou non accessible.")
            return None
    return None


async def create_meeting(scope: Scope, data: Mapping[str, Any], *, default_agenda: bool = True) -> dict[str, Any]:
    fields = Fields(data)
    department = await _department_of(scope, fields, data.get("department"))
    committee = await _committee_for(scope, fields, department["id"] if department else None)
    if committee and department is None:
        department = await department_of(committee)
    fields.text("title", required=True, max_length=200)
    fields.choice("kind", KINDS, required=False)
    fields.text("place", max_length=1000, multiline=True)
    _video_url(fields)
    fields.boolean("urgent", default=False)
    fields.text("urgency_reason", max_length=500)
    if department:
        read_times(fields, department["timezone"])
        rules.check_working_day(fields, department["timezone"], department["holiday_subdivision"])
    if not fields.values.get("place") and not fields.values.get("video_url") and "video_url" not in fields.errors:
        fields.error("place", "Indiquez un lieu, un lien de visioconférence, ou les deux.")
    values = fields.check()
    values.pop("confirm_day", None)
    assert department is not None and committee is not None
    scope.require(Permission.MANAGE, department["id"])
    settings = current_settings()
    values.update(
        department=department["id"],
        committee=committee["id"],
        kind=values.get("kind") or "ordinaire",
        status="draft",
        organiser_email=settings.organiser_email,
        organiser_name=settings.organiser_name,
        uid=f"{uuid4()}@{settings.mail_domain}",
        sequence=0,
        version=1,
    )
    async with transaction():
        row = (await Meeting.insert(Meeting(**values)).returning(*Meeting._meta.columns))[0]
        await audit.record(
            scope.principal,
            "create",
            "meeting",
            row["id"],
            department_id=department["id"],
            summary=f"Réunion « {row['title']} »",
            after=_plain(row),
        )
        if default_agenda:
            await insert_default_agenda(row)
        await invite_committee_members(row, committee)
    return await get_meeting(scope, row["id"])


async def update_meeting(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, clock: Clock | None = None
) -> dict[str, Any]:
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    version = read_version(data)
    if current["status"] not in EDITABLE_STATUSES:
        raise Conflict(f"Une réunion {STATUSES[current['status']].lower()} ne peut plus être modifiée.")
    fields = Fields(data, partial=True)
    fields.text("title", required=True, max_length=200)
    fields.choice("kind", KINDS)
    fields.text("place", max_length=1000, multiline=True)
    if fields.present("video_url"):
        _video_url(fields)
    fields.boolean("urgent")
    fields.text("urgency_reason", max_length=500)
    read_times(fields, current["timezone"], current)
    moved = fields.values.get("starts_at", current["starts_at"]) != current["starts_at"]
    if moved:
        rules.check_working_day(fields, current["timezone"], current["holiday_subdivision"])
        rules.check_move(fields, current, clock)
    values = fields.check()
    values.pop("version", None)
    values.pop("confirm_day", None)
    if "place" in values or "video_url" in values:
        place = values.get("place", current["place"])
        video = values.get("video_url", current["video_url"])
        if current["status"] == "convened" and not place and not video:
            raise ValidationFailed({"place": "Indiquez un lieu ou un lien de visioconférence."})
    changes = {k: v for k, v in values.items() if v != current.get(k)}
    significant = bool(SIGNIFICANT_FIELDS & set(changes))
    mailed = current["status"] == "convened" and (significant or bool(DETAIL_FIELDS & set(changes)))
    if mailed:
        # The SQL expression reads the stored value: a SEQUENCE raised meanwhile (a delegate
        # invited, an invitee removed) is never reused.
        changes["sequence"] = Meeting.sequence + 1
        if significant:
            changes["answers_sequence"] = Meeting.sequence + 1
    async with transaction():
        await write_meeting(scope, current, changes, version=version, summary=f"Réunion « {current['title']} »")
        if mailed:
            await notify.queue_convocation(
                meeting_id, changes=rules.describe_changes(current, changes), answers_reset=significant
            )
    return await get_meeting(scope, meeting_id)


async def delete_meeting(scope: Scope, meeting_id: int) -> None:
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    if current["status"] != "draft":
        raise Conflict(
            "Seule une réunion en préparation peut être supprimée : annulez-la plutôt, les invités en seront prévenus."
        )
    async with transaction():
        for table in (AgendaItem, Invitation, Decision):
            await table.delete().where(table.meeting == meeting_id)
        await Meeting.delete().where(Meeting.id == meeting_id)
        await audit.record(
            scope.principal,
            "delete",
            "meeting",
            meeting_id,
            department_id=current["department"],
            summary=f"Réunion « {current['title']} »",
            before=_plain(current),
        )


# -- lifecycle ----------------------------------------------------------------------------------
async def active_invitation_count(meeting_id: int) -> int:
    return await Invitation.count().where((Invitation.meeting == meeting_id) & Invitation.removed_at.is_null())


async def convene(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Send the convocation: draft → convened, at least five days ahead unless urgent."""
    data = data or {}
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    version = read_version(data, required=False)
    if current["status"] != "draft":
        raise Conflict(f"La convocation a déjà été envoyée ou la réunion est {STATUSES[current['status']].lower()}.")
    errors: dict[str, str] = {}
    options = Fields(data)
    urgent = options.boolean("urgent", default=current["urgent"]) or False
    reason = options.text("urgency_reason", max_length=500) or current["urgency_reason"]
    options.check()
    at = now(clock)
    if current["starts_at"] <= at:
        errors["starts_at"] = "La réunion a déjà commencé : changez sa date avant de convoquer."
    elif current["starts_at"] - at < CONVOCATION_LEAD and not urgent:
        errors["starts_at"] = (
            "La convocation doit parvenir aux membres au moins cinq jours avant la réunion "
            "(article R.133-8 du CRPA). Reportez la réunion ou cochez « urgence »."
        )
    elif current["starts_at"] - at < CONVOCATION_LEAD and not reason:
        errors["urgency_reason"] = "Indiquez le motif de l'urgence : il figure dans la convocation."
    if not current["place"] and not current["video_url"]:
        errors["place"] = "Indiquez un lieu ou un lien de visioconférence avant de convoquer."
    if await active_invitation_count(meeting_id) == 0:
        errors["invitations"] = "Aucun invité : ajoutez les membres de l'instance avant de convoquer."
    if errors:
        raise ValidationFailed(errors, "La convocation ne peut pas être envoyée.")

    async with transaction():
        await write_meeting(
            scope,
            current,
            {
                "status": "convened",
                "convened_at": at,
                "urgent": urgent,
                "urgency_reason": reason,
                "sequence": Meeting.sequence + 1,
                "answers_sequence": Meeting.sequence + 1,
            },
            version=version,
            summary=f"Convocation de « {current['title']} »",
            action="convene",
        )
        await notify.queue_convocation(meeting_id)
    return await get_meeting(scope, meeting_id)


async def cancel(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    data = data or {}
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    version = read_version(data, required=False)
    if current["status"] not in EDITABLE_STATUSES:
        raise Conflict(f"Une réunion {STATUSES[current['status']].lower()} ne peut pas être annulée.")

    async with transaction():
        await write_meeting(
            scope,
            current,
            {"status": "cancelled", "cancelled_at": now(clock), "sequence": Meeting.sequence + 1},
            version=version,
            summary=f"Annulation de « {current['title']} »",
            action="cancel",
        )
        if current["status"] == "convened":
            await notify.queue_cancellation(meeting_id)
    return await get_meeting(scope, meeting_id)


async def mark_held(
    scope: Scope, meeting_id: int, data: Mapping[str, Any] | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    data = data or {}
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    version = read_version(data, required=False)
    if current["status"] != "convened":
        raise Conflict("Seule une réunion convoquée peut être déclarée tenue.")
    if current["starts_at"] > now(clock):
        raise Conflict("La réunion n'a pas encore commencé : elle ne peut pas être déclarée tenue.")
    async with transaction():
        await write_meeting(
            scope,
            current,
            {"status": "held"},
            version=version,
            summary=f"Réunion « {current['title']} » tenue",
            action="held",
        )
    return await get_meeting(scope, meeting_id)


async def remind(scope: Scope, meeting_id: int, *, clock: Clock | None = None) -> int:
    """Send a reminder to the invitees who have not answered; returns how many mails were queued."""
    current = await load(scope, meeting_id)
    require_manage(scope, current)
    if current["status"] != "convened":
        raise Conflict("Un rappel ne peut être envoyé que pour une réunion convoquée.")
    if current["ends_at"] <= now(clock):
        raise Conflict("La réunion est passée : un rappel n'a plus de sens.")

    async with transaction():
        queued = await notify.queue_reminder(meeting_id, only_unanswered=True)
        await audit.record(
            scope.principal,
            "remind",
            "meeting",
            meeting_id,
            department_id=current["department"],
            summary=f"Rappel pour « {current['title']} » ({queued} message(s))",
        )
    return queued


async def contact_choices(scope: Scope, department_id: int) -> dict[str, str]:
    rows = (
        await scope.within(department_id)
        .select(
            Contact,
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.organisation.name.as_alias("organisation_name"),
        )
        .where(Contact.active.eq(True))
        .order_by(Contact.last_name)
        .order_by(Contact.first_name)
    )
    return {str(r["id"]): f"{r['last_name']} {r['first_name']} ({r['organisation_name']})" for r in rows}
