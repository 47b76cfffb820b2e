"""A calendar reply whose sender is not authenticated waits « à vérifier »: the agents of the
département are told, with a link to the meeting's mail."""

from __future__ import annotations

from typing import Any

from tests.calendar.test_ingest import seed
from tests.calendar.test_reply_authentication import (
    INTRUDER,
    deliver,
    imip_settings,
    listener,
    mail,
    outlook_reply,
)
from tests.conftest import run
from tests.notifications.test_notifications import _feed, _notifications, _user_id

__all__ = ["imip_settings", "listener"]  # fixtures


def test_a_reply_to_check_is_notified_to_the_agents_of_its_département(listener: Any, make_user: Any) -> None:
    agent, elsewhere = make_user("coordinator", "34"), make_user("coordinator", "93")
    seeded = run(seed())
    code, _ = deliver(listener, mail(sender=INTRUDER, calendar=outlook_reply()), envelope_from=INTRUDER)
    assert code == 250
    assert _feed() == 1
    (row,) = _notifications(kind="reply_to_check")
    assert row["recipient"] == _user_id(agent.email)
    assert row["link"] == f"/d/34/reunions/{seeded.meeting_id}/courriers"
    assert "à vérifier" in row["text"] and INTRUDER in row["text"]
    assert not _notifications(recipient=_user_id(elsewhere.email))
    assert _feed() == 0
