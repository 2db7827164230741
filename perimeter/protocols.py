"""IP protocols as security groups spell them: IANA numbers, EC2's names, and which protocols carry ports.

EC2's IpPermission reference (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html):
``IpProtocol`` is a name (tcp, udp, icmp, icmpv6) or a protocol number; "-1 or a protocol number other than
tcp, udp, icmp, or icmpv6 allows traffic on all ports, regardless of any port range you specify". So only
tcp and udp honour ``fromPort``/``toPort`` as ports; ICMP reads them as type and code; a port-carrying
protocol given by number (SCTP, DCCP, UDP-Lite) is open on every port; the others carry no ports at all.
Numbers: IANA's Assigned Internet Protocol Numbers (https://www.iana.org/assignments/protocol-numbers).

A protocol is kept in the spelling the model compares: ``-1``, one of EC2's four names, or the number as
text (``"132"``). Pure stdlib.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

ALL_TRAFFIC = "-1"


class Protocol(NamedTuple):
    number: int
    iana: str  # IANA's keyword
    carries_ports: bool  # its header has port numbers
    name: str | None = None  # how EC2 and our annotations spell it; None: "protocol <number>"


PROTOCOLS = {
    protocol.number: protocol
    for protocol in (
        Protocol(1, "ICMP", False, "icmp"),
        Protocol(2, "IGMP", False),
        Protocol(4, "IPv4", False),  # IP in IP
        Protocol(6, "TCP", True, "tcp"),
        Protocol(17, "UDP", True, "udp"),
        Protocol(33, "DCCP", True),
        Protocol(41, "IPv6", False),
        Protocol(47, "GRE", False),
        Protocol(50, "ESP", False),
        Protocol(51, "AH", False),
        Protocol(58, "IPv6-ICMP", False, "icmpv6"),
        Protocol(89, "OSPFIGP", False),
        Protocol(103, "PIM", False),
        Protocol(112, "VRRP", False),
        Protocol(115, "L2TP", False),
        Protocol(132, "SCTP", True, "sctp"),  # EC2 takes it by number only; annotations name it
        Protocol(136, "UDPLite", True),
    )
}
# The names EC2 accepts in IpProtocol; every other protocol is given by number.
EC2_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}
# Protocols whose fromPort/toPort are a port range (EC2 honours the range for these two only).
PORT_RANGE_PROTOCOLS = frozenset({"tcp", "udp"})
# ICMP and ICMPv6: fromPort/toPort are type and code.
ICMP_PROTOCOLS = frozenset({"icmp", "icmpv6"})
# Port-carrying protocols EC2 opens on every port whatever the fields say.
ALL_PORTS_PROTOCOLS = frozenset(
    str(p.number) for p in PROTOCOLS.values() if p.carries_ports and p.name not in PORT_RANGE_PROTOCOLS
)
# Every protocol with ports, in the model's spelling: what all traffic (-1) opens on every port.
PORT_PROTOCOLS = PORT_RANGE_PROTOCOLS | ALL_PORTS_PROTOCOLS


def canonical(value: Any) -> str:
    """The model's spelling of an ``IpProtocol`` value (a name, a number, or its text); ValueError if none."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"ipProtocol {value!r} is not a protocol")
    return _canonical_text(str(value))


@lru_cache(maxsize=512)  # a handful of spellings recur in every group; errors are not cached
def _canonical_text(value: str) -> str:
    text = value.strip().lower()
    if text in ("-1", "all"):
        return ALL_TRAFFIC
    if text in EC2_NAMES:
        return text
    if text.isascii() and text.isdigit() and int(text) <= 255:
        number = int(text)
        known = PROTOCOLS.get(number)
        return known.name if known and known.name in EC2_NAMES else str(number)
    raise ValueError(f"ipProtocol {value!r} is not a protocol name or number 0-255")


def display_name(protocol: str) -> str:
    """How annotations name a protocol in the model's spelling: ``tcp``, ``sctp``, ``protocol 33``."""
    if protocol in EC2_NAMES:
        return protocol
    known = PROTOCOLS.get(int(protocol)) if protocol.isdigit() else None
    return known.name if known and known.name else f"protocol {protocol}"
