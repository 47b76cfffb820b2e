"""The kinds of notification, their French labels, and the two channels an agent chooses from."""

from __future__ import annotations

from enum import StrEnum

from coord.access.roles import Role


class Kind(StrEnum):
    ANSWER = "answer"  # a partner answered an invitation (link or calendar)
    DELEGATION = "delegation"  # a partner delegated their invitation to a colleague
    REPLY_TO_CHECK = "reply_to_check"  # a calendar reply or a proposal waits for an agent's check
    SIGNATURE = "signature"  # a partner signed a convention through their link
    ACTION_UPDATE = "action_update"  # an owner updated an action item through their link
    BOUNCE = "bounce"  # a mail of the département could not be delivered


KIND_LABELS: dict[str, str] = {
    Kind.ANSWER: "Réponses des partenaires aux invitations",
    Kind.DELEGATION: "Délégations d'invitation",
    Kind.REPLY_TO_CHECK: "Réponses de calendrier à vérifier",
    Kind.SIGNATURE: "Signatures de conventions par les partenaires",
    Kind.ACTION_UPDATE: "Mises à jour d'actions par leurs responsables",
    Kind.BOUNCE: "Courriels non remis",
}

APP = "app"
DIGEST = "digest"
CHANNELS: dict[str, str] = {
    APP: "Dans Coord seulement",
    DIGEST: "Dans Coord et dans le courriel quotidien",
}
DEFAULT_CHANNEL = APP  # mail only for those who ask for it

# The agents who work in a département: told of what its partners do. Observers only read, and the
# national coordinators follow 101 départements through the national dashboard, not item by item.
RECIPIENT_ROLES: tuple[str, ...] = (Role.PREFECTURE.value, Role.COORDINATOR.value)
