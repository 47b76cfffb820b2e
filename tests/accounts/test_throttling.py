"""Failed sign-ins slow the next attempt down, per address and IP, per IP and per address, instead of
refusing the right password; every failure and every delay is in the audit with the IP.

Time is the process clock, frozen and moved by the tests: waiting is instant."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from coord.accounts import throttle
from coord.accounts.signin import SignInDelayed, SignInRefused, authenticate
from coord.accounts.tables import LoginAttempt, User, UserSession
from coord.audit.tables import AuditEntry
from coord.core.clock import FrozenClock, use_clock
from coord.core.settings import Settings
from tests.conftest import PASSWORD, run

ATTACKER_IP = "203.0.113.66"
OWN_IP = "198.51.100.7"
PREFECTURE_IP = "192.0.2.34"


@pytest.fixture
def frozen() -> Iterator[FrozenClock]:
    clock = FrozenClock(dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC))
    previous = use_clock(clock)
    yield clock
    use_clock(previous)


def attempt(settings: Any, email: str, password: str, ip: str) -> tuple[str, Any]:
    """("signed in", principal), ("refused", message) or ("delayed", seconds)."""
    try:
        return "signed in", run(authenticate(email, password, ip, settings=settings))
    except SignInRefused as refused:
        return "refused", refused.message
    except SignInDelayed as delayed:
        return "delayed", delayed.seconds


def fail_until_delayed(settings: Any, email: str, ip: str) -> tuple[int, int]:
    """Wrong passwords until one is delayed: (failures, seconds of the delay)."""
    failures = 0
    while (outcome := attempt(settings, email, "pas-le-bon-mot-de-passe", ip))[0] == "refused":
        failures += 1
    assert outcome[0] == "delayed"
    return failures, outcome[1]


def guess_patiently(settings: Any, clock: FrozenClock, email: str, ip: str, failures: int) -> None:
    """An attacker who waits exactly as long as told, until `failures` wrong guesses were checked."""
    checked = 0
    while checked < failures:
        outcome, value = attempt(settings, email, "essai-de-devinette", ip)
        if outcome == "delayed":
            clock.advance(seconds=value)
        else:
            assert outcome == "refused"
            checked += 1


def audit_rows(action: str) -> list[dict[str, Any]]:
    return run(AuditEntry.select().where(AuditEntry.action == action).order_by(AuditEntry.id).output(load_json=True))


def test_the_wait_doubles_with_each_failure_beyond_the_free_attempts(settings, make_user, frozen):
    user = make_user()
    waits = []
    for _ in range(4):
        failures, seconds = fail_until_delayed(settings, user.email, ATTACKER_IP)
        assert failures == (settings.login_max_failures if not waits else 1)
        waits.append(seconds)
        frozen.advance(seconds=seconds - 0.5)
        assert attempt(settings, user.email, PASSWORD, ATTACKER_IP) == ("delayed", 1)  # not yet: not checked
        frozen.advance(seconds=0.5)
    assert waits == [1, 2, 4, 8]


def test_the_waits_stop_growing_at_their_caps():
    settings = Settings()
    pair, by_ip, by_address = throttle.rules(settings)
    assert throttle.delay_after(pair.free - 1, pair) == dt.timedelta(0)
    assert throttle.delay_after(pair.free, pair) == dt.timedelta(seconds=1)
    assert throttle.delay_after(pair.free + 100, pair) == dt.timedelta(minutes=15)
    assert throttle.delay_after(by_address.free + 100, by_address) == dt.timedelta(seconds=60)
    assert by_ip.free > pair.free  # a prefecture signs in from one address


def test_the_right_password_works_from_the_same_ip_once_the_wait_has_passed(settings, make_user, frozen):
    user = make_user()
    guess_patiently(settings, frozen, user.email, OWN_IP, settings.login_max_failures + 3)
    outcome, seconds = attempt(settings, user.email, PASSWORD, OWN_IP)
    assert (outcome, seconds) == ("delayed", 8)
    frozen.advance(seconds=seconds)
    outcome, principal = attempt(settings, user.email, PASSWORD, OWN_IP)
    assert outcome == "signed in"
    assert principal.email == user.email and principal.role.value == "prefecture"
    last_login = run(User.select(User.last_login_at).where(User.email == user.email).first())["last_login_at"]
    assert last_login == frozen.now()
    # Signing in forgot that IP's failures on the address: the next mistake is free again.
    assert attempt(settings, user.email, "faute-de-frappe", OWN_IP)[0] == "refused"
    assert attempt(settings, user.email, PASSWORD, OWN_IP)[0] == "signed in"


def test_an_attack_from_one_ip_does_not_shut_the_person_out_from_their_own(settings, make_user, frozen):
    user = make_user()
    guess_patiently(settings, frozen, user.email, ATTACKER_IP, 16)  # the attacker now waits 15 minutes
    outcome, attacker_wait = attempt(settings, user.email, "encore-un-essai", ATTACKER_IP)
    assert (outcome, attacker_wait) == ("delayed", 15 * 60)

    # Right after the attacker's last guess, the person waits at most the address's short cap.
    outcome, seconds = attempt(settings, user.email, PASSWORD, OWN_IP)
    assert outcome == "delayed" and seconds <= 60
    frozen.advance(seconds=seconds)
    assert attempt(settings, user.email, PASSWORD, OWN_IP)[0] == "signed in"
    # The attacker is still slowed down: the person's success cleared only their own IP.
    assert attempt(settings, user.email, "encore-un-essai", ATTACKER_IP)[0] == "delayed"


def test_a_machine_the_person_signed_in_from_before_is_not_slowed_by_attacks_elsewhere(settings, make_user, frozen):
    user = make_user()
    user_id = run(User.select(User.id).where(User.email == user.email).first())["id"]
    run(
        UserSession.insert(
            UserSession(
                token_hash="0" * 64,
                user=user_id,
                method="password",
                created_at=frozen.now() - dt.timedelta(days=3),
                expires_at=frozen.now() - dt.timedelta(days=2),
                ended_at=frozen.now() - dt.timedelta(days=2),
                ip=OWN_IP,
            )
        )
    )
    # A distributed attack: a new IP every two guesses, each waiting as long as told.
    guesses = 0
    while guesses < 12:
        outcome, seconds = attempt(settings, user.email, "essai-de-devinette", f"203.0.113.{guesses // 2}")
        if outcome == "delayed":
            frozen.advance(seconds=seconds)
        else:
            guesses += 1
    assert attempt(settings, user.email, "essai-de-devinette", "203.0.113.200")[0] == "delayed"
    assert attempt(settings, user.email, PASSWORD, OWN_IP)[0] == "signed in"


def test_trying_many_addresses_from_one_ip_gets_delayed_but_not_colleagues_elsewhere(settings, make_user, frozen):
    colleague = make_user()
    sprayed = settings.login_max_failures * throttle.IP_FREE_FACTOR
    for n in range(sprayed):
        assert attempt(settings, f"agent{n}@herault.gouv.fr", "Printemps2026!", ATTACKER_IP)[0] == "refused"
    assert attempt(settings, "agent-suivant@herault.gouv.fr", "Printemps2026!", ATTACKER_IP) == ("delayed", 1)
    assert attempt(settings, colleague.email, PASSWORD, ATTACKER_IP)[0] == "delayed"
    assert attempt(settings, colleague.email, PASSWORD, PREFECTURE_IP)[0] == "signed in"


def test_an_ip_counts_only_the_windows_failures_so_a_day_of_typos_never_adds_up():
    settings = Settings()
    _, by_ip, _ = throttle.rules(settings)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    typos = [start + dt.timedelta(minutes=2 * n) for n in range(240)]  # every two minutes, eight hours
    assert throttle.next_allowed(typos, by_ip, typos[-1], window) == typos[-1]
    burst = [typos[-1]] * by_ip.free  # as many in one instant: now it waits
    assert throttle.next_allowed(typos + burst, by_ip, typos[-1], window) > typos[-1]


def test_a_burst_of_simultaneous_guesses_is_not_checked_beyond_the_free_attempts(settings, make_user, frozen):
    user = make_user()

    async def burst() -> list[BaseException | Any]:
        guesses = [authenticate(user.email, f"devinette-{n}", ATTACKER_IP, settings=settings) for n in range(20)]
        return await asyncio.gather(*guesses, return_exceptions=True)

    outcomes = run(burst())
    refused = [o for o in outcomes if isinstance(o, SignInRefused)]
    delayed = [o for o in outcomes if isinstance(o, SignInDelayed)]
    assert len(refused) + len(delayed) == 20
    assert len(refused) <= settings.login_max_failures
    # Only checked guesses are failures; the delayed ones left no row.
    assert run(LoginAttempt.count().where(LoginAttempt.email == user.email)) == len(refused)


def test_a_deactivated_account_gets_the_same_refusal_and_the_failure_counts(settings, make_user, frozen):
    user = make_user()
    run(User.update({User.active: False}).where(User.email == user.email))
    assert attempt(settings, user.email, PASSWORD, OWN_IP) == (
        "refused",
        "Adresse électronique ou mot de passe incorrect.",
    )
    assert attempt(settings, "inconnu@herault.gouv.fr", PASSWORD, OWN_IP)[1] == (
        "Adresse électronique ou mot de passe incorrect."
    )
    assert run(LoginAttempt.count().where(LoginAttempt.email == user.email)) == 1
    assert audit_rows("sign_in_failed")[0]["after"]["reason"] == "deactivated"


def test_an_account_without_a_password_cannot_be_opened_with_one(settings, make_user, frozen):
    user = make_user()
    run(User.update({User.password_hash: ""}).where(User.email == user.email))
    for password in ("", "coord-dummy-password-for-timing", PASSWORD):
        assert attempt(settings, user.email, password, OWN_IP)[0] == "refused"
    assert [row["after"]["reason"] for row in audit_rows("sign_in_failed")] == ["no_password"] * 3


def test_every_failure_and_every_delay_is_in_the_audit_with_the_ip(settings, make_user, frozen):
    user = make_user()
    user_row = run(User.select(User.id, User.department).where(User.email == user.email).first())
    failures, seconds = fail_until_delayed(settings, user.email, ATTACKER_IP)
    assert attempt(settings, "personne@herault.gouv.fr", "essai-de-devinette", ATTACKER_IP)[0] == "refused"

    failed = audit_rows("sign_in_failed")
    assert len(failed) == failures + 1
    assert {row["ip"] for row in failed} == {ATTACKER_IP}
    assert [row["entity_id"] for row in failed] == [user_row["id"]] * failures + [None]
    assert failed[0]["department"] == user_row["department"]
    assert failed[0]["entity"] == "user" and failed[0]["actor_user_id"] is None
    assert failed[-1]["after"] == {"email": "personne@herault.gouv.fr", "reason": "unknown_address"}

    delayed = audit_rows("sign_in_delayed")
    assert len(delayed) == 1
    assert delayed[0]["ip"] == ATTACKER_IP and delayed[0]["entity_id"] == user_row["id"]
    assert delayed[0]["after"] == {"email": user.email, "wait_seconds": seconds, "counted": "address_ip"}


def test_the_delay_message_says_how_long_in_french():
    assert SignInDelayed(1).message == "Trop de tentatives de connexion : réessayez dans 1 seconde."
    assert SignInDelayed(45).message == "Trop de tentatives de connexion : réessayez dans 45 secondes."
    assert SignInDelayed(900).message == "Trop de tentatives de connexion : réessayez dans 15 minutes."
    assert SignInDelayed(45).seconds == 45


def test_failures_too_old_to_count_are_deleted_by_the_daily_clean_up(db, frozen):
    now = frozen.now()
    for hours in (1, 23, 25, 48):
        run(LoginAttempt.insert(LoginAttempt(email="a@b.gouv.fr", ip=OWN_IP, at=now - dt.timedelta(hours=hours))))
    assert run(throttle.forget_old_failures()) == 2
    remaining = run(LoginAttempt.select(LoginAttempt.at).order_by(LoginAttempt.at))
    assert [row["at"] for row in remaining] == [now - dt.timedelta(hours=23), now - dt.timedelta(hours=1)]
