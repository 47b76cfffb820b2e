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
from coord.links.pages import Helpdesk, invalid_page
from coord.meetings.annex_links import convocation_annexes
from coord.meetings.notify import (
    current_answer,
    outdated_answer,
    queue_convocation,
    queue_removal,
    raise_sequence,
    when_fr,
    zone_label,
)
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


def _unsent(invitation: dict[str, Any], sequence: int | None) -> str:
    """Why an answer names a version of the invitation never sent to this invitee, or ""."""
    sent = invitation["sent_sequence"]
    if sequence is None or (sent is not None and sequence <= sent):
        return ""
    if sent is None:
        return "Aucune invitation n'a encore été envoyée à cette adresse : la réponse n'est pas prise en compte."
    return (
        f"Cette réponse porte sur une version de l'invitation ({sequence}) qui n'a pas été envoyée à cette "
        f"adresse (dernière version envoyée : {sent}) : elle n'est pas prise en compte."
    )


def _stale(invitation: dict[str, Any], sequence: int | None, dtstamp: dt.datetime | None) -> str:
    """Why an answer is older than the one stored or than the last change of time or place, or ""
    when it may be applied."""
    if sequence is not None and sequence < invitation["answers_sequence"]:
        return (
            "Réponse à une version antérieure de la réunion (l'horaire ou le lieu ont changé depuis) : "
            "elle n'est pas prise en compte."
        )
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
                Invitation.sent_sequence,
                Invitation.removed_at,
                Invitation.contact.email.as_alias("email"),
                Invitation.contact.first_name.as_alias("first_name"),
                Invitation.contact.last_name.as_alias("last_name"),
                Invitation.contact.organisation.as_alias("organisation"),
                Invitation.meeting.status.as_alias("meeting_status"),
                Invitation.meeting.sequence.as_alias("meeting_sequence"),
                Invitation.meeting.answers_sequence.as_alias("answers_sequence"),
            )
            .where(Invitation.id == invitation_id)
            .first()
        )
        if invitation is None or invitation["removed_at"] is not None:
            raise ValidationFailed({"answer": "Cette invitation n'existe plus."})
        if invitation["meeting_status"] == "cancelled":
            raise ValidationFailed({"answer": "Cette réunion a été annulée."})
        unsent = _unsent(invitation, sequence)
        if unsent:
            raise ValidationFailed({"answer": unsent})
        # A reply older than the one already taken (out of order delivery) must not undo it.
        stale = _stale(invitation, sequence, dtstamp)
        if stale:
            return AnswerResult("ignored", stale, invitation_id)
        delegate = None
        if answer == "delegated":
            delegate = await _delegate_contact(invitation, delegate_email or "", delegate_name or "")
        now = clock.now()
        # A link answers the version shown on its page: the current one, as last sent to them.
        answered_sequence = sequence if sequence is not None else _shown_sequence(invitation)
        await Invitation.update(
            {
                Invitation.answer: answer,
                Invitation.answered_at: now,
                Invitation.answer_sequence: answered_sequence,
                Invitation.answer_dtstamp: dtstamp or now,
                Invitation.comment: clean_comment,
                Invitation.delegate: delegate["id"] if delegate else None,
            }
        ).where(Invitation.id == invitation_id)
        withdrawn = await _withdraw_delegate(invitation, keep_contact=delegate["id"] if delegate else None)
        after: dict[str, Any] = {
            "answer": answer,
            "comment": clean_comment,
            "sequence": answered_sequence,
            "source": source,
        }
        summary = f"Réponse : {ANSWERS[answer]}"
        if delegate:
            await _invite_delegate(invitation, delegate)
            after["delegate"] = delegate["email"]
            summary = f"Délégation de {_name(invitation)} à {delegate['name']} ({delegate['email']})"
        if withdrawn:
            after["withdrawn_delegate"] = withdrawn
            summary += f" ; délégation à {withdrawn} retirée"
        await audit.record(
            partner_principal(invitation["email"], invitation["department"], source),
            "delegate" if delegate else "answer",
            "invitation",
            invitation_id,
            department_id=invitation["department"],
            summary=summary,
            before={"answer": invitation["answer"]},
            after=after,
        )
    return AnswerResult("applied", ANSWERS[answer], invitation_id)


def _name(invitation: dict[str, Any]) -> str:
    return f"{invitation['first_name']} {invitation['last_name']}".strip() or invitation["email"]


def _shown_sequence(invitation: dict[str, Any]) -> int:
    if invitation["sent_sequence"] is not None:
        return int(invitation["sent_sequence"])
    return int(invitation["meeting_sequence"])


async def _delegate_contact(invitation: dict[str, Any], email: str, name: str) -> dict[str, Any]:
    """The one colleague the invitee delegates to: found among the organisation's contacts by
    address, or added to it (a professional contact, like every contact in Coord)."""
    fields = Fields({"email": email, "name": name})
    address = fields.email("email", required=True)
    full_name = fields.text("name", required=True, max_length=200)
    if address and address == (invitation["email"] or "").strip().lower():
        fields.error("email", "Indiquez l'adresse d'un ou d'une collègue, pas la vôtre.")
    fields.check()
    assert address is not None and full_name is not None
    colleagues = await Contact.select(Contact.id, Contact.email, Contact.first_name, Contact.last_name).where(
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
            ).returning(Contact.id, Contact.email, Contact.first_name, Contact.last_name)
        )[0]
    elif await Invitation.exists().where(
        (Invitation.meeting == invitation["meeting"])
        & (Invitation.contact == contact["id"])
        & Invitation.removed_at.is_null()
        & ((Invitation.delegated_from.is_null()) | (Invitation.delegated_from != invitation["id"]))
    ):
        raise ValidationFailed(
            {"email": f"{address} est déjà invité(e) à cette réunion : indiquez un(e) autre collègue."}
        )
    return {
        "id": contact["id"],
        "email": address,
        "name": f"{contact['first_name']} {contact['last_name']}".strip() or full_name,
    }


