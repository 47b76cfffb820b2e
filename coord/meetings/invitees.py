"""Who is invited to a meeting, with which role, and what they answered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.access import Scope, same_department
from coord.audit import log as audit
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound
from coord.core.validation import Fields
from coord.meetings import notify, service
from coord.meetings.tables import Invitation
from coord.partners.tables import Contact

ROLES: dict[str, str] = {
    "chair": "Président(e) de séance",
    "required": "Participant(e) attendu(e)",
    "optional": "Participant(e) facultatif(ve)",
    "info": "Pour information",
}
ANSWERS: dict[str, str] = {
    "accepted": "Accepté",
    "declined": "Décliné",
    "tentative": "Peut-être",
    "delegated": "Délégué",
    "needs_action": "Sans réponse",
}
ATTENDANCE: dict[str, str] = {
    "unknown": "Non renseigné",
    "present": "Présent(e)",
    "video": "En visioconférence",
    "excused": "Excusé(e)",
    "absent": "Absent(e)",
    "represented": "Représenté(e)",
}

INVITATION_COLUMNS = (
    Invitation.id,
    Invitation.meeting,
    Invitation.department,
    Invitation.contact,
    Invitation.role,
    Invitation.answer,
    Invitation.answer_sequence,
    Invitation.sent_sequence,
    Invitation.delegated_from,
    Invitation.answered_at,
    Invitation.comment,
    Invitation.attendance,
    Invitation.represented_by,
    Invitation.removed_at,
    Invitation.delegate,
    Invitation.contact.first_name.as_alias("first_name"),
    Invitation.contact.last_name.as_alias("last_name"),
    Invitation.contact.email.as_alias("email"),
    Invitation.contact.function.as_alias("function"),
    Invitation.contact.organisation.name.as_alias("organisation_name"),
    Invitation.delegate.first_name.as_alias("delegate_first_name"),
    Invitation.delegate.last_name.as_alias("delegate_last_name"),
)


def invitation_out(
    row: Mapping[str, Any],
    voting: set[int] | None = None,
    *,
    answers_sequence: int = 0,
    names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """An invitation as the page and the API show it. `answer` is the answer to the current version
    of the meeting (notify.current_answer), `outdated_answer` one given before the last change of
    time or place; `names` maps invitation ids to invitees' names (for « délégué(e) par »)."""
    delegate = " ".join(p for p in (row.get("delegate_first_name"), row.get("delegate_last_name")) if p)
    answer = notify.current_answer(row, answers_sequence)
    outdated = notify.outdated_answer(row, answers_sequence)
    label = ANSWERS.get(answer, answer)
    if outdated:
        label = f"À confirmer (avait répondu « {ANSWERS.get(outdated, outdated)} » avant la modification)"
    return {
        "id": row["id"],
        "meeting": row["meeting"],
        "contact": row["contact"],
        "name": f"{row['first_name']} {row['last_name']}",
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "function": row["function"],
        "organisation_name": row["organisation_name"],
        "role": row["role"],
        "role_label": ROLES.get(row["role"], row["role"]),
        "answer": answer,
        "answer_label": label,
        "outdated_answer": outdated,
        "answered_sequence": row.get("answer_sequence"),
        "sent_sequence": row.get("sent_sequence"),
        "answered_at": row["answered_at"],
        "comment": row["comment"],
        "delegate_name": delegate if row["answer"] == "delegated" else "",
        "delegated_from": row.get("delegated_from"),
        "delegated_from_name": (names or {}).get(row.get("delegated_from") or 0, ""),
        "attendance": row["attendance"],
        "attendance_label": ATTENDANCE.get(row["attendance"], row["attendance"]),
        "represented_by": row["represented_by"],
        "removed_at": row["removed_at"],
        "voting": row["contact"] in voting if voting is not None else False,
    }


async def _names(meeting_id: int) -> dict[int, str]:
    rows = await Invitation.select(
        Invitation.id,
        Invitation.contact.first_name.as_alias("first_name"),
        Invitation.contact.last_name.as_alias("last_name"),
    ).where(Invitation.meeting == meeting_id)
    return {r["id"]: f"{r['first_name']} {r['last_name']}" for r in rows}


