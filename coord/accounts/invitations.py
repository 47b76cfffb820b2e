"""Accepting an invitation: with a password chosen from the mailed link, or by signing in with
ProConnect under the invited address.

The link carries a secret; the table holds only its digest (`coord.accounts.tokens`), so a tampered or
made-up link simply finds nothing. Nobody gets an account without an invitation: `claim_for_identity`
accepts a ProConnect identity only for an existing active account or a pending invitation.
"""

from __future__ import annotations

from typing import Any

from coord.access import Principal, Role
from coord.access.roles import ROLE_LABELS
from coord.accounts.passwords import hash_password, password_problem
from coord.accounts.tables import AccountInvitation, User
from coord.accounts.tokens import digest
from coord.audit import log as audit
from coord.core import clock
from coord.core.db import is_unique_violation, transaction
from coord.core.errors import Conflict, CoordError
from coord.core.validation import Fields

MAX_SECRET_LENGTH = 200  # ours are 43 characters: anything much longer is not one of them

# What the public pages say about a link that cannot be used (the reason picks the message).
LINK_MESSAGES = {
    "invitation": {
        "unknown": "Ce lien d'invitation est inconnu ou a été révoqué. Demandez une nouvelle invitation à "
        "la personne qui vous a invité(e).",
        "expired": "Ce lien d'invitation a expiré. Demandez une nouvelle invitation à la personne qui vous "
        "a invité(e).",
        "used": "Cette invitation a déjà été acceptée. Connectez-vous avec votre compte ou, si vous avez "
        "oublié votre mot de passe, demandez-en un nouveau.",
    },
    "reset": {
        "unknown": "Ce lien de réinitialisation est inconnu. Demandez un nouveau lien depuis la page "
        "« Mot de passe oublié ».",
        "expired": "Ce lien de réinitialisation a expiré (il est valable une heure). Demandez un nouveau lien "
        "depuis la page « Mot de passe oublié ».",
        "used": "Ce lien de réinitialisation a déjà servi ou a été remplacé par un lien plus récent. Demandez "
        "un nouveau lien si nécessaire.",
    },
}
LINK_STATUS = {"unknown": 404, "expired": 410, "used": 410}


