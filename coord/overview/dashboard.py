"""A département's home: what needs an agent now, each item a link to act.

Each section costs a fixed number of queries, whatever the size of the département (no query per
meeting, per item or per convention), and every query goes through the département's scope. Times
are returned as UTC instants with the département's zone: templates show them in that zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access import DepartmentRow, Scope
from coord.actions import transitions
from coord.actions.board import overdue_condition
from coord.actions.tables import ActionItem
from coord.conventions.lifecycle import ACTIVE
from coord.conventions.lifecycle import STATUSES as CONVENTION_STATUSES
from coord.conventions.service import conventions_out, models
from coord.conventions.service.records import COLUMNS as CONVENTION_COLUMNS
from coord.conventions.tables import Convention, ConventionAmendment
from coord.core.clock import local_today
from coord.meetings.inbox_tables import InboxItem
from coord.meetings.invitees import ROLES
from coord.meetings.notify import current_answer
from coord.meetings.service import KINDS as MEETING_KINDS
from coord.meetings.service import STATUSES as MEETING_STATUSES
from coord.meetings.tables import Invitation, Meeting
from coord.polls.service import open_polls
from coord.scheduling.cycle import STATES as CYCLE_STATES
from coord.scheduling.service import department_cycle

NEXT_MEETINGS = 5  # meetings shown with their answers
AWAITED_WITHIN = dt.timedelta(days=30)  # « soon »: convened meetings of the next 30 days
SHOWN = 10  # rows shown per list; the section links to the full list for the rest
# Answers as the dashboard counts them; a delegation is not counted: the delegate's invitation is.
ANSWER_GROUPS = ("accepted", "declined", "tentative", "needs_action")
INBOX_KINDS = {"reply": "Réponse à vérifier", "counter": "Proposition d'horaire"}
# A cycle state → the DSFR badge that tells it at a glance.
CYCLE_BADGES = {
    "non_planifiee": "fr-badge--warning",
    "date_proposee": "fr-badge--info",
    "convoquee": "fr-badge--info",
    "tenue": "fr-badge--success",
    "cr_publie": "fr-badge--success",
    "en_retard": "fr-badge--error",
}


async def next_meetings(here: Scope, now: dt.datetime) -> list[dict[str, Any]]:
    """The next meetings to come (draft or convened), each with its answers counted: two queries."""
    meetings = (
        await here.select(
            Meeting,
            Meeting.id,
            Meeting.title,
            Meeting.kind,
            Meeting.status,
            Meeting.starts_at,
            Meeting.answers_sequence,
            Meeting.committee.name.as_alias("committee_name"),
        )
        .where((Meeting.ends_at >= now) & Meeting.status.is_in(["draft", "convened"]))
        .order_by(Meeting.starts_at)
        .order_by(Meeting.id)
        .limit(NEXT_MEETINGS)
    )
    counts: dict[int, dict[str, int]] = {m["id"]: dict.fromkeys(ANSWER_GROUPS, 0) for m in meetings}
    if meetings:
        sequences = {m["id"]: m["answers_sequence"] for m in meetings}
        invitations = await here.select(
            Invitation, Invitation.meeting, Invitation.answer, Invitation.answer_sequence
        ).where(Invitation.meeting.is_in(list(counts)) & Invitation.removed_at.is_null())
        for invitation in invitations:
            answer = current_answer(invitation, sequences[invitation["meeting"]])
            if answer in ANSWER_GROUPS:
                counts[invitation["meeting"]][answer] += 1
    return [
        {
            **m,
            "kind_label": MEETING_KINDS.get(m["kind"], m["kind"]),
            "status_label": MEETING_STATUSES.get(m["status"], m["status"]),
            "answers": counts[m["id"]],
            "invited": sum(counts[m["id"]].values()),
        }
        for m in meetings
    ]


async def answers_awaited(here: Scope, now: dt.datetime) -> dict[str, Any]:
    """Invitees who have not answered (the current version of) a meeting convened for the next
    30 days, soonest meeting first: one query."""
    rows = (
        await here.select(
            Invitation,
            Invitation.id,
            Invitation.meeting,
            Invitation.role,
            Invitation.answer,
            Invitation.answer_sequence,
            Invitation.meeting.title.as_alias("meeting_title"),
            Invitation.meeting.starts_at.as_alias("starts_at"),
            Invitation.meeting.answers_sequence.as_alias("answers_sequence"),
            Invitation.contact.first_name.as_alias("first_name"),
            Invitation.contact.last_name.as_alias("last_name"),
            Invitation.contact.organisation.name.as_alias("organisation_name"),
        )
        .where(
            Invitation.removed_at.is_null()
            & (Invitation.role != "info")  # sent for information: no answer expected
            & (Invitation.meeting.status == "convened")
            & (Invitation.meeting.starts_at >= now)
            & (Invitation.meeting.starts_at < now + AWAITED_WITHIN)
        )
        .order_by(Invitation.meeting.starts_at)
        .order_by(Invitation.contact.last_name)
        .order_by(Invitation.id)
    )
    waiting = [
        {
            **r,
            "name": f"{r['first_name']} {r['last_name']}".strip(),
            "role_label": ROLES.get(r["role"], r["role"]),
            "asked_again": r["answer"] != "needs_action",  # answered an earlier time or place
        }
        for r in rows
        if current_answer(r, r["answers_sequence"]) == "needs_action"
    ]
    return {"items": waiting[:SHOWN], "total": len(waiting), "meetings": len({w["meeting"] for w in waiting})}


async def replies_to_verify(here: Scope) -> dict[str, Any]:
    """Calendar answers whose sender could not be verified and time proposals, waiting for an
    agent's decision in the meetings' inboxes: two queries."""
    pending = InboxItem.status == "pending"
    rows = (
        await here.select(
            InboxItem,
            InboxItem.id,
            InboxItem.meeting,
            InboxItem.kind,
            InboxItem.sender,
            InboxItem.sender_name,
            InboxItem.received_at,
            InboxItem.meeting.title.as_alias("meeting_title"),
        )
        .where(pending)
        .order_by(InboxItem.received_at)
        .order_by(InboxItem.id)
        .limit(SHOWN)
    )
    total = await here.count(InboxItem).where(pending)
    items = [{**r, "kind_label": INBOX_KINDS.get(r["kind"], "Courrier à traiter")} for r in rows]
    return {"items": items, "total": total}


async def late_items(here: Scope, department: DepartmentRow, now: dt.datetime) -> dict[str, Any]:
    """Open action items past their due date (the département's own date), the oldest first: two queries."""
    late = await overdue_condition(here, department["id"], now=now)
    rows = (
        await here.select(
            ActionItem,
            ActionItem.id,
            ActionItem.title,
            ActionItem.status,
            ActionItem.due_on,
            ActionItem.owner_organisation.name.as_alias("owner_organisation_name"),
        )
        .where(late)
        .order_by(ActionItem.due_on)
        .order_by(ActionItem.id)
        .limit(SHOWN)
    )
    total = await here.count(ActionItem).where(late)
    today = local_today(department["timezone"], now)
    items = [
        {
            **r,
            "status_label": transitions.STATUSES.get(r["status"], r["status"]),
            "days_late": (today - r["due_on"]).days,
            "owner_organisation_name": r["owner_organisation_name"] or "",
        }
        for r in rows
    ]
    return {"items": items, "total": total}


async def conventions_to_follow(here: Scope) -> dict[str, Any]:
    """Conventions waiting for signatures (of their text or of an open avenant) and those arriving at
    their end (to renew or let lapse): four queries."""
    opened = await here.select(ConventionAmendment, ConventionAmendment.convention).where(
        ConventionAmendment.status == "open"
    )
    with_amendment = [r["convention"] for r in opened]
    condition = Convention.status.is_in(["in_signature", "expiring"])
    if with_amendment:
        condition = condition | Convention.id.is_in(with_amendment)
    rows = await here.select(Convention, *CONVENTION_COLUMNS).where(condition).order_by(Convention.id)
    signing: list[dict[str, Any]] = []
    renewal: list[dict[str, Any]] = []
    for convention in await conventions_out(rows, models()):
        opened_amendment = convention["open_amendment"]
        round_ = convention if convention["status"] == "in_signature" else opened_amendment
        if round_ is not None and convention["status"] in ("in_signature", *ACTIVE):
            signing.append(
                {
                    **convention,
                    "round_label": "Texte initial"
                    if round_ is convention
                    else f"Avenant n° {opened_amendment['number']}",  # type: ignore[index]
                    "signed": round_["signed_count"],
                    "required": round_["required_count"],
                    "missing": [m["label"] for m in round_["missing_roles"]],
                }
            )
        if convention["status"] == "expiring":
            renewal.append(convention)
    renewal.sort(key=lambda c: (c["ends_on"] or dt.date.max, c["id"]))
    return {"signing": signing, "renewal": renewal, "status_labels": CONVENTION_STATUSES}


async def cycle_status(access: Scope, code: str, now: dt.datetime) -> dict[str, Any]:
    """This year's measure-22 cycle of the département: its overall state and its required meetings."""
    year = local_today((await access.department(code))["timezone"], now).year
    cycle = await department_cycle(access, code, year, now)
    return {
        "year": year,
        "state": cycle["state"],
        "state_label": CYCLE_STATES[cycle["state"]],
        "badge": CYCLE_BADGES[cycle["state"]],
        "slots": cycle["slots"],
    }


async def dashboard(access: Scope, code: str, now: dt.datetime) -> dict[str, Any]:
    """Every section of the département's home page."""
    department = await access.department(code)
    here = access.within(department)
    return {
        "next_meetings": await next_meetings(here, now),
        "awaited": await answers_awaited(here, now),
        "polls": await open_polls(here, department["id"]),
        "inbox": await replies_to_verify(here),
        "late": await late_items(here, department, now),
        "conventions": await conventions_to_follow(here),
        "cycle": await cycle_status(access, code, now),
    }
