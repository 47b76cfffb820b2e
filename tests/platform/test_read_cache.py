"""The cache of the national tables: reused while nothing changed, never past its time to live, and
never larger than its size."""

from __future__ import annotations

from coord.core.readcache import ReadCache
from tests.conftest import run


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _counting() -> tuple[list[int], object]:
    calls: list[int] = []

    async def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_reused_until_something_is_audited(db):
    from coord.access import Principal
    from coord.access.roles import Role
    from coord.audit import log as audit

    cache = ReadCache(ttl=60)
    calls, compute = _counting()
    assert run(cache.get("k", compute)) == 1
    assert run(cache.get("k", compute)) == 1 and len(calls) == 1
    system = Principal(user_id=None, email="system", full_name="Coord", role=Role.NATIONAL)
    run(audit.record(system, "update", "action_item", 1, department_id=None, summary="a change"))
    assert run(cache.get("k", compute)) == 2


def test_a_value_expires_after_its_time_to_live_even_when_nothing_was_audited(db):
    clock = Clock()
    cache = ReadCache(ttl=60, clock=clock)
    _calls, compute = _counting()
    run(cache.get("k", compute))
    clock.now = 59
    assert run(cache.get("k", compute)) == 1
    clock.now = 61
    assert run(cache.get("k", compute)) == 2


def test_the_least_recently_used_key_leaves_first(db):
    cache = ReadCache(ttl=60, size=2)
    calls, compute = _counting()
    run(cache.get("a", compute))
    run(cache.get("b", compute))
    run(cache.get("a", compute))  # "a" is now the most recent
    run(cache.get("c", compute))  # "b" leaves
    assert len(calls) == 3
    run(cache.get("a", compute))
    assert len(calls) == 3
    run(cache.get("b", compute))
    assert len(calls) == 4
