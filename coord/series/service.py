"""Series of meetings: creation (with a preview), extension up to the horizon, « this and the
following » edits (a split), and ending. Meetings are created, moved and cancelled only through
`coord.meetings.service`, so each occurrence has its own UID, agenda, invitations and mails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from coord.access import Scope, department_of, system_principal
from coord.access.roles import Permission
from coord.audit import log as audit
from coord.committees.tables import Committee
from coord.core.db import transaction
from coord.core.errors import Conflict, NotFound, ValidationFailed
from coord.meetings import service as meetings
from coord.meetings.tables import Meeting
from coord.series import rules
from coord.series.tables import MeetingSeries, SeriesOccurrence

PREVIEW_SIZE = 6
EXTEND_EVERY = dt.timedelta(days=30)  # the horizon is topped up monthly
LIVE = ("draft", "convened")


def _local_today(now: dt.datetime, tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(tz)).date()


def _text(data: Mapping[str, Any], name: str, errors: dict[str, str], limit: int, required: bool) -> str:
    value = " ".join(str(data.get(name) or "").split()) if name == "title" else str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = "Ce champ est obligatoire."
    elif len(value) > limit:
        errors[name] = f"{limit} caractères au plus."
    return value


def read_series(data: Mapping[str, Any], tz: str, subdivision: str | None) -> tuple[rules.Rule, str, str]:
    """The rule, title and place of a form; every error at once, in French."""
    errors: dict[str, str] = {}
    title = _text(data, "title", errors, 200, True)
    place = _text(data, "place", errors, 1000, True)
    try:
        rule = rules.read_rule(data)
    except ValidationFailed as exc:
        raise ValidationFailed({**errors, **exc.errors}, exc.message) from None
    if errors:
        raise ValidationFailed(errors, "La série n'a pas pu être enregistrée : corrigez les champs signalés.")
    first = rules.occurrences(rule, tz, subdivision, limit=1)
    if not first:
        raise ValidationFailed({"start_date": "Cette règle ne produit aucune réunion : vérifiez le début et la fin."})
    return rule, title, place


def preview(department: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    tz, sub = department["timezone"], department["holiday_subdivision"]
    rule, title, place = read_series(data, tz, sub)
    return {
        "rule": rule,
        "title": title,
        "place": place,
        "wording": rules.describe(rule, tz),
        "occurrences": rules.occurrences(rule, tz, sub, limit=PREVIEW_SIZE),
    }


async def _committee(scope: Scope, department: Mapping[str, Any], committee_id: int) -> dict[str, Any]:
    committee = await scope.get(Committee, committee_id)
    scope.require_in(committee, department)
    return committee


def _row_values(rule: rules.Rule) -> dict[str, Any]:
    return {
        "freq": rule.freq,
        "interval": rule.interval,
        "weekday": rule.weekday,
        "nth": rule.nth,
        "month_day": rule.month_day,
        "start_date": rule.start_date,
        "start_time": rule.start_time.strftime("%H:%M"),
        "duration_minutes": rule.duration_minutes,
        "until": rule.until,
        "max_count": rule.count,
    }


async def create_series(
    scope: Scope,
    department: Mapping[str, Any],
    committee_id: int,
    data: Mapping[str, Any],
    now: dt.datetime,
    *,
    predecessor: int | None = None,
) -> dict[str, Any]:
    scope.require(Permission.MANAGE, department["id"])
    committee = await _committee(scope, department, committee_id)
    if not committee["active"]:
        raise ValidationFailed({"committee": "Cette instance est inactive : réactivez-la avant de planifier."})
    rule, title, place = read_series(data, department["timezone"], department["holiday_subdivision"])
    async with transaction():
        row = (
            await MeetingSeries.insert(
                MeetingSeries(
                    department=department["id"],
                    committee=committee_id,
                    title=title,
                    place=place,
                    predecessor=predecessor,
                    next_extension_due=now,
                    **_row_values(rule),
                )
            ).returning(*MeetingSeries._meta.columns)
        )[0]
        await audit.record(
            scope.principal,
            "create",
            "meeting_series",
            row["id"],
            department_id=department["id"],
            summary=f"Série « {title} » : {rules.describe(rule, department['timezone'])}",
        )
        await extend(scope, row["id"], now)
    return await get_series(scope, row["id"])


def series_out(row: Mapping[str, Any], tz: str) -> dict[str, Any]:
    rule = rules.rule_of(row)
    ended = rules.format_date_fr(row["ended_from"]) if row.get("ended_from") else ""
    return {**row, "wording": rules.describe(rule, tz), "rule": rule, "ended_label": ended}


async def get_series(scope: Scope, series_id: int) -> dict[str, Any]:
    row = await scope.get(MeetingSeries, series_id, *MeetingSeries._meta.columns, MeetingSeries.department.timezone)
    return series_out(row, row["department.timezone"])


async def committee_series(scope: Scope, committee_id: int, tz: str) -> list[dict[str, Any]]:
    rows = await (
        scope.select(MeetingSeries, *MeetingSeries._meta.columns)
        .where(MeetingSeries.committee == committee_id)
        .order_by(MeetingSeries.start_date)
        .order_by(MeetingSeries.id)
    )
    out = []
    for row in rows:
        item = series_out(row, tz)
        item["upcoming"] = await occurrences_of(scope, row["id"], limit=4)
        out.append(item)
    return out


async def occurrences_of(scope: Scope, series_id: int, *, limit: int = 400) -> list[dict[str, Any]]:
    return await (
        scope.select(
            SeriesOccurrence,
            *SeriesOccurrence._meta.columns,
            SeriesOccurrence.meeting.status.as_alias("status"),
            SeriesOccurrence.meeting.starts_at.as_alias("starts_at"),
        )
        .where((SeriesOccurrence.series == series_id) & SeriesOccurrence.cancelled.eq(False))
        .order_by(SeriesOccurrence.position)
        .limit(limit)
    )


# -- extension ----------------------------------------------------------------------------------
async def extend(scope: Scope, series_id: int, now: dt.datetime) -> int:
    """Create the occurrences up to the horizon not created yet; returns how many. Idempotent:
    the (series, position) unique index makes a second instance's insert a no-op."""
    row = await scope.get(
        MeetingSeries,
        series_id,
        *MeetingSeries._meta.columns,
        MeetingSeries.department.code.as_alias("code"),
        MeetingSeries.department.timezone.as_alias("tz"),
        MeetingSeries.department.holiday_subdivision.as_alias("sub"),
    )
    if row["ended_at"] is not None:
        return 0
    rule = rules.rule_of(row)
    horizon = rules.add_months(_local_today(now, row["tz"]), row["horizon_months"])
    pending = rules.occurrences(rule, row["tz"], row["sub"], first=row["generated"], horizon=horizon)
    created = 0
    async with transaction():
        for occ in pending:
            if occ.starts_at <= now:
                continue  # never create a meeting in the past (a series started earlier)
            claimed = await (
                SeriesOccurrence.insert(
                    SeriesOccurrence(
                        department=row["department"],
                        series=series_id,
                        position=occ.position,
                        nominal_date=occ.nominal,
                        moved_note=occ.note,
                        planned_start=occ.starts_at,
                        planned_end=occ.ends_at,
                        planned_place=row["place"],
                    )
                )
                .on_conflict(action="DO NOTHING")
                .returning(SeriesOccurrence.id)
            )
            if not claimed:
                continue
            meeting = await meetings.create_meeting(
                scope,
                {
                    "department": row["code"],
                    "committee": row["committee"],
                    "title": row["title"],
                    "place": row["place"],
                    "starts_at": occ.starts_at.isoformat(),
                    "ends_at": occ.ends_at.isoformat(),
                    "confirm_day": True,
                },
            )
            await SeriesOccurrence.update({SeriesOccurrence.meeting: meeting["id"]}).where(
                SeriesOccurrence.id == claimed[0]["id"]
            )
            created += 1
        generated = row["generated"] + len(pending)
        remaining = rules.occurrences(rule, row["tz"], row["sub"], first=generated, limit=1)
        due = now + EXTEND_EVERY if remaining else None
        await MeetingSeries.update({MeetingSeries.generated: generated, MeetingSeries.next_extension_due: due}).where(
            (MeetingSeries.id == series_id) & (MeetingSeries.generated == row["generated"])
        )
        if created:
            await audit.record(
                scope.principal,
                "extend",
                "meeting_series",
                series_id,
                department_id=row["department"],
                summary=f"Série « {row['title']} » : {created} réunion(s) créée(s)",
            )
    return created


