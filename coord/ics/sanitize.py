"""Cleaning of user input before it goes into an .ics.

icalendar escapes TEXT values (`;`, `,`, `\\`, newlines), but not URIs, CAL-ADDRESS values or
every control character; these helpers close the remaining injection paths.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_EMAIL = re.compile(r"[^\s@\"<>()\[\]\\,;:]+@[^\s@\"<>()\[\]\\,;:]+\.[^\s@\"<>()\[\]\\,;:]+")


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls incl. CR and DEL; Cs: lone surrogates (cannot be encoded in UTF-8);
    # U+2028/2029 are line breaks for some parsers.
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp")


def clean_text(value: str, *, multiline: bool = True) -> str:
    """Normalise line breaks to LF and drop control characters.

    With `multiline=False` every line break and tab becomes a single space.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n").replace("\t", " ")
    kept = "".join(c for c in text if c == "\n" or not _is_control(c))
    if multiline:
        return kept.strip()
    return " ".join(kept.split())


def clean_param(value: str) -> str:
    """A parameter value (e.g. CN): one line, no double quote (clients ignore RFC 6868)."""
    return clean_text(value, multiline=False).replace('"', "'")


def clean_email(value: str) -> str:
    """A mailbox for a `mailto:` URI; raises ValueError instead of altering a bad address."""
    email = value.strip()
    if not _EMAIL.fullmatch(email) or any(_is_control(c) for c in email):
        raise ValueError(f"invalid e-mail address: {value!r}")
    return email


def clean_url(value: str) -> str:
    """An http(s) URL, or "" when empty; raises ValueError for anything else."""
    url = value.strip()
    if not url:
        return ""
    if any(_is_control(c) or c.isspace() for c in url):
        raise ValueError(f"invalid URL: {value!r}")
    if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError(f"only http(s) URLs are allowed: {value!r}")
    return url
