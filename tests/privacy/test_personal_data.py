"""Personal data of partners' contacts: a prefecture agent erases a contact on request, leaving no
trace of them in Coord; a deactivated contact's links and calendars stop working; sent mails' content
is purged after the retention period."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import re
from typing import Any

import pytest
from icalendar import Calendar

from tests.conftest import run
from tests.meetings.test_meetings_api import local_in, new_meeting

ZEPHYRINE = {
    "first_name": "Zéphyrine",
    "last_name": "Quillebœuf-D'Arvieux",
    "email": "z.quilleboeuf@justice.fr",
    "phone": "04 67 11 22 33",
    "function": "Substitute",
}
# Her values now and before (she changed address, phone and function): none may remain anywhere.
TRACES = (
    "zéphyrine",
    "quillebœuf",
    "arvieux",
    "z.quilleboeuf",
    "zephyrine.quilleboeuf",
    "11 22 33",
    "98 76 54",
    "0467987654",
    "chargée de la traite",
)
SCANNED_TABLES = ("contact", "audit_entry", "outbox_message", "action_event", "invitation", "partner_link")


def _outbox(**where: Any) -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    query = OutboxMessage.select().order_by(OutboxMessage.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    return run(query)


def _path(pattern: str, text: str) -> str:
    match = re.search(rf"http://testserver\.local(/r/{pattern}/[^?\s\"<]+)", text)
    assert match, text
    return match.group(1)


def _world(api: Any) -> dict[str, Any]:
    """Zéphyrine, a deputy prosecutor, with two colleagues in a CDPD: convened to a meeting (her
    convocation and theirs, which lists her, are in the outbox), owner of an action item, signatory of
    a convention, with a calendar feed; she changed her address, phone and function after the
    convocation (so the journal holds both), and answered from her link with a comment."""
    parquet = api.post("/api/organisations", json={"name": "Parquet de Montpellier", "kind": "parquet"}).json()
    asso = api.post("/api/organisations", json={"name": "Association Accueil 34", "kind": "association"}).json()
    zephyrine = api.post("/api/contacts", json={"organisation": parquet["id"], **ZEPHYRINE}).json()
    others = [
        api.post(
            "/api/contacts",
            json={
                "organisation": asso["id"],
                "first_name": f"Camille{i}",
                "last_name": f"Martin{i}",
                "email": f"camille{i}@asso34.fr",
            },
        ).json()
        for i in range(2)
    ]
    committee = api.post("/api/committees", json={"name": "CDPD plénière", "kind": "cdpd_pleniere"}).json()
    for contact in (zephyrine, *others):
        response = api.post(
            f"/api/committees/{committee['id']}/members", json={"contact": contact["id"], "role": "membre"}
        )
        assert response.status_code == 201, response.text
    meeting = new_meeting(api, committee["id"], local_in(20)).json()
    response = api.post(f"/api/meetings/{meeting['id']}/convene", json={"version": meeting["version"]})
    assert response.status_code == 200, response.text
    mine = _outbox(to_email=ZEPHYRINE["email"])
    assert len(mine) == 1
    answer_path = _path("invitation", mine[0]["body_text"])

    response = api.patch(
        f"/api/contacts/{zephyrine['id']}",
        json={
            "email": "zephyrine.quilleboeuf@justice.fr",
            "phone": "04 67 98 76 54",
            "function": "Substitute chargée de la traite",
        },
    )
    assert response.status_code == 200, response.text

    item = api.post(
        "/api/actions",
        json={
            "title": "Former les enquêteurs au repérage",
            "owner_contact": zephyrine["id"],
            "due_on": (dt.date.today() + dt.timedelta(days=10)).isoformat(),
        },
    ).json()
    action_path = "/r/action/" + api.post(f"/api/actions/{item['id']}/link").json()["url"].rsplit("/r/action/", 1)[1]

    convention = api.post(
        "/api/conventions", json={"model": "protection-mineurs", "title": "Protection des mineurs 34"}
    ).json()
    signatory = api.post(
        f"/api/conventions/{convention['id']}/signatories",
        json={"organisation": parquet["id"], "contact": zephyrine["id"], "role": "procureur"},
    ).json()
    response = api.post(f"/api/conventions/{convention['id']}/signatories/{signatory['id']}/request")
    assert response.status_code in (200, 201), response.text
    signature_path = _path("signature", _outbox(kind="convention_signature")[-1]["body_text"])

    feed_url = api.post("/api/feeds", json={"kind": "contact", "target_id": zephyrine["id"]}).json()["url"]
    feed_path = feed_url.removeprefix("http://testserver.local")
    return {
        "parquet": parquet,
        "zephyrine": zephyrine,
        "others": others,
        "committee": committee,
        "meeting": meeting,
        "item": item,
        "convention": convention,
        "signatory": signatory,
        "paths": {"invitation": answer_path, "action": action_path, "signature": signature_path, "feed": feed_path},
    }


def _readable(value: str) -> list[str]:
    """A stored text in every form a person could read it: as stored, HTML unescaped, iCalendar
    unfolded and unescaped, JSON decoded (non-ASCII letters are stored as \\u escapes)."""
    forms = [value, html.unescape(value)]
    unfolded = re.sub(r"\r?\n[ \t]", "", value)
    forms += [unfolded, unfolded.replace("\\,", ",").replace("\\;", ";")]
    with contextlib.suppress(ValueError):
        forms.append(json.dumps(json.loads(value), ensure_ascii=False))
    return [f.casefold() for f in forms]


def _traces_left(db: Any) -> list[tuple[str, Any, str]]:
    """(table, row id, trace) for every trace of Zéphyrine in any text of the scanned tables."""

    async def scan() -> list[tuple[str, Any, str]]:
        from coord.audit.tables import AuditEntry

        found = []
        for table in SCANNED_TABLES:
            for row in await AuditEntry.raw(f'SELECT * FROM "{table}"'):
                for value in row.values():
                    if not isinstance(value, str):
                        value = json.dumps(value, ensure_ascii=False, default=str) if value is not None else ""
                    for form in _readable(value):
                        found += [(table, row["id"], t) for t in TRACES if t in form]
        return found

    return run(scan())


def _erasures() -> list[dict[str, Any]]:
    from coord.audit.tables import AuditEntry

    return run(AuditEntry.select().where(AuditEntry.action == "erase"))


def _counts(api: Any, meeting_id: int) -> tuple[int, dict[str, int]]:
    detail = api.get(f"/api/meetings/{meeting_id}").json()
    return len(detail["invitations"]), detail["counts"]


def test_an_erased_contact_leaves_no_trace_in_mails_or_journal(api_as, client, db):
    from coord.mail.tables import OutboxMessage

    api = api_as("prefecture", "34")
    world = _world(api)
    zephyrine, paths = world["zephyrine"], world["paths"]
    answer = client.post(
        paths["invitation"],
        data={"answer": "accepted", "comment": "Zéphyrine Quillebœuf-D'Arvieux sera présente (04 67 98 76 54)."},
    )
    assert answer.status_code == 200, answer.text
    comment = client.post(paths["action"], data={"comment": "Formation prévue ; joindre le 04 67 98 76 54."})
    assert comment.status_code == 200, comment.text  # her name is the actor of the item's timeline
    for path in paths.values():
        assert client.get(path).status_code == 200, path
    before = _counts(api, world["meeting"]["id"])
    assert before[0] == 3
    assert len(_traces_left(db)) > 20  # the test sees her everywhere before the erasure
    # Her convocation (to her former address) and the signature request wait for the dispatcher.
    pending = len(_outbox(to_email="zephyrine.quilleboeuf@justice.fr", status="pending"))
    pending += len(_outbox(to_email=ZEPHYRINE["email"], status="pending"))
    assert pending == 2

    response = api.post(f"/api/contacts/{zephyrine['id']}/erase")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["contact"] | {"organisation_name": ""} == {
        "id": zephyrine["id"],
        "department": "34",
        "organisation": world["parquet"]["id"],
        "organisation_name": "",
        "first_name": "Contact",
        "last_name": "effacé",
        "function": "",
        "email": f"efface-{zephyrine['id']}@contact.invalid",
        "phone": "",
        "active": False,
        "erased": True,
    }
    assert report["links_revoked"] == 4 and report["already_erased"] is False
    assert report["mails_not_sent"] == pending and report["detached"] == 1  # the convention's signatory
    assert report["rewritten"]["mails"] >= 3 and report["rewritten"]["audit_entries"] >= 3
    assert report["rewritten"]["answers"] == 1 and report["rewritten"]["timeline_events"] >= 1

    # Not one byte of her in the contact, the journal, the outbox (texts, HTML, .ics), the timelines.
    assert _traces_left(db) == []

    # The rewritten invitations are still valid iCalendar, folded at 75 octets, listing her as erased.
    for row in _outbox(kind="convocation"):
        event = Calendar.from_ical(row["calendar"]).walk("VEVENT")[0]
        attendees = [str(a) for a in event.get("ATTENDEE")]
        assert f"mailto:efface-{zephyrine['id']}@contact.invalid" in attendees
        assert all(len(line.encode()) <= 75 for line in row["calendar"].split("\r\n"))

    # Meetings, invitations and answers keep their rows and counts: she shows as « Contact effacé ».
    assert _counts(api, world["meeting"]["id"]) == before
    invitees = api.get(f"/api/meetings/{world['meeting']['id']}/invitations").json()["items"]
    erased = [i for i in invitees if i["contact"] == zephyrine["id"]]
    assert [(i["name"], i["answer"]) for i in erased] == [("Contact effacé", "accepted")]
    assert api.get(f"/api/actions/{world['item']['id']}").json()["owner_contact"] == zephyrine["id"]
    # The mail waiting for her is not sent to the placeholder; the others' stay as they were.
    assert {r["status"] for r in _outbox(to_email=f"efface-{zephyrine['id']}@contact.invalid")} <= {"failed", "pending"}
    waiting = run(
        OutboxMessage.select().where((OutboxMessage.status == "pending") & OutboxMessage.to_email.like("efface-%"))
    )
    assert waiting == []

    # The erasure is in the journal, without the values it erased.
    erase = _erasures()
    assert len(erase) == 1 and erase[0]["entity_id"] == zephyrine["id"] and "effacé" in erase[0]["summary"]
    assert erase[0]["actor"].startswith("prefecture") and erase[0]["before"] is None

    # Her links and her calendar are dead, with a French page and no data.
    for kind in ("invitation", "action", "signature"):
        page = client.get(paths[kind])
        assert page.status_code == 410, (kind, page.text)
        assert "n'est plus valable" in html.unescape(page.text) and "Former les enquêteurs" not in page.text
    refused = client.post(paths["invitation"], data={"answer": "declined"})
    assert refused.status_code == 410
    feed = client.get(paths["feed"])
    assert feed.status_code == 410 and "BEGIN:VCALENDAR" not in feed.text and "révoqué" in feed.text

    # Irreversible: never edited, reactivated or invited again; a second erasure changes nothing.
    assert api.patch(f"/api/contacts/{zephyrine['id']}", json={"active": True}).status_code == 409
    other = new_meeting(api, world["committee"]["id"], local_in(40)).json()
    invited = api.post(f"/api/meetings/{other['id']}/invitations", json={"contact": zephyrine["id"]})
    assert invited.status_code == 422
    again = api.post(f"/api/contacts/{zephyrine['id']}/erase").json()
    assert again["already_erased"] is True
    assert len(_erasures()) == 1


def test_an_agent_erases_a_contact_from_its_page_after_confirming(api_as, web, make_user):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "DDETS de l'Hérault", "kind": "ddets"}).json()
    contact = api.post("/api/contacts", json={"organisation": org["id"], **ZEPHYRINE}).json()
    agent = make_user("prefecture", "34")
    web.login(agent.email)
    edit = web.get(f"/d/34/contacts/{contact['id']}/modifier")
    assert f"/d/34/contacts/{contact['id']}/effacer" in edit.text
    form = web.get(f"/d/34/contacts/{contact['id']}/effacer")
    assert form.status_code == 200 and "irréversible" in form.text
    unconfirmed = web.post(f"/d/34/contacts/{contact['id']}/effacer", {})
    assert unconfirmed.status_code == 422 and "Cochez la case" in unconfirmed.text
    assert api.get(f"/api/contacts/{contact['id']}").json()["erased"] is False
    done = web.post(f"/d/34/contacts/{contact['id']}/effacer", {"confirmation": "oui"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/d/34/partenaires/{org['id']}"
    page = web.get(f"/d/34/partenaires/{org['id']}")
    assert "Contact effacé" in page.text and "Zéphyrine" not in page.text
    assert "ne peut plus être modifié" in web.get(f"/d/34/contacts/{contact['id']}/modifier").text


def test_an_observer_or_another_department_cannot_erase_a_contact(api_as, web, make_user):
    api = api_as("prefecture", "34")
    org = api.post("/api/organisations", json={"name": "DDETS de l'Hérault", "kind": "ddets"}).json()
    contact = api.post("/api/contacts", json={"organisation": org["id"], **ZEPHYRINE}).json()
    url = f"/api/contacts/{contact['id']}/erase"
    assert api_as("observer", "34").post(url).status_code == 403
    assert api_as("coordinator", "34").post(url).status_code == 403
    assert api_as("prefecture", "93").post(url).status_code == 404
    observer = make_user("observer", "34")
    web.login(observer.email)
    assert web.get(f"/d/34/contacts/{contact['id']}/effacer").status_code == 403
    assert web.post(f"/d/34/contacts/{contact['id']}/effacer", {"confirmation": "oui"}).status_code == 403
    unchanged = api.get(f"/api/contacts/{contact['id']}").json()
    assert unchanged["first_name"] == "Zéphyrine" and unchanged["erased"] is False
    assert api_as("national", None).post(url).json()["contact"]["erased"] is True


@pytest.mark.parametrize("kind", ["invitation", "action", "signature", "feed"])
def test_a_deactivated_contacts_links_and_calendar_stop_working(api_as, client, kind):
    api = api_as("prefecture", "34")
    world = _world(api)
    path, contact_id = world["paths"][kind], world["zephyrine"]["id"]
    assert client.get(path).status_code == 200
    assert api.patch(f"/api/contacts/{contact_id}", json={"active": False}).status_code == 200
    refused = client.get(path)
    if kind == "feed":
        assert refused.status_code == 404 and "BEGIN:VCALENDAR" not in refused.text
        assert "introuvable" in refused.text
    else:
        assert refused.status_code == 410
        text = html.unescape(refused.text)
        assert "n'est plus valable" in text and "Zéphyrine" not in text and "Protection des mineurs" not in text
        assert (
            client.post(path, data={"answer": "accepted", "comment": "x", "signed_on": "2026-01-01"}).status_code == 410
        )
    # A deactivation is not an erasure: back in office, the same links work again.
    assert api.patch(f"/api/contacts/{contact_id}", json={"active": True}).status_code == 200
    assert client.get(path).status_code == 200


def test_a_deactivated_invitee_gets_no_more_mail_about_the_meeting(api_as):
    api = api_as("prefecture", "34")
    world = _world(api)
    meeting = api.get(f"/api/meetings/{world['meeting']['id']}").json()["meeting"]
    api.patch(f"/api/contacts/{world['zephyrine']['id']}", json={"active": False})
    before = len(_outbox())
    assert api.post(f"/api/meetings/{meeting['id']}/cancel", json={"version": meeting["version"]}).status_code == 200
    cancellations = _outbox(kind="cancellation")
    assert len(cancellations) == len(_outbox()) - before == 2
    assert all("quilleboeuf" not in (r["to_email"] + r["calendar"]).lower() for r in cancellations)


# -- retention of sent mails ------------------------------------------------------------------------

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def _mail(key: str, status: str, *, sent_days_ago: int | None, created_days_ago: int = 0) -> int:
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage

    row = outbox.message(
        dedupe_key=key,
        kind="convocation",
        to_email="camille@asso34.fr",
        to_name="Camille Martin",
        subject=f"Convocation {key}",
        text="Bonjour Camille Martin",
        html="<p>Bonjour</p>",
        calendar=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        calendar_method="REQUEST",
    )
    row.status = status
    row.created_at = NOW - dt.timedelta(days=created_days_ago)
    row.sent_at = NOW - dt.timedelta(days=sent_days_ago) if sent_days_ago is not None else None
    return run(OutboxMessage.insert(row).returning(OutboxMessage.id))[0]["id"]


def test_sent_mails_lose_their_content_after_the_retention_and_are_never_sent_again(db):
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage
    from coord.privacy import retention

    old = _mail("old-sent", "sent", sent_days_ago=91, created_days_ago=92)
    recent = _mail("recent-sent", "sent", sent_days_ago=89, created_days_ago=89)
    pending = _mail("old-pending", "pending", sent_days_ago=None, created_days_ago=200)
    failed = _mail("old-failed", "failed", sent_days_ago=None, created_days_ago=200)
    counts = run(outbox.counts())

    assert run(retention.purge_sent(NOW)) == 1
    rows = {r["id"]: r for r in run(OutboxMessage.select())}
    assert (rows[old]["body_text"], rows[old]["body_html"], rows[old]["calendar"]) == ("", "", "")
    assert rows[old]["purged_at"] is not None and rows[old]["status"] == "sent"
    assert rows[old]["dedupe_key"] == "old-sent" and rows[old]["sent_at"] is not None
    for kept in (recent, pending, failed):
        assert rows[kept]["body_text"] == "Bonjour Camille Martin" and rows[kept]["calendar"].startswith("BEGIN")
        assert rows[kept]["purged_at"] is None
    # Idempotent; the counts stay; the purged mail is not queued again.
    assert run(retention.purge_sent(NOW)) == 0
    assert run(retention.purge_sent(NOW + dt.timedelta(hours=23))) == 0
    assert run(outbox.counts()) == counts
    assert (
        run(
            outbox.queue(
                dedupe_key="old-sent",
                kind="convocation",
                to_email="camille@asso34.fr",
                to_name="",
                subject="Convocation",
                text="Bonjour",
            )
        )
        is False
    )
    # The next day the mail that reached the retention goes too; a retention of 0 keeps everything.
    assert run(retention.purge_sent(NOW + dt.timedelta(days=2), retention_days=0)) == 0
    assert run(retention.purge_sent(NOW + dt.timedelta(days=2))) == 1
    assert (
        run(OutboxMessage.select(OutboxMessage.body_text).where(OutboxMessage.id == pending).first())["body_text"]
        == "Bonjour Camille Martin"
    )


def test_the_retention_job_reads_only_what_is_due_through_its_index(db):
    from coord.core.db import current_engine, is_sqlite
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage
    from coord.privacy import retention

    # Ten years of mails already purged, and one that is due.
    history = []
    for n in range(3000):
        row = outbox.message(
            dedupe_key=f"history-{n}",
            kind="convocation",
            to_email="camille@asso34.fr",
            to_name="",
            subject="Convocation",
            text="",
        )
        row.status, row.sent_at, row.purged_at = "sent", NOW - dt.timedelta(days=100 + n), NOW
        history.append(row)
    for start in range(0, len(history), 500):
        run(OutboxMessage.insert(*history[start : start + 500]))
    _mail("old-sent", "sent", sent_days_ago=91)
    run(current_engine().run_ddl("ANALYZE outbox_message"))
    query = retention.due_query(NOW - dt.timedelta(days=90)).querystrings[0]

    async def plan() -> str:
        explain = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
        rows = await OutboxMessage.raw(explain + "{}", query)
        return " ".join(str(r.get("detail") or r.get("QUERY PLAN")) for r in rows)

    text = run(plan())
    assert "outbox_message_retention" in text, text
    assert "SCAN outbox_message\n" not in text + "\n" and "Seq Scan" not in text  # never the whole table


def test_the_retention_is_a_documented_setting(tmp_path):
    from coord.core.settings import ROOT, Settings, load_settings

    assert Settings().mail_retention_days == 90
    assert "mail_retention_days = 90" in (ROOT / "config" / "coord.toml").read_text(encoding="utf-8")
    assert (
        load_settings(
            ROOT / "config", {"COORD_MAIL_RETENTION_DAYS": "30", "COORD_SECRET_KEY": "x" * 32}
        ).mail_retention_days
        == 30
    )
