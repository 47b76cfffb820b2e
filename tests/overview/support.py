"""Helpers of the overview tests."""

from __future__ import annotations

from typing import Any


async def counted_queries(make: Any) -> int:
    """Queries run by the coroutine `make()` returns, counted at the engine's class (PostgreSQL's
    engine has slots: its instance attributes cannot be replaced)."""
    from coord.core.db import current_engine

    engine_class = type(current_engine())
    calls = 0
    original = engine_class.run_querystring

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await original(self, *args, **kwargs)

    engine_class.run_querystring = counting  # type: ignore[method-assign]
    try:
        await make()
    finally:
        engine_class.run_querystring = original  # type: ignore[method-assign]
    return calls
