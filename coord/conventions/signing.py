"""The public page behind a convention's signature link (`/r/signature/{token}`, no account): the
convention, or the amendment the link's signatory is asked to sign, and the signing form; the token
is the credential. A signature through the link of an amendment's signatory signs the amendment and
leaves the convention's own signature record alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from coord.access import department_of
from coord.conventions import lifecycle, service
from coord.conventions.service.rounds import amendment_by_number, round_signatories
from coord.conventions.tables import Convention, ConventionSignatory
from coord.core import clock
from coord.core.errors import Conflict, ValidationFailed
from coord.core.french import organisation_de
from coord.core.validation import Fields
from coord.links import service as links
from coord.links.pages import invalid_page
from coord.web.forms import form_data, page


async def _signature_view(signatory_id: int) -> dict[str, Any]:
    signatory = (
        await ConventionSignatory.select(*service.SIGNATORY_COLUMNS)
        .where(ConventionSignatory.id == signatory_id)
        .first()
    )
    if signatory is None:
        raise links.LinkInvalid("Cette demande de signature n'existe plus.")
    convention = await Convention.select(*service.COLUMNS).where(Convention.id == signatory["convention"]).first()
    if convention is None:
        raise links.LinkInvalid("Cette convention n'existe plus.")
    department = await department_of(convention)
    model = service.models().get(convention["model_code"])
    today = clock.local_today(department["timezone"] if department else "Europe/Paris")
    stage = await service.round_of(convention, signatory["amendment"])
    amendment = None
    row = stage.amendment or (await amendment_by_number(convention["id"], stage.number) if stage.number else None)
    round_rows = await round_signatories(convention["id"], stage.number)
    if row is not None:
        # The amendment this link signs, with its own progress (the convention's record is apart).
        amendment = service.amendment_out(row, round_rows, model, with_signatories=False)
    created = await Convention.select(Convention.created_at).where(Convention.id == convention["id"]).first()
    zone = department["timezone"] if department else "Europe/Paris"
    created_on = clock.local_today(zone, created["created_at"])
    return {
        # What the partner reads before signing: the parties of this round and the convention's dates.
        "parties": [service.signatory_out(r) for r in round_rows],
        "created_on": created_on,
        "signatory": service.signatory_out(signatory),
        "convention": convention,
        "model": model,
        "status_label": lifecycle.STATUSES.get(convention["status"], convention["status"]),
        "version_label": lifecycle.version_label(convention["amendment"]),
        "amendment": amendment,
        "superseded": stage.is_history,
        "closed_message": stage.closed_message() if stage.is_history else "",
        "today": today.isoformat(),
        "confirmation": confirmation_label(signatory, amendment),
    }


CONFIRMATION = "J'ai lu la convention et je la signe au nom {organisation}"


def confirmation_label(signatory: dict[str, Any], amendment: dict[str, Any] | None) -> str:
    """« J'ai lu la convention et je la signe au nom de l'association … » (or the amendment)."""
    label = CONFIRMATION.format(organisation=organisation_de(signatory["organisation_name"]))
    return label.replace("la convention et je la signe", "l'avenant et je le signe") if amendment else label


def _signing_errors(view: dict[str, Any], data: dict[str, Any]) -> dict[str, str]:
    """The partner confirms explicitly, having read the text, and gives the day they signed: not in
    the future, not before the convention was created (the service checks the rest)."""
    fields = Fields(data)
    day = fields.date("signed_on", required=True)
    if "signed_on" in fields.errors and not str(data.get("signed_on") or "").strip():
        fields.errors["signed_on"] = "Indiquez la date à laquelle vous avez signé."
    today = dt.date.fromisoformat(view["today"])
    if day and day > today:
        fields.errors["signed_on"] = "La date de signature ne peut pas être postérieure à aujourd'hui."
    elif day and day < view["created_on"]:
        fields.errors["signed_on"] = (
            "La date de signature ne peut pas précéder la création de la convention "
            f"(le {view['created_on']:%d/%m/%Y})."
        )
    if str(data.get("confirm") or "") not in {"1", "on", "oui"}:
        fields.errors["confirm"] = (
            "Cochez la case pour confirmer que vous avez lu l'avenant et que vous le signez."
            if view["amendment"]
            else "Cochez la case pour confirmer que vous avez lu la convention et que vous la signez."
        )
    return dict(fields.errors)


async def _invalid(exc: links.LinkInvalid) -> Template:
    return await invalid_page(exc)


@get("/r/signature/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def signature_page(token: str) -> Template:
    """Shows the convention and the form; never changes anything (mail scanners open links)."""
    try:
        link = await links.resolve(token, service.LINK_PURPOSE)
        view = await _signature_view(link.target_id)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
    # The date is the partner's to give: no pre-filled date, no one-click signature.
    return page("conventions/sign.html", **view, values={}, errors={}, done=None)


@post("/r/signature/{token:str}", opt={"exclude_from_auth": True}, include_in_schema=False)
async def signature_confirm(token: str, request: Request) -> Template:
    try:
        link = await links.resolve(token, service.LINK_PURPOSE)
        view = await _signature_view(link.target_id)
    except links.LinkInvalid as exc:
        return await _invalid(exc)
    data = await form_data(request)
    if errors := _signing_errors(view, data):
        return page("conventions/sign.html", status=422, **view, values=data, errors=errors, done=None)
    actor = service.signer_principal(view["signatory"]["email"], view["convention"]["department"])
    try:
        await service.record_signature(actor, link.target_id, data.get("signed_on"))
    except ValidationFailed as exc:
        errors = exc.errors
        if "role" in errors:
            errors = {"signed_on": errors["role"], **{k: v for k, v in errors.items() if k != "role"}}
        return page("conventions/sign.html", status=422, **view, values=data, errors=errors, done=None)
    except Conflict as exc:
        return page("conventions/sign.html", status=409, **view, values=data, errors={"form": exc.message}, done=None)
    view = await _signature_view(link.target_id)
    return page("conventions/sign.html", **view, values={}, errors={}, done=True)


ROUTES: list[Any] = [signature_page, signature_confirm]
