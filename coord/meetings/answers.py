"""Partners answer an invitation without an account: through the signed link in their mail, or from
their calendar (iMIP REPLY, see coord.calendar.ingest). Both end in `record_answer`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from coord.access import Principal, department_of, link_principal
from coord.audit import log as audit
from coord.committees.tables import Committee
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import ValidationFailed
from coord.core.validation import CONTROL_RE, Fields
from coord.links import service as links
from coord.meetings.notify import current_answer, queue_convocation, when_fr, zone_label
from coord.meetings.tables import AgendaItem, Invitation, Meeting
from coord.partners.tables import Contact
from coord.web.forms import form_data

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


SOURCES = {"link": "lien partenaire", "imip": "réponse iMIP"}


def partner_principal(email: str, department_id: int, source: str) -> Principal:
    """The actor recorded in the audit log for a partner without an account."""
    label = f"{SOURCES.get(source, source)} : {email}"
    return link_principal(label, department_id)


def _stale(invitation: dict[str, Any], sequence: int | None, dtstamp: dt.datetime | None) -> str:
    """Why an answer is older than the one stored, or "" when it may be applied."""
    stored_sequence, stored_dtstamp = invitation["answer_sequence"], invitation["answer_dtstamp"]
    if sequence is not None and stored_sequence is not None:
        if sequence < stored_sequence:
            return "Réponse à une version antérieure de l'invitation : elle n'est pas prise en compte."
        if sequence > stored_sequence:
            return ""
    if dtstamp is not None and stored_dtstamp is not None and dtstamp <= stored_dtstamp:
        return "Réponse plus ancienne que celle déjà enregistrée : elle n'est pas prise en compte."
    return ""


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
    answer = PARTSTAT.get(partstat.strip().upper(), partstat.strip().lower())
    if answer not in ANSWERS:
        raise ValidationFailed({"answer": "Réponse inconnue : choisissez accepter, décliner, peut-être ou déléguer."})
    if source not in SOURCES:
        raise ValueError(f"unknown answer source {source!r}")
    clean_comment = " ".join(CONTROL_RE.sub(" ", comment or "").split())[:500]
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
                Invitation.meeting.sequence.as_alias("meeting_sequence"),
            )
            .where(Invitation.id == invitation_id)
            .first()
        )
        if invitation is None or invitation["removed_at"] is not None:
            raise ValidationFailed({"answer": "Cette invitation n'existe plus."})
        if invitation["meeting_status"] == "cancelled":
            raise ValidationFailed({"answer": "Cette réunion a été annulée."})
        # A reply older than the one already taken (out of order delivery) must not undo it.
        stale = _stale(invitation, sequence, dtstamp)
        if stale:
            return AnswerResult("ignored", stale, invitation_id)
        delegate_id = None
        if answer == "delegated":
            delegate_id = await _delegate(invitation, delegate_email or "", delegate_name or "")
        now = clock.now()
        # A link answers the version of the meeting shown on its page, the current one.
        answered_sequence = invitation["meeting_sequence"] if sequence is None else sequence
        await Invitation.update(
            {
                Invitation.answer: answer,
                Invitation.answered_at: now,
                Invitation.answer_sequence: answered_sequence,
                Invitation.answer_dtstamp: dtstamp or now,
                Invitation.comment: clean_comment,
                Invitation.delegate: delegate_id,
            }
        ).where(Invitation.id == invitation_id)
        await audit.record(
            partner_principal(invitation["email"], invitation["department"], source),
            "answer",
            "invitation",
            invitation_id,
            department_id=invitation["department"],
            summary=f"Réponse : {ANSWERS[answer]}",
            before={"answer": invitation["answer"]},
            after={"answer": answer, "comment": clean_comment, "sequence": answered_sequence, "source": source},
        )
    return AnswerResult("applied", ANSWERS[answer], invitation_id)


async def _delegate(invitation: dict[str, Any], email: str, name: str) -> int:
    """The colleague becomes an invitee (same organisation, same role) and receives the convocation.

    Returns the delegate's contact id. The colleague is found among the organisation's contacts by
    address, or added to it: a professional contact, like every contact in Coord."""
    fields = Fields({"email": email, "name": name})
    address = fields.email("email", required=True)
    full_name = fields.text("name", required=True, max_length=200)
    if address and address == (invitation["email"] or "").strip().lower():
        fields.error("email", "Indiquez l'adresse d'un ou d'une collègue, pas la vôtre.")
    fields.check()
    assert address is not None and full_name is not None
    colleagues = await Contact.select(Contact.id, Contact.email).where(
        Contact.organisation == invitation["organisation"]
    )
    contact = next((c for c in colleagues if (c["email"] or "").strip().lower() == address), None)
    if contact is None:
        first, _, last = full_name.partition(" ")
        contact = (
            await Contact.insert(
                Contact(
                    department=invitation["department"],
                    organisation=invitation["organisation"],
                    first_name=first[:100],
                    last_name=(last or first)[:100],
                    email=address,
                    function="Délégué(e)",
                )
            ).returning(Contact.id)
        )[0]
    existing = (
        await Invitation.select(Invitation.id, Invitation.removed_at)
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
    elif existing["removed_at"] is not None:
        await Invitation.update(
            {Invitation.removed_at: None, Invitation.answer: "needs_action", Invitation.role: invitation["role"]}
        ).where(Invitation.id == existing["id"])
        await queue_convocation(invitation["meeting"], [existing["id"]])
    return contact["id"]


# -- pages ----------------------------------------------------------------------------------------

# The token is in the URL: no caching, no Referer towards the video link or other sites, no indexing.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _page(template: str, status: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status, headers=PRIVATE_HEADERS)


async def _meeting_view(link: links.ResolvedLink) -> dict[str, Any]:
    """What the answer page shows: the one meeting this link's invitation belongs to."""
    invitation = (
        await Invitation.select(
            Invitation.id,
            Invitation.answer,
            Invitation.answer_sequence,
            Invitation.meeting,
            Invitation.contact,
            Invitation.comment,
            Invitation.removed_at,
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
        )
        .where(Invitation.id == link.target_id)
        .first()
    )
    if invitation is None or (link.contact_id is not None and link.contact_id != invitation["contact"]):
        raise links.LinkInvalid("Cette invitation n'existe plus.")
    if invitation["removed_at"] is not None:
        raise links.LinkInvalid("Vous n'êtes plus convié(e) à cette réunion : ce lien n'est plus valable.")
    meeting = await Meeting.select().where(Meeting.id == invitation["meeting"]).first()
    department = await department_of(meeting)
    committee = await Committee.select(Committee.name).where(Committee.id == meeting["committee"]).first()
    agenda = (
        await AgendaItem.select(AgendaItem.title, AgendaItem.presenter, AgendaItem.duration_minutes)
        .where(AgendaItem.meeting == meeting["id"])
        .order_by(AgendaItem.position)
        .order_by(AgendaItem.id)
    )
    tz = department["timezone"]
    current = current_answer(invitation, meeting["sequence"])
    return {
        "invitation": invitation,
        "current_answer": current,
        "meeting": meeting,
        "committee": committee["name"] if committee else "",
        "department_row": department,
        "agenda": agenda,
        "when": when_fr(meeting["starts_at"], meeting["ends_at"], tz),
        "zone": zone_label(tz, meeting["starts_at"]) if tz != "Europe/Paris" else "",
        "answers": ANSWERS,
    }


