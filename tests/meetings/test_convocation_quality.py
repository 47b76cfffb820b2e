"""« Qualité » in a convocation says in what capacity the invitee comes: chairing, as a member of the
committee, holding a member's delegation, or as a guest — not the invitation's attendance code."""

from __future__ import annotations

import re
from typing import Any

from tests.meetings.test_answer_links import _links
from tests.meetings.test_mail_convocations import _convened, _deliver


def _qualities(sink: Any) -> dict[str, str]:
    found = {}
    for message in sink.messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        found[message["To"].addresses[0].addr_spec] = re.search(r"Qualité : (.+)", body).group(1).strip()
    return found


def test_the_chair_and_the_members_are_convened_in_their_committee_capacity(api_as, smtp_sink):
    _convened(api_as("prefecture", "34"))
    _deliver(smtp_sink)
    qualities = _qualities(smtp_sink)
    assert qualities["membre0@example.gouv.fr"] == "Présidence de la réunion"
    assert qualities["membre1@example.gouv.fr"] == "Membre titulaire"
    assert qualities["membre2@example.gouv.fr"] == "Membre titulaire"


def test_a_colleague_holding_a_delegation_is_convened_as_the_members_representative(api_as, smtp_sink, client):
    _convened(api_as("prefecture", "34"))
    _deliver(smtp_sink)
    path = _links(smtp_sink)["membre1@example.gouv.fr"]
    smtp_sink.clear()
    response = client.post(
        path, data={"answer": "delegated", "delegate_name": "Karim Saidi", "delegate_email": "karim.saidi@justice.fr"}
    )
    assert response.status_code == 200, response.text
    _deliver(smtp_sink)
    assert _qualities(smtp_sink)["karim.saidi@justice.fr"] == "Représentant(e) de Prénom1 Nom1"


def test_someone_outside_the_committee_is_convened_as_a_guest():
    from coord.meetings.quality import quality

    member_roles = {1: "membre", 2: "suppleant"}
    assert quality({"contact": 9, "role": "required"}, member_roles, {}) == "Invité(e)"
    assert quality({"contact": 9, "role": "info"}, member_roles, {}) == "Invité(e) – pour information"
    assert quality({"contact": 9, "role": "optional"}, member_roles, {}) == "Invité(e) – participation facultative"
    assert quality({"contact": 2, "role": "optional"}, member_roles, {}) == "Membre suppléant"
    assert quality({"contact": 1, "role": "chair"}, member_roles, {}) == "Présidence de la réunion"
