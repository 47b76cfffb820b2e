"""Date polls « Trouver une date »: the agent offers slots for a draft meeting, each invitee answers
by a signed link (oui / si besoin / non), and the agent picks a slot, which dates the meeting through
the meetings service's own update path.

Every write checks `Scope.require(MANAGE)` and runs in one transaction with its audit entry, its
links and its mails (through the outbox), so nothing partial is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from coord.access import Scope, link_principal, link_scope
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.core.french import DAYS
from coord.links import service as links
from coord.meetings import service as meetings
from coord.meetings.tables import Invitation
from coord.polls import mails
from coord.polls.suggestions import earliest_day
from coord.polls.tables import DatePoll, PollAnswer, PollParticipant, PollSlot
from coord.territory.working_days import format_date_fr, holiday_name

LINK_PURPOSE = "poll"
MAX_SLOTS = 8
ANSWERS = {"yes": "Oui", "maybe": "Si besoin", "no": "Non"}
STATUSES = {"open": "En cours", "closed": "Clos", "cancelled": "Annulé"}
# Links outlive the deadline a little, so a late visitor reads « sondage clos » rather than « lien expiré ».
LINK_GRACE = dt.timedelta(days=30)


# -- reading ------------------------------------------------------------------------------------
async def open_poll_of(scope: Scope, meeting_id: int) -> dict[str, Any] | None:
    return (
        await scope.select(DatePoll, *DatePoll.all_columns())
        .where((DatePoll.meeting == meeting_id) & (DatePoll.status == "open"))
        .first()
    )


async def latest_poll_of(scope: Scope, meeting_id: int) -> dict[str, Any] | None:
    return (
        await scope.select(DatePoll, *DatePoll.all_columns())
        .where(DatePoll.meeting == meeting_id)
        .order_by(DatePoll.id, ascending=False)
        .first()
    )


async def board(scope: Scope, poll_id: int) -> dict[str, Any]:
    """The live table: slots × participants, totals per slot, slots ruled out by a key « non »."""
    poll = await scope.get(DatePoll, poll_id, *DatePoll.all_columns())
    meeting = await meetings.get_meeting(scope, poll["meeting"])
    dep = scope.within(poll["department"])
    slots = (
        await dep.select(PollSlot, *PollSlot.all_columns()).where(PollSlot.poll == poll_id).order_by(PollSlot.position)
    )
    people = (
        await dep.select(PollParticipant, *PollParticipant.all_columns())
        .where(PollParticipant.poll == poll_id)
        .order_by(PollParticipant.key, ascending=False)
        .order_by(PollParticipant.name)
    )
    ids = [p["id"] for p in people]
    answers = (
        await dep.select(PollAnswer, *PollAnswer.all_columns()).where(PollAnswer.participant.is_in(ids)) if ids else []
    )
    grid = {(a["participant"], a["slot"]): a["answer"] for a in answers}
    for slot in slots:
        column = [grid.get((p["id"], slot["id"])) for p in people]
        slot["totals"] = {k: column.count(k) for k in ANSWERS}
        slot["ruled_out"] = any(grid.get((p["id"], slot["id"])) == "no" for p in people if p["key"])
    for person in people:
        person["answers"] = {slot["id"]: grid.get((person["id"], slot["id"])) for slot in slots}
    answered = sum(1 for p in people if p["answered_at"] is not None)
    return {
        "poll": poll,
        "meeting": meeting,
        "slots": slots,
        "participants": people,
        "answered": answered,
        "status_label": STATUSES.get(poll["status"], poll["status"]),
    }


async def open_polls(scope: Scope, department_id: int) -> list[dict[str, Any]]:
    """The département's open polls with how many answered, soonest deadline first (the dashboard)."""
    dep = scope.within(department_id)
    polls = (
        await dep.select(
            DatePoll, DatePoll.id, DatePoll.meeting, DatePoll.deadline, DatePoll.meeting.title.as_alias("meeting_title")
        )
        .where(DatePoll.status == "open")
        .order_by(DatePoll.deadline)
    )
    if not polls:
        return polls
    # One read of every open poll's participants, not one per poll.
    people = await dep.select(PollParticipant, PollParticipant.poll, PollParticipant.answered_at).where(
        PollParticipant.poll.is_in([poll["id"] for poll in polls])
    )
    for poll in polls:
        mine = [p for p in people if p["poll"] == poll["id"]]
        poll["invited"] = len(mine)
        poll["answered"] = sum(1 for p in mine if p["answered_at"] is not None)
    return polls