class AccountLinkInvalid(CoordError):
    """An invitation or reset link that cannot be used: `reason` is "unknown" (also tampered or
    revoked: 404), "expired" or "used" (410); `message` says so in French."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(LINK_MESSAGES[kind][reason])
        self.kind = kind
        self.reason = reason
        self.status_code = LINK_STATUS[reason]


class InvitationInvalid(AccountLinkInvalid):
    def __init__(self, reason: str) -> None:
        super().__init__("invitation", reason)


class AccountExists(Conflict):
    """An account already uses the invited address (created meanwhile by someone else)."""

    def __init__(self) -> None:
        super().__init__(
            "Un compte existe déjà avec cette adresse électronique. Connectez-vous avec ce compte ou, si vous "
            "avez oublié son mot de passe, demandez-en un nouveau."
        )


class IdentityRefused(CoordError):
    """A ProConnect identity Coord does not let in: `reason` is "unknown" (no account and no pending
    invitation for the address) or "inactive" (the account was deactivated)."""

    status_code = 403
    MESSAGES = {
        "unknown": "Aucun compte Coord ni aucune invitation en cours ne correspond à cette adresse électronique. "
        "Demandez une invitation au référent de votre préfecture ou à la coordination nationale.",
        "inactive": "Votre compte Coord a été désactivé. Adressez-vous au référent de votre préfecture ou à la "
        "coordination nationale pour le réactiver.",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def check_password(password: str, user_inputs: tuple[str, ...]) -> str | None:
    """The policy's French objection to `password`, or None. The address and name of the person are
    given to the strength estimator, which then refuses passwords made of them."""
    return password_problem(password, user_inputs=tuple(i for i in user_inputs if i))


# What pages, mails and the API show of an invitation (admin.py lists them with the same columns).
INVITATION_COLUMNS = (
    AccountInvitation.id,
    AccountInvitation.email,
    AccountInvitation.full_name,
    AccountInvitation.role,
    AccountInvitation.department,
    AccountInvitation.department.code.as_alias("department_code"),
    AccountInvitation.department.name.as_alias("department_name"),
    AccountInvitation.department.timezone.as_alias("timezone"),
    AccountInvitation.manages_accounts,
    AccountInvitation.invited_by,
    AccountInvitation.created_at,
    AccountInvitation.expires_at,
    AccountInvitation.accepted_at,
    AccountInvitation.revoked_at,
)


def _checked(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None or row["revoked_at"] is not None:
        raise InvitationInvalid("unknown")
    if row["accepted_at"] is not None:
        raise InvitationInvalid("used")
    if row["expires_at"] <= clock.now():
        raise InvitationInvalid("expired")
    return row


async def _find(secret: str) -> dict[str, Any]:
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise InvitationInvalid("unknown")
    found = AccountInvitation.token_hash == digest(secret)
    row = await AccountInvitation.select(*INVITATION_COLUMNS).where(found).first()
    return _checked(row)


async def invitation_for(secret: str) -> dict[str, Any]:
    """The pending invitation of a link, with what its page shows (who invited, role, département);
    raises `InvitationInvalid` for an unknown, tampered, revoked, expired or already used link."""
    row = await _find(secret)
    inviter = await User.select(User.full_name).where(User.email == row["invited_by"]).first()
    return {
        **row,
        "role_label": ROLE_LABELS.get(row["role"], row["role"]),
        # "" when the system invited (the command line): the page then names nobody.
        "inviter_name": (inviter["full_name"] if inviter else "")
        or (row["invited_by"] if "@" in row["invited_by"] else ""),
    }


def _principal_of(user_id: int, invitation: dict[str, Any], email: str, full_name: str) -> Principal:
    return Principal(
        user_id=user_id,
        email=email,
        full_name=full_name,
        role=Role(invitation["role"]),
        department_id=invitation["department"],
        department_code=invitation["department_code"],
        manages_accounts=invitation["manages_accounts"],
    )


async def _create_from(invitation: dict[str, Any], *, full_name: str, password_hash: str, method: str, ip: str) -> int:
    """Inside the caller's transaction: the account of the invitation, the invitation accepted, both
    audited. Raises `AccountExists` when the address already has an account."""
    email = invitation["email"].strip().lower()
    if await User.exists().where(User.email == email):
        raise AccountExists()
    now = clock.now()
    user_id = (
        await User.insert(
            User(
                email=email,
                full_name=full_name,
                password_hash=password_hash,
                role=invitation["role"],
                department=invitation["department"],
                manages_accounts=invitation["manages_accounts"],
                password_changed_at=now if password_hash else None,
            )
        ).returning(User.id)
    )[0]["id"]
    # Only a still pending invitation is accepted: two tabs submitting the same link create one account.
    accepted = (
        await AccountInvitation.update({AccountInvitation.accepted_at: now, AccountInvitation.user: user_id})
        .where(
            (AccountInvitation.id == invitation["id"])
            & AccountInvitation.accepted_at.is_null()
            & AccountInvitation.revoked_at.is_null()
        )
        .returning(AccountInvitation.id)
    )
    if not accepted:
        raise InvitationInvalid("used")
    actor = _principal_of(user_id, invitation, email, full_name)
    how = "mot de passe choisi" if method == "password" else "ProConnect"
    after = {
        "email": email,
        "full_name": full_name,
        "role": invitation["role"],
        "department": invitation["department_code"],
        "manages_accounts": invitation["manages_accounts"],
        "method": method,
    }
    await audit.record(
        actor,
        "create",
        "user",
        user_id,
        department_id=invitation["department"],
        summary=f"Compte {email} ({ROLE_LABELS.get(invitation['role'], invitation['role'])}) créé sur invitation "
        f"de {invitation['invited_by'] or 'Coord'} ({how})",
        after=after,
        ip=ip,
    )
    await audit.record(
        actor,
        "accept",
        "account_invitation",
        invitation["id"],
        department_id=invitation["department"],
        summary=f"Invitation de {email} acceptée ({how})",
        after={"accepted_at": now, "user": user_id},
        ip=ip,
    )
    return user_id


async def _in_transaction(create: Any) -> int:
    try:
        async with transaction():
            return await create()
    except (AccountLinkInvalid, AccountExists):
        raise
    except Exception as exc:
        # Another request created the account between our check and our insert.
        if is_unique_violation(exc):
            raise AccountExists() from exc
        raise


async def accept_with_password(secret: str, password: str, full_name: str, *, ip: str) -> int:
    """Creates the account of the invitation with this password and name; returns its id.

    Raises `InvitationInvalid` (link unusable), `ValidationFailed` (`full_name` or `password`, in
    French) or `AccountExists`; nothing is created then."""
    invitation = await _find(secret)
    fields = Fields({"full_name": full_name})
    name = fields.text("full_name", required=True, max_length=200) or ""
    if password:
        if problem := check_password(password, (invitation["email"], name)):
            fields.error("password", problem)
    else:
        fields.error("password", "Ce champ est obligatoire.")
    if len(password) > 200:
        fields.error("password", "200 caractères au maximum.")
    fields.check()
    password_hash = hash_password(password)

    async def create() -> int:
        # Read again inside the transaction: it may have been accepted or revoked meanwhile.
        current = _checked(
            await AccountInvitation.select(*INVITATION_COLUMNS).where(AccountInvitation.id == invitation["id"]).first()
        )
        return await _create_from(current, full_name=name, password_hash=password_hash, method="password", ip=ip)

    return await _in_transaction(create)


async def claim_for_identity(email: str, full_name: str, *, ip: str) -> int:
    """The account a ProConnect identity signs in to: the active account of that address, else a new
    account (without password) from a pending invitation of that address. Raises `IdentityRefused`."""
    email = (email or "").strip().lower()
    if not email or len(email) > 254:
        raise IdentityRefused("unknown")
    user = await User.select(User.id, User.active).where(User.email == email).first()
    if user is not None:
        if not user["active"]:
            raise IdentityRefused("inactive")
        return user["id"]
    name = " ".join((full_name or "").split())[:200]  # ProConnect's names, on one line

    async def create() -> int:
        invitation = (
            await AccountInvitation.select(*INVITATION_COLUMNS)
            .where(
                (AccountInvitation.email == email)
                & AccountInvitation.accepted_at.is_null()
                & AccountInvitation.revoked_at.is_null()
                & (AccountInvitation.expires_at > clock.now())
            )
            .order_by(AccountInvitation.created_at, ascending=False)
            .first()
        )
        if invitation is None:
            raise IdentityRefused("unknown")
        return await _create_from(
            invitation, full_name=name or invitation["full_name"], password_hash="", method="proconnect", ip=ip
        )

    try:
        return await _in_transaction(create)
    except AccountExists:
        # Created by a concurrent sign-in of the same person: that account is theirs.
        again = await User.select(User.id, User.active).where(User.email == email).first()
        if again is None or not again["active"]:
            raise IdentityRefused("inactive" if again else "unknown") from None
        return again["id"]


__all__ = [
    "AccountExists",
    "AccountLinkInvalid",
    "IdentityRefused",
    "InvitationInvalid",
    "accept_with_password",
    "check_password",
    "claim_for_identity",
    "invitation_for",
]
