"""One-time secrets of the accounts domain (sessions, invitations, resets, API tokens): random,
shown once, stored only as a SHA-256 digest so a copy of the database opens nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets


def new_secret(prefix: str = "") -> str:
    """A URL-safe random secret of 256 bits."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored for `secret`: its SHA-256 in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def wall_now() -> dt.datetime:
    """The instant credentials (sessions, API tokens) are judged by. Sessions and tokens last real
    hours and days: the wall clock, not the application clock that tests move to a meeting's date
    while the same agent stays signed in."""
    return dt.datetime.now(dt.UTC)
