"""What the journal needs from the domains to read like a person wrote it: how to name each kind of
record an entry points to, and the French labels of their enumerations. The audit package sits
below the domains, so the composition root tells it (coord.audit.presenting)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.access import ROLE_LABELS
from coord.accounts.sessions import METHOD_LABELS
from coord.accounts.tables import AccountInvitation, User
from coord.actions.tables import ActionItem
from coord.actions.transitions import PRIORITIES
from coord.actions.transitions import STATUSES as ACTION_STATUSES
from coord.audit.presenting import register_reference, register_values
from coord.calendar.feeds import KIND_LABELS as FEED_KINDS
from coord.committees.kinds import COMMITTEE_KINDS, MEMBER_ROLES
from coord.committees.tables import Committee
from coord.conventions.lifecycle import AMENDMENT_STATUSES, SIGNATORY_STATUSES
from coord.conventions.lifecycle import STATUSES as CONVENTION_STATUSES
from coord.conventions.roles import ROLES as SIGNATORY_ROLES
from coord.conventions.tables import Convention
from coord.meetings.inbox import KIND_LABELS as INBOX_KINDS
from coord.meetings.inbox import PARTSTAT_LABELS
from coord.meetings.inbox import STATUS_LABELS as INBOX_STATUSES
from coord.meetings.invitees import ANSWERS, ATTENDANCE
from coord.meetings.invitees import ROLES as INVITEE_ROLES
from coord.meetings.service import KINDS as MEETING_KINDS
from coord.meetings.service import STATUSES as MEETING_STATUSES
from coord.meetings.tables import AgendaItem, Decision, Invitation, Meeting
from coord.partners.kinds import KIND_LABELS as ORGANISATION_KINDS
from coord.partners.tables import Contact, Organisation
from coord.pilot_sites.service import SCHEMES
from coord.pilot_sites.service import STATUSES as PILOT_SITE_STATUSES
from coord.pilot_sites.tables import PilotSite
from coord.plans.tables import Measure, Plan


def _person(row: Mapping[str, Any]) -> str:
    return f"{row['first_name']} {row['last_name']}".strip() or f"contact n° {row['id']}"


def _invitee(row: Mapping[str, Any]) -> str:
    return f"{row['first_name']} {row['last_name']}".strip() or f"invitation n° {row['id']}"


def connect_journal() -> None:
    register_reference(
        "organisation",
        Organisation,
        Organisation.name,
        label=lambda r: r["name"],
        fields=("organisation", "owner_organisation"),
    )
    register_reference(
        "contact",
        Contact,
        Contact.first_name,
        Contact.last_name,
        label=_person,
        fields=("contact", "owner_contact", "chair", "delegate"),
    )
    register_reference("committee", Committee, Committee.name, label=lambda r: r["name"], fields=("committee",))
    register_reference(
        "meeting", Meeting, Meeting.title, label=lambda r: r["title"], fields=("meeting", "reconvened_from")
    )
    register_reference(
        "invitation",
        Invitation,
        Invitation.contact.first_name.as_alias("first_name"),
        Invitation.contact.last_name.as_alias("last_name"),
        label=_invitee,
        fields=("invitation", "invitations", "represented_by", "delegated_from"),
    )
    register_reference("agenda_item", AgendaItem, AgendaItem.title, label=lambda r: r["title"], fields=("order",))
    register_reference(
        "decision", Decision, Decision.position, label=lambda r: f"décision n° {r['position']}", fields=("decision",)
    )
    register_reference("convention", Convention, Convention.title, label=lambda r: r["title"], fields=("convention",))
    register_reference(
        "pilot_site",
        PilotSite,
        PilotSite.scheme,
        label=lambda r: f"site pilote ({SCHEMES.get(r['scheme'], r['scheme'])})",
        fields=("pilot_site",),
    )
    register_reference(
        "action_item", ActionItem, ActionItem.title, label=lambda r: r["title"], fields=("action_item", "item")
    )
    register_reference(
        "measure",
        Measure,
        Measure.number,
        Measure.title,
        label=lambda r: f"mesure {r['number']} : {r['title']}",
        fields=("measure",),
    )
    register_reference("plan", Plan, Plan.code, Plan.title, label=lambda r: r["title"] or r["code"], fields=("plan",))
    # Accounts are named by id, not through the reader's scope: the journal shows who acted on the
    # records the reader sees, national coordinators included.
    register_reference(
        "user",
        User,
        User.full_name,
        User.email,
        label=lambda r: r["full_name"] or r["email"],
        fields=("user",),
        scoped=False,
    )
    register_reference(
        "account_invitation",
        AccountInvitation,
        AccountInvitation.email,
        label=lambda r: f"invitation de {r['email']}",
        fields=("replaces",),
        scoped=False,
    )

    register_values("status", MEETING_STATUSES, entities=("meeting",))
    register_values("kind", MEETING_KINDS, entities=("meeting",))
    register_values("role", INVITEE_ROLES, entities=("invitation", "meeting"))
    register_values("answer", ANSWERS)
    register_values("attendance", ATTENDANCE)
    register_values("kind", INBOX_KINDS, entities=("inbox_item",))
    register_values("status", INBOX_STATUSES, entities=("inbox_item",))
    register_values("partstat", PARTSTAT_LABELS)
    register_values("kind", ORGANISATION_KINDS, entities=("organisation",))
    register_values("kind", COMMITTEE_KINDS, entities=("committee",))
    register_values("role", MEMBER_ROLES, entities=("committee_member",))
    register_values("status", CONVENTION_STATUSES, entities=("convention",))
    register_values("status", AMENDMENT_STATUSES, entities=("convention_amendment",))
    register_values("status", SIGNATORY_STATUSES, entities=("convention_signatory",))
    register_values(
        "role", {code: role.label for code, role in SIGNATORY_ROLES.items()}, entities=("convention_signatory",)
    )
    register_values("scheme", SCHEMES)
    register_values("status", PILOT_SITE_STATUSES, entities=("pilot_site",))
    register_values("status", ACTION_STATUSES, entities=("action_item",))
    register_values("priority", PRIORITIES, entities=("action_item",))
    register_values("role", ROLE_LABELS, entities=("user", "account_invitation"))
    register_values("method", METHOD_LABELS)
    register_values("kind", FEED_KINDS, entities=("feed_link",))