async def extend_due(now: dt.datetime, *, batch: int = 100) -> int:
    """The scheduler's job: the series whose next extension is due (indexed), nothing else."""
    rows = await (
        MeetingSeries.select(MeetingSeries.id, MeetingSeries.department)
        .where((MeetingSeries.next_extension_due <= now) & MeetingSeries.ended_at.is_null())
        .order_by(MeetingSeries.next_extension_due)
        .limit(batch)
    )
    created = 0
    for row in rows:
        scope = Scope(system_principal("extension des séries", row["department"])).within(row["department"])
        created += await extend(scope, row["id"], now)
    return created


# -- ending -------------------------------------------------------------------------------------
async def end_series(scope: Scope, series_id: int, data: Mapping[str, Any], now: dt.datetime) -> int:
    """End the series from a date: its later live meetings are cancelled (convened ones send a
    CANCEL through the meetings service), exactly once. Returns how many were cancelled."""
    series = await get_series(scope, series_id)
    scope.require(Permission.MANAGE, series["department"])
    if series["ended_at"] is not None:
        raise Conflict(f"Cette série est déjà terminée (depuis le {rules.format_date_fr(series['ended_from'])}).")
    errors: dict[str, str] = {}
    tz = series["department.timezone"]
    start = rules._date(data, "from_date", errors) or (None if errors else _local_today(now, tz))
    if errors or start is None:
        raise ValidationFailed(errors or {"from_date": "Indiquez la date de fin."})
    cancelled = 0
    async with transaction():
        claimed = await (
            MeetingSeries.update(
                {
                    MeetingSeries.ended_at: now,
                    MeetingSeries.ended_from: start,
                    MeetingSeries.next_extension_due: None,
                    MeetingSeries.version: MeetingSeries.version + 1,
                }
            )
            .where((MeetingSeries.id == series_id) & MeetingSeries.ended_at.is_null())
            .returning(MeetingSeries.id)
        )
        if not claimed:
            raise Conflict("Cette série est déjà terminée.")
        for occ in await occurrences_of(scope, series_id):
            if occ["meeting"] is None or occ["status"] not in LIVE or _local(occ["starts_at"], tz) < start:
                continue
            await meetings.cancel(scope, occ["meeting"], {}, clock=None)
            await SeriesOccurrence.update({SeriesOccurrence.cancelled: True}).where(SeriesOccurrence.id == occ["id"])
            cancelled += 1
        await audit.record(
            scope.principal,
            "end",
            "meeting_series",
            series_id,
            department_id=series["department"],
            summary=f"Série « {series['title']} » terminée à partir du {rules.format_date_fr(start)} "
            f"({cancelled} réunion(s) annulée(s))",
        )
    return cancelled


