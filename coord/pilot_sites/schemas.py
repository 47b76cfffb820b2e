"""Request and response bodies of the pilot sites' JSON API (msgspec)."""

from __future__ import annotations

import datetime as dt

import msgspec


class PilotSiteIn(msgspec.Struct, forbid_unknown_fields=True):
    plan: str
    scheme: str
    department: str | None = None
    designated_on: dt.date | None = None
    status: str = "actif"
    notes: str = ""


class PilotSitePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    plan: str | msgspec.UnsetType = msgspec.UNSET
    scheme: str | msgspec.UnsetType = msgspec.UNSET
    designated_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    status: str | msgspec.UnsetType = msgspec.UNSET
    notes: str | msgspec.UnsetType = msgspec.UNSET


class PilotSiteOut(msgspec.Struct):
    id: int
    department: str
    department_name: str
    plan: str
    scheme: str
    scheme_label: str
    designated_on: dt.date | None
    status: str
    status_label: str
    notes: str
