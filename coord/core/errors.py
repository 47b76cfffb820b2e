"""Domain errors, translated into HTTP answers by `coord.web.errors`."""

from __future__ import annotations


class CoordError(Exception):
    """Base class; `message` is French and shown to the user as is."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(CoordError):
    """Input rejected; `errors` maps field names to French messages, shown next to the fields."""

    status_code = 422

    def __init__(self, errors: dict[str, str], message: str = "Certaines données sont invalides.") -> None:
        super().__init__(message)
        self.errors = errors


class NotFound(CoordError):
    status_code = 404

    def __init__(self, message: str = "Élément introuvable.") -> None:
        super().__init__(message)


class Forbidden(CoordError):
    status_code = 403

    def __init__(self, message: str = "Vous n'avez pas les droits nécessaires pour cette action.") -> None:
        super().__init__(message)


class Conflict(CoordError):
    """A concurrent change (optimistic locking) or a uniqueness clash."""

    status_code = 409