async def list_invitations(scope: Scope, meeting_id: int, *, include_removed: bool = False) -> list[dict[str, Any]]:
    meeting = await service.load(scope, meeting_id)
    query = scope.select(Invitation, *INVITATION_COLUMNS).where(Invitation.meeting == meeting_id)
    if not include_removed:
        query = query.where(Invitation.removed_at.is_null())
    rows = await query.order_by(Invitation.contact.last_name).order_by(Invitation.contact.first_name)
    voting = await service.voting_contacts(meeting["committee"])
    order = list(ROLES)
    names = await _names(meeting_id)
    out = [invitation_out(r, voting, answers_sequence=meeting["answers_sequence"], names=names) for r in rows]
    return sorted(out, key=lambda i: order.index(i["role"]) if i["role"] in order else 9)


def answer_counts(invitations: list[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(ANSWERS, 0)
    for invitation in invitations:
        if invitation.get("removed_at") is None:
            counts[invitation["answer"]] = counts.get(invitation["answer"], 0) + 1
    return counts


async def get_invitation(scope: Scope, meeting_id: int, invitation_id: int) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    row = await scope.get(Invitation, invitation_id, *INVITATION_COLUMNS)
    if row["meeting"] != meeting_id:
        raise NotFound()
    return invitation_out(
        row,
        await service.voting_contacts(meeting["committee"]),
        answers_sequence=meeting["answers_sequence"],
        names=await _names(meeting_id),
    )


async def _open_meeting(scope: Scope, meeting_id: int) -> dict[str, Any]:
    meeting = await service.load(scope, meeting_id)
    service.require_manage(scope, meeting)
    if meeting["status"] not in service.EDITABLE_STATUSES:
        raise Conflict(
            f"La liste des invités d'une réunion {service.STATUSES[meeting['status']].lower()} "
            "ne peut plus être modifiée."
        )
    return meeting


async def add_invitations(scope: Scope, meeting_id: int, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Invite one contact ({contact, role}) or every committee member ({all_members: true}).

    On a convened meeting the new invitees receive the convocation at once."""
    meeting = await _open_meeting(scope, meeting_id)
    fields = Fields(data)
    all_members = fields.boolean("all_members", default=False)
    created: list[int] = []
    if all_members:
        committee = await scope.get(Committee, meeting["committee"])
        async with transaction():
            created = await service.invite_committee_members(meeting, committee)
            await _after_invite(scope, meeting, created, "les membres de l'instance")
        return [await get_invitation(scope, meeting_id, i) for i in created]
    contact_id = fields.integer("contact", required=True, minimum=1)
    role = fields.choice("role", ROLES, required=False) or "required"
    contact = None
    if contact_id:
        try:
            contact = await scope.get(Contact, contact_id)
        except NotFound:
            contact = None
        if contact is None or not same_department(contact, meeting):
            fields.error("contact", "Contact inconnu ou d'un autre département.")
            contact = None
        elif not contact["active"]:
            fields.error("contact", "Ce contact est désactivé.")
        elif await Invitation.exists().where(
            (Invitation.meeting == meeting_id) & (Invitation.contact == contact_id) & Invitation.removed_at.is_null()
        ):
            fields.error("contact", f"{contact['first_name']} {contact['last_name']} est déjà invité(e).")
    fields.check()
    assert contact is not None
    async with transaction():
        # A contact removed earlier and invited again gets their invitation back.
        previous = (
            await Invitation.select(Invitation.id, Invitation.sent_sequence)
            .where((Invitation.meeting == meeting_id) & (Invitation.contact == contact_id))
            .first()
        )
        if previous:
            # Their earlier answers were to invitations withdrawn since (the removal's CANCEL):
            # a late REPLY to one of them must not answer the new invitation.
            await Invitation.update(
                {
                    Invitation.removed_at: None,
                    Invitation.role: role,
                    Invitation.answer: "needs_action",
                    Invitation.answered_at: None,
                    Invitation.answer_sequence: previous["sent_sequence"],
                    Invitation.answer_dtstamp: clock.now(),
                    Invitation.delegate: None,
                }
            ).where(Invitation.id == previous["id"])
            invitation_id = previous["id"]
            if previous["sent_sequence"] is not None:
                await notify.raise_sequence(meeting_id, [invitation_id])
        else:
            invitation_id = (
                await Invitation.insert(
                    Invitation(
                        department=meeting["department"],
                        meeting=meeting_id,
                        contact=contact_id,
                        role=role,
                    )
                ).returning(Invitation.id)
            )[0]["id"]
        await _after_invite(scope, meeting, [invitation_id], f"{contact['first_name']} {contact['last_name']}")
    return [await get_invitation(scope, meeting_id, invitation_id)]


async def _after_invite(scope: Scope, meeting: Mapping[str, Any], invitation_ids: list[int], who: str) -> None:
    if not invitation_ids:
        return
    await audit.record(
        scope.principal,
        "invite",
        "meeting",
        meeting["id"],
        department_id=meeting["department"],
        summary=f"Invitation de {who} à « {meeting['title']} »",
        after={"invitations": invitation_ids},
    )
    if meeting["status"] == "convened":
        await notify.queue_convocation(meeting["id"], invitation_ids)


async def update_role(scope: Scope, meeting_id: int, invitation_id: int, role: Any) -> None:
    meeting = await _open_meeting(scope, meeting_id)
    invitation = await get_invitation(scope, meeting_id, invitation_id)
    fields = Fields({"role": role})
    fields.choice("role", ROLES)
    fields.check()
    if invitation["removed_at"] is not None:
        raise Conflict("Cette invitation a été retirée.")
    if role == invitation["role"]:
        return
    async with transaction():
        await Invitation.update({Invitation.role: role}).where(Invitation.id == invitation_id)
        await audit.record(
            scope.principal,
            "update",
            "invitation",
            invitation_id,
            department_id=meeting["department"],
            summary=f"Rôle de {invitation['name']} pour « {meeting['title']} »",
            before={"role": invitation["role"]},
            after={"role": role},
        )
        if meeting["status"] == "convened":
            change = f"Votre qualité : {notify.ROLE_LABELS[invitation['role']]} → {notify.ROLE_LABELS[role]}"
            await notify.raise_sequence(meeting_id, [invitation_id])
            await notify.queue_convocation(meeting_id, [invitation_id], changes=[change])


async def remove_invitation(scope: Scope, meeting_id: int, invitation_id: int) -> None:
    """Before the convocation the row goes; after it the invitee is told (CANCEL) and the row kept."""
    meeting = await _open_meeting(scope, meeting_id)
    invitation = await get_invitation(scope, meeting_id, invitation_id)
    if invitation["removed_at"] is not None:
        raise NotFound("Cette invitation a déjà été retirée.")
    async with transaction():
        if meeting["status"] == "convened":
            await Invitation.update({Invitation.removed_at: clock.now()}).where(Invitation.id == invitation_id)
            # Mandates held by the removed invitee lapse.
            await Invitation.update({Invitation.represented_by: None, Invitation.attendance: "unknown"}).where(
                (Invitation.meeting == meeting_id) & (Invitation.represented_by == invitation_id)
            )
            await notify.queue_removal(invitation_id)
            # Their delegate represented them: withdrawn with them.
            for delegate in await Invitation.select(Invitation.id).where(
                (Invitation.delegated_from == invitation_id) & Invitation.removed_at.is_null()
            ):
                await Invitation.update({Invitation.removed_at: clock.now()}).where(Invitation.id == delegate["id"])
                await notify.queue_removal(delegate["id"])
        else:
            await Invitation.delete().where(Invitation.id == invitation_id)
        await audit.record(
            scope.principal,
            "uninvite",
            "invitation",
            invitation_id,
            department_id=meeting["department"],
            summary=f"{invitation['name']} retiré(e) des invités de « {meeting['title']} »",
            before={"contact": invitation["contact"], "role": invitation["role"]},
        )
