"""One key per purpose, derived from the one configured secret (`secret_key`).

Each use of the secret gets its own key, derived with HKDF-SHA256 (RFC 5869) and an `info` naming
the purpose: the session cookie's encryption (`coord/session`), the CSRF tokens (`coord/csrf`) and
each kind of partner link (`coord/link/<purpose>`: invitation, action, signature, feed_department,
...). A key learnt or misused in one place (a CSRF token, a feed URL) then says nothing about the
others, and a token of one kind can never verify as another kind.

Operators still configure a single secret; rotating it changes every derived key at once.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION = b"coord/session"
CSRF = b"coord/csrf"
LINK_PREFIX = b"coord/link/"


@lru_cache(maxsize=64)
def derive(secret: str, info: bytes, length: int = 32) -> bytes:
    """`length` bytes for the purpose `info`, from the configured secret (cached: the same inputs
    always give the same key, and link tokens are signed on every page that lists them)."""
    if not secret:
        raise ValueError("secret_key is empty: no key can be derived from it")
    # No salt: the secret is high-entropy already (RFC 5869 §3.1), and a salt stored beside it would
    # add nothing; the purposes are told apart by `info`.
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret.encode("utf-8"))


def session_key(secret: str) -> bytes:
    """The AES-GCM key of the session cookie (32 bytes)."""
    return derive(secret, SESSION)


def csrf_key(secret: str) -> str:
    """The HMAC secret of the CSRF tokens (Litestar takes a string)."""
    return derive(secret, CSRF).hex()


def link_key(secret: str, purpose: str) -> bytes:
    """The signing key of partner links of one purpose ("invitation", "feed_contact", ...)."""
    return derive(secret, LINK_PREFIX + purpose.encode("utf-8"))