# -- creating -----------------------------------------------------------------------------------
def _slot_rows(data: Mapping[str, Any]) -> list[int]:
    return sorted({int(k.split("_")[-1]) for k in data if k.startswith("slot_date_") and k.split("_")[-1].isdigit()})


def read_slots(
    data: Mapping[str, Any], tz: str, subdivision: str | None, now: dt.datetime
) -> tuple[list[tuple[dt.datetime, dt.datetime]], dict[str, str]]:
    """Slots typed as a local date, a start time « HH:MM » and a duration in minutes (rows with no
    date are blank rows of the form). Past slots are refused; weekend and holiday slots only with
    the « confirm_days » checkbox."""
    zone = ZoneInfo(tz)
    errors: dict[str, str] = {}
    slots: list[tuple[dt.datetime, dt.datetime]] = []
    confirmed = str(data.get("confirm_days") or "").lower() in {"on", "1", "true", "oui"}
    for n in _slot_rows(data):
        raw_day = str(data.get(f"slot_date_{n}") or "").strip()
        if not raw_day:
            continue
        label = f"Créneau {n + 1}"
        try:
            day = dt.date.fromisoformat(raw_day)
            hour, minute = (int(x) for x in str(data.get(f"slot_time_{n}") or "").strip().split(":"))
            start = dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(dt.UTC)
        except ValueError:
            errors[f"slot_date_{n}"] = f"{label} : indiquez une date (AAAA-MM-JJ) et une heure de début (HH:MM)."
            continue
        try:
            minutes = int(str(data.get(f"slot_duration_{n}") or "").strip())
        except ValueError:
            errors[f"slot_duration_{n}"] = f"{label} : indiquez la durée en minutes (par exemple 120)."
            continue
        if minutes <= 0:
            errors[f"slot_duration_{n}"] = f"{label} : la fin doit être postérieure au début (durée positive)."
            continue
        if minutes > 24 * 60:
            errors[f"slot_duration_{n}"] = f"{label} : une réunion ne peut pas durer plus de 24 heures."
            continue
        if start <= now:
            errors[f"slot_date_{n}"] = f"{label} : ce créneau est déjà passé, choisissez une date à venir."
            continue
        holiday = holiday_name(day, subdivision)
        if (holiday or day.weekday() >= 5) and not confirmed:
            what = f"est un jour férié dans ce département ({holiday})" if holiday else "tombe un week-end"
            errors[f"slot_date_{n}"] = (
                f"{label} : le {DAYS[day.weekday()]} {format_date_fr(day)} {what}. Cochez « Confirmer les "
                "jours non ouvrés » pour le garder, ou choisissez un autre jour."
            )
            continue
        slots.append((start, start + dt.timedelta(minutes=minutes)))
    if not slots and not errors:
        errors["slots"] = "Proposez au moins un créneau (une date, une heure de début et une durée)."
    if len(slots) > MAX_SLOTS:
        errors["slots"] = f"Proposez au plus {MAX_SLOTS} créneaux."
    if len(set(slots)) != len(slots):
        errors["slots"] = "Deux créneaux sont identiques : retirez le doublon."
    return sorted(slots), errors


def read_deadline(
    data: Mapping[str, Any], tz: str, now: dt.datetime, slots: list[tuple[dt.datetime, dt.datetime]]
) -> tuple[dt.datetime | None, dict[str, str]]:
    try:
        day = dt.date.fromisoformat(str(data.get("deadline_date") or "").strip())
        raw_time = str(data.get("deadline_time") or "").strip() or "18:00"
        hour, minute = (int(x) for x in raw_time.split(":"))
        deadline = dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(tz)).astimezone(dt.UTC)
    except ValueError:
        return None, {"deadline_date": "Indiquez la date limite de réponse (AAAA-MM-JJ) et son heure (HH:MM)."}
    if deadline <= now:
        return None, {"deadline_date": "La date limite de réponse est déjà passée : choisissez une date à venir."}
    if slots and deadline >= slots[0][0]:
        return None, {"deadline_date": "La date limite de réponse doit précéder le premier créneau proposé."}
    return deadline, {}


