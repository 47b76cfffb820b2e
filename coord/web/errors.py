"""Errors become French pages for people and JSON for programs; never a bare 500."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, SerializationException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from coord.core.errors import CoordError, ValidationFailed
from coord.core.validation import DB_INT_MAX
from coord.web.auth import is_api_path
from coord.web.hygiene import JSON_TOO_DEEP

logger = logging.getLogger("coord.web")

TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit de modification",
    413: "Envoi trop volumineux",
    422: "Données invalides",
    429: "Trop de tentatives",
    503: "Service momentanément indisponible",
    500: "Erreur interne",
}


def _json(status: int, detail: str, errors: dict[str, str] | None = None) -> Response:
    body: dict[str, object] = {"status_code": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _page(request: Request, status: int, detail: str) -> Response:
    return Template(
        template_name="error.html",
        context={"status": status, "title": TITLES.get(status, "Erreur"), "detail": detail},
        status_code=status,
    )


def coord_error_handler(request: Request, exc: CoordError) -> Response:
    errors = exc.errors if isinstance(exc, ValidationFailed) else None
    if is_api_path(request.url.path):
        return _json(exc.status_code, exc.message, errors)
    detail = exc.message
    if errors:
        detail += " " + " ".join(f"{k} : {v}" for k, v in errors.items())
    return _page(request, exc.status_code, detail)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not is_api_path(request.url.path):
        return Redirect(path=f"/connexion?suivant={quote(request.url.path)}")
    if isinstance(exc, ValidationException):
        detail = "Paramètres invalides."
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = dict(french_validation_error(e) for e in extra if isinstance(e, dict))
        if is_api_path(request.url.path):
            return _json(status, detail, errors or None)
        return _page(request, status, detail + "".join(f" {k} : {v}" for k, v in errors.items()))
    detail = exc.detail if exc.detail and status != HTTP_500_INTERNAL_SERVER_ERROR else TITLES.get(status, "Erreur")
    if isinstance(exc.__cause__, SerializationException):  # a body that does not parse (Litestar's English)
        detail = french_decode_error(str(exc.__cause__))
    if status == 404:
        detail = "La page ou l'élément demandé n'existe pas, ou vous n'y avez pas accès."
    if is_api_path(request.url.path):
        return _json(status, detail)
    return _page(request, status, detail)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    if client_fault := _client_fault(exc):
        # Last resort: the boundary (coord.web.hygiene, the schemas' Id type, Fields) should have
        # refused this input; logged so the unbounded path gets found and bounded.
        logger.warning("input refused late on %s %s", request.method, request.url.path, exc_info=exc)
        if is_api_path(request.url.path):
            return _json(400, client_fault)
        return _page(request, 400, client_fault)
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _is_disk_full(exc):
        status, detail = (
            503,
            "Le serveur n'a plus d'espace disque pour enregistrer : rien n'a été enregistré. "
            "Prévenez l'administrateur du service puis réessayez.",
        )
    elif _is_database_unavailable(exc):
        status, detail = (
            503,
            "La base de données est momentanément indisponible. "
            "Réessayez dans quelques instants ; rien n'a été enregistré.",
        )
    else:
        status, detail = 500, "Une erreur inattendue s'est produite. Elle a été consignée ; rien n'a été enregistré."
    if is_api_path(request.url.path):
        return _json(status, detail)
    return _page(request, status, detail)


NUMBER_OUT_OF_RANGE = (
    f"Un identifiant ou un nombre envoyé dépasse les limites admises (de 1 à {DB_INT_MAX} pour un "
    "identifiant) : rien n'a été enregistré."
)


def _client_fault(exc: BaseException) -> str | None:
    """The French message of an error caused by the input itself rather than by Coord: an integer the
    database cannot take (SQLite: OverflowError beyond 64 bits; asyncpg: DataError wrapping an
    OverflowError beyond 32 bits; PostgreSQL: numeric_value_out_of_range), or a JSON body the decoder
    recursed too deep into."""
    seen: BaseException | None = exc
    for _ in range(5):  # the exception and the ones it was raised from
        if seen is None:
            break
        if isinstance(seen, OverflowError) or type(seen).__name__ == "NumericValueOutOfRangeError":
            return NUMBER_OUT_OF_RANGE
        if isinstance(seen, RecursionError) and "deserializ" in str(seen):
            return JSON_TOO_DEEP
        seen = seen.__cause__ or seen.__context__
    return None


# -- msgspec's and Litestar's messages about request bodies and parameters, in French ----------------

_TYPES = {
    "int": "nombre entier",
    "float": "nombre",
    "str": "texte",
    "bool": "booléen (true ou false)",
    "object": "objet",
    "array": "tableau",
    "null": "null",
    "datetime": "date et heure",
    "date": "date",
    "time": "heure",
    "uuid": "identifiant UUID",
}
_BOUNDS = {"<=": "au plus", ">=": "au moins", "<": "inférieure à", ">": "supérieure à"}


def _type(name: str) -> str:
    return " ou ".join(_TYPES.get(part.strip(), part.strip()) for part in name.split("|"))


def _french_message(message: str) -> str:
    if found := re.fullmatch(r"Expected `(?:int|float|number)(?: \| null)?` (<=|>=|<|>) (-?[\d.]+)", message):
        if found.group(2) == str(DB_INT_MAX):
            return f"Nombre hors limites : {DB_INT_MAX} au plus (identifiant ou nombre enregistré sur 32 bits)."
        return f"La valeur doit être {_BOUNDS[found.group(1)]} {found.group(2)}."
    if found := re.fullmatch(r"Expected `str` of length (<=|>=) (\d+)", message):
        return f"{found.group(2)} caractères {_BOUNDS[found.group(1)]}."
    if found := re.fullmatch(r"Expected `(?:array|object)` of length (<=|>=) (\d+)", message):
        return f"{found.group(2)} éléments {_BOUNDS[found.group(1)]}."
    if found := re.fullmatch(r"Expected `(.+?)`, got `(.+?)`", message):
        return f"Type attendu : {_type(found.group(1))} (reçu : {_type(found.group(2))})."
    if found := re.fullmatch(r"Invalid enum value (.+)", message):
        return f"Valeur inconnue : {found.group(1)}."
    if "RFC3339 encoded datetime" in message or "ISO8601 datetime" in message:
        return "Date et heure invalides (format ISO 8601 attendu, exemple : 2026-10-14T09:30:00+02:00)."
    if "RFC3339 encoded date" in message or "ISO8601 date" in message:
        return "Date invalide (format attendu : AAAA-MM-JJ)."
    if "RFC3339 encoded time" in message:
        return "Heure invalide (format attendu : HH:MM)."
    return f"Valeur invalide ({message})."


def french_validation_error(error: dict[str, object]) -> tuple[str, str]:
    """(field, French message) for one of the errors Litestar lists in a ValidationException."""
    message = str(error.get("message") or "")
    key = str(error.get("key") or error.get("source") or "requete")
    if found := re.fullmatch(r"Object missing required field `(.+)`", message):
        return found.group(1), "Ce champ est obligatoire."
    if found := re.fullmatch(r"Object contains unknown field `(.+)`", message):
        return found.group(1), "Champ inconnu : il ne fait pas partie de ce que cette adresse accepte."
    if found := re.match(r"Missing required (\w+) parameter '(.+?)'", message):
        return found.group(2), "Paramètre obligatoire manquant."
    return key, _french_message(message)


def french_decode_error(message: str) -> str:
    """Litestar's « JSON is malformed: ... » and msgspec's « Input data was truncated », in French."""
    where = re.search(r"\(byte (\d+)\)", message)
    if "truncated" in message:
        reason = "il est incomplet"
    elif where:
        reason = f"caractère inattendu à l'octet {where.group(1)}"
    else:
        reason = "il ne se lit pas"
    return f"Le corps de la requête n'est pas un document JSON valide ({reason})."


def _is_disk_full(exc: Exception) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100): the write was rolled back whole."""
    return "database or disk is full" in str(exc) or type(exc).__name__ == "DiskFullError"


def _is_database_unavailable(exc: Exception) -> bool:
    name = type(exc).__name__
    return (
        isinstance(exc, (ConnectionError, OSError))
        or name
        in {
            "CannotConnectNowError",
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "TooManyConnectionsError",
        }
        or "database is locked" in str(exc)
    )


EXCEPTION_HANDLERS = {
    CoordError: coord_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
