"""The page a partner sees when a link opens nothing (`/r/…` expired, revoked, forged, unknown): what
happened, in words, and whom to ask for a new link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.response import Template

from coord.core.french import date_fr, department_de
from coord.core.settings import current_settings
from coord.links.service import LinkInvalid
from coord.territory.tables import Department

TITLES = {
    "expired": "Ce lien a expiré",
    "revoked": "Ce lien a été révoqué",
    "forged": "Ce lien n'est pas valide",
    "unknown": "Ce lien n'est pas valide",
    "wrong_page": "Ce lien n'ouvre pas cette page",
    "gone": "Ce lien n'est plus valable",
    "ended": "Ce lien n'est plus valable",
}
WHAT_TO_DO = {
    "expired": "Les liens de Coord ne durent qu'un temps, pour protéger les informations qu'ils ouvrent. "
    "Demandez un nouveau lien : il vous sera envoyé par courriel.",
    "revoked": "Un lien est révoqué quand un envoi plus récent le remplace ou quand la préfecture l'a retiré. "
    "Utilisez le dernier courriel reçu, ou demandez un nouveau lien.",
    "forged": "Vérifiez que l'adresse a été copiée en entier depuis le courriel reçu (les longues adresses sont "
    "parfois coupées sur deux lignes). Si le problème persiste, demandez un nouveau lien.",
    "unknown": "Vérifiez que l'adresse a été copiée en entier depuis le courriel reçu. Si le problème persiste, "
    "demandez un nouveau lien.",
    "wrong_page": "Ouvrez le lien tel qu'il figure dans le courriel reçu, sans le modifier.",
    "gone": "Si vous devez y donner suite, adressez-vous à la préfecture.",
    "ended": "Si vous pensez devoir encore y accéder, adressez-vous à la préfecture.",
}


@dataclass(frozen=True)
class Helpdesk:
    """Whom the partner asks for a new link: a person or service, with an address when known."""

    name: str
    email: str = ""
    why: str = ""  # e.g. « organisatrice de la réunion »


async def _department(department_id: int | None) -> dict[str, Any] | None:
    if department_id is None:
        return None
    return await Department.select().where(Department.id == department_id).first()


def what_happened(exc: LinkInvalid, department: dict[str, Any] | None) -> str:
    """The sentence that says what happened, e.g. « Ce lien a expiré le 3 décembre 2026. »."""
    if exc.reason == "expired" and exc.expires_at is not None:
        zone = department["timezone"] if department else "Europe/Paris"
        return f"Ce lien a expiré le {date_fr(exc.expires_at, zone, with_time=True)}."
    if exc.reason in {"revoked", "forged", "unknown"}:
        return TITLES[exc.reason] + "."
    return exc.message


async def invalid_page(
    exc: LinkInvalid, *, helpdesk: Helpdesk | None = None, headers: dict[str, str] | None = None
) -> Template:
    """The answer of a `/r/…` route to a link that opens nothing. `helpdesk` is whom the domain knows
    sent the link (the organiser of a meeting); without one, the prefecture's coordination service.
    The département holds no contact address of its own (only the coordination service has one)."""
    department = await _department(exc.department_id)
    if helpdesk is None:
        settings = current_settings()
        service = settings.organiser_name
        if department is not None:
            service = f"{settings.organiser_name} – préfecture {department_de(department['name'], department['tncc'])}"
        helpdesk = Helpdesk(service, settings.organiser_email)
    context = dict(
        title=TITLES.get(exc.reason, "Ce lien n'est plus valable"),
        what=what_happened(exc, department),
        detail=exc.message if exc.reason in {"ended", "gone"} else "",
        advice=WHAT_TO_DO.get(exc.reason, WHAT_TO_DO["ended"]),
        helpdesk=helpdesk,
        reason=exc.reason,
        code=exc.status_code,
    )
    return Template(template_name="links/invalid.html", context=context, status_code=exc.status_code, headers=headers)
