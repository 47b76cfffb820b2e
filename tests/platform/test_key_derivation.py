"""One key per purpose from the one configured secret, and no link lost in the upgrade: links
signed before (one key for everything) still open what they opened."""

from __future__ import annotations

from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from tests.conftest import run

SECRET = "test-secret-key-0123456789"  # the `settings` fixture's


def legacy_token(link_id: int, purpose: str, secret: str = SECRET) -> str:
    """A token as Coord signed them before per-purpose keys (the raw secret, one salt)."""
    from coord.links.service import SALT

    return URLSafeSerializer(secret, salt=SALT).dumps([link_id, purpose])


def test_each_purpose_has_its_own_key():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from coord.core import keys

    derived = {
        "session": keys.session_key(SECRET),
        "csrf": bytes.fromhex(keys.csrf_key(SECRET)),
        **{p: keys.link_key(SECRET, p) for p in ("invitation", "action", "signature", "feed_department")},
    }
    assert len(set(derived.values())) == len(derived)  # all different
    assert all(len(key) == 32 for key in derived.values())
    assert keys.session_key(SECRET) == keys.session_key(SECRET)  # stable across restarts
    assert keys.session_key("another secret") != keys.session_key(SECRET)
    # Plain RFC 5869 HKDF-SHA256 with the documented info strings, so another tool can derive them.
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"coord/session").derive(SECRET.encode())
    assert keys.session_key(SECRET) == expected
    assert keys.link_key(SECRET, "invitation") == HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"coord/link/invitation"
    ).derive(SECRET.encode())
    with pytest.raises(ValueError):
        keys.session_key("")


async def _link(purpose: str, target_id: int = 1) -> int:
    from coord.links import service as links
    from coord.territory.tables import Department

    department = await Department.select(Department.id).where(Department.code == "34").first()
    token = await links.issue(purpose, target_id, department_id=department["id"])
    carried = links.read_token(token)
    assert carried is not None
    return carried[0]


def test_new_links_are_signed_with_their_purpose_key(app: Any):
    from coord.core.keys import link_key
    from coord.links import service as links

    link_id = run(_link("invitation"))
    token = links.token_for(link_id, "invitation")
    assert token != legacy_token(link_id, "invitation")
    assert URLSafeSerializer(link_key(SECRET, "invitation"), salt=links.SALT).loads(token) == [link_id, "invitation"]
    assert run(links.resolve(token, "invitation")).id == link_id


def test_a_link_signed_with_another_purpose_key_opens_nothing(app: Any):
    """A feed URL (the key of feeds) relabelled as an invitation does not verify: each kind of link
    has its own key, not only its own label."""
    from coord.core.keys import link_key
    from coord.links import service as links

    link_id = run(_link("invitation"))
    forged = URLSafeSerializer(link_key(SECRET, "feed_department"), salt=links.SALT).dumps([link_id, "invitation"])
    assert links.read_token(forged) is None
    with pytest.raises(links.LinkInvalid):
        run(links.resolve(forged, "invitation"))
    other_secret = legacy_token(link_id, "invitation", secret="not the secret")
    with pytest.raises(links.LinkInvalid):
        run(links.resolve(other_secret, "invitation"))


def test_links_sent_before_the_upgrade_still_open(app: Any, client: Any):
    """Partners keep the links already in their mailboxes and their calendar subscriptions."""
    from coord.links import service as links
    from coord.territory.tables import Department

    link_id = run(_link("invitation"))
    old = legacy_token(link_id, "invitation")
    assert links.read_token(old) == (link_id, "invitation")
    assert run(links.resolve(old, "invitation")).id == link_id
    with pytest.raises(links.LinkInvalid):  # still bound to its purpose
        run(links.resolve(old, "action"))

    department = run(Department.select(Department.id).where(Department.code == "34").first())
    feed_id = run(_link("feed_department", target_id=department["id"]))
    old_feed = client.get(f"/r/calendrier/{legacy_token(feed_id, 'feed_department')}.ics")
    assert old_feed.status_code == 200 and old_feed.content.startswith(b"BEGIN:VCALENDAR")
    new_feed = client.get(f"/r/calendrier/{links.token_for(feed_id, 'feed_department')}.ics")
    assert new_feed.status_code == 200 and new_feed.content == old_feed.content

    # Revoking the link closes both URLs.
    run(links.revoke("feed_department", department["id"]))
    assert client.get(f"/r/calendrier/{legacy_token(feed_id, 'feed_department')}.ics").status_code == 410
    assert client.get(f"/r/calendrier/{links.token_for(feed_id, 'feed_department')}.ics").status_code == 410


def _session_cookie(key: bytes, data: dict[str, Any]) -> str:
    """The cookie Litestar would set for this session data, encrypted with `key`."""
    from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig

    backend = ClientSideSessionBackend(config=CookieBackendConfig(secret=key, key="coord_session"))
    (chunk,) = backend.dump_data(data)
    return chunk.decode()


def test_sessions_use_the_session_key_and_older_ones_log_in_again(client: Any, make_user: Any, app: Any):
    """The session cookie is encrypted with the derived session key. A cookie encrypted with the key of
    an earlier version (SHA-256 of "session:" + secret), or holding an earlier version's session (the
    user's id instead of a server-side session), is refused: its holder logs in again, nothing else
    is lost."""
    import hashlib
    import time

    from coord.accounts.sessions import open_session
    from coord.accounts.tables import User
    from coord.core.keys import csrf_key, session_key

    account = make_user("prefecture", "34")
    user = run(User.select(User.id).where(User.email == account.email).first())
    opened = run(open_session(user["id"], method="password", ip="192.0.2.1", user_agent="test", csrf_token="x"))
    client.cookies.set("coord_session", _session_cookie(session_key(SECRET), {"sid": opened.token}))
    assert client.get("/d/34", follow_redirects=False).status_code == 200
    legacy_keys = hashlib.sha256(("session:" + SECRET).encode()).digest()
    for key, data in [
        (legacy_keys, {"sid": opened.token}),
        (session_key(SECRET), {"uid": user["id"], "since": int(time.time())}),
    ]:
        client.cookies.clear()
        client.cookies.set("coord_session", _session_cookie(key, data))
        refused = client.get("/d/34", follow_redirects=False)
        assert refused.status_code in (302, 303) and refused.headers["location"].startswith("/connexion")
    assert app.csrf_config.secret == csrf_key(SECRET) != SECRET
