"""Statuses of an action item and the moves allowed between them.

A finished item (fait, abandonné) moves only through an explicit reopening, so a click on the
wrong button cannot silently bring back an item everyone believes closed."""

from __future__ import annotations

STATUSES: dict[str, str] = {
    "a_faire": "À faire",
    "en_cours": "En cours",
    "bloque": "Bloqué",
    "fait": "Fait",
    "abandonne": "Abandonné",
}
OPEN = ("a_faire", "en_cours", "bloque")
CLOSED = ("fait", "abandonne")
PRIORITIES: dict[str, str] = {"basse": "Basse", "normale": "Normale", "haute": "Haute"}

ALLOWED: dict[str, frozenset[str]] = {
    "a_faire": frozenset({"en_cours", "bloque", "fait", "abandonne"}),
    "en_cours": frozenset({"a_faire", "bloque", "fait", "abandonne"}),
    "bloque": frozenset({"a_faire", "en_cours", "fait", "abandonne"}),
    "fait": frozenset(),
    "abandonne": frozenset(),
}
# Reopening brings a closed item back to work.
REOPEN_TO = frozenset({"a_faire", "en_cours"})


def refusal(current: str, target: str, *, reopen: bool) -> str | None:
    """Why `current` → `target` is refused (French), or None when it is allowed."""
    if target not in STATUSES:
        return "Statut inconnu."
    if target == current:
        return f"L'action est déjà « {STATUSES[current]} »."
    if current in CLOSED:
        if not reopen:
            return (
                f"L'action est « {STATUSES[current]} » : rouvrez-la d'abord "
                "(elle repasse alors « à faire » ou « en cours »)."
            )
        if target not in REOPEN_TO:
            return "Une action rouverte repasse « à faire » ou « en cours »."
        return None
    if reopen:
        return "Seule une action faite ou abandonnée peut être rouverte."
    if target not in ALLOWED[current]:
        return f"Passage de « {STATUSES[current]} » à « {STATUSES[target]} » impossible."
    return None
