"""Partnership conventions of a département and their signatories."""

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from coord.partners.tables import Contact, Organisation
from coord.pilot_sites.tables import PilotSite
from coord.territory.tables import Department


class Convention(Table, tablename="convention"):
    """A convention made from a model of `conventions/*.toml` (`model_code`).

    `amendment` is the number of the text in force: 0 for the original text, N once the N-th avenant
    has been signed by every required role (`amendment_subject` is then its subject). The
    signatories of the text in force are those whose `amendment` equals it; an open amendment
    (`ConventionAmendment`) collects its own round, numbered after it, and earlier rounds stay as
    history. `signed_on` is the date the original text was signed: amendments keep their own.
    `next_transition_on` and `next_reminder_on` are what the periodic job reads (indexed): the date
    of the next status change (expiring, end of period) and of the next expiry reminder."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    pilot_site = ForeignKey(PilotSite, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    model_code = Varchar(length=60, index=True)
    title = Varchar(length=300)
    # draft | in_signature | in_force | expiring | expired | terminated | renewed
    status = Varchar(length=20, default="draft", index=True)
    amendment = Integer(default=0)
    amendment_subject = Text(default="")
    signed_on = Date(null=True, default=None)
    effective_from = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    period = Integer(default=1)  # 1 for the first period, +1 at each tacit renewal
    terminated_on = Date(null=True, default=None)
    termination_reason = Text(default="")
    next_transition_on = Date(null=True, default=None, index=True)
    next_reminder_on = Date(null=True, default=None, index=True)
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ConventionSignatory(Table, tablename="convention_signatory"):
    """An organisation signing a convention in a role of its model, for one amendment round.

    `next_reminder_at` is the instant of the next signature reminder (null when none is due any
    more); the periodic job reads only rows whose reminder is due, through its index."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    convention = ForeignKey(Convention, on_delete=OnDelete.cascade, null=False, index=True)
    amendment = Integer(default=0)
    organisation = ForeignKey(Organisation, on_delete=OnDelete.restrict, null=False, index=True)
    contact = ForeignKey(Contact, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    role = Varchar(length=30)
    signer_name = Varchar(length=200, default="")
    signer_title = Varchar(length=200, default="")
    status = Varchar(length=20, default="to_send")  # to_send | sent | signed | refused
    requested_at = Timestamptz(null=True, default=None)
    next_reminder_at = Timestamptz(null=True, default=None, index=True)
    signed_on = Date(null=True, default=None)
    refused_on = Date(null=True, default=None)
    document_ref = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ConventionAmendment(Table, tablename="convention_amendment"):
    """An avenant to a convention, with its own signature round (the signatories whose `amendment`
    equals `number`).

    `status`: open (being signed; at most one per convention, a unique partial index says so),
    in_force (signed by every required role on `signed_on`: its text is the convention's from
    `in_force_from` until a later amendment), withdrawn (abandoned, `closed_on`, `close_reason`) or
    lapsed (the convention ended before it was signed). Numbers are never reused."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, null=False, index=True)
    convention = ForeignKey(Convention, on_delete=OnDelete.cascade, null=False, index=True)
    number = Integer(default=1)
    subject = Text(default="")
    text = Text(default="")
    status = Varchar(length=20, default="open")
    signed_on = Date(null=True, default=None)
    in_force_from = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)
    close_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