async def _withdraw_delegate(invitation: dict[str, Any], *, keep_contact: int | None) -> str | None:
    """One delegate per invitee: the earlier one (if not the one just named) is no longer invited
    and receives a CANCEL. Returns their address."""
    earlier = (
        await Invitation.select(Invitation.id, Invitation.contact, Invitation.contact.email.as_alias("email"))
        .where((Invitation.delegated_from == invitation["id"]) & Invitation.removed_at.is_null())
        .first()
    )
    if earlier is None or earlier["contact"] == keep_contact:
        return None
    await Invitation.update({Invitation.removed_at: clock.now()}).where(Invitation.id == earlier["id"])
    await queue_removal(earlier["id"])
    return str(earlier["email"])


async def _invite_delegate(invitation: dict[str, Any], delegate: dict[str, Any]) -> None:
    """The delegate becomes an invitee with the delegating invitee's role, and receives the
    convocation (DELEGATED-FROM on their ATTENDEE)."""
    existing = (
        await Invitation.select(Invitation.id, Invitation.removed_at, Invitation.sent_sequence)
        .where((Invitation.meeting == invitation["meeting"]) & (Invitation.contact == delegate["id"]))
        .first()
    )
    if existing is None:
        new = (
            await Invitation.insert(
                Invitation(
                    department=invitation["department"],
                    meeting=invitation["meeting"],
                    contact=delegate["id"],
                    role=invitation["role"],
                    delegated_from=invitation["id"],
                )
            ).returning(Invitation.id)
        )[0]
        target = new["id"]
    elif existing["removed_at"] is not None:
        await Invitation.update(
            {
                Invitation.removed_at: None,
                Invitation.answer: "needs_action",
                Invitation.answer_sequence: existing["sent_sequence"],
                Invitation.answer_dtstamp: clock.now(),
                Invitation.role: invitation["role"],
                Invitation.delegated_from: invitation["id"],
            }
        ).where(Invitation.id == existing["id"])
        target = existing["id"]
        if existing["sent_sequence"] is not None:  # they hold the CANCEL of their withdrawal
            await raise_sequence(invitation["meeting"], [target])
    else:
        return  # already this invitee's delegate: nothing new to send
    await queue_convocation(invitation["meeting"], [target])


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
        raise links.LinkInvalid("Cette invitation n'existe plus.", department_id=link.department_id)
    if invitation["removed_at"] is not None:
        raise links.LinkInvalid(
            "Vous n'êtes plus convié(e) à cette réunion : ce lien n'est plus valable.",
            purpose=link.purpose,
            target_id=link.target_id,
            department_id=link.department_id,
        )
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
    current = current_answer(invitation, meeting["answers_sequence"])
    return {
        "invitation": invitation,
        "current_answer": current,
        "outdated_answer": outdated_answer(invitation, meeting["answers_sequence"]),
        "meeting": meeting,
        "committee": committee["name"] if committee else "",
        "department_row": department,
        "agenda": agenda,
        "annexes": await convocation_annexes(meeting["id"], link.department_id),
        "when": when_fr(meeting["starts_at"], meeting["ends_at"], tz),
        "zone": zone_label(tz, meeting["starts_at"]) if tz != "Europe/Paris" else "",
        "answers": ANSWERS,
    }


async def _invalid(exc: links.LinkInvalid) -> Template:
    """What happened to the link, and the meeting's organiser to ask for a new one when known."""
    helpdesk = None
    if exc.target_id is not None and exc.purpose == "invitation":
        meeting = (
            await Invitation.select(
                Invitation.meeting.organiser_name.as_alias("name"), Invitation.meeting.organiser_email.as_alias("email")
            )
            .where(Invitation.id == exc.target_id)
            .first()
        )
        if meeting and meeting["email"]:
            helpdesk = Helpdesk(meeting["name"] or meeting["email"], meeting["email"], "organisation de la réunion")
    return await invalid_page(exc, helpdesk=helpdesk, headers=PRIVATE_HEADERS)


@get("/r/invitation/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def answer_page(token: str, reponse: str | None = None) -> Template:
    """Shows the meeting and the form; never records anything (mail scanners open links), even
    with `?reponse=accepted`, which only pre-selects the choice."""
    try:
        link = await links.resolve(token, "invitation")
        view = await _meeting_view(link)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
    selected = reponse if reponse in ANSWERS else view["current_answer"]
    return _page("meetings/answer.html", **view, selected=selected, values={}, errors={}, done=None)


@post("/r/invitation/{token:str}", opt={"exclude_from_auth": True, "exclude_from_csrf": True}, include_in_schema=False)
async def answer(token: str, request: Request) -> Template:
    """Records the answer chosen on the page (the token is the credential: no login, no CSRF cookie)."""
    try:
        link = await links.resolve(token, "invitation")
        await _meeting_view(link)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
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
