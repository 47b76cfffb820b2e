"""The client's IP address, as the audit and the sign-in throttling record it.

Behind a reverse proxy every request comes from the proxy, and the client's address is in
`X-Forwarded-For`. That header is believed only when the peer is one of `trusted_proxies`: from anyone
else it is a claim the client wrote itself. Among the header's addresses (each proxy appends the
peer it saw), the client is the right-most one that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from litestar.connection import ASGIConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The networks of the `trusted_proxies` setting ("10.0.0.1, 192.168.0.0/24"); bad entries raise."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(raw: str, networks: tuple[Network, ...]) -> bool:
    address = _address(raw)
    return address is not None and any(address in network for network in networks)


def resolve_client_ip(peer: str, forwarded_for: str, trusted_proxies: str) -> str:
    """The client's address given the TCP peer, the X-Forwarded-For header and the setting."""
    networks = trusted_networks(trusted_proxies)
    if not networks or not forwarded_for or not _trusted(peer, networks):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if _address(hop) is None:
            break  # garbage in the chain: stop at the last address a trusted proxy vouched for
        if not _trusted(hop, networks):
            return hop
        peer = hop
    return peer


def client_ip(connection: ASGIConnection) -> str:
    peer = connection.client.host if connection.client else ""
    settings = connection.app.state.settings
    return resolve_client_ip(peer, connection.headers.get("x-forwarded-for", ""), settings.trusted_proxies)[:64]
