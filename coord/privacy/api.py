"""Erasing a contact, JSON API: `POST /api/contacts/{id}/erase`."""

from __future__ import annotations

from typing import Any

from litestar import post

from coord.access import Scope
from coord.partners import service as partners
from coord.partners.schemas import ContactOut
from coord.privacy import erasure
from coord.privacy.schemas import ErasureOut


@post(
    "/api/contacts/{contact_id:int}/erase",
    tags=["Partenaires"],
    status_code=200,
    summary="Effacer les données personnelles d'un contact (RGPD, irréversible)",
    description="Nom, fonction, courriel et téléphone remplacés par « Contact effacé » dans la fiche, le journal "
    "et les courriels (envoyés ou en attente, invitations d'agenda comprises) ; le contact est désactivé pour de bon, "
    "ses liens et calendriers révoqués, les courriels qui l'attendaient ne partent pas. Réunions, invitations, "
    "présences et actions sont conservées. Un second appel ne change rien (`already_erased`).",
)
async def erase_contact(access: Scope, contact_id: int) -> ErasureOut:
    report = await erasure.erase_contact(access, contact_id)
    return ErasureOut(
        contact=ContactOut(**await partners.get_contact(access, contact_id)),
        already_erased=report.already_erased,
        links_revoked=report.links_revoked,
        mails_not_sent=report.mails_not_sent,
        rewritten=report.rewritten,
        detached=report.detached,
    )


ROUTES: list[Any] = [erase_contact]
