"""The convocation's annexes as invitees reach them: listed for an invitation, and one signed link per
annex and invitee for the convocation mail (links only, never attachments). Kept apart from the
routes (coord.meetings.annexes) so the mails (coord.meetings.notify) can use it without a cycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from coord.access.scope import link_scope
from coord.documents import service as documents

OWNER = "meeting"
CONVOCATION = ("annexe_convocation",)


async def convocation_annexes(meeting_id: int, department_id: int | None) -> list[dict[str, Any]]:
    """The convocation's annexes of a meeting, as its invitees see them."""
    return await documents.documents_of(link_scope(department_id), OWNER, meeting_id, CONVOCATION)


async def mail_links(meeting: dict[str, Any], contact_id: int | None, valid_for: dt.timedelta) -> list[dict[str, Any]]:
    """[{filename, size, url}] of the convocation's annexes, each a signed link for this invitee."""
    annexes = await convocation_annexes(meeting["id"], meeting["department"])
    if not annexes:
        return []
    urls = await documents.issue_links(
        annexes, department_id=meeting["department"], contact_id=contact_id, valid_for=valid_for
    )
    return [{"filename": a["filename"], "size": a["size"], "url": urls[a["root"]]} for a in annexes]
