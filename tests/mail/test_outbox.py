"""The durable outbox: queued with the caller's change, deduplicated, claimed with a lease, retried
with back-off, and never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from tests.conftest import run


@pytest.fixture
def outbox_settings(settings: Any) -> Any:
    from coord.core.settings import use_settings

    use_settings(settings)
    return settings


def _queue(key: str, **extra: Any) -> bool:
    from coord.mail import outbox

    fields = {
        "dedupe_key": key,
        "kind": "test",
        "to_email": f"{key.replace(':', '-')}@example.gouv.fr",
        "to_name": "Destinataire",
        "subject": f"Objet {key}",
        "text": "Bonjour",
        **extra,
    }
    return run(outbox.queue(**fields))


def _rows() -> list[dict[str, Any]]:
    from coord.mail.tables import OutboxMessage

    return run(OutboxMessage.select().order_by(OutboxMessage.id))


def _smtp(sink: Any) -> Any:
    from coord.mail.smtp import SmtpSettings

    return SmtpSettings(host="127.0.0.1", port=sink.port, timeout=5)


def test_queue_commits_and_rolls_back_with_the_callers_transaction(db, outbox_settings):
    from coord.core.db import transaction
    from coord.mail import outbox

    async def failing_change() -> None:
        async with transaction():
            assert await outbox.queue(
                dedupe_key="k:rolled-back", kind="t", to_email="a@b.fr", to_name="", subject="s", text="t"
            )
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        run(failing_change())
    assert _rows() == []

    async def good_change() -> None:
        async with transaction():
            await outbox.queue(dedupe_key="k:kept", kind="t", to_email="a@b.fr", to_name="", subject="s", text="t")

    run(good_change())
    rows = _rows()
    assert [r["dedupe_key"] for r in rows] == ["k:kept"]
    assert rows[0]["status"] == "pending" and rows[0]["attempts"] == 0
    assert rows[0]["message_id"].startswith("<") and rows[0]["message_id"].endswith("@prefecture.example.gouv.fr>")


def test_a_duplicate_key_is_skipped_even_when_the_check_misses_it(db, outbox_settings, monkeypatch):
    """Two transactions queuing the same mail: the unique index decides, the loser's transaction
    goes on (a savepoint keeps PostgreSQL's transaction usable)."""
    from coord.core.db import transaction
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage

    assert _queue("dup:1") is True
    assert _queue("dup:1") is False

    class NeverExists:
        def where(self, *_: Any) -> Any:
            async def no() -> bool:
                return False

            return no()

    monkeypatch.setattr(OutboxMessage, "exists", classmethod(lambda cls: NeverExists()))

    async def race() -> list[bool]:
        async with transaction():
            first = await outbox.queue(
                dedupe_key="dup:1", kind="t", to_email="a@b.fr", to_name="", subject="s", text="t"
            )
            second = await outbox.queue(
                dedupe_key="dup:2", kind="t", to_email="a@b.fr", to_name="", subject="s", text="t"
            )
        return [first, second]

    assert run(race()) == [False, True]
    assert [r["dedupe_key"] for r in _rows()] == ["dup:1", "dup:2"]


def test_backoff_doubles_up_to_an_hour_and_gives_up_after_twenty_attempts(db, outbox_settings):
    from coord.mail import outbox

    minutes = [outbox.backoff(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert outbox.backoff(500) == dt.timedelta(hours=1)

    _queue("retry:1")
    now = dt.datetime.now(dt.UTC)
    statuses = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        claimed = run(outbox.claim_due("w", now))
        assert len(claimed) == 1, attempt
        statuses.append(run(outbox.mark_retry(claimed[0]["id"], "451 try later", attempt, worker_id="w", now=now)))
        row = _rows()[0]
        if row["status"] == "pending":
            assert row["next_attempt_at"] == now + outbox.backoff(attempt)
            assert run(outbox.claim_due("w", now + outbox.backoff(attempt) - dt.timedelta(seconds=1))) == []
        now += outbox.backoff(attempt)
    assert statuses[:-1] == ["pending"] * (outbox.MAX_ATTEMPTS - 1) and statuses[-1] == "failed"
    row = _rows()[0]
    assert row["status"] == "failed" and row["attempts"] == outbox.MAX_ATTEMPTS and row["last_error"] == "451 try later"
    assert run(outbox.claim_due("w", now + dt.timedelta(days=1))) == []


def test_a_lease_keeps_rows_from_other_senders_until_it_ends(db, outbox_settings):
    from coord.mail import outbox

    for i in range(5):
        _queue(f"lease:{i}")
    now = dt.datetime.now(dt.UTC)
    first = run(outbox.claim_due("a", now, limit=3))
    second = run(outbox.claim_due("b", now))
    assert [r["dedupe_key"] for r in first] == ["lease:0", "lease:1", "lease:2"]
    assert [r["dedupe_key"] for r in second] == ["lease:3", "lease:4"]
    assert run(outbox.claim_due("c", now)) == []
    # Only the holder marks its row sent; after its lease has ended another sender takes the rest.
    assert run(outbox.mark_sent(first[0]["id"], "b")) is False
    assert run(outbox.mark_sent(first[0]["id"], "a")) is True
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    taken = run(outbox.claim_due("c", later))
    assert [r["dedupe_key"] for r in taken] == ["lease:1", "lease:2", "lease:3", "lease:4"]
    assert run(outbox.mark_sent(first[1]["id"], "a")) is False  # "a" lost it
    assert {r["status"] for r in _rows()} == {"sent", "sending"}


def test_concurrent_claimers_never_share_a_row(db, outbox_settings):
    from coord.mail import outbox

    for i in range(40):
        _queue(f"conc:{i}")
    now = dt.datetime.now(dt.UTC)

    async def claim_all() -> list[list[dict[str, Any]]]:
        return await asyncio.gather(*(outbox.claim_due(f"w{i}", now, limit=7) for i in range(8)))

    batches = run(claim_all())
    ids = [r["id"] for batch in batches for r in batch]
    assert len(ids) == len(set(ids)) == 40


def test_the_claim_reads_the_status_index_not_the_history(db, outbox_settings):
    """The claim's cost follows what is pending, not the sent history."""
    from coord.core.db import is_sqlite
    from coord.mail import outbox
    from coord.mail.tables import OutboxMessage

    now = dt.datetime.now(dt.UTC)
    sent = [
        OutboxMessage(
            dedupe_key=f"old:{i}",
            kind="t",
            to_email="a@b.fr",
            to_name="",
            subject="s",
            body_text="t",
            message_id=f"<{i}@x.fr>",
            status="sent",
            next_attempt_at=now - dt.timedelta(days=1),
        )
        for i in range(3000)
    ]

    async def fill() -> list[str]:
        for start in range(0, len(sent), 500):
            await OutboxMessage.insert(*sent[start : start + 500])
        await OutboxMessage.raw("ANALYZE outbox_message")
        sql = outbox.CLAIM_SQLITE if is_sqlite() else outbox.CLAIM_POSTGRES
        prefix = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
        rows = await OutboxMessage.raw(prefix + sql, "w", now, now, now, 50)
        return [str(r.get("detail") or r.get("QUERY PLAN")) for r in rows]

    plan = "\n".join(run(fill()))
    _queue("due:1")
    assert len(run(outbox.claim_due("w", now + dt.timedelta(seconds=5)))) == 1
    if is_sqlite():
        assert "USING INDEX outbox_message_status" in plan or "USING COVERING INDEX outbox_message_status" in plan, plan
        assert "SCAN outbox_message\n" not in plan + "\n", plan
    else:
        assert "outbox_message_status" in plan and "Seq Scan" not in plan, plan


def test_deliver_sends_each_due_message_once_over_one_connection(db, outbox_settings, smtp_sink):
    from coord.mail.dispatcher import deliver_all_now, deliver_due

    for i in range(3):
        _queue(f"send:{i}", html="<p>Bonjour</p>")
    _queue("later:1", not_before=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    report = run(deliver_due(worker_id="w", smtp_settings=_smtp(smtp_sink)))
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    assert len({env.peer for env in smtp_sink.envelopes}) == 1  # one connection for the batch
    assert run(deliver_all_now(smtp_settings=_smtp(smtp_sink))).sent == 0
    rows = {r["dedupe_key"]: r for r in _rows()}
    assert rows["later:1"]["status"] == "pending"
    for i in range(3):
        row = rows[f"send:{i}"]
        assert row["status"] == "sent" and row["sent_at"] is not None
        message = next(m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == row["to_email"])
        assert message["Message-ID"] == row["message_id"]
        assert message["From"].addresses[0].addr_spec == outbox_settings.organiser_email
        assert message["Reply-To"].addresses[0].addr_spec == outbox_settings.organiser_email


def test_a_refused_recipient_fails_for_good_and_a_greylisted_one_is_retried(db, outbox_settings):
    from coord.mail.dispatcher import deliver_due
    from tests.support.smtp_sink import SmtpSink

    def rcpt(address: str) -> str | None:
        if address.startswith("refused"):
            return "550 5.1.1 Utilisateur inconnu"
        if address.startswith("grey"):
            return "451 4.7.1 Greylisted"
        return None

    with SmtpSink(host="127.0.0.1", port=0, rcpt_status=rcpt) as sink:
        _queue("refused:1")
        _queue("grey:1")
        _queue("ok:1")
        report = run(deliver_due(worker_id="w", smtp_settings=_smtp(sink)))
        assert (report.sent, report.retried, report.failed) == (1, 1, 1)
        rows = {r["dedupe_key"]: r for r in _rows()}
        assert rows["refused:1"]["status"] == "failed" and "550" in rows["refused:1"]["last_error"]
        assert rows["grey:1"]["status"] == "pending" and rows["grey:1"]["attempts"] == 1
        assert rows["ok:1"]["status"] == "sent"
        assert [e.rcpt_tos for e in sink.envelopes] == [("ok-1@example.gouv.fr",)]


def test_an_smtp_outage_is_retried_and_nothing_is_sent_twice(db, outbox_settings, smtp_sink):
    from coord.mail.dispatcher import deliver_due
    from coord.mail.tables import OutboxMessage

    for i in range(4):
        _queue(f"outage:{i}")
    smtp = _smtp(smtp_sink)
    smtp_sink.stop()
    now = dt.datetime.now(dt.UTC)
    report = run(deliver_due(now, worker_id="w", smtp_settings=smtp))
    assert (report.sent, report.retried) == (0, 4)
    assert all(r["status"] == "pending" and r["attempts"] == 1 for r in _rows())
    assert all(r["next_attempt_at"] == now + dt.timedelta(minutes=1) for r in _rows())
    assert run(deliver_due(now + dt.timedelta(seconds=30), worker_id="w", smtp_settings=smtp)).retried == 0
    smtp_sink.start()
    report = run(deliver_due(now + dt.timedelta(minutes=1), worker_id="w", smtp_settings=smtp))
    assert report.sent == 4
    assert run(deliver_due(now + dt.timedelta(hours=2), worker_id="w", smtp_settings=smtp)).sent == 0
    recipients = [r for env in smtp_sink.envelopes for r in env.rcpt_tos]
    assert len(recipients) == len(set(recipients)) == 4
    assert run(OutboxMessage.count().where(OutboxMessage.status == "sent")) == 4


def test_a_crashed_workers_rows_are_sent_once_after_the_lease(db, outbox_settings, smtp_sink):
    from coord.mail import outbox
    from coord.mail.dispatcher import deliver_due

    for i in range(3):
        _queue(f"crash:{i}")
    now = dt.datetime.now(dt.UTC)
    assert len(run(outbox.claim_due("dead-worker", now))) == 3  # then the process died
    assert run(deliver_due(now + dt.timedelta(minutes=1), worker_id="w", smtp_settings=_smtp(smtp_sink))).sent == 0
    later = now + outbox.LEASE + dt.timedelta(seconds=1)
    assert run(deliver_due(later, worker_id="w", smtp_settings=_smtp(smtp_sink))).sent == 3
    assert run(deliver_due(later + outbox.LEASE * 2, worker_id="w2", smtp_settings=_smtp(smtp_sink))).sent == 0
    assert len(smtp_sink.messages) == 3
    assert {r["claimed_by"] for r in _rows()} == {"w"}


def test_the_background_dispatcher_wakes_up_when_notified(db, outbox_settings, smtp_sink):
    from coord.mail.dispatcher import OutboxDispatcher

    async def scenario() -> int:
        dispatcher = OutboxDispatcher(interval=3600, smtp_settings=_smtp(smtp_sink), worker_id="bg")
        dispatcher.start()
        try:
            await asyncio.sleep(0.2)  # first round: nothing due
            from coord.mail import outbox

            await outbox.queue(
                dedupe_key="bg:1", kind="t", to_email="bg@example.gouv.fr", to_name="", subject="s", text="t"
            )
            dispatcher.notify()
            for _ in range(100):
                if smtp_sink.received:
                    break
                await asyncio.sleep(0.05)
            return smtp_sink.received
        finally:
            await dispatcher.stop()
            assert not dispatcher.running

    assert run(scenario()) == 1
