"""Issue, check and revoke partner links.

The token in a URL is an HMAC-signed reference to a `PartnerLink` row (itsdangerous). The signature
proves Coord issued it; the row says what it opens, until when, and whether it was revoked. A link
opens exactly one thing: its purpose and target are checked by the route that receives it. Each
purpose signs with its own key derived from the secret (`coord.core.keys`); links signed by the
earlier single-key scheme are still accepted (`_legacy_serializer`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from coord.core import clock
from coord.core.errors import CoordError
from coord.core.keys import link_key
from coord.core.settings import current_settings
from coord.links.tables import PartnerLink

SALT = "coord-partner-link-v1"


class LinkInvalid(CoordError):
    """A link that opens nothing. `reason` says why, for the page that tells the partner what happened
    (coord.links.pages): "forged" (not signed by Coord, or cut when copied), "unknown" (no such link),
    "wrong_page" (a link of another kind), "revoked", "expired" (`expires_at` says when), "gone" (its
    holder is no longer a contact) or "ended" (what it opened no longer expects them). The link's
    purpose, target and département, when known, let the page name whom to contact."""

    status_code = 403

    def __init__(
        self,
        message: str,
        *,
        reason: str = "ended",
        expires_at: dt.datetime | None = None,
        purpose: str | None = None,
        target_id: int | None = None,
        department_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.expires_at = expires_at
        self.purpose = purpose
        self.target_id = target_id
        self.department_id = department_id


class LinkGone(LinkInvalid):
    """The link was handed to a contact who is no longer active (deactivated or erased)."""

    status_code = 410


CONTACT_GONE = (
    "Ce lien n'est plus valable : la personne à qui il était destiné n'est plus un contact actif de la "
    "préfecture. Adressez-vous à la préfecture si vous devez y donner suite."
)


@dataclass(frozen=True)
class ResolvedLink:
    id: int
    purpose: str
    target_id: int
    department_id: int | None
    contact_id: int | None


LAST_USE_RESOLUTION = dt.timedelta(minutes=5)


def _serializer(purpose: str) -> URLSafeSerializer:
    """Tokens are signed with the key of their purpose (coord.core.keys: HKDF of the secret with
    info "coord/link/<purpose>"), so a token of one kind never verifies as another kind."""
    return URLSafeSerializer(link_key(current_settings().secret_key, purpose), salt=SALT)


def _legacy_serializer() -> URLSafeSerializer:
    """The scheme of Coord before per-purpose keys: the raw secret, the same for every purpose.

    Kept for verification only, never to sign: partners have links signed this way in their
    mailboxes and calendar apps subscribed to such feed URLs (feeds never expire), so an upgrade must
    not break them. A legacy token is still bound to its row, purpose, expiry and revocation like any
    other. Remove this fallback only once no legacy link can be live any more (revoke them and issue
    new ones)."""
    return URLSafeSerializer(current_settings().secret_key, salt=SALT)


def _verified(token: str) -> tuple[int, str] | None:
    """(link id, purpose) if the token is signed by Coord, with its purpose's key or the legacy key."""
    valid, payload = _legacy_serializer().loads_unsafe(token)
    if not (isinstance(payload, list) and len(payload) == 2):
        return None
    link_id, purpose = payload
    if not _is_link_id(link_id) or not isinstance(purpose, str):
        return None
    if valid:  # signed by the previous scheme (see _legacy_serializer)
        return link_id, purpose
    try:
        _serializer(purpose).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return link_id, purpose


def _is_link_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


async def issue(
    purpose: str,
    target_id: int,
    *,
    department_id: int | None,
    contact_id: int | None = None,
    valid_for: dt.timedelta | None = dt.timedelta(days=90),
    now: dt.datetime | None = None,
) -> str:
    """A new link token (call inside the transaction of the change that hands it out)."""
    tokens = await issue_many(purpose, [LinkTarget(target_id, department_id, contact_id)], valid_for=valid_for, now=now)
    return tokens[target_id]


@dataclass(frozen=True)
class LinkTarget:
    target_id: int
    department_id: int | None
    contact_id: int | None = None


