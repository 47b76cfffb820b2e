"""Partners answer an invitation without an account: through the signed link in their mail, or from
their calendar (iMIP REPLY, see coord.calendar.ingest). Both end in `record_answer`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.response import Template

from coord.accounts.access import Principal
from coord.accounts.roles import Role
from coord.audit import log as audit
from coord.core.db import transaction
from coord.core.errors import ValidationFailed
from coord.core.validation import Fields
from coord.links import service as links
from coord.meetings.tables import AgendaItem, Invitation, Meeting
from coord.partners.tables import Contact
from coord.territory.tables import Department
from coord.web.forms import form_data, page

ANSWERS = {
    "accepted": "J'accepte",
    "declined": "Je décline",
    "tentative": "Peut-être",
    "delegated": "Je délègue à un collègue",
}
PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative", "DELEGATED": "delegated"}


@dataclass(frozen=True)
class AnswerResult:
    status: str  # "applied" | "ignored"
    reason: str
    invitation_id: int


def _partner(email: str, department_id: int, source: str) -> Principal:
    label = f"lien partenaire : {email}" if source == "link" else f"réponse iMIP : {email}"
    return Principal(user_id=None, email=label, full_name=label, role=Role.OBSERVER, department_id=department_id)


async def record_answer(
    invitation_id: int,
    partstat: str,
    *,
    source: str,
    sequence: int | None = None,
    dtstamp: dt.datetime | None = None,
    delegate_email: str | None = None,
    delegate_name: str | None = None,
    comment: str = "",
) -> AnswerResult:
    answer = PARTSTAT.get(partstat.upper(), partstat.lower())
    if answer not in ANSWERS:
        raise ValidationFailed({"answer": "Réponse inconnue."})
    async with transaction():
        invitation = (
            await Invitation.select(
                Invitation.id,
                Invitation.meeting,
                Invitation.department,
                Invitation.contact,
                Invitation.role,
                Invitation.answer,
                Invitation.answer_sequence,
                Invitation.answer_dtstamp,
                Invitation.removed_at,
                Invitation.contact.email.as_alias("email"),
                Invitation.contact.organisation.as_alias("organisation"),
                Invitation.meeting.status.as_alias("meeting_status"),
            )
            .where(Invitation.id == invitation_id)
            .first()
        )
        if invitation is None or invitation["removed_at"] is not None:
            raise ValidationFailed({"answer": "Cette invitation n'existe plus."})
        if invitation["meeting_status"] == "cancelled":
            raise ValidationFailed({"answer": "Cette réunion a été annulée."})
        # A reply older than the one already taken (out of order delivery) must not undo it.
        if (
            sequence is not None
            and invitation["answer_sequence"] is not None
            and sequence < invitation["answer_sequence"]
        ):
            return AnswerResult("ignored", "Réponse à une version antérieure de l'invitation.", invitation_id)
        if (
            dtstamp is not None
            and invitation["answer_dtstamp"] is not None
            and sequence == invitation["answer_sequence"]
            and dtstamp <= invitation["answer_dtstamp"]
        ):
            return AnswerResult("ignored", "Réponse plus ancienne que celle déjà enregistrée.", invitation_id)
        delegate_id = None
        if answer == "delegated":
            delegate_id = await _delegate(invitation, delegate_email or "", delegate_name or "")
        now = dt.datetime.now(dt.UTC)
        await Invitation.update(
            {
                Invitation.answer: answer,
                Invitation.answered_at: now,
                Invitation.answer_sequence: sequence,
                Invitation.answer_dtstamp: dtstamp or now,
                Invitation.comment: comment[:500],
                Invitation.delegate: delegate_id,
            }
        ).where(Invitation.id == invitation_id)
        await audit.record(
            _partner(invitation["email"], invitation["department"], source),
            "answer",
            "invitation",
            invitation_id,
            department_id=invitation["department"],
            summary=f"Réponse : {ANSWERS[answer]}",
            before={"answer": invitation["answer"]},
            after={"answer": answer, "comment": comment[:500]},
        )
    return AnswerResult("applied", ANSWERS[answer], invitation_id)


async def _delegate(invitation: dict[str, Any], email: str, name: str) -> int:
    """The colleague becomes an invitee (same organisation, same role) and receives the convocation."""
    from coord.meetings.notify import queue_convocation

    fields = Fields({"email": email, "name": name})
    address = fields.email("email", required=True)
    full_name = fields.text("name", required=True, max_length=200)
    fields.check()
    contact = (
        await Contact.select(Contact.id)
        .where((Contact.organisation == invitation["organisation"]) & (Contact.email == address))
        .first()
    )
    if contact is None:
        first, _, last = (full_name or "").partition(" ")
        contact = (
            await Contact.insert(
                Contact(
                    department=invitation["department"],
                    organisation=invitation["organisation"],
                    first_name=first,
                    last_name=last or first,
                    email=address,
                    function="Délégué(e)",
                )
            ).returning(Contact.id)
        )[0]
    existing = (
        await Invitation.select(Invitation.id)
        .where((Invitation.meeting == invitation["meeting"]) & (Invitation.contact == contact["id"]))
        .first()
    )
    if existing is None:
        new = (
            await Invitation.insert(
                Invitation(
                    department=invitation["department"],
                    meeting=invitation["meeting"],
                    contact=contact["id"],
                    role=invitation["role"],
                )
            ).returning(Invitation.id)
        )[0]
        await queue_convocation(invitation["meeting"], [new["id"]])
    return contact["id"]


async def _meeting_view(invitation_id: int) -> dict[str, Any]:
    invitation = (
        await Invitation.select(
            Invitation.id,
            Invitation.answer,
            Invitation.meeting,
            Invitation.comment,
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
        )
        .where(Invitation.id == invitation_id)
        .first()
    )
    if invitation is None:
        raise links.LinkInvalid("Cette invitation n'existe plus.")
    meeting = await Meeting.select().where(Meeting.id == invitation["meeting"]).first()
    department = await Department.select().where(Department.id == meeting["department"]).first()
    agenda = await AgendaItem.select().where(AgendaItem.meeting == meeting["id"]).order_by(AgendaItem.position)
    tz = ZoneInfo(department["timezone"])
    return {
        "invitation": invitation,
        "meeting": meeting,
        "department_row": department,
        "agenda": agenda,
        "starts": meeting["starts_at"].astimezone(tz),
        "ends": meeting["ends_at"].astimezone(tz),
        "answers": ANSWERS,
    }


def _invalid(exc: links.LinkInvalid) -> Template:
    return page("error.html", status=403, title="Lien non valide", detail=exc.message)


@get("/r/invitation/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer_page(token: str, reponse: str | None = None) -> Template:
    """Shows the meeting and the form; never changes anything (mail scanners open links)."""
    try:
        link = await links.resolve(token, "invitation")
        view = await _meeting_view(link.target_id)
    except links.LinkInvalid as exc:
        return _invalid(exc)
    selected = reponse if reponse in ANSWERS else view["invitation"]["answer"]
    return page("answers/invitation.html", **view, selected=selected, values={}, errors={}, done=None)


@post("/r/invitation/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer(token: str, request: Request) -> Template:
    try:
        link = await links.resolve(token, "invitation")
    except links.LinkInvalid as exc:
        return _invalid(exc)
    data = await form_data(request)
    fields = Fields(data)
    choice = fields.choice("answer", ANSWERS)
    comment = fields.text("comment", max_length=500, multiline=True) or ""
    try:
        fields.check()
        result = await record_answer(
            link.target_id,
            choice or "",
            source="link",
            comment=comment,
            delegate_email=str(data.get("delegate_email", "")),
            delegate_name=str(data.get("delegate_name", "")),
        )
    except ValidationFailed as exc:
        view = await _meeting_view(link.target_id)
        errors = {("delegate_" + k if k in {"email", "name"} else k): v for k, v in exc.errors.items()}
        return page(
            "answers/invitation.html",
            status=422,
            **view,
            selected=data.get("answer"),
            values=data,
            errors=errors,
            done=None,
        )
    view = await _meeting_view(link.target_id)
    return page(
        "answers/invitation.html",
        **view,
        selected=view["invitation"]["answer"],
        values={},
        errors={},
        done=result.reason,
    )


ROUTES: list[Any] = [answer_page, answer]
