"""TEMPORARY stub written by the meetings-core engineer so the core runs before the mail queueing
lands; the colleague who owns this file replaces it. Same signatures as the agreed contract."""

from __future__ import annotations


async def queue_convocation(meeting_id: int, invitation_ids: list[int] | None = None) -> int:
    return 0


async def queue_cancellation(meeting_id: int) -> int:
    return 0


async def queue_removal(invitation_id: int) -> int:
    return 0


async def queue_reminder(meeting_id: int, *, only_unanswered: bool = True) -> int:
    return 0
