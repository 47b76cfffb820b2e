"""The demo's meeting carries two small real PDFs as convocation annexes, stored like uploads."""

from __future__ import annotations

from tests.conftest import run


def test_the_demo_meeting_annexes_are_real_pdfs_in_the_configured_storage(api_as, settings):
    import filetype

    from coord.access import SYSTEM, Scope
    from coord.documents import service
    from coord.documents.demo_seed import seed_meeting_annexes
    from coord.territory.tables import Department
    from tests.meetings.test_meetings_api import local_in, new_meeting, seed_committee

    api = api_as("prefecture", "34")
    meeting = new_meeting(api, seed_committee(api, members=1)["committee"]["id"], local_in(20)).json()
    herault = run(Department.select(Department.id).where(Department.code == "34").first())
    stored = run(seed_meeting_annexes(Scope(SYSTEM), meeting, herault["id"]))
    assert [d["filename"] for d in stored] == ["Compte rendu précédent.pdf", "Projet de convention.pdf"]
    listed = run(service.documents_of(Scope(SYSTEM), "meeting", meeting["id"], ("annexe_convocation",)))
    assert len(listed) == 2
    for row in listed:
        assert filetype.guess(run(service.read(row))).mime == "application/pdf"
