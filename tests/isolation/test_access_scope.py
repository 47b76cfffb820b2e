"""How `coord.access.Scope` decides what a principal reads and may change, in one place."""

from __future__ import annotations

from coord.access import (
    SYSTEM,
    Permission,
    Principal,
    Role,
    Scope,
    belongs_to,
    link_principal,
    same_department,
)
from tests.conftest import run


def _agent(department_id: int) -> Principal:
    return Principal(user_id=1, email="a@x.gouv.fr", full_name="A", role=Role.PREFECTURE, department_id=department_id)


def test_narrowing_a_scope_never_widens_it():
    national = Scope(SYSTEM)
    assert national.within(3).narrowed_to == (3,)
    assert national.within(3).within(4).narrowed_to == ()  # reads nothing, not département 4
    assert national.across([1, 2, 3]).across([2, 3, 9]).narrowed_to == (2, 3)
    assert national.within(3).department_id == 3 and national.department_id is None
    assert Scope(_agent(7)).department_id == 7


def test_a_narrowed_scope_refuses_writes_elsewhere_even_for_a_national_coordinator():
    narrowed = Scope(SYSTEM).within(3)
    assert narrowed.may(Permission.MANAGE, 3)
    assert not narrowed.may(Permission.MANAGE, 4)
    agent = Scope(_agent(3))
    assert agent.may(Permission.MANAGE, 3) and not agent.may(Permission.MANAGE, 4)
    assert not Scope(link_principal("lien", 3)).may(Permission.MANAGE, 3)  # a link holder only reads


def test_records_are_matched_to_a_department_by_id_or_by_code():
    herault = {"id": 3, "code": "34"}
    assert belongs_to({"department": 3}, herault) and belongs_to({"department": "34"}, herault)
    assert not belongs_to({"department": "974"}, herault) and not belongs_to({"department": None}, herault)
    assert belongs_to({"department": 3}, 3)
    assert same_department({"department": 3}, {"department": 3})
    assert not same_department({"department": None}, {"department": None})


def test_a_scope_narrowed_to_a_department_reads_only_its_rows(db):
    from coord.committees.tables import Committee
    from coord.territory.tables import Department

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        ids = {r["code"]: r["id"] for r in await Department.select(Department.id, Department.code)}
        for code in ("34", "974"):
            await Committee.insert(Committee(department=ids[code], name=f"CDPD {code}", kind="cdpd_pleniere"))
        national = Scope(SYSTEM)
        herault = national.within(await national.department("34"))
        everything = [r["name"] for r in await national.select(Committee, Committee.name).order_by(Committee.name)]
        only_34 = [r["name"] for r in await herault.select(Committee, Committee.name)]
        agent_974 = [r["name"] for r in await Scope(_agent(ids["974"])).within(ids["34"]).select(Committee)]
        return everything, only_34, agent_974

    everything, only_34, agent_974 = run(scenario())
    assert everything == ["CDPD 34", "CDPD 974"]
    assert only_34 == ["CDPD 34"]
    assert agent_974 == []  # an agent of 974 narrowed to 34 still reads nothing of 34
