"""Response bodies of the erasure's JSON API (msgspec)."""

from __future__ import annotations

import msgspec

from coord.partners.schemas import ContactOut


class ErasureOut(msgspec.Struct):
    """The erased contact and what the erasure rewrote (counts only: the values are gone)."""

    contact: ContactOut
    already_erased: bool
    links_revoked: int
    mails_not_sent: int
    rewritten: dict[str, int]
    detached: int
