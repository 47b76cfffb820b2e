"""The reminder tick: everything due at an instant, derived from the database alone.

`run_tick(now)` is the whole periodic work (the benchmark times it): cycle proposals and reminders,
invitee reminders, then conventions and action items. It is idempotent and safe to cancel midway: a
second run, a restart or a second instance queue nothing twice (outbox dedupe keys).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import logging
import time
from dataclasses import dataclass, field

from coord.core.db import current_engine
from coord.scheduling import reminders
from coord.scheduling.config import CycleConfig
from coord.scheduling.locks import tick_lock

logger = logging.getLogger("coord.scheduling")
ACTIONS_MODULE = "coord.actions.reminders"


@dataclass
class TickReport:
    now: dt.datetime
    skipped: bool = False  # another instance held the lock
    proposals: int = 0
    queued: dict[str, int] = field(default_factory=dict)
    conventions: int = 0
    actions: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.queued.values()) + self.conventions + self.actions


async def _action_digests(now: dt.datetime) -> int:
    """Weekly digests of action items, once the actions domain is installed."""
    try:
        if importlib.util.find_spec(ACTIONS_MODULE) is None:
            return 0
    except ModuleNotFoundError:  # coord.actions itself is not there yet
        return 0
    module = importlib.import_module(ACTIONS_MODULE)
    return int(await module.queue_owner_digests(now))


async def run_tick(now: dt.datetime | None = None, *, config: CycleConfig | None = None) -> TickReport:
    """Run every reminder due at `now` (default: the current instant)."""
    from coord.conventions.reminders import due_reminders

    current_engine()  # bind the tables when called standalone (benchmark, shell)
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("run_tick needs an aware datetime")
    report = TickReport(now=now)
    started = time.perf_counter()
    async with tick_lock("reminders") as acquired:
        if not acquired:
            report.skipped = True
            return report
        plan = await reminders.plan(now, config)
        counts = await reminders.queue_plan(plan)
        report.proposals = counts.pop("proposals", 0)
        report.queued = counts
        report.conventions = await due_reminders(now)
        report.actions = await _action_digests(now)
    report.seconds = time.perf_counter() - started
    if report.total or report.proposals:
        logger.info("reminder tick at %s: %s proposal(s), %s mail(s) queued", now.isoformat(), report.proposals,
                    report.total)
    return report