async def issue_many(
    purpose: str,
    targets: list[LinkTarget],
    *,
    valid_for: dt.timedelta | None = dt.timedelta(days=90),
    now: dt.datetime | None = None,
) -> dict[int, str]:
    """One link per target in a single insert: {target id: token}. The target ids must differ (the
    result is keyed by them). Call inside the transaction that hands the links out."""
    if len({t.target_id for t in targets}) != len(targets):
        raise ValueError("issue_many needs distinct targets")
    if not targets:
        return {}
    now = now or clock.now()
    expires_at = now + valid_for if valid_for else None
    rows = await PartnerLink.insert(
        *(
            PartnerLink(
                purpose=purpose,
                target_id=t.target_id,
                department=t.department_id,
                contact_id=t.contact_id,
                expires_at=expires_at,
            )
            for t in targets
        )
    ).returning(PartnerLink.id, PartnerLink.target_id)
    # RETURNING gives no order guarantee: the rows say which target each id belongs to.
    return {row["target_id"]: token_for(row["id"], purpose) for row in rows}


def token_for(link_id: int, purpose: str) -> str:
    """The token of an existing link (deterministic: the same link always gives the same token)."""
    return _serializer(purpose).dumps([link_id, purpose])


def read_token(token: str) -> tuple[int, str] | None:
    """The (link id, purpose) a token carries if its signature holds, without looking the link up
    (so without knowing whether it is revoked or expired: use `resolve` to grant access)."""
    return _verified(token)


async def resolve(token: str, purpose: str, *, now: dt.datetime | None = None) -> ResolvedLink:
    now = now or clock.now()
    verified = _verified(token)
    if verified is None:
        raise LinkInvalid("Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.", reason="forged")
    link_id, signed_purpose = verified
    if signed_purpose != purpose:
        raise LinkInvalid("Ce lien ne donne pas accès à cette page.", reason="wrong_page")
    row = await PartnerLink.select().where(PartnerLink.id == link_id).first()
    if row is None or row["purpose"] != purpose:
        raise LinkInvalid("Ce lien n'est pas valide.", reason="unknown")
    known = {"purpose": purpose, "target_id": row["target_id"], "department_id": row["department"]}
    # Before the revocation: an erased contact's links are revoked too, and say why.
    if row["contact_id"] is not None and not await _holder_may_use(row["contact_id"]):
        raise LinkGone(CONTACT_GONE, reason="gone", **known)
    if row["revoked_at"] is not None:
        raise LinkInvalid("Ce lien a été révoqué. Demandez un nouveau lien à la préfecture.", reason="revoked", **known)
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise LinkInvalid(
            "Ce lien a expiré. Demandez un nouveau lien à la préfecture.",
            reason="expired",
            expires_at=row["expires_at"],
            **known,
        )
    # Calendar apps poll feeds all day: recording the use every few minutes is precise enough.
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USE_RESOLUTION:
        await PartnerLink.update({PartnerLink.last_used_at: now}).where(PartnerLink.id == link_id)
    return ResolvedLink(row["id"], row["purpose"], row["target_id"], row["department"], row["contact_id"])


# Whether the contact a link was handed to may still use it (deactivated or erased: no). Contacts are
# a domain above links: the composition root registers the check (`coord.app.wiring`).
HolderCheck = Callable[[int], Awaitable[bool]]
_holder_check: HolderCheck | None = None


def register_holder_check(check: HolderCheck) -> None:
    global _holder_check
    _holder_check = check


async def _holder_may_use(contact_id: int) -> bool:
    return True if _holder_check is None else await _holder_check(contact_id)


async def revoke(purpose: str, target_id: int, *, contact_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Revoke every live link of `purpose` to `target_id` (optionally only one contact's). Returns how many."""
    now = now or clock.now()
    query = PartnerLink.update({PartnerLink.revoked_at: now}).where(
        (PartnerLink.purpose == purpose) & (PartnerLink.target_id == target_id) & PartnerLink.revoked_at.is_null()
    )
    if contact_id is not None:
        query = query.where(PartnerLink.contact_id == contact_id)
    rows = await query.returning(PartnerLink.id)
    return len(rows)