async def _invitees(meeting_id: int, department_id: int) -> list[dict[str, Any]]:
    return (
        await link_scope(department_id)
        .select(
            Invitation,
            Invitation.id,
            Invitation.contact,
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
            Invitation.contact.email.as_alias("email"),
        )
        .where(
            (Invitation.meeting == meeting_id)
            & Invitation.removed_at.is_null()
            & Invitation.contact.active.eq(True)
            & Invitation.contact.erased_at.is_null()
            & (Invitation.contact.email != "")
        )
        .order_by(Invitation.id)
    )


async def invitee_choices(meeting_id: int, department_id: int) -> list[dict[str, Any]]:
    return await _invitees(meeting_id, department_id)


async def create_poll(
    scope: Scope, meeting_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None
) -> dict[str, Any]:
    now = now or clock.now()
    meeting = await meetings.get_meeting(scope, meeting_id)
    row = await meetings.load(scope, meeting_id)
    scope.require(Permission.MANAGE, row["department"])
    if meeting["status"] != "draft":
        raise Conflict("Un sondage de date ne se lance que sur une réunion en préparation (pas encore convoquée).")
    if await open_poll_of(scope, meeting_id):
        raise Conflict("Un sondage est déjà en cours pour cette réunion : clôturez-le ou annulez-le d'abord.")
    invitees = await _invitees(meeting_id, row["department"])
    if not invitees:
        raise ValidationFailed(
            {
                "invitees": "Cette réunion n'a pas encore d'invités (avec une adresse électronique) : "
                "ajoutez-les avant de lancer le sondage."
            }
        )
    tz, subdivision = row["timezone"], row["holiday_subdivision"]
    slots, errors = read_slots(data, tz, subdivision, now)
    deadline, deadline_errors = read_deadline(data, tz, now, slots)
    errors.update(deadline_errors)
    try:
        reminder_days = int(str(data.get("reminder_days") or "2"))
        if not 0 <= reminder_days <= 10:
            raise ValueError
    except ValueError:
        errors["reminder_days"] = "Le rappel part de 0 à 10 jours ouvrés avant la date limite."
        reminder_days = 2
    message = str(data.get("message") or "").strip()
    if len(message) > 1000:
        errors["message"] = "Le message est limité à 1 000 caractères."
    if errors:
        raise ValidationFailed(errors)
    assert deadline is not None
    keys = {i["contact"] for i in invitees if data.get(f"key_{i['contact']}")}
    async with transaction():
        poll = (
            await DatePoll.insert(
                DatePoll(
                    department=row["department"],
                    meeting=meeting_id,
                    deadline=deadline,
                    reminder_days=reminder_days,
                    message=message,
                    created_by=scope.principal.full_name or scope.principal.email,
                )
            ).returning(*DatePoll.all_columns())
        )[0]
        await PollSlot.insert(
            *(
                PollSlot(department=row["department"], poll=poll["id"], position=i, starts_at=s, ends_at=e)
                for i, (s, e) in enumerate(slots)
            )
        )
        people = await PollParticipant.insert(
            *(
                PollParticipant(
                    department=row["department"],
                    poll=poll["id"],
                    contact=i["contact"],
                    name=f"{i['first_name']} {i['last_name']}".strip(),
                    email=i["email"],
                    key=i["contact"] in keys,
                )
                for i in invitees
            )
        ).returning(*PollParticipant.all_columns())
        tokens = await links.issue_many(
            LINK_PURPOSE,
            [links.LinkTarget(p["id"], row["department"], p["contact"]) for p in people],
            valid_for=deadline - now + LINK_GRACE,
            now=now,
        )
        for person in people:
            await mails.queue_invitation(meeting, poll, person, slots, tokens[person["id"]])
        await audit.record(
            scope.principal,
            "create",
            "date_poll",
            poll["id"],
            department_id=row["department"],
            summary=f"Sondage de date pour « {meeting['title']} » : {len(slots)} créneau(x), {len(people)} invité(s)"[
                :300
            ],
            after={
                "meeting": meeting_id,
                "deadline": deadline.isoformat(),
                "slots": [s.isoformat() for s, _ in slots],
                "key": sorted(keys),
            },
        )
    return poll