def _local(value: dt.datetime, tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).date()


# -- the occurrence of a meeting, and « this and the following » ----------------------------------
async def occurrence_of_meeting(scope: Scope, meeting_id: int) -> dict[str, Any] | None:
    return await (
        scope.select(SeriesOccurrence, *SeriesOccurrence._meta.columns)
        .where(SeriesOccurrence.meeting == meeting_id)
        .first()
    )


def is_exception(occ: Mapping[str, Any], meeting: Mapping[str, Any]) -> bool:
    """The agent edited this meeting by hand: the series will not overwrite it."""
    return (
        meeting["starts_at"] != occ["planned_start"]
        or meeting["ends_at"] != occ["planned_end"]
        or meeting["place"] != occ["planned_place"]
    )


async def edit_following(scope: Scope, meeting_id: int, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Split the series at this occurrence: the old one ends before it, a new one (the edited
    rule) starts there and takes over the following occurrences, moved through the meetings
    service (convened ones get an updated REQUEST with a higher SEQUENCE)."""
    occ = await occurrence_of_meeting(scope, meeting_id)
    if occ is None:
        raise NotFound()
    old = await get_series(scope, occ["series"])
    scope.require(Permission.MANAGE, old["department"])
    if old["ended_at"] is not None:
        raise Conflict("Cette série est terminée : elle ne peut plus être modifiée.")
    department = await department_of(old)
    tz, sub = department["timezone"], department["holiday_subdivision"]
    merged = {"title": old["title"], **{k: v for k, v in data.items() if v not in (None, "")}}
    rule, title, place = read_series(merged, tz, sub)
    following = [
        o for o in await occurrences_of(scope, old["id"]) if o["position"] >= occ["position"] and o["status"] in LIVE
    ]
    earlier = [o["nominal_date"] for o in await occurrences_of(scope, old["id"]) if o["position"] < occ["position"]]
    if earlier and rule.start_date <= max(earlier):
        raise ValidationFailed(
            {
                "start_date": "La nouvelle règle doit commencer après la réunion précédente de la série "
                f"(le {rules.format_date_fr(max(earlier))}) : elle ne change que cette réunion et les suivantes."
            }
        )
    async with transaction():
        # The old series ends before this occurrence (or before the new start, if earlier).
        until = min(rule.start_date, occ["nominal_date"]) - dt.timedelta(days=1)
        if until < old["start_date"]:
            until = old["start_date"]
        await MeetingSeries.update(
            {
                MeetingSeries.until: until,
                MeetingSeries.max_count: None,
                MeetingSeries.next_extension_due: None,
                MeetingSeries.version: MeetingSeries.version + 1,
            }
        ).where(MeetingSeries.id == old["id"])
        row = (
            await MeetingSeries.insert(
                MeetingSeries(
                    department=old["department"],
                    committee=old["committee"],
                    title=title,
                    place=place,
                    predecessor=old["id"],
                    horizon_months=old["horizon_months"],
                    next_extension_due=now,
                    **_row_values(rule),
                )
            ).returning(MeetingSeries.id)
        )[0]
        horizon = rules.add_months(_local_today(now, tz), old["horizon_months"])
        planned = [o for o in rules.occurrences(rule, tz, sub, horizon=horizon) if o.starts_at > now]
        for index, current in enumerate(following):
            meeting = await meetings.get_meeting(scope, current["meeting"])
            if index >= len(planned):
                await meetings.cancel(scope, current["meeting"], {})
                await SeriesOccurrence.update({SeriesOccurrence.cancelled: True}).where(
                    SeriesOccurrence.id == current["id"]
                )
                continue
            target = planned[index]
            values: dict[Any, Any] = {
                SeriesOccurrence.series: row["id"],
                SeriesOccurrence.position: target.position,
                SeriesOccurrence.nominal_date: target.nominal,
            }
            # A hand-edited meeting (other than the one being edited) keeps its own settings.
            if current["meeting"] == meeting_id or not is_exception(current, meeting):
                changes = {
                    "version": meeting["version"],
                    "starts_at": target.starts_at.isoformat(),
                    "ends_at": target.ends_at.isoformat(),
                    "place": place,
                    "title": title,
                    "confirm_day": True,
                }
                await meetings.update_meeting(scope, current["meeting"], changes)
                values.update(
                    {
                        SeriesOccurrence.moved_note: target.note,
                        SeriesOccurrence.planned_start: target.starts_at,
                        SeriesOccurrence.planned_end: target.ends_at,
                        SeriesOccurrence.planned_place: place,
                    }
                )
            await SeriesOccurrence.update(values).where(SeriesOccurrence.id == current["id"])
        generated = min(len(following), len(planned))
        first_position = planned[generated - 1].position + 1 if generated else 0
        await MeetingSeries.update({MeetingSeries.generated: first_position}).where(MeetingSeries.id == row["id"])
        await audit.record(
            scope.principal,
            "split",
            "meeting_series",
            old["id"],
            department_id=old["department"],
            summary=f"Série « {old['title']} » modifiée à partir du {rules.format_date_fr(rule.start_date)} : "
            f"nouvelle série n° {row['id']} ({rules.describe(rule, tz)})",
        )
        await extend(scope, row["id"], now)
    return await get_series(scope, row["id"])


async def meeting_row(meeting_id: int) -> dict[str, Any] | None:
    return await Meeting.select(Meeting.id, Meeting.status).where(Meeting.id == meeting_id).first()
