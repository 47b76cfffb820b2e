"""JSON API of conventions, their signatories, the models and the coverage of pilot sites."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Response, delete, get, patch, post
from litestar.params import Parameter

from coord.access import Scope
from coord.conventions import coverage as coverage_service
from coord.conventions import service
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.core.validation import Id
from coord.partners.schemas import to_dict

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]


class ConventionIn(msgspec.Struct, forbid_unknown_fields=True):
    model: str
    title: str = ""
    department: str | None = None
    pilot_site: Id | None = None
    notes: str = ""


class ConventionPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET
    model: str | msgspec.UnsetType = msgspec.UNSET
    pilot_site: Id | msgspec.UnsetType | None = msgspec.UNSET
    effective_from: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    ends_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET


class SignatoryIn(msgspec.Struct, forbid_unknown_fields=True):
    organisation: Id
    role: str
    contact: Id | None = None
    signer_name: str = ""
    signer_title: str = ""
    document_ref: str = ""


class SignatoryPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    status: str | msgspec.UnsetType = msgspec.UNSET
    signed_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    refused_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    signer_name: str | msgspec.UnsetType = msgspec.UNSET
    signer_title: str | msgspec.UnsetType = msgspec.UNSET
    document_ref: str | msgspec.UnsetType = msgspec.UNSET


class AmendIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: str
    text: str = ""


class AmendmentPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    subject: str | msgspec.UnsetType = msgspec.UNSET
    text: str | msgspec.UnsetType = msgspec.UNSET


class WithdrawIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class TerminateIn(msgspec.Struct, forbid_unknown_fields=True):
    terminated_on: dt.date
    reason: str = ""


class MissingRoleOut(msgspec.Struct):
    role: str
    label: str
    missing: int
    required: int


class SignatoryOut(msgspec.Struct):
    id: int
    convention: int
    amendment: int
    organisation: int
    organisation_name: str
    organisation_kind: str
    contact: int | None
    contact_name: str
    email: str
    role: str
    role_label: str
    signer_name: str
    signer_title: str
    status: str
    status_label: str
    requested_at: dt.datetime | None
    signed_on: dt.date | None
    refused_on: dt.date | None
    document_ref: str
    version_label: str = ""


class AmendmentOut(msgspec.Struct):
    """An amendment and the state of its own signature round (« Avenant n° 1 : 3/8 signatures »)."""

    id: int
    convention: int
    number: int
    subject: str
    text: str
    status: str
    status_label: str
    opened_at: dt.datetime
    signed_on: dt.date | None
    in_force_from: dt.date | None
    closed_on: dt.date | None
    close_reason: str
    required_count: int
    signed_count: int
    complete: bool
    missing_roles: list[MissingRoleOut]
    progress_label: str
    signatories: list[SignatoryOut] | None = None


class ConventionOut(msgspec.Struct):
    """A convention: its status and signatures are those of its text in force (`version_label`,
    `amendment`); an amendment being signed is apart, in `open_amendment`."""

    id: int
    department: str
    department_name: str
    pilot_site: int | None
    model: str
    model_name: str
    title: str
    status: str
    status_label: str
    amendment: int
    amendment_subject: str
    signed_on: dt.date | None
    effective_from: dt.date | None
    ends_on: dt.date | None
    period: int
    terminated_on: dt.date | None
    termination_reason: str
    notes: str
    required_count: int
    signed_count: int
    complete: bool
    missing_roles: list[MissingRoleOut]
    signatories: list[SignatoryOut] | None = None
    version_label: str = "Texte initial"
    amendment_text: str = ""
    text_in_force_since: dt.date | None = None
    open_amendment: AmendmentOut | None = None


class RequirementOut(msgspec.Struct):
    role: str
    label: str
    required: bool
    min_count: int
    note: str
    kinds: list[str]


class ModelOut(msgspec.Struct):
    code: str
    name: str
    purpose: str
    scheme: str
    default_duration_months: int
    tacit_renewal: bool
    renewal_notice_days: int
    signature_reminder_days: list[int]
    expiry_reminder_days: list[int]
    signatories: list[RequirementOut]


def convention_struct(data: dict[str, Any]) -> ConventionOut:
    return msgspec.convert(data, ConventionOut, from_attributes=False)


def signatory_struct(data: dict[str, Any]) -> SignatoryOut:
    return SignatoryOut(**data)


def amendment_struct(data: dict[str, Any]) -> AmendmentOut:
    return msgspec.convert(data, AmendmentOut, from_attributes=False)


class ConventionApi(Controller):
    path = "/api/conventions"
    tags = ["Conventions"]

    @get("/", summary="Conventions (paginées, filtrables par département, état, modèle, site pilote, titre)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        status: str | None = None,
        model: str | None = None,
        pilot_site: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        q: str | None = None,
        page: Page = None,
        per_page: PerPage = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        items, total = await service.list_conventions(
            access, request, department=department, status=status, model=model, pilot_site=pilot_site, q=q
        )
        return paginated([convention_struct(i) for i in items], total, request)

    @post("/", summary="Créer une convention (brouillon) à partir d'un modèle")
    async def create(self, access: Scope, data: ConventionIn) -> ConventionOut:
        return convention_struct(await service.create_convention(access, to_dict(data)))

    @get("/coverage", summary="Couverture des sites pilotes par les conventions (JSON, ou CSV avec format=csv)")
    async def coverage(self, access: Scope, department: str | None = None, format: str | None = None) -> Response:
        if format not in (None, "", "json", "csv"):
            raise ValidationFailed({"format": "Formats possibles : json, csv."})
        sites = await coverage_service.coverage(access, department=department)
        if format == "csv":
            return Response(
                content="\ufeff" + coverage_service.to_csv(sites),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="couverture-conventions.csv"'},
            )
        return Response(content={"summary": coverage_service.summary(sites), "sites": sites}, media_type=MediaType.JSON)

    @get("/{convention_id:int}", summary="Une convention, avec ses signataires")
    async def read(self, access: Scope, convention_id: int) -> ConventionOut:
        return convention_struct(await service.get_convention(access, convention_id))

    @patch("/{convention_id:int}", summary="Modifier une convention")
    async def update(self, access: Scope, convention_id: int, data: ConventionPatch) -> ConventionOut:
        return convention_struct(await service.update_convention(access, convention_id, to_dict(data)))

    @delete("/{convention_id:int}", summary="Supprimer une convention en brouillon")
    async def remove(self, access: Scope, convention_id: int) -> None:
        await service.delete_convention(access, convention_id)

    @get(
        "/{convention_id:int}/signatories",
        summary="Signataires du texte en vigueur, puis ceux de l'avenant en cours (champ amendment : leur version)",
    )
    async def signatories(self, access: Scope, convention_id: int) -> list[SignatoryOut]:
        return [signatory_struct(s) for s in await service.list_signatories(access, convention_id)]

    @post("/{convention_id:int}/signatories", summary="Ajouter un signataire")
    async def add_signatory(self, access: Scope, convention_id: int, data: SignatoryIn) -> SignatoryOut:
        return signatory_struct(await service.add_signatory(access, convention_id, to_dict(data)))

    @patch(
        "/{convention_id:int}/signatories/{signatory_id:int}",
        summary="Modifier un signataire (état : to_send, sent, signed avec signed_on, refused ; dates)",
    )
    async def update_signatory(
        self, access: Scope, convention_id: int, signatory_id: int, data: SignatoryPatch
    ) -> SignatoryOut:
        return signatory_struct(await service.update_signatory(access, convention_id, signatory_id, to_dict(data)))

    @delete("/{convention_id:int}/signatories/{signatory_id:int}", summary="Retirer un signataire")
    async def remove_signatory(self, access: Scope, convention_id: int, signatory_id: int) -> None:
        await service.remove_signatory(access, convention_id, signatory_id)

    @post(
        "/{convention_id:int}/signatories/{signatory_id:int}/request",
        summary="Envoyer la demande de signature par courriel (lien signé)",
    )
    async def send_request(self, access: Scope, convention_id: int, signatory_id: int) -> SignatoryOut:
        return signatory_struct(await service.send_request(access, convention_id, signatory_id))

    @post(
        "/{convention_id:int}/amend",
        summary="Ouvrir un avenant, signé à part : la convention reste en vigueur sur son texte actuel",
    )
    async def amend(self, access: Scope, convention_id: int, data: AmendIn) -> ConventionOut:
        return convention_struct(await service.amend(access, convention_id, to_dict(data)))

    @get("/{convention_id:int}/amendments", summary="Avenants de la convention (du plus récent au plus ancien)")
    async def amendments(self, access: Scope, convention_id: int) -> list[AmendmentOut]:
        return [amendment_struct(a) for a in await service.list_amendments(access, convention_id)]

    @get("/{convention_id:int}/amendment", summary="L'avenant en cours de signature, ses signataires et sa progression")
    async def open_amendment(self, access: Scope, convention_id: int) -> AmendmentOut:
        return amendment_struct(await service.get_open_amendment(access, convention_id))

    @patch("/{convention_id:int}/amendment", summary="Modifier l'objet ou le texte de l'avenant en cours")
    async def update_amendment(self, access: Scope, convention_id: int, data: AmendmentPatch) -> AmendmentOut:
        return amendment_struct(await service.update_amendment(access, convention_id, to_dict(data)))

    @post("/{convention_id:int}/amendment/withdraw", summary="Abandonner l'avenant en cours")
    async def withdraw_amendment(self, access: Scope, convention_id: int, data: WithdrawIn) -> ConventionOut:
        return convention_struct(await service.withdraw_amendment(access, convention_id, to_dict(data)))

    @get("/{convention_id:int}/amendment/signatories", summary="Signataires de l'avenant en cours")
    async def amendment_signatories(self, access: Scope, convention_id: int) -> list[SignatoryOut]:
        amendment = await service.get_open_amendment(access, convention_id)
        return [signatory_struct(s) for s in amendment["signatories"] or []]

    @post("/{convention_id:int}/amendment/signatories", summary="Ajouter un signataire à l'avenant en cours")
    async def add_amendment_signatory(self, access: Scope, convention_id: int, data: SignatoryIn) -> SignatoryOut:
        return signatory_struct(await service.add_amendment_signatory(access, convention_id, to_dict(data)))

    @post("/{convention_id:int}/terminate", summary="Résilier une convention à une date")
    async def terminate(self, access: Scope, convention_id: int, data: TerminateIn) -> ConventionOut:
        return convention_struct(await service.terminate(access, convention_id, to_dict(data)))


@get("/api/convention-models", summary="Modèles de convention (fichiers du dossier conventions/)", tags=["Conventions"])
async def list_models(access: Scope) -> list[ModelOut]:
    return [msgspec.convert(service.model_out(m), ModelOut) for m in service.models().values()]


ROUTES: list[Any] = [ConventionApi, list_models]
