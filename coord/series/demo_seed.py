"""The demo's meeting series: the Hérault's plenary CDPD planned quarterly (a few occurrences)."""

from __future__ import annotations

import datetime as dt

from coord.access import Scope
from coord.committees.tables import Committee
from coord.core import clock
from coord.series import service
from coord.territory.tables import Department


async def seed_series(scope: Scope) -> None:
    herault = await Department.select().where(Department.code == "34").first()
    committee = (
        await scope.within(herault["id"])
        .select(Committee, Committee.id)
        .where(Committee.kind == "cdpd_pleniere")
        .order_by(Committee.id)
        .first()
    )
    if committee is None:
        return
    now = clock.now()
    # The last Monday of March, June, September and December, from the current quarter: in 2027 the
    # last Monday of March is Easter Monday, so the demo shows a holiday move (past dates are skipped).
    today = now.date()
    month = today.month - (today.month % 3)
    start = dt.date(today.year, month, 1) if month else dt.date(today.year - 1, 12, 1)
    await service.create_series(
        scope,
        herault,
        committee["id"],
        {
            "title": "CDPD plénière — point trimestriel TEH",
            "place": "Préfecture de l'Hérault, salle des commissions",
            "freq": "quarterly",
            "mode": "weekday",
            "nth": "-1",
            "weekday": "0",
            "start_date": start.isoformat(),
            "start_time": "14:00",
            "duration_minutes": "120",
            "end": "count",
            "count": "7",
        },
        now,
    )
