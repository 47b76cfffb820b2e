"""Conventions of a département and their signatories.

Reads go through the `Scope`; every change checks `Permission.MANAGE` on the convention's
département and is written with its audit entry (and its mails, through the outbox) in one
transaction. Dates that depend on "today" use the département's time zone; functions that need the
current instant take `now` so that tests (and the periodic job) pass their own clock.
"""

from __future__ import annotations

from coord.conventions.service.amendments import (
    add_amendment_signatory,
    amend,
    update_amendment,
    withdraw_amendment,
)
from coord.conventions.service.catalogue import (
    _require_model,
    expiring_days,
    model_choices,
    model_out,
    models,
)
from coord.conventions.service.choices import (
    contact_choices,
    contact_organisations,
    organisation_choices,
    pilot_site_choices,
)
from coord.conventions.service.drafting import (
    _pilot_site_field,
    create_convention,
    delete_convention,
    terminate,
    update_convention,
)
from coord.conventions.service.listing import (
    get_convention,
    get_open_amendment,
    get_signatory,
    list_amendments,
    list_conventions,
    list_signatories,
    signatory_history,
)
from coord.conventions.service.records import (
    BASE_COLUMNS,
    COLUMNS,
    EARLIEST_DATE,
    JOINED_COLUMNS,
    LINK_PURPOSE,
    LINK_VALIDITY,
    SIGNATORY_COLUMNS,
    _convention_row,
    _current_signatories,
    _locked_row,
    _model_name,
    _plain,
    _signatory_row,
    _write_convention,
    convention_out,
    signatory_out,
)
from coord.conventions.service.rounds import (
    AMENDMENT_COLUMNS,
    amendment_out,
    close_open_amendment,
    conventions_out,
    open_amendment,
    round_of,
)
from coord.conventions.service.signatories import (
    _role_check,
    add_signatory,
    remove_signatory,
    update_signatory,
)
from coord.conventions.service.signatures import (
    _complete_if_signed,
    _counted_signatures,
    _role_full_message,
    record_signature,
    send_request,
    sign,
    signer_principal,
)

__all__ = [
    "AMENDMENT_COLUMNS",
    "BASE_COLUMNS",
    "COLUMNS",
    "EARLIEST_DATE",
    "JOINED_COLUMNS",
    "LINK_PURPOSE",
    "LINK_VALIDITY",
    "SIGNATORY_COLUMNS",
    "_complete_if_signed",
    "_convention_row",
    "_counted_signatures",
    "_current_signatories",
    "_locked_row",
    "_model_name",
    "_pilot_site_field",
    "_plain",
    "_require_model",
    "_role_check",
    "_role_full_message",
    "_signatory_row",
    "_write_convention",
    "add_amendment_signatory",
    "add_signatory",
    "amend",
    "amendment_out",
    "close_open_amendment",
    "contact_choices",
    "contact_organisations",
    "convention_out",
    "conventions_out",
    "create_convention",
    "delete_convention",
    "expiring_days",
    "get_convention",
    "get_open_amendment",
    "get_signatory",
    "list_amendments",
    "list_conventions",
    "list_signatories",
    "model_choices",
    "model_out",
    "models",
    "open_amendment",
    "organisation_choices",
    "pilot_site_choices",
    "record_signature",
    "remove_signatory",
    "round_of",
    "send_request",
    "sign",
    "signatory_history",
    "signatory_out",
    "signer_principal",
    "terminate",
    "update_amendment",
    "update_convention",
    "update_signatory",
    "withdraw_amendment",
]
