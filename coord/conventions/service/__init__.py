"""Conventions of a département and their signatories.

Reads go through the `Scope`; every change checks `Permission.MANAGE` on the convention's
département and is written with its audit entry (and its mails, through the outbox) in one
transaction. Dates that depend on "today" use the département's time zone; functions that need the
current instant take `now` so that tests (and the periodic job) pass their own clock.
"""

from __future__ import annotations

from coord.conventions.service.catalogue import (
    _require_model,
    expiring_days,
    model_choices,
    model_out,
    models,
)
from coord.conventions.service.choices import (
    contact_choices,
    organisation_choices,
    pilot_site_choices,
)
from coord.conventions.service.drafting import (
    _pilot_site_field,
    amend,
    create_convention,
    delete_convention,
    terminate,
    update_convention,
)
from coord.conventions.service.listing import (
    get_convention,
    get_signatory,
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
    "add_signatory",
    "amend",
    "contact_choices",
    "convention_out",
    "create_convention",
    "delete_convention",
    "expiring_days",
    "get_convention",
    "get_signatory",
    "list_conventions",
    "list_signatories",
    "model_choices",
    "model_out",
    "models",
    "organisation_choices",
    "pilot_site_choices",
    "record_signature",
    "remove_signatory",
    "send_request",
    "sign",
    "signatory_history",
    "signatory_out",
    "signer_principal",
    "terminate",
    "update_convention",
    "update_signatory",
]
