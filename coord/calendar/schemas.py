"""Request and response bodies of the calendar's JSON API (msgspec)."""

from __future__ import annotations

import msgspec

from coord.core.validation import Id


class ReplyOut(msgspec.Struct):
    status: str  # applied | ignored | rejected
    reason: str
    invitation_id: int | None


class FeedIn(msgspec.Struct):
    kind: str  # department | committee | contact
    target_id: Id


class FeedCreated(msgspec.Struct):
    id: int
    url: str
    webcal_url: str


class FeedOut(msgspec.Struct):
    id: int
    kind: str
    target_id: int
    label: str
    url: str
    webcal_url: str
    created_at: str
    last_used_at: str | None
