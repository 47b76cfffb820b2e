"""Request and response bodies of the notifications' JSON API (msgspec)."""

from __future__ import annotations

import datetime as dt

import msgspec

from coord.core.validation import DbInt


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    kind_label: str
    text: str
    link: str
    department: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    unread: bool


class UnreadOut(msgspec.Struct):
    unread: int


class MarkedOut(msgspec.Struct):
    marked: int


class MarkAllIn(msgspec.Struct):
    up_to: DbInt  # the newest notification seen: those that came since stay unread


class PreferencesIn(msgspec.Struct):
    """{kind: "app" | "digest"} for every kind (see GET /api/notifications/preferences)."""

    choices: dict[str, str]


class PreferencesOut(msgspec.Struct):
    choices: dict[str, str]
    kinds: dict[str, str]
    channels: dict[str, str]
