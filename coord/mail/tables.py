from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.territory.tables import Department


class OutboxMessage(Table, tablename="outbox_message"):
    """A mail to send, written in the same transaction as the change that causes it.

    `dedupe_key` is unique: queuing the same mail twice (a retried request, two workers) is a no-op.
    The sender claims due rows with a lease, so a crashed worker's rows are picked up again."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=True, default=None, index=True)
    dedupe_key = Varchar(length=200, unique=True)
    kind = Varchar(length=40, index=True)
    entity = Varchar(length=40, default="")
    entity_id = Integer(null=True, default=None)
    to_email = Varchar(length=254)
    to_name = Varchar(length=200, default="")
    subject = Varchar(length=300)
    body_text = Text()
    body_html = Text(default="")
    calendar = Text(default="")
    calendar_method = Varchar(length=20, default="")
    # Files joined to the mail (the minutes' PDF...): a JSON list of {filename, content_type, data},
    # data in base64; "" for none (coord.mail.outbox.encode_attachments).
    attachments = Text(default="")
    # Kept for every attempt (a resend is the same message); indexed to find the mail a reply answers
    # (In-Reply-To, References).
    message_id = Varchar(length=200, index=True)
    status = Varchar(length=20, default="pending", index=True)  # pending | sending | sent | failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    claimed_by = Varchar(length=100, default="")
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    # When the retention job cleared the content of this sent mail (coord.privacy.retention).
    purged_at = Timestamptz(null=True, default=None)
