"""JSON API of meetings, their agenda, invitations, attendance, decisions and minutes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post, put
from litestar.params import Parameter

from coord.access import Scope
from coord.core.errors import ValidationFailed
from coord.core.pagination import PageRequest, Paginated, paginated
from coord.meetings import agenda, attendance, invitees, minutes, schemas, service, times
from coord.meetings.schemas import (
    AgendaItemIn,
    AgendaItemOut,
    AgendaItemPatch,
    AgendaOut,
    DecisionIn,
    DecisionOut,
    InvitationIn,
    InvitationOut,
    InvitationPatch,
    InvitationsOut,
    MeetingDetailOut,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
    MinutesIn,
    MoveIn,
    QuorumOut,
    ReconveneIn,
    RemindOut,
    VersionIn,
    to_dict,
)
from coord.web.params import IdQuery

Page = Annotated[int | None, Parameter(ge=1, le=100_000)]
PerPage = Annotated[int | None, Parameter(ge=1, le=200)]
FromParam = Annotated[str | None, Parameter(query="from", description="Début au plus tôt (AAAA-MM-JJ ou ISO 8601)")]
ToParam = Annotated[str | None, Parameter(query="to", description="Début au plus tard, exclu (AAAA-MM-JJ ou ISO 8601)")]


def _bound(name: str, raw: str | None, tz: str) -> dt.datetime | None:
    """A list filter bound: a date is local midnight in `tz`; a naive datetime is local too."""
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return times.local_to_utc(dt.datetime.combine(dt.date.fromisoformat(raw), dt.time()), tz)
        return times.local_to_utc(dt.datetime.fromisoformat(raw), tz)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed({name: "Date invalide (format attendu : AAAA-MM-JJ ou AAAA-MM-JJTHH:MM)."}) from exc


async def _detail(access: Scope, meeting_id: int) -> MeetingDetailOut:
    meeting = await service.get_meeting(access, meeting_id)
    state = await attendance.attendance(access, meeting_id)
    return MeetingDetailOut(
        meeting=schemas.meeting(meeting),
        agenda=schemas.agenda(await agenda.agenda(access, meeting_id)),
        invitations=[schemas.invitation(i) for i in state["invitations"]],
        counts=invitees.answer_counts(state["invitations"]),
        quorum=QuorumOut(**state["quorum"]),
        decisions=[DecisionOut(**d) for d in await minutes.list_decisions(access, meeting_id)],
    )


class MeetingApi(Controller):
    path = "/api/meetings"
    tags = ["Réunions"]

    @get("/", summary="Réunions (paginées ; filtres département, instance, statut, période)")
    async def list(
        self,
        access: Scope,
        department: str | None = None,
        committee: IdQuery = None,
        status: str | None = None,
        start_from: FromParam = None,
        start_to: ToParam = None,
        page: Page = None,
        per_page: PerPage = None,
    ) -> Paginated:
        request = PageRequest.parse(page, per_page)
        tz = (await access.department(department))["timezone"] if department else "Europe/Paris"
        items, total = await service.list_meetings(
            access,
            request,
            department=department,
            committee=committee,
            status=status,
            start_from=_bound("from", start_from, tz),
            start_to=_bound("to", start_to, tz),
        )
        return paginated([schemas.meeting(i) for i in items], total, request)

    @post("/", summary="Créer une réunion (ordre du jour type, membres de l'instance invités)")
    async def create(self, access: Scope, data: MeetingIn) -> MeetingOut:
        return schemas.meeting(await service.create_meeting(access, to_dict(data)))

    @get("/{meeting_id:int}", summary="Une réunion avec son ordre du jour, ses invités et les réponses")
    async def read(self, access: Scope, meeting_id: int) -> MeetingDetailOut:
        return await _detail(access, meeting_id)

    @patch("/{meeting_id:int}", summary="Modifier une réunion (verrou optimiste : `version` lue)")
    async def update(self, access: Scope, meeting_id: int, data: MeetingPatch) -> MeetingOut:
        return schemas.meeting(await service.update_meeting(access, meeting_id, to_dict(data)))

    @delete("/{meeting_id:int}", summary="Supprimer une réunion en préparation")
    async def remove(self, access: Scope, meeting_id: int) -> None:
        await service.delete_meeting(access, meeting_id)

    @post("/{meeting_id:int}/convene", summary="Envoyer la convocation", status_code=200)
    async def convene(self, access: Scope, meeting_id: int, data: VersionIn | None = None) -> MeetingOut:
        return schemas.meeting(await service.convene(access, meeting_id, to_dict(data) if data else {}))

    @post("/{meeting_id:int}/cancel", summary="Annuler la réunion (les invités sont prévenus)", status_code=200)
    async def cancel(self, access: Scope, meeting_id: int, data: VersionIn | None = None) -> MeetingOut:
        return schemas.meeting(await service.cancel(access, meeting_id, to_dict(data) if data else {}))

    @post("/{meeting_id:int}/held", summary="Déclarer la réunion tenue", status_code=200)
    async def held(self, access: Scope, meeting_id: int, data: VersionIn | None = None) -> MeetingOut:
        return schemas.meeting(await service.mark_held(access, meeting_id, to_dict(data) if data else {}))

    @post("/{meeting_id:int}/remind", summary="Relancer les invités sans réponse", status_code=200)
    async def remind(self, access: Scope, meeting_id: int) -> RemindOut:
        return RemindOut(queued=await service.remind(access, meeting_id))

    @post("/{meeting_id:int}/reconvene", summary="Convoquer à nouveau faute de quorum (même ordre du jour)")
    async def reconvene(self, access: Scope, meeting_id: int, data: ReconveneIn | None = None) -> MeetingOut:
        return schemas.meeting(await attendance.reconvene(access, meeting_id, to_dict(data) if data else {}))


class AgendaApi(Controller):
    path = "/api/meetings/{meeting_id:int}/agenda"
    tags = ["Réunions"]

    @get("/", summary="Ordre du jour, avec sa durée totale comparée à celle de la réunion")
    async def read(self, access: Scope, meeting_id: int) -> AgendaOut:
        return schemas.agenda(await agenda.agenda(access, meeting_id))

    @post("/", summary="Ajouter un point à l'ordre du jour")
    async def add(self, access: Scope, meeting_id: int, data: AgendaItemIn) -> AgendaItemOut:
        return AgendaItemOut(**await agenda.add_item(access, meeting_id, to_dict(data)))

    @patch("/{item_id:int}", summary="Modifier un point")
    async def update(self, access: Scope, meeting_id: int, item_id: int, data: AgendaItemPatch) -> AgendaItemOut:
        return AgendaItemOut(**await agenda.update_item(access, meeting_id, item_id, to_dict(data)))

    @delete("/{item_id:int}", summary="Retirer un point")
    async def remove(self, access: Scope, meeting_id: int, item_id: int) -> None:
        await agenda.delete_item(access, meeting_id, item_id)

    @post("/{item_id:int}/move", summary="Monter ou descendre un point (direction up|down)", status_code=200)
    async def move(self, access: Scope, meeting_id: int, item_id: int, data: MoveIn) -> AgendaOut:
        await agenda.move_item(access, meeting_id, item_id, data.direction)
        return schemas.agenda(await agenda.agenda(access, meeting_id))


class InvitationApi(Controller):
    path = "/api/meetings/{meeting_id:int}/invitations"
    tags = ["Réunions"]

    @get("/", summary="Invités, décompte des réponses et quorum")
    async def list(self, access: Scope, meeting_id: int) -> InvitationsOut:
        state = await attendance.attendance(access, meeting_id)
        return InvitationsOut(
            items=[schemas.invitation(i) for i in state["invitations"]],
            counts=invitees.answer_counts(state["invitations"]),
            quorum=QuorumOut(**state["quorum"]),
        )

    @post("/", summary="Inviter un contact ({contact, role}) ou tous les membres ({all_members: true})")
    async def add(self, access: Scope, meeting_id: int, data: InvitationIn) -> list[InvitationOut]:
        return [schemas.invitation(i) for i in await invitees.add_invitations(access, meeting_id, to_dict(data))]

    @patch("/{invitation_id:int}", summary="Changer le rôle, la présence ou le mandat d'un invité")
    async def update(self, access: Scope, meeting_id: int, invitation_id: int, data: InvitationPatch) -> InvitationOut:
        return schemas.invitation(await attendance.patch_invitation(access, meeting_id, invitation_id, to_dict(data)))

    @delete("/{invitation_id:int}", summary="Retirer un invité (annulation envoyée si déjà convoqué)")
    async def remove(self, access: Scope, meeting_id: int, invitation_id: int) -> None:
        await invitees.remove_invitation(access, meeting_id, invitation_id)


class MinutesApi(Controller):
    path = "/api/meetings/{meeting_id:int}"
    tags = ["Réunions"]

    @get("/decisions", summary="Relevé de décisions")
    async def decisions(self, access: Scope, meeting_id: int) -> list[DecisionOut]:
        return [DecisionOut(**d) for d in await minutes.list_decisions(access, meeting_id)]

    @post("/decisions", summary="Ajouter une décision")
    async def add_decision(self, access: Scope, meeting_id: int, data: DecisionIn) -> DecisionOut:
        return DecisionOut(**await minutes.add_decision(access, meeting_id, to_dict(data)))

    @patch("/decisions/{decision_id:int}", summary="Modifier une décision")
    async def update_decision(self, access: Scope, meeting_id: int, decision_id: int, data: DecisionIn) -> DecisionOut:
        return DecisionOut(**await minutes.update_decision(access, meeting_id, decision_id, to_dict(data)))

    @delete("/decisions/{decision_id:int}", summary="Supprimer une décision")
    async def remove_decision(self, access: Scope, meeting_id: int, decision_id: int) -> None:
        await minutes.delete_decision(access, meeting_id, decision_id)

    @put("/minutes", summary="Enregistrer le compte rendu (verrou optimiste : `version` lue)")
    async def save_minutes(self, access: Scope, meeting_id: int, data: MinutesIn) -> MeetingOut:
        return schemas.meeting(await minutes.update_minutes(access, meeting_id, to_dict(data)))

    @post("/minutes/publish", summary="Publier le compte rendu", status_code=200)
    async def publish(self, access: Scope, meeting_id: int, data: VersionIn | None = None) -> MeetingOut:
        return schemas.meeting(await minutes.publish(access, meeting_id, to_dict(data) if data else {}))


ROUTES: list[Any] = [MeetingApi, AgendaApi, InvitationApi, MinutesApi]
