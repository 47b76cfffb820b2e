"""Errors become French pages for people and JSON for programs; never a bare 500."""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from coord.core.errors import CoordError, ValidationFailed
from coord.web.auth import is_api_path

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
        errors = {
            str(e.get("key") or e.get("source") or "requete"): str(e.get("message"))
            for e in extra
            if isinstance(e, dict)
        }
        if is_api_path(request.url.path):
            return _json(status, detail, errors or None)
        return _page(request, status, detail)
    detail = exc.detail if exc.detail and status != HTTP_500_INTERNAL_SERVER_ERROR else TITLES.get(status, "Erreur")
    if status == 404:
        detail = "La page ou l'élément demandé n'existe pas, ou vous n'y avez pas accès."
    if is_api_path(request.url.path):
        return _json(status, detail)
    return _page(request, status, detail)


def internal_error_handler(request: Request, exc: Exception) -> Response:
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
