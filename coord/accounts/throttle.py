"""How long a sign-in attempt must wait: failures slow down the next attempt, they never refuse it.

Each failed sign-in is a `LoginAttempt` row. Three counts are kept apart, each with its own free
attempts and its own longest wait; the wait is the longest of the three, measured from that count's
latest failure, and doubles with every failure beyond the free ones (1 s, 2 s, 4 s …):

- this address from this IP (someone guessing one person's password from one machine): strict, up to
  15 minutes. Its failures form a run that ends only once the window has passed, after the wait, with
  no further failure, so the longest wait is reached however slowly the guesses come;
- this IP, whatever the address (one machine trying many addresses): four times as many free
  attempts, since a whole prefecture signs in from one address, and counted over the window only, so
  that colleagues' typos spread over the day never add up;
- this address, whatever the IP (many machines guessing one person's password): at most a minute,
  so that person is slowed down, never shut out. An IP the account has had a session from skips it.

The attempt's row is written before the counts are read, so of simultaneous attempts each sees the
others': a burst of guesses cannot all pass while the count is still low.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from piccolo.columns.combination import CombinableMixin

from coord.accounts.tables import LoginAttempt, UserSession
from coord.core import clock
from coord.core.settings import Settings

FIRST_WAIT = dt.timedelta(seconds=1)
PAIR_LONGEST_WAIT = dt.timedelta(minutes=15)
IP_LONGEST_WAIT = dt.timedelta(minutes=15)
ADDRESS_LONGEST_WAIT = dt.timedelta(seconds=60)
IP_FREE_FACTOR = 4  # an IP gets this many times the address's free attempts
ADDRESS_FREE_FACTOR = 2  # from several IPs, the single-IP count speaks first
# Enough rows to reach every longest wait, and how far back to read them.
ROWS_READ = 64
LOOKBACK = dt.timedelta(hours=24)
# A session from this IP in this time makes it the account holder's own machine.
KNOWN_IP_DAYS = 90


@dataclass(frozen=True)
class Rule:
    name: str  # "address_ip" | "ip" | "address", as written in the audit
    free: int
    longest: dt.timedelta
    runs: bool  # True: failures form a run (see the module's docstring); False: only the window's count


@dataclass(frozen=True)
class Wait:
    rule: str
    until: dt.datetime

    def seconds(self, now: dt.datetime) -> int:
        return max(1, math.ceil((self.until - now).total_seconds()))


def rules(settings: Settings) -> tuple[Rule, Rule, Rule]:
    free = max(0, settings.login_max_failures)
    return (
        Rule("address_ip", free, PAIR_LONGEST_WAIT, runs=True),
        Rule("ip", free * IP_FREE_FACTOR, IP_LONGEST_WAIT, runs=False),
        Rule("address", free * ADDRESS_FREE_FACTOR, ADDRESS_LONGEST_WAIT, runs=True),
    )


def delay_after(failures: int, rule: Rule) -> dt.timedelta:
    """The wait after `failures` counted failures: none while attempts remain free, then 1 s after the
    last free one failed, doubling with each further failure, capped."""
    beyond = failures - rule.free
    if beyond < 0:
        return dt.timedelta(0)
    return min(FIRST_WAIT * 2 ** min(beyond, 40), rule.longest)


def next_allowed(failures: Sequence[dt.datetime], rule: Rule, now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """When the next attempt may be checked, given this count's failures (oldest first)."""
    if rule.runs:
        count, last = 0, None
        for at in failures:
            if last is not None and at - last > delay_after(count, rule) + window:
                count = 0  # quiet for the window after the wait: a new run
            count, last = count + 1, at
    else:
        recent = [at for at in failures if at > now - window]
        count, last = len(recent), (recent[-1] if recent else None)
    if last is None:
        return now
    return last + delay_after(count, rule)


async def note_attempt(email: str, ip: str) -> int:
    """Write the attempt as a failure before anything is checked; `withdraw` it if it was not one."""
    rows = await LoginAttempt.insert(LoginAttempt(email=email, ip=ip, at=clock.now())).returning(LoginAttempt.id)
    return int(rows[0]["id"])


async def withdraw(attempt_id: int) -> None:
    await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)


async def _failures(condition: CombinableMixin, attempt_id: int, now: dt.datetime) -> list[dt.datetime]:
    rows = (
        await LoginAttempt.select(LoginAttempt.at)
        .where(condition & (LoginAttempt.at > now - LOOKBACK) & (LoginAttempt.id != attempt_id))
        .order_by(LoginAttempt.at, ascending=False)
        .limit(ROWS_READ)
    )
    return [row["at"] for row in reversed(rows)]


async def _known_ip(user_id: int, ip: str, now: dt.datetime) -> bool:
    since = now - dt.timedelta(days=KNOWN_IP_DAYS)
    return await UserSession.exists().where(
        (UserSession.user == user_id) & (UserSession.ip == ip) & (UserSession.created_at > since)
    )


async def wait_before(email: str, ip: str, attempt_id: int, *, user_id: int | None, settings: Settings) -> Wait | None:
    """The wait this attempt (noted as `attempt_id`) still owes, None if it may be checked now."""
    now = clock.now()
    window = dt.timedelta(minutes=settings.login_window_minutes)
    pair, by_ip, by_address = rules(settings)
    conditions = (
        (pair, (LoginAttempt.email == email) & (LoginAttempt.ip == ip)),
        (by_ip, LoginAttempt.ip == ip),
        (by_address, LoginAttempt.email == email),
    )
    longest: Wait | None = None
    for rule, condition in conditions:
        until = next_allowed(await _failures(condition, attempt_id, now), rule, now, window)
        if until <= now or (longest is not None and until <= longest.until):
            continue
        if rule is by_address and user_id is not None and await _known_ip(user_id, ip, now):
            continue
        longest = Wait(rule.name, until)
    return longest


async def clear(email: str, ip: str) -> None:
    """A successful sign-in forgets this address's failures from this IP (not from elsewhere)."""
    await LoginAttempt.delete().where((LoginAttempt.email == email) & (LoginAttempt.ip == ip))


async def forget_old_failures() -> int:
    """Delete failures too old to count any more; for a daily job."""
    old = LoginAttempt.at < clock.now() - LOOKBACK
    count = await LoginAttempt.count().where(old)
    await LoginAttempt.delete().where(old)
    return count
