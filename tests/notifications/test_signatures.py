"""A partner signing a convention from their link: the agents of the département are told, with a
link to the convention; a signature an agent records from paper is not notified."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import run
from tests.conventions.support import Dept, link_from_mail, minors_convention
from tests.notifications.test_notifications import _feed, _notifications, _user_id


@pytest.fixture
def herault(db: Any) -> Dept:
    return Dept("34")


def test_a_partner_signature_by_link_is_notified_with_a_link_to_the_convention(
    client: Any,
    herault: Any,
    make_user: Any,
) -> None:
    from coord.conventions import service
    from coord.core import clock

    agent, elsewhere = make_user("prefecture", "34"), make_user("prefecture", "2A")
    convention, signatories = minors_convention(herault)
    first = signatories[0]
    run(service.send_request(herault.scope, convention["id"], first["id"], now=dt.datetime.now(dt.UTC)))
    token = link_from_mail(first["id"])
    today = clock.local_today("Europe/Paris")
    done = client.post(f"/r/signature/{token}", data={"signed_on": today.isoformat(), "confirm": "1"})
    assert done.status_code == 200, done.text
    _feed()
    (row,) = _notifications(kind="signature")
    assert row["recipient"] == _user_id(agent.email)
    assert row["link"] == f"/d/34/conventions/{convention['id']}"
    assert first["organisation_name"].lower() in row["text"].lower() and convention["title"] in row["text"]
    assert not _notifications(recipient=_user_id(elsewhere.email))
