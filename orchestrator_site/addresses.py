"""Which network addresses the orchestrator may send a request to on a user's behalf (webhooks).

A URL a user typed must not become a way into the host's own network: loopback services (the
engine's TCP socket, HAProxy's admin, PostgreSQL, Redis), link-local ones (the cloud metadata
service at 169.254.169.254), private ranges, shared address space (100.64.0.0/10, where some
clouds put their metadata too), multicast and everything reserved. Only globally routable unicast
addresses pass, unless the operator allow-lists a network (``WEBHOOK_ALLOWED_NETWORKS``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> list[IPNetwork]:
    """CIDRs (or single addresses) as networks; raises ValueError naming a bad one."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network (e.g. 10.1.2.0/24 or 127.0.0.1)") from None
    return networks


def unmapped(address: IPAddress) -> IPAddress:
    """``::ffff:127.0.0.1`` is 127.0.0.1: judge the IPv4 address an IPv6 one carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def forbidden_reason(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a request to ``address`` is refused, or None when it may go."""
    address = unmapped(address)
    if any(address in network for network in allowed):
        return None
    for test, what in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local (cloud metadata lives there)"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(address, test):
            return f"{address} is a {what} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None
