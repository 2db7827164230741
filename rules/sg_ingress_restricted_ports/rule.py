"""sg-ingress-restricted-ports: security groups must not open restricted ports to inbound traffic.

One rule for Security Hub EC2.13 (SSH), EC2.14 (RDP), EC2.19 (high-risk ports), EC2.53/EC2.54 (remote
administration from IPv4/IPv6) and the managed rules restricted-ssh, restricted-common-ports and
vpc-sg-port-restriction-check. Only ingress is judged; every source of a permission on its own. Pure.

Scenarios (tests/test_rule_sg_ingress_restricted_ports.py mirrors each one by its number):

S1  Given a group with no inbound permissions
    When it is evaluated with the defaults
    Then COMPLIANT "No restricted port open to the world"
S2  Given tcp 22 from 0.0.0.0/0 (also "6", and ::/0)
    Then NON_COMPLIANT "Restricted ports open: tcp 22 from 0.0.0.0/0"
S3  Given a tcp range holding restricted ports (tcp 3000-4000 from 0.0.0.0/0)
    Then NON_COMPLIANT naming the restricted ports it reaches:
    "Restricted ports open: tcp 3000-4000 from 0.0.0.0/0 (reaches 3000, 3306, 3389)"
S4  Given tcp 443 and tcp 8443-8500 from 0.0.0.0/0 (no restricted port inside)
    Then COMPLIANT "No restricted port open to the world"
S5  Given all traffic (-1) from 0.0.0.0/0
    Then NON_COMPLIANT "Restricted ports open: all traffic from 0.0.0.0/0"; with restrictedTcpPorts "none"
    and restrictedUdpPorts "53" still NON_COMPLIANT (either list non-empty)
S6  Given icmp/icmpv6 with type and code -1, or another protocol ("50", "132") from 0.0.0.0/0
    Then COMPLIANT: they never reach a tcp or udp port
S7  Given restrictedUdpPorts "53,161" and udp 0-1000 / udp 500 from 0.0.0.0/0
    Then NON_COMPLIANT "... udp 0-1000 from 0.0.0.0/0 (reaches 53, 161)" / COMPLIANT
S8  Given a tcp or udp permission without fromPort and toPort
    Then it opens every port: tcp 0-65535 reaches every restricted tcp port
S9  Given sourceScope "world" and tcp 22 from 8.8.8.0/24, a prefix list and a group
    Then COMPLIANT; with "public", 8.8.8.0/24 is NON_COMPLIANT and 10.0.0.0/8 is not; with "any", all of them are
S10 Given several offenders
    Then they are named most severe first (all traffic, then the most restricted ports reached), and as many as
    fit in 256 characters with "(+N more)"
S11 Given invalid parameters (a port over 65535, a reversed range, an unknown scope, an unknown name, or both
    lists "none"/empty)
    Then the invocation fails naming the parameter and the value; a blank value means the default
S12 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
S13 Given only the egress permissions open restricted ports
    Then COMPLIANT: egress is out of scope
S14 Given trustedSources "203.0.113.0/24,sg-0123456789abcdef0" and sourceScope any, with offending rules from
    203.0.113.128/25 and from that group
    Then those sources are not judged: COMPLIANT; the same rules from 198.51.100.0/24 are NON_COMPLIANT
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.items import configuration_of
from perimeter.intervals import intersection, port_list_text
from perimeter.parameters import restricted_port_lists
from perimeter.ports import ALL_PORTS, PortRange
from perimeter.protocols import ALL_TRAFFIC, PORT_RANGE_PROTOCOLS
from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.securitygroups import (
    SCOPE_WORDS, Entry, JudgingSources, Permission, SecurityGroup, security_group_from_configuration,
)
from perimeter.rules.sg_ingress_restricted_ports.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict, summarise

SHOWN_PORTS = 3  # restricted ports named per offender before "and N more"


@dataclass(frozen=True)
class Parameters(JudgingSources):
    restricted: dict  # "tcp"/"udp" -> tuple[PortRange, ...]
    source_scope: str = "world"
    trusted: TrustedSources = TrustedSources()


def parse_parameters(raw: dict) -> Parameters:
    values = declared_values(DECLARATION, raw)
    return Parameters(restricted=restricted_port_lists(values, "restrictedTcpPorts", "restrictedUdpPorts"),
                      source_scope=values["sourceScope"],
                      trusted=parse_trusted_sources(values["trustedSources"]))


def tcp_udp_reach(permission: Permission | Entry) -> dict[str, PortRange]:
    """The tcp and udp ports a permission opens, by protocol: all traffic opens every port of both; tcp/udp their
    range; ICMP and every other protocol no tcp or udp port (whatever ports those protocols may carry)."""
    if permission.protocol == ALL_TRAFFIC:
        return {"tcp": ALL_PORTS, "udp": ALL_PORTS}
    if permission.protocol in PORT_RANGE_PROTOCOLS:
        return {permission.protocol: permission.ports}
    return {}


def restricted_reach(permission: Permission | Entry, parameters: Parameters) -> dict[str, tuple[PortRange, ...]]:
    """The restricted ports, by protocol, the permission opens (empty when none)."""
    reach = {}
    for protocol, ports in tcp_udp_reach(permission).items():
        reached = intersection(ports, parameters.restricted[protocol])
        if reached:
            reach[protocol] = reached
    return reach


def offenders(group: SecurityGroup, parameters: Parameters) -> list[tuple[Permission, dict]]:
    """(permission, restricted ports it reaches) for every in-scope offending ingress permission, most severe
    first: all traffic, then the most restricted ports reached."""
    found = []
    judgements = parameters.judgements
    reach_of = lambda entry: restricted_reach(entry, parameters)  # noqa: E731  # one per call: remembered per ports
    for entry in group.ingress_entries:  # an entry's reach is worked out once, for all its sources
        reach = judgements.ports(entry, reach_of)
        if reach:
            found += [(entry.permission(index), reach) for index, source in enumerate(entry.sources)
                      if judgements.source(source)]
    return sorted(found, key=lambda pair: (pair[0].protocol != ALL_TRAFFIC,
                                           -sum(r.count for ranges in pair[1].values() for r in ranges)))


def offender_label(permission: Permission, reach: dict) -> str:
    """``tcp 22 from 0.0.0.0/0``; a wider range names the restricted ports inside it."""
    if permission.protocol == ALL_TRAFFIC:
        return permission.label()
    [ranges] = reach.values()
    if ranges == (permission.ports,):
        return permission.label()
    shown = port_list_text(ranges[:SHOWN_PORTS]) + (f" and {len(ranges) - SHOWN_PORTS} more"
                                                    if len(ranges) > SHOWN_PORTS else "")
    return f"{permission.label()} (reaches {shown})"


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    group = security_group_from_configuration(configuration_of(item), egress=False)  # egress is out of scope
    found = offenders(group, parameters)
    if not found:
        return Verdict(COMPLIANT, f"No restricted port open to {SCOPE_WORDS[parameters.source_scope]}")
    return Verdict(NON_COMPLIANT, summarise("Restricted ports open", [offender_label(*pair) for pair in found]))
