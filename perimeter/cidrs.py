"""Address semantics for security-group sources: world, public (globally routable) and the rest; trusted sources.

Pure stdlib: bundled into SSM runbook scripts as well as imported by the rules.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Iterable, NamedTuple

from perimeter.parameters import ParameterError

WORLD = frozenset({"0.0.0.0/0", "::/0"})

# Blocks holding no globally routable unicast address (IANA special-purpose registries, RFC 6890).
# A source CIDR is "public" unless it lies wholly inside their union. Adjacent blocks are merged
# (collapse_addresses), so a CIDR spanning two of them (224.0.0.0/3 = multicast + reserved) is not public.
_NOT_GLOBAL_BLOCKS = tuple(
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918 private
        "100.64.0.0/10",  # RFC 6598 shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local
        "172.16.0.0/12",  # RFC 1918 private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1 documentation
        "192.168.0.0/16",  # RFC 1918 private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2 documentation
        "203.0.113.0/24",  # TEST-NET-3 documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique-local
        "fe80::/10",  # link-local
        "ff00::/8",  # multicast
    )
)
_NOT_GLOBAL = tuple(
    block
    for version in (4, 6)
    for block in ipaddress.collapse_addresses(b for b in _NOT_GLOBAL_BLOCKS if b.version == version)
)


@lru_cache(maxsize=4096)
def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a CIDR as AWS stores it; host bits are tolerated (AWS masks them)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except (ValueError, AttributeError):
        raise ValueError(f"'{text}' is not a valid CIDR") from None


# An IPv4 CIDR as AWS and nearly every file spell it: four octets without leading zeros, a one- or two-digit prefix.
_IPV4_CIDR = re.compile(r"((?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
                        r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))/([0-9]{1,2})")
_NOT_GLOBAL_V4 = tuple((int(block.network_address), int(block.broadcast_address))
                       for block in _NOT_GLOBAL if block.version == 4)
_ALL_V4 = (0, 2**32 - 1)


def _ipv4_range(text: str) -> tuple[int, int] | None:
    """The addresses (first, last, as integers) of an IPv4 CIDR spelled as _IPV4_CIDR, host bits masked as
    ``parse_cidr`` masks them; None for any other text, which ipaddress reads (and refuses, when it is no CIDR).

    ipaddress takes some 15 us to read a CIDR, and a large snapshot holds more distinct CIDRs than the caches
    below keep, so the usual spelling is read here, the same as ipaddress reads it (tests/test_core_cidrs.py).
    """
    found = _IPV4_CIDR.fullmatch(text)
    if found is None or int(found[2]) > 32:
        return None
    first_octet, second, third, fourth = map(int, found[1].split("."))
    size = 1 << (32 - int(found[2]))
    first = (first_octet << 24 | second << 16 | third << 8 | fourth) & -size
    return first, first + size - 1


@lru_cache(maxsize=4096)  # judged for every source of every rule: a snapshot repeats a few thousand CIDRs
def is_world(text: str) -> bool:
    """Only the two all-addresses blocks."""
    addresses = _ipv4_range(text)
    if addresses is not None:
        return addresses == _ALL_V4
    network = parse_cidr(text)
    return network.prefixlen == 0


@lru_cache(maxsize=4096)
def is_public(text: str) -> bool:
    """True when the CIDR contains at least one globally routable address."""
    addresses = _ipv4_range(text)
    if addresses is not None:
        first, last = addresses
        return not any(start <= first and last <= end for start, end in _NOT_GLOBAL_V4)
    network = parse_cidr(text)
    return not any(
        network.version == block.version and network.subnet_of(block) for block in _NOT_GLOBAL
    )


# --- trusted sources (trustedSources, issue 15) ------------------------------------------------------------------
_TRUSTED_ID = re.compile(r"^(pl|sg)-[0-9a-f]{8,17}$")


class TrustedSources(NamedTuple):
    networks: tuple = ()  # ipaddress networks
    ids: frozenset = frozenset()  # prefix list and security group ids

    def covers(self, source: str) -> bool:
        """True when ``source`` (a CIDR, a pl- or an sg- id) is trusted: listed, or a CIDR inside a listed one."""
        if source in self.ids or not self.networks or source.startswith(("pl-", "sg-")):
            return source in self.ids
        try:
            network = parse_cidr(source)
        except ValueError:
            return False
        return any(network.version == trusted.version and network.subnet_of(trusted) for trusted in self.networks)


def parse_trusted_sources(entries: Iterable[str], name: str = "trustedSources") -> TrustedSources:
    """The parameter's comma-list entries; ParameterError names the first invalid one. Blank entries are skipped."""
    networks, ids = [], set()
    for entry in filter(None, (entry.strip() for entry in entries)):
        try:
            if _TRUSTED_ID.match(entry):
                ids.add(entry)
            elif "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
            else:
                raise ValueError
        except ValueError:
            raise ParameterError(f"parameter {name}: '{entry}' is not a CIDR, pl- or sg- id") from None
    return TrustedSources(tuple(networks), frozenset(ids))


def address_range(text: str) -> tuple[int, int, int]:
    """``(version, first, last)``: the CIDR's addresses as integers, for interval arithmetic."""
    network = parse_cidr(text)
    return network.version, int(network.network_address), int(network.broadcast_address)


@lru_cache(maxsize=2)
def public_ranges(version: int) -> tuple[tuple[int, int], ...]:
    """The globally routable addresses of one family as sorted integer intervals: the complement of the
    special-purpose blocks above, so ``is_public`` and interval arithmetic agree on what public means."""
    top = 2**32 - 1 if version == 4 else 2**128 - 1
    ranges, start = [], 0
    for block in sorted(b for b in _NOT_GLOBAL if b.version == version):
        if int(block.network_address) > start:
            ranges.append((start, int(block.network_address) - 1))
        start = max(start, int(block.broadcast_address) + 1)
    if start <= top:
        ranges.append((start, top))
    return tuple(ranges)
