"""perimeter.protocols: one table of IP protocols, read the same way by every rule (issue 10, item 2)."""
from __future__ import annotations

import pytest

from perimeter import protocols
from perimeter.protocols import (
    ALL_PORTS_PROTOCOLS,
    ALL_TRAFFIC,
    ICMP_PROTOCOLS,
    PORT_PROTOCOLS,
    PORT_RANGE_PROTOCOLS,
    PROTOCOLS,
    canonical,
    display_name,
)


@pytest.mark.parametrize(
    "number, iana, carries_ports",
    [(1, "ICMP", False), (6, "TCP", True), (17, "UDP", True), (33, "DCCP", True), (47, "GRE", False),
     (50, "ESP", False), (51, "AH", False), (58, "IPv6-ICMP", False), (132, "SCTP", True), (136, "UDPLite", True)],
)
def test_iana_numbers_keywords_and_ports(number, iana, carries_ports):
    assert (PROTOCOLS[number].iana, PROTOCOLS[number].carries_ports) == (iana, carries_ports)


def test_which_protocols_honour_ports_open_all_ports_or_carry_none():
    # EC2's IpPermission: only tcp/udp honour fromPort/toPort; another protocol number opens all its ports.
    assert PORT_RANGE_PROTOCOLS == {"tcp", "udp"}
    assert ALL_PORTS_PROTOCOLS == {"33", "132", "136"}
    assert PORT_PROTOCOLS == {"tcp", "udp", "33", "132", "136"}
    assert ICMP_PROTOCOLS == {"icmp", "icmpv6"}
    assert not {"47", "50", "51"} & PORT_PROTOCOLS


@pytest.mark.parametrize(
    "value, spelled",
    [("tcp", "tcp"), ("6", "tcp"), (17, "udp"), ("1", "icmp"), ("58", "icmpv6"), ("ICMPv6", "icmpv6"),
     ("132", "132"), ("33", "33"), ("136", "136"), ("47", "47"), ("-1", ALL_TRAFFIC), ("all", ALL_TRAFFIC),
     ("200", "200")],
)
def test_canonical_spelling(value, spelled):
    assert canonical(value) == spelled


@pytest.mark.parametrize("value", ["sctp", "gre", "256", "-2", "", None, True, 6.0])
def test_canonical_refuses_what_ec2_does_not_accept(value):
    # EC2 accepts the names tcp, udp, icmp, icmpv6 and numbers 0-255 (and -1); anything else is malformed.
    with pytest.raises(ValueError, match="^ipProtocol "):
        canonical(value)


@pytest.mark.parametrize(
    "protocol, name",
    [("tcp", "tcp"), ("udp", "udp"), ("icmp", "icmp"), ("icmpv6", "icmpv6"), ("132", "sctp"),
     ("33", "protocol 33"), ("136", "protocol 136"), ("47", "protocol 47"), ("200", "protocol 200")],
)
def test_display_name_for_annotations(protocol, name):
    assert display_name(protocol) == name


def test_security_groups_read_protocols_through_the_table():
    import perimeter.securitygroups as securitygroups

    assert securitygroups.ALL_TRAFFIC is protocols.ALL_TRAFFIC
    assert securitygroups.canonical is protocols.canonical
