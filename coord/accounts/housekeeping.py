"""What the accounts domain need not keep: ended sessions, used or expired reset links, old failures.

Runs daily from the scheduler. Sessions are kept a month after they end so an account's page can
still answer « where was I signed in last week »; reset links a day after they expire, failed sign-ins once
the throttling no longer counts them. Invitations stay: they say who brought whom in.
"""

from __future__ import annotations

import datetime as dt

from coord.accounts import throttle
from coord.accounts.tables import PasswordReset, UserSession
from coord.core import clock

ENDED_SESSIONS_KEPT = dt.timedelta(days=30)
RESETS_KEPT = dt.timedelta(days=1)


async def purge(now: dt.datetime | None = None) -> int:
    """Delete what is past keeping; how many rows went."""
    now = now or clock.now()
    cutoff = now - ENDED_SESSIONS_KEPT
    gone = (
        await UserSession.delete()
        .where((UserSession.ended_at < cutoff) | (UserSession.expires_at < cutoff))
        .returning(UserSession.id)
    )
    gone_resets = (
        await PasswordReset.delete().where(PasswordReset.expires_at < now - RESETS_KEPT).returning(PasswordReset.id)
    )
    return len(gone) + len(gone_resets) + await throttle.forget_old_failures()