def _invalid(exc: links.LinkInvalid) -> Template:
    return _page("error.html", status=exc.status_code, title="Lien non valide", detail=exc.message)


@get("/r/invitation/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer_page(token: str, reponse: str | None = None) -> Template:
    """Shows the meeting and the form; never records anything (mail scanners open links), even
    with `?reponse=accepted`, which only pre-selects the choice."""
    try:
        link = await links.resolve(token, "invitation")
        view = await _meeting_view(link)
    except links.LinkInvalid as exc:
        return _invalid(exc)
    selected = reponse if reponse in ANSWERS else view["current_answer"]
    return _page("meetings/answer.html", **view, selected=selected, values={}, errors={}, done=None)


@post("/r/invitation/{token:str}", opt={"exclude_from_auth": True, "exclude_from_csrf": True}, include_in_schema=False)
async def answer(token: str, request: Request) -> Template:
    """Records the answer chosen on the page (the token is the credential: no login, no CSRF cookie)."""
    try:
        link = await links.resolve(token, "invitation")
        await _meeting_view(link)
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
        view = await _meeting_view(link)
        errors = {("delegate_" + k if k in {"email", "name"} else k): v for k, v in exc.errors.items()}
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        return _page(
            "meetings/answer.html",
            status=422,
            **view,
            selected=values.get("answer"),
            values=values,
            errors=errors,
            done=None,
        )
    view = await _meeting_view(link)
    return _page(
        "meetings/answer.html",
        **view,
        selected=view["current_answer"],
        values={},
        errors={},
        done=result.reason if result.status == "applied" else None,
        ignored=result.reason if result.status != "applied" else None,
    )


ROUTES: list[Any] = [answer_page, answer]
