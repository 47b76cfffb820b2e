"""Committees planned once as a series: occurrences created ahead as draft meetings, holiday moves
said, the same wall-clock time in summer and winter, « this and the following », ending, the job."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.conftest import run
from tests.meetings.test_meetings_api import seed_committee

BASE = {
    "title": "CODAF trimestriel",
    "place": "Préfecture, salle 2",
    "freq": "quarterly",
    "mode": "weekday",
    "nth": "2",
    "weekday": "1",
    "start_date": "2027-01-01",
    "start_time": "14:00",
    "duration_minutes": "120",
    "end": "horizon",
}


def _scope(code: str) -> tuple[Any, dict[str, Any]]:
    from coord.access import Scope, system_principal
    from coord.territory.tables import Department

    department = run(Department.select().where(Department.code == code).first())
    return Scope(system_principal("agent de test", department["id"])).within(department["id"]), department


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _create(code: str, committee_id: int, **changes: Any) -> dict[str, Any]:
    from coord.series import service

    scope, department = _scope(code)
    return run(service.create_series(scope, department, committee_id, {**BASE, **changes}, _now()))


def _meetings_of(series_id: int) -> list[dict[str, Any]]:
    from coord.series.tables import SeriesOccurrence

    return run(
        SeriesOccurrence.select(
            *SeriesOccurrence._meta.columns,
            SeriesOccurrence.meeting.starts_at.as_alias("starts_at"),
            SeriesOccurrence.meeting.status.as_alias("status"),
            SeriesOccurrence.meeting.uid.as_alias("uid"),
        )
        .where(SeriesOccurrence.series == series_id)
        .order_by(SeriesOccurrence.position)
    )


def _deliver(sink: Any) -> Any:
    from coord.mail.dispatcher import deliver_all_now
    from coord.mail.smtp import SmtpSettings

    return run(deliver_all_now(smtp_settings=SmtpSettings(host="127.0.0.1", port=sink.port)))


def _calendars(sink: Any) -> list[Any]:
    out = []
    for message in sink.messages:
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                out.append(Calendar.from_ical(part.get_payload(decode=True)))
    return out


def test_quarterly_series_creates_draft_meetings_with_their_own_uid_and_invitees(api_as):
    from coord.meetings.tables import Invitation

    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=3)
    series = _create("34", seed["committee"]["id"])
    assert series["wording"] == "tous les trimestres, le 2e mardi, 14 h 00 – 16 h 00 (Europe/Paris)"
    rows = _meetings_of(series["id"])
    # 12 months ahead from today: four or five quarters.
    assert 4 <= len(rows) <= 5
    assert len({r["uid"] for r in rows}) == len(rows)
    assert all(r["status"] == "draft" for r in rows)
    invited = run(Invitation.count().where(Invitation.meeting == rows[0]["meeting"]))
    assert invited == 3
    # Same wall-clock time in winter (UTC+1) and summer (UTC+2).
    paris = ZoneInfo("Europe/Paris")
    local = [r["starts_at"].astimezone(paris) for r in rows]
    assert {(t.hour, t.minute) for t in local} == {(14, 0)}
    assert {r["starts_at"].astimezone(dt.UTC).hour for r in rows} == {12, 13}
    assert [t.date() for t in local][:2] == [dt.date(2027, 1, 12), dt.date(2027, 4, 13)]


def test_an_occurrence_on_a_public_holiday_moves_to_the_next_working_day_and_says_so(api_as):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    # The last Monday of March 2027 is Easter Monday.
    series = _create(
        "34",
        seed["committee"]["id"],
        freq="monthly",
        interval="1",
        nth="-1",
        weekday="0",
        start_date="2027-03-01",
        end="count",
        count="2",
    )
    rows = _meetings_of(series["id"])
    assert len(rows) == 2
    moved = rows[0]
    assert moved["nominal_date"] == dt.date(2027, 3, 29)
    assert moved["starts_at"].astimezone(ZoneInfo("Europe/Paris")).date() == dt.date(2027, 3, 30)
    assert moved["moved_note"] == ("Déplacée du lundi 29 mars 2027 (Lundi de Pâques, jour férié) au mardi 30 mars 2027")


def test_the_meeting_page_names_the_series_and_its_holiday_move(api_as, web, make_user):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    series = _create(
        "34",
        seed["committee"]["id"],
        freq="monthly",
        interval="1",
        nth="-1",
        weekday="0",
        start_date="2027-03-01",
        end="count",
        count="1",
    )
    moved = _meetings_of(series["id"])[0]
    user = make_user("prefecture", "34")
    web.login(user.email)
    page = web.get(f"/d/34/reunions/{moved['meeting']}")
    assert page.status_code == 200
    assert "Déplacée du lundi 29 mars 2027 (Lundi de Pâques, jour férié) au mardi 30 mars 2027" in page.text
    assert "Modifier cette réunion et les suivantes" in page.text
    committee_page = web.get(f"/d/34/instances/{seed['committee']['id']}")
    assert "Réunions périodiques" in committee_page.text and "tous les mois, le dernier lundi" in committee_page.text


def test_overseas_series_keeps_local_time_and_its_own_holidays(api_as):
    api = api_as("prefecture", "974")
    seed = seed_committee(api, members=1)
    series = _create(
        "974",
        seed["committee"]["id"],
        freq="monthly",
        interval="1",
        mode="month_day",
        month_day="20",
        start_date="2026-12-01",
        start_time="09:00",
        end="count",
        count="2",
    )
    rows = _meetings_of(series["id"])
    assert rows[0]["moved_note"] == (
        "Déplacée du dimanche 20 décembre 2026 (Abolition de l'esclavage, jour férié) au lundi 21 décembre 2026"
    )
    assert rows[0]["starts_at"].astimezone(dt.UTC).hour == 5  # 09:00 at UTC+4
    assert "(Indian/Reunion)" in series["wording"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"freq": "weekly", "interval": "0"}, "interval", "1 à 26 semaines"),
        ({"freq": "weekly", "interval": "500"}, "interval", "1 à 26 semaines"),
        ({"end": "until", "until": "2026-12-31"}, "until", "antérieure"),
        ({"end": "count", "count": "0"}, "count", "entre 1 et 120"),
        ({"end": "count", "count": "5000"}, "count", "entre 1 et 120"),
        ({"weekday": "9"}, "weekday", "Jour de la semaine inconnu"),
        (
            {"freq": "weekly", "interval": "1", "weekday": "6", "start_date": "2027-03-28", "start_time": "02:30"},
            "start_time",
            "n'existe pas",
        ),
        ({"end": "until", "until": "2027-01-05"}, "start_date", "aucune réunion"),
    ],
)
def test_bad_rules_are_refused_in_french_and_nothing_is_stored(api_as, changes, field, words):
    from coord.core.errors import ValidationFailed
    from coord.meetings.tables import Meeting
    from coord.series.tables import MeetingSeries

    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    with pytest.raises(ValidationFailed) as caught:
        _create("34", seed["committee"]["id"], **changes)
    assert words in caught.value.errors[field]
    assert run(MeetingSeries.count()) == 0 and run(Meeting.count()) == 0


def test_the_extension_job_creates_what_is_due_once(api_as):
    from coord.app.jobs import DUE_WORK
    from coord.series.tables import MeetingSeries
    from coord.series.tasks import extend_series

    assert ("series", extend_series) in DUE_WORK
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    series = _create("34", seed["committee"]["id"], freq="weekly", interval="4", weekday="2")
    before = len(_meetings_of(series["id"]))
    assert run(extend_series(_now())) == 0  # nothing due yet
    later = _now() + dt.timedelta(days=31)
    created = run(extend_series(later))
    assert created >= 1
    assert len(_meetings_of(series["id"])) == before + created
    assert run(extend_series(later)) == 0  # a second run (another instance, a restart) creates nothing
    # Two instances extending the same series at once: the unique position claims it once.
    from coord.series import service

    scope, _ = _scope("34")
    run(MeetingSeries.update({MeetingSeries.generated: 0}).where(MeetingSeries.id == series["id"]))
    assert run(service.extend(scope, series["id"], later)) == 0
    positions = [r["position"] for r in _meetings_of(series["id"])]
    assert len(positions) == len(set(positions))


def test_ending_a_series_cancels_drafts_and_sends_cancels_once(api_as, smtp_sink):
    from coord.core.errors import Conflict
    from coord.meetings import service as meetings
    from coord.series import service

    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    # From the first of next month: its second Tuesday is at least eight days away, time to convene.
    start = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1).isoformat()
    series = _create("34", seed["committee"]["id"], start_date=start)
    rows = _meetings_of(series["id"])
    scope, _ = _scope("34")
    first = rows[0]
    run(meetings.convene(scope, first["meeting"], {}))
    uid = first["uid"]
    _deliver(smtp_sink)
    smtp_sink.clear()
    cancelled = run(service.end_series(scope, series["id"], {"from_date": start}, _now()))
    assert cancelled == len(rows)
    assert all(r["status"] == "cancelled" for r in _meetings_of(series["id"]))
    report = _deliver(smtp_sink)
    assert report.sent == 2  # the convened occurrence's two invitees; drafts mail nobody
    for calendar in _calendars(smtp_sink):
        assert str(calendar["METHOD"]) == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == uid and int(event["SEQUENCE"]) >= 2
    smtp_sink.clear()
    with pytest.raises(Conflict) as caught:
        run(service.end_series(scope, series["id"], {"from_date": start}, _now()))
    assert "déjà terminée" in caught.value.message
    run(service.extend_due(_now() + dt.timedelta(days=400)))
    assert _deliver(smtp_sink).sent == 0 and not smtp_sink.messages


def test_this_and_the_following_splits_the_series_and_updates_convened_meetings(api_as, smtp_sink):
    from coord.meetings import service as meetings
    from coord.series import service
    from coord.series.tables import MeetingSeries

    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=2)
    series = _create("34", seed["committee"]["id"], freq="monthly", interval="1", start_date="2027-01-01")
    rows = _meetings_of(series["id"])
    scope, _ = _scope("34")
    second, third = rows[1], rows[2]
    run(meetings.convene(scope, third["meeting"], {}))
    before = run(meetings.get_meeting(scope, third["meeting"]))
    _deliver(smtp_sink)
    smtp_sink.clear()
    # « Cette réunion seulement »: the agent edits the first meeting by hand; it becomes an exception.
    first = run(meetings.get_meeting(scope, rows[0]["meeting"]))
    run(meetings.update_meeting(scope, first["id"], {"version": first["version"], "place": "Salle du préfet"}))
    count_before = len(rows)
    new = run(
        service.edit_following(
            scope,
            second["meeting"],
            {
                **BASE,
                "freq": "monthly",
                "interval": "1",
                "start_date": "2027-02-01",
                "start_time": "10:00",
                "place": "Hôtel de préfecture",
            },
            _now(),
        )
    )
    old = run(MeetingSeries.select().where(MeetingSeries.id == series["id"]).first())
    assert old["until"] == dt.date(2027, 1, 31)
    assert new["predecessor"] == series["id"]
    moved = run(meetings.get_meeting(scope, third["meeting"]))
    assert moved["uid"] == before["uid"] and moved["sequence"] > before["sequence"]
    assert moved["local_start"].hour == 10 and moved["place"] == "Hôtel de préfecture"
    untouched = run(meetings.get_meeting(scope, first["id"]))
    assert untouched["place"] == "Salle du préfet" and untouched["local_start"].hour == 14
    _deliver(smtp_sink)
    calendars = _calendars(smtp_sink)
    assert len(calendars) == 2
    for calendar in calendars:
        assert str(calendar["METHOD"]) == "REQUEST"
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == before["uid"] and int(event["SEQUENCE"]) == moved["sequence"]
    # No duplicate meeting: the old rows moved to the new series.
    total = len(_meetings_of(series["id"])) + len(_meetings_of(new["id"]))
    assert total == count_before
    # A new rule starting before the previous meeting would overlap it: refused, nothing changed.
    from coord.core.errors import ValidationFailed

    later = _meetings_of(new["id"])[1]
    with pytest.raises(ValidationFailed) as caught:
        run(service.edit_following(scope, later["meeting"], {**BASE, "start_date": "2027-01-05"}, _now()))
    assert "après la réunion précédente" in caught.value.errors["start_date"]
    assert len(_meetings_of(new["id"])) + len(_meetings_of(series["id"])) == count_before


def test_series_pages_create_with_a_preview(api_as, web, make_user):
    api = api_as("prefecture", "34")
    seed = seed_committee(api, members=1)
    user = make_user("prefecture", "34")
    web.login(user.email)
    committee = seed["committee"]["id"]
    preview = web.post(
        f"/d/34/instances/{committee}/series/apercu",
        {**BASE, "start_date": "2027-03-01", "freq": "monthly", "interval": "1", "nth": "-1", "weekday": "0"},
    )
    assert preview.status_code == 200, preview.text
    assert "Lundi de Pâques, jour férié" in preview.text
    bad = web.post(f"/d/34/instances/{committee}/series/apercu", {**BASE, "weekday": "12"})
    assert bad.status_code == 422 and "Jour de la semaine inconnu" in bad.text
    created = web.post(f"/d/34/instances/{committee}/series", {**BASE}, follow_redirects=False)
    assert created.status_code == 303
    page = web.get(f"/d/34/instances/{committee}")
    assert "tous les trimestres, le 2e mardi, 14 h 00 – 16 h 00 (Europe/Paris)" in page.text
