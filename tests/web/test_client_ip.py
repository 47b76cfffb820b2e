"""The client's address is read from X-Forwarded-For only when a configured proxy sent it."""

from __future__ import annotations

import pytest

from coord.web.client_ip import resolve_client_ip

PROXIES = "10.0.0.5, 192.168.10.0/24"


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        # Straight from the Internet: a forged header changes nothing.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # Through the trusted proxy: the address it saw.
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
        # The client wrote a header of its own before the proxy appended the real address.
        ("10.0.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),
        # Two trusted proxies in a row: the first untrusted hop from the right.
        ("192.168.10.3", "198.51.100.7, 10.0.0.5", "198.51.100.7"),
        # Nothing but proxies: the left-most one they vouch for.
        ("10.0.0.5", "192.168.10.4", "192.168.10.4"),
        # Garbage in the chain is not an address.
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_comes_from_trusted_proxies_only(peer, header, expected):
    assert resolve_client_ip(peer, header, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_ignored():
    assert resolve_client_ip("10.0.0.5", "198.51.100.7", "") == "10.0.0.5"
