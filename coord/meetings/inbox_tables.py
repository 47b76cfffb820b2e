"""What Coord receives by mail about a meeting and an agent has to look at (`coord.meetings.inbox`).

One table, one `kind` per item:
- "reply": a calendar answer (iMIP REPLY) whose sender could not be verified, kept « à vérifier »
  until an agent accepts it (it is then applied) or rejects it;
- "counter": an attendee proposes another time (iMIP COUNTER), which an agent accepts (the meeting
  moves) or declines (a DECLINECOUNTER goes back);
- "message": any other mail about the meeting (a plain answer to the convocation, an out-of-office,
  a question): sender, subject, date and plain text only, never the attachments.

Free text (a message's body, a comment) may hold personal data: it is rewritten by a contact's
erasure (registered in `coord.app.wiring`).
"""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.meetings.tables import Invitation, Meeting
from coord.territory.tables import Department

KINDS = ("reply", "counter", "message")
# reply: pending → accepted (applied) | ignored (stale when accepted) | rejected
# counter: pending → accepted (the meeting moved) | declined
# message: new → archived
STATUSES = ("pending", "new", "accepted", "ignored", "rejected", "declined", "archived")
MAX_BODY = 20_000  # characters of a message's plain text kept


class InboxItem(Table, tablename="meeting_inbox_item"):
    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    meeting = ForeignKey(Meeting, on_delete=OnDelete.cascade, null=False, index=True)
    # The invitation the item is about, when one was found (the attendee named, or the sender).
    invitation = ForeignKey(Invitation, on_delete=OnDelete.set_null, null=True, default=None)
    kind = Varchar(length=20)
    status = Varchar(length=20, default="pending")
    # The sender was authenticated as the attendee (or their delegate): From and envelope sender, or
    # a DKIM pass reported by the trusted receiving server.
    verified = Boolean(default=False)
    automatic = Boolean(default=False)  # an auto-reply: out-of-office, delivery report
    sender = Varchar(length=254, default="")  # the From address
    sender_name = Varchar(length=200, default="")
    envelope_sender = Varchar(length=254, default="")  # MAIL FROM, over SMTP/LMTP
    subject = Varchar(length=300, default="")
    sent_at = Timestamptz(null=True, default=None)  # the mail's Date header
    received_at = Timestamptz(default=TimestamptzNow())
    message_id = Varchar(length=200, default="")  # the mail's own Message-ID (a redelivery is not kept twice)
    body = Text(default="")  # a message's plain text, at most MAX_BODY characters
    note = Varchar(length=500, default="")  # why a calendar mail could not be used, shown with it
    # From the calendar (reply, counter)
    attendee_email = Varchar(length=254, default="")
    partstat = Varchar(length=20, default="")
    sequence = Integer(null=True, default=None)
    dtstamp = Timestamptz(null=True, default=None)
    delegated_to = Varchar(length=254, default="")
    delegate_name = Varchar(length=200, default="")
    comment = Varchar(length=500, default="")
    proposed_start = Timestamptz(null=True, default=None)
    proposed_end = Timestamptz(null=True, default=None)
    proposed_location = Varchar(length=500, default="")
    # The agent's decision
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=254, default="")
    decision_note = Varchar(length=500, default="")
