"""JSON API of the yearly cycle: the national table, a département's year, and the prefecture's actions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Parameter

from coord.access import Scope
from coord.core.clock import now
from coord.meetings import schemas as meeting_schemas
from coord.partners.schemas import to_dict
from coord.scheduling import service
from coord.scheduling.schemas import (
    AcceptIn,
    CycleRowOut,
    DepartmentCycleOut,
    ReminderOut,
    UnavailableIn,
    UnavailableOut,
)

Year = Annotated[int | None, Parameter(ge=service.MIN_YEAR, le=service.MAX_YEAR)]


def _slots(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**s, "reminders": [{k: r[k] for k in ReminderOut.__struct_fields__} for r in s["reminders"]]} for s in slots
    ]


class CycleApi(Controller):
    path = "/api"
    tags = ["Cycle annuel"]

    @get("/cycle", summary="État du cycle annuel de chaque département visible (filtres : état, région)")
    async def national(
        self,
        access: Scope,
        year: Year = None,
        cycle_state: Annotated[str | None, Parameter(query="state")] = None,  # `state` is reserved by Litestar
        region: str | None = None,
    ) -> list[CycleRowOut]:
        at = now()
        rows = await service.national_cycle(access, service.read_year(year, at), at, state=cycle_state, region=region)
        return [msgspec.convert({**r, "slots": _slots(r["slots"])}, CycleRowOut) for r in rows]

    @get("/departments/{code:str}/cycle", summary="Cycle annuel d'un département : échéances, dates, rappels")
    async def department(self, access: Scope, code: str, year: Year = None) -> DepartmentCycleOut:
        at = now()
        data = service.cycle_out(await service.department_cycle(access, code, service.read_year(year, at), at))
        return msgspec.convert({**data, "slots": _slots(data["slots"])}, DepartmentCycleOut)

    @post("/departments/{code:str}/cycle/accept", summary="Retenir la date proposée : crée la réunion (brouillon)")
    async def accept(self, access: Scope, code: str, data: AcceptIn) -> meeting_schemas.MeetingOut:
        meeting = await service.accept_proposal(access, code, to_dict(data), now())
        return meeting_schemas.meeting(meeting)

    @post("/departments/{code:str}/cycle/unavailable-dates", summary="Déclarer une date indisponible")
    async def mark(self, access: Scope, code: str, data: UnavailableIn) -> UnavailableOut:
        return UnavailableOut(**await service.mark_unavailable(access, code, to_dict(data), now()))

    @delete("/departments/{code:str}/cycle/unavailable-dates", summary="Rendre une date de nouveau disponible")
    async def unmark(self, access: Scope, code: str, date: dt.date) -> None:
        await service.unmark_unavailable(access, code, {"date": date.isoformat()})


ROUTES: list[Any] = [CycleApi]
