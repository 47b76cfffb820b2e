"""The declared seams between domains, connected once for every entry point (web, worker, CLI)."""

from __future__ import annotations

from coord.actions.carry import open_items_for
from coord.actions.tables import ActionEvent
from coord.app.journal_seams import connect_journal
from coord.committees import seams as committee_seams
from coord.conventions.tables import ConventionSignatory
from coord.links import service as links
from coord.meetings import annexes as meeting_annexes
from coord.meetings import seams as meeting_seams
from coord.meetings.inbox_tables import InboxItem
from coord.polls import pages as poll_pages
from coord.privacy import erasure
from coord.series import pages as series_pages


def connect_domains() -> None:
    meeting_seams.register_carried_forward(open_items_for)
    meeting_annexes.register()  # the meeting page's documents section
    meeting_seams.register_detail_panel("series", series_pages.meeting_panel)
    meeting_seams.register_detail_panel("date_poll", poll_pages.meeting_panel)
    committee_seams.register_detail_section("series", series_pages.committee_section)
    connect_journal()  # the journal names records and labels enumerations of every domain
    # A deactivated or erased contact's links stop working; an erasure reaches the action items'
    # timelines (a partner's name as actor, in comments) and frees the signatories it represented.
    links.register_holder_check(erasure.contact_is_active)
    erasure.register_copies(
        erasure.Copies(
            "timeline_events",
            ActionEvent,
            text=(ActionEvent.actor, ActionEvent.comment),
            json=(ActionEvent.changes,),
        )
    )
    erasure.register_detached(ConventionSignatory.contact)
    # Mails received about a meeting (replies to check, proposals, messages) copy the sender's
    # address and name, and their free text may name anyone.
    erasure.register_copies(
        erasure.Copies(
            "received_mails",
            InboxItem,
            text=(
                InboxItem.sender,
                InboxItem.sender_name,
                InboxItem.envelope_sender,
                InboxItem.subject,
                InboxItem.body,
                InboxItem.note,
                InboxItem.attendee_email,
                InboxItem.delegated_to,
                InboxItem.delegate_name,
                InboxItem.comment,
                InboxItem.decision_note,
            ),
        )
    )
