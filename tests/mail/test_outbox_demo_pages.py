"""Demo mode: the captured mails are listed and shown with their HTML (sandboxed) and .ics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run


@pytest.fixture
def demo_client(db: Any, settings: Any) -> Any:
    from litestar.testing import TestClient

    from coord.app.factory import create_app
    from coord.mail.demo_pages import start_demo_sink, stop_demo_sink
    from tests.conftest import WebClient

    app = create_app(settings, engine=db.engine, demo=True)
    with TestClient(app, base_url="http://testserver.local") as client:
        sink = start_demo_sink(app, port=0)
        assert sink is not None
        try:
            yield WebClient(client), sink
        finally:
            stop_demo_sink(app)


def test_captured_mails_are_shown_to_logged_in_users_only(demo_client, make_user):
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    web, sink = demo_client
    meeting = seed_meeting(title="Réunion <démo>")
    run(convene(meeting["id"]))
    assert run(deliver_all_now(smtp_settings=SmtpSettings(port=sink.port))).sent == len(PEOPLE)

    assert web.get("/demo/courriels", follow_redirects=False).status_code in (302, 303, 401)
    web.login(make_user("observer", "34").email)
    listing = web.get("/demo/courriels")
    assert listing.status_code == 200 and listing.text.count("Convocation : Réunion &lt;démo&gt;") == len(PEOPLE)
    number = sink.mails[0].envelope.number
    detail = web.get(f"/demo/courriels/{number}")
    assert detail.status_code == 200
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in detail.text
    # The HTML version is framed from its own URL, sandboxed by its own policy (scripts never run).
    assert f'src="/demo/courriels/{number}/html"' in detail.text
    framed = web.get(f"/demo/courriels/{number}/html")
    assert framed.status_code == 200 and "<script" not in framed.text
    policy = framed.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "frame-ancestors 'self'" in policy
    assert 'href="http://testserver.local/r/invitation/' in framed.text  # clickable answer links
    assert "METHOD:REQUEST" in detail.text and "BEGIN:VCALENDAR" in detail.text
    ics = web.get(f"/demo/courriels/{number}/invite.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert ics.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert web.get("/demo/courriels/99999").status_code == 404


def test_the_demo_pages_do_not_exist_outside_demo_mode(web, make_user):
    web.login(make_user("national", None).email)
    assert web.get("/demo/courriels").status_code == 404


def test_each_user_sees_only_the_mails_of_their_department(demo_client, make_user):
    """Two départements convene a meeting each: a prefecture agent of the Hérault sees the Hérault's
    mails only (another's answer 404, as everywhere), the national coordinator sees both."""
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings
    from tests.meetings.test_mail_golden import PEOPLE, convene, seed_meeting

    web, sink = demo_client
    run(convene(seed_meeting(code="34", title="Réunion de l'Hérault")["id"]))
    run(convene(seed_meeting(code="30", title="Réunion du Gard")["id"]))
    assert run(deliver_all_now(smtp_settings=SmtpSettings(port=sink.port))).sent == 2 * len(PEOPLE)
    gard = [m.envelope.number for m in sink.mails if "Gard" in str(m.message["Subject"])]
    herault = [m.envelope.number for m in sink.mails if "Hérault" in str(m.message["Subject"])]
    assert len(gard) == len(herault) == len(PEOPLE)

    web.login(make_user("prefecture", "34").email)
    listing = web.get("/demo/courriels")
    assert listing.status_code == 200
    assert listing.text.count("Réunion de l&#39;Hérault") == len(PEOPLE) and "Réunion du Gard" not in listing.text
    assert "Seuls les messages envoyés pour votre département" in listing.text
    assert web.get(f"/demo/courriels/{herault[0]}").status_code == 200
    for suffix in ("", "/html", "/invite.ics"):
        assert web.get(f"/demo/courriels/{gard[0]}{suffix}").status_code == 404

    web.http.cookies.clear()  # another browser (a second client would restart the app and its sink)
    national = web
    national.login(make_user("national", None).email)
    everything = national.get("/demo/courriels")
    assert everything.text.count("Réunion du Gard") == len(PEOPLE)
    assert everything.text.count("Réunion de l&#39;Hérault") == len(PEOPLE)
    assert national.get(f"/demo/courriels/{gard[0]}/invite.ics").status_code == 200