# -- answering (the partner's link) -------------------------------------------------------------
async def participant_of(token: str) -> dict[str, Any]:
    """The participant a poll link opens (LinkInvalid when forged, expired or revoked)."""
    link = await links.resolve(token, LINK_PURPOSE)
    person = (
        await link_scope(link.department_id)
        .select(PollParticipant, *PollParticipant.all_columns())
        .where(PollParticipant.id == link.target_id)
        .first()
    )
    if person is None:
        raise links.LinkInvalid("Ce sondage n'existe plus.", department_id=link.department_id)
    return person


async def answer_view(person: dict[str, Any]) -> dict[str, Any]:
    poll = await DatePoll.select(*DatePoll.all_columns()).where(DatePoll.id == person["poll"]).first()
    assert poll is not None
    meeting = (
        await meetings.Meeting.select(*meetings.MEETING_COLUMNS).where(meetings.Meeting.id == poll["meeting"]).first()
    )
    slots = (
        await PollSlot.select(*PollSlot.all_columns()).where(PollSlot.poll == poll["id"]).order_by(PollSlot.position)
    )
    mine = await PollAnswer.select(PollAnswer.slot, PollAnswer.answer).where(PollAnswer.participant == person["id"])
    return {
        "poll": poll,
        "meeting": meetings.meeting_out(meeting),
        "slots": slots,
        "person": person,
        "mine": {a["slot"]: a["answer"] for a in mine},
        "is_open": poll["status"] == "open" and poll["deadline"] > clock.now(),
    }


async def answer(person: dict[str, Any], data: Mapping[str, Any], *, now: dt.datetime | None = None) -> None:
    now = now or clock.now()
    view = await answer_view(person)
    poll = view["poll"]
    if not view["is_open"]:
        raise Conflict("Ce sondage est clos : vos réponses ne peuvent plus être modifiées.")
    chosen: dict[int, str] = {}
    errors: dict[str, str] = {}
    for slot in view["slots"]:
        value = str(data.get(f"slot_{slot['id']}") or "")
        if value not in ANSWERS:
            errors[f"slot_{slot['id']}"] = "Répondez oui, si besoin ou non pour chaque créneau."
        else:
            chosen[slot["id"]] = value
    comment = str(data.get("comment") or "").strip()
    if len(comment) > 500:
        errors["comment"] = "Le commentaire est limité à 500 caractères."
    if errors:
        raise ValidationFailed(errors)
    async with transaction():
        # Re-read inside the transaction: the agent may have closed the poll meanwhile.
        fresh = await DatePoll.select(DatePoll.status, DatePoll.deadline).where(DatePoll.id == poll["id"]).first()
        if fresh is None or fresh["status"] != "open" or fresh["deadline"] <= now:
            raise Conflict("Ce sondage est clos : vos réponses ne peuvent plus être modifiées.")
        await PollAnswer.delete().where(PollAnswer.participant == person["id"])
        await PollAnswer.insert(
            *(
                PollAnswer(department=person["department"], participant=person["id"], slot=s, answer=a)
                for s, a in chosen.items()
            )
        )
        await PollParticipant.update({PollParticipant.answered_at: now, PollParticipant.comment: comment}).where(
            PollParticipant.id == person["id"]
        )
        await audit.record(
            link_principal(f"{person['name']} (lien partenaire)", person["department"]),
            "answer",
            "date_poll",
            poll["id"],
            department_id=person["department"],
            summary=f"Réponse de {person['name']} au sondage de date"[:300],
            after={"answers": {str(k): v for k, v in chosen.items()}},
        )


