"""Which addresses a member-given calendar feed may reach, decided after DNS resolution.

Why a policy of our own: a feed URL comes from any member, yet the server fetches it from
inside our network. Without this check `/rotation calendar http://169.254.169.254/...`
(the cloud metadata service, with its keys) or `http://localhost:3000/metrics` would be
fetched on the member's behalf. The check is on the resolved addresses, not the spelling
of the host, because a public-looking name can resolve to 127.0.0.1; every address a
name resolves to must pass. The operator may trust some networks for feeds (an intranet
calendar server) with `ROTATION_CALENDAR_ALLOW_NETWORKS`, a comma-separated list of CIDRs.

The refusals say what kind of address it was, in plain words, and never echo what a server
answered: they are safe to show to the member.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_ENV = "ROTATION_CALENDAR_ALLOW_NETWORKS"
SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
LOOKUP_SECONDS = 3.0
LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Special-purpose blocks Python 3.11's `is_global` still calls global.
SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("192.88.99.0/24"),
           ipaddress.ip_network("2002::/16"), ipaddress.ip_network("64:ff9b::/96"),
           ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("2001::/32"))


class FeedRefused(Exception):
    """The feed may not be fetched from there; the message says why in plain words."""


def kind_of(address: IPAddress) -> str | None:
    """What forbidden kind of address this is (plain words), or None for a public one."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return kind_of(embedded) or _special_kind(address)
    if address.is_loopback:
        return "this server itself (a loopback address)"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address in CGNAT:
        return "a carrier-grade NAT network"
    if address.is_reserved:
        return "a reserved or special-purpose address"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return "a private network"
    return _special_kind(address)


def _special_kind(address: IPAddress) -> str | None:
    if address.is_reserved or not address.is_global or any(address in net for net in SPECIAL):
        return "a reserved or special-purpose address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address, if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in SPECIAL[3]:  # 64:ff9b::/96, NAT64's well-known prefix
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses, plus the networks the operator trusts for feeds."""

    trusted: tuple[IPNetwork, ...] = ()

    def is_trusted(self, address: IPAddress) -> bool:
        candidates = [address] + ([e] if (e := _embedded_ipv4(address)) is not None else [])
        return any(a.version == net.version and a in net for a in candidates for net in self.trusted)

    def check(self, address: IPAddress) -> None:
        """Raise FeedRefused unless a feed may be fetched from `address`."""
        kind = kind_of(address)
        if kind is not None and not self.is_trusted(address):
            raise FeedRefused(f"the address points to {kind}, which calendar feeds may not do")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AddressPolicy:
        env = os.environ if environ is None else environ
        return cls(trusted_networks(env.get(ALLOW_ENV, "")))


def trusted_networks(value: str) -> tuple[IPNetwork, ...]:
    """`10.1.2.0/24, fd00::/8` as networks, or a ValueError naming the entry that is not one."""
    found = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{ALLOW_ENV} must be a comma-separated list of networks such as "
                             f"10.20.0.0/16, and {entry!r} is not one.") from None
    return tuple(found)


def literal_address(host: str) -> IPAddress | None:
    """The address when `host` is written as one, else None: `[::1]`, `fe80::1%eth0`, and the
    legacy IPv4 forms the C library still reads (`2130706433`, `0x7f.1`, `127.1`)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def fetch_url(url: str) -> tuple[str, str, int]:
    """(the URL to fetch, host, port) for a feed address; webcal:// is https://.

    FeedRefused for anything but http(s)/webcal with a host, in words.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise FeedRefused("the address is not a valid web address") from None
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise FeedRefused("only http and https addresses may be calendar feeds")
    if not parts.hostname:
        raise FeedRefused("the address names no server")
    if scheme != parts.scheme:
        url = scheme + url.strip()[len(parts.scheme):]
    return url, parts.hostname, port or (443 if scheme == "https" else 80)


async def system_lookup(host: str, port: int) -> list[IPAddress]:
    """The addresses DNS gives for `host` (the seam the tests replace to fake a resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos
            if info[0] in (socket.AF_INET, socket.AF_INET6)]


async def checked_addresses(host: str, port: int, policy: AddressPolicy) -> list[IPAddress]:
    """Every address `host` resolves to, each allowed by `policy`, or FeedRefused.

    A lookup that fails is an OSError (socket.gaierror), as from any resolver.
    """
    literal = literal_address(host)
    if literal is not None:
        policy.check(literal)
        return [literal]
    addresses = await lookup(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    check_all(addresses, policy)
    return addresses


def check_all(addresses: Iterable[IPAddress], policy: AddressPolicy) -> None:
    for address in addresses:
        policy.check(address)


lookup = system_lookup
