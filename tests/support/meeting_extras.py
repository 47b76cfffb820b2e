"""A date poll, a meeting series and an annex for one département's draft meeting: the route walks
(isolation, hostile input, accessibility) need one record of each to fill their routes' ids."""

from __future__ import annotations

import datetime as dt
from typing import Any


async def seed_meeting_extras(code: str, meeting_id: int, committee_id: int, mark: str) -> dict[str, int]:
    from coord.access import Scope
    from coord.accounts.service import load_principal
    from coord.accounts.tables import User
    from coord.documents.demo_seed import simple_pdf, store_generated
    from coord.polls import service as polls
    from coord.series import service as series
    from coord.territory.tables import Department

    department = await Department.select().where(Department.code == code).first()
    agent = (
        await User.select(User.id)
        .where((User.role == "prefecture") & (User.department == department["id"]))
        .order_by(User.id)
        .first()
    )
    principal = await load_principal(agent["id"])
    assert principal is not None
    scope = Scope(principal)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    document = await store_generated(
        scope, "meeting", meeting_id, department["id"], "annexe_convocation", f"{mark}.pdf", simple_pdf(mark, [mark])
    )
    form: dict[str, Any] = {
        "deadline_date": (today + dt.timedelta(days=10)).isoformat(),
        "deadline_time": "18:00",
        "reminder_days": "2",
        "confirm_days": "on",
        "message": mark,
    }
    for n, days in enumerate((44, 45)):
        form |= {f"slot_date_{n}": (today + dt.timedelta(days=days)).isoformat(), f"slot_time_{n}": "10:00"}
        form[f"slot_duration_{n}"] = "120"
    poll = await polls.create_poll(scope, meeting_id, form, now=now)
    quarterly = await series.create_series(
        scope,
        department,
        committee_id,
        {
            "title": mark,
            "place": mark,
            "freq": "quarterly",
            "mode": "weekday",
            "nth": "2",
            "weekday": "1",
            "start_date": (today + dt.timedelta(days=60)).isoformat(),
            "start_time": "14:00",
            "duration_minutes": "120",
        },
        now,
    )
    return {"document_id": document["id"], "poll_id": poll["id"], "series_id": quarterly["id"]}