# -- closing ------------------------------------------------------------------------------------
async def _poll_in_meeting(scope: Scope, meeting_id: int, poll_id: int) -> dict[str, Any]:
    poll = await scope.get(DatePoll, poll_id, *DatePoll.all_columns())
    if poll["meeting"] != meeting_id:
        raise NotFound("Ce sondage n'existe pas pour cette réunion.")
    scope.require(Permission.MANAGE, poll["department"])
    return poll


async def choose(
    scope: Scope, meeting_id: int, poll_id: int, slot_id: Any, *, announce: bool, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Date the meeting with the slot (the meetings service's update: version, audit, rules), close
    the poll, revoke its links; with `announce`, mail « date retenue » to every participant (otherwise
    the agent sends the convocation next)."""
    now = now or clock.now()
    poll = await _poll_in_meeting(scope, meeting_id, poll_id)
    if poll["status"] != "open":
        raise Conflict("Ce sondage est déjà clos : aucun créneau ne peut plus y être retenu.")
    try:
        slot_key = int(str(slot_id))
    except ValueError:
        slot_key = 0
    slot = (
        await scope.within(poll["department"])
        .select(PollSlot, *PollSlot.all_columns())
        .where((PollSlot.id == slot_key) & (PollSlot.poll == poll_id))
        .first()
    )
    if slot is None:
        raise ValidationFailed({"slot": "Ce créneau n'appartient pas à ce sondage : choisissez un créneau du tableau."})
    if slot["starts_at"] <= now:
        raise ValidationFailed({"slot": "Ce créneau est déjà passé : choisissez-en un autre."})
    meeting = await meetings.get_meeting(scope, meeting_id)
    async with transaction():
        updated = await meetings.update_meeting(
            scope,
            meeting_id,
            {
                "version": meeting["version"],
                "starts_at": slot["starts_at"].isoformat(),
                "ends_at": slot["ends_at"].isoformat(),
                "confirm_day": True,  # weekend slots were confirmed when the poll was made
            },
        )
        closed = (
            await DatePoll.update(
                {DatePoll.status: "closed", DatePoll.chosen_slot: slot["id"], DatePoll.closed_at: now}
            )
            .where((DatePoll.id == poll_id) & (DatePoll.status == "open"))
            .returning(DatePoll.id)
        )
        if not closed:
            raise Conflict("Ce sondage vient d'être clos par quelqu'un d'autre.")
        people = await PollParticipant.select(*PollParticipant.all_columns()).where(PollParticipant.poll == poll_id)
        for person in people:
            await links.revoke(LINK_PURPOSE, person["id"], now=now)
            if announce:
                await mails.queue_chosen(updated, poll, person)
        await audit.record(
            scope.principal,
            "close",
            "date_poll",
            poll_id,
            department_id=poll["department"],
            summary=f"Date retenue pour « {meeting['title']} »"[:300],
            after={"slot": slot["id"], "starts_at": slot["starts_at"].isoformat(), "announced": announce},
        )
    return updated


async def cancel(scope: Scope, meeting_id: int, poll_id: int, *, now: dt.datetime | None = None) -> None:
    now = now or clock.now()
    poll = await _poll_in_meeting(scope, meeting_id, poll_id)
    if poll["status"] != "open":
        raise Conflict("Ce sondage est déjà clos.")
    async with transaction():
        await DatePoll.update({DatePoll.status: "cancelled", DatePoll.closed_at: now}).where(DatePoll.id == poll_id)
        people = await PollParticipant.select(PollParticipant.id).where(PollParticipant.poll == poll_id)
        for person in people:
            await links.revoke(LINK_PURPOSE, person["id"], now=now)
        await audit.record(
            scope.principal,
            "cancel",
            "date_poll",
            poll_id,
            department_id=poll["department"],
            summary="Sondage de date annulé",
            before={"status": "open"},
            after={"status": "cancelled"},
        )


def convocation_reachable(slot_start: dt.datetime, deadline: dt.datetime, tz: str) -> bool:
    """Whether a convocation sent after the deadline reaches the invitees in the legal lead."""
    return slot_start.astimezone(ZoneInfo(tz)).date() >= earliest_day(deadline, tz)
