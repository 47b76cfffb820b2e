"""The « Qualité » line of a convocation: in what capacity the invitee is convened.

The invitation's attendance role (chair, required, optional, for information) says what is expected
of the invitee, not who they are at the table: a member of the committee, someone holding another
member's delegation, or a guest. Convocations say the latter, as the invitee would introduce themself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coord.committees.kinds import MEMBER_ROLES

CHAIR = "Présidence de la réunion"
GUEST = "Invité(e)"
# What a guest's invitation adds: a member's qualité already says why they come.
GUEST_ATTENDANCE = {"optional": "participation facultative", "info": "pour information"}


def quality(
    invitation: Mapping[str, Any],
    member_roles: Mapping[int, str],
    invitations_by_id: Mapping[int, Mapping[str, Any]],
) -> str:
    """« Présidence de la réunion », « Membre titulaire », « Représentant(e) de Jeanne Martin »,
    « Invité(e) – pour information »… `member_roles` maps contact ids to their committee role."""
    delegator = invitations_by_id.get(invitation.get("delegated_from") or 0)
    if delegator is not None:
        return f"Représentant(e) de {delegator['name']}" if delegator.get("name") else "Représentant(e) par délégation"
    if invitation.get("role") == "chair":
        return CHAIR
    member_role = member_roles.get(invitation.get("contact") or 0)
    if member_role is not None:
        return MEMBER_ROLES.get(member_role, "Membre")
    extra = GUEST_ATTENDANCE.get(invitation.get("role") or "")
    return f"{GUEST} – {extra}" if extra else GUEST
