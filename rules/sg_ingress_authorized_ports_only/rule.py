"""sg-ingress-authorized-ports-only: security groups must open only authorized ports to inbound traffic.

Security Hub EC2.18 and the managed rule vpc-sg-open-only-to-authorized-ports. Only ingress is judged; every
source of a permission on its own. Unlike the managed rule, a group with no in-scope ingress is COMPLIANT (not
NOT_APPLICABLE), so dashboards count it. Pure.

Scenarios (tests/test_rule_sg_ingress_authorized_ports_only.py mirrors each one by its number):

S1  Given a group with no inbound permissions, or none from an in-scope source
    When it is evaluated with the defaults
    Then COMPLIANT "No inbound rule open to the world"
S2  Given tcp 80 and tcp 443 from 0.0.0.0/0 and ::/0
    Then COMPLIANT "Only authorized ports open to the world"
S3  Given tcp 22 or tcp 80-443 from 0.0.0.0/0
    Then NON_COMPLIANT "Unauthorized inbound ports open: tcp 22 from 0.0.0.0/0" (a range is unauthorized when any
    port of it lies outside the union of the authorized ranges)
S4  Given authorizedTcpPorts "80,81" and tcp 80-81; "80-90,91-100" and tcp 85-95
    Then COMPLIANT: the authorized ranges are united
S5  Given udp 53 from 0.0.0.0/0 with the default (no udp port authorized) / with authorizedUdpPorts "53"
    Then NON_COMPLIANT "... udp 53 from 0.0.0.0/0" / COMPLIANT
S6  Given all traffic (-1) from 0.0.0.0/0
    Then NON_COMPLIANT "... all traffic from 0.0.0.0/0", unless both lists cover 0-65535 (then COMPLIANT)
S7  Given icmp or icmpv6 (any type and code) from 0.0.0.0/0
    Then COMPLIANT "Only authorized ports open to the world": ICMP is authorized
S8  Given another protocol ("50" ESP, "47" GRE, "132" SCTP) from 0.0.0.0/0
    Then NON_COMPLIANT naming it by number: "... protocol 50 from 0.0.0.0/0"
S9  Given sourceScope "world" and tcp 22 from 8.8.8.0/24, a prefix list and a group
    Then COMPLIANT; with "public", 8.8.8.0/24 is NON_COMPLIANT and 10.0.0.0/8 is not; with "any", all are
S10 Given several offenders
    Then they are named most severe first (all traffic, other protocols, then the most unauthorized ports), and as
    many as fit in 256 characters with "(+N more)"
S11 Given invalid parameters (a port over 65535, a reversed range, an unknown scope, an unknown name)
    Then the invocation fails naming the parameter and the value; a blank value means the default, "none" no port
S12 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
S13 Given only the egress permissions open unauthorized ports
    Then COMPLIANT: egress is out of scope
S14 Given trustedSources "203.0.113.0/24,sg-0123456789abcdef0" and sourceScope any, with offending rules from
    203.0.113.128/25 and from that group
    Then those sources are not judged: COMPLIANT; the same rules from 198.51.100.0/24 are NON_COMPLIANT
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.items import configuration_of
from perimeter.intervals import merged, uncovered
from perimeter.ports import ALL_PORTS, PortRange
from perimeter.protocols import ALL_TRAFFIC, ICMP_PROTOCOLS, PORT_RANGE_PROTOCOLS
from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.securitygroups import (
    SCOPE_WORDS, Entry, JudgingSources, Permission, SecurityGroup, security_group_from_configuration,
)
from perimeter.rules.sg_ingress_authorized_ports_only.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict, summarise


@dataclass(frozen=True)
class Parameters(JudgingSources):
    authorized: dict  # "tcp"/"udp" -> merged tuple[PortRange, ...]
    source_scope: str = "world"
    trusted: TrustedSources = TrustedSources()


def parse_parameters(raw: dict) -> Parameters:
    values = declared_values(DECLARATION, raw)
    return Parameters(authorized={"tcp": merged(values["authorizedTcpPorts"]),
                                  "udp": merged(values["authorizedUdpPorts"])},
                      source_scope=values["sourceScope"],
                      trusted=parse_trusted_sources(values["trustedSources"]))


def authorizes_everything(parameters: Parameters) -> bool:
    return all(not uncovered(ALL_PORTS, parameters.authorized[protocol]) for protocol in PORT_RANGE_PROTOCOLS)


def unauthorized_ports(permission: Permission | Entry, parameters: Parameters) -> int:
    """How many ports the permission opens beyond the authorized ones (0: authorized). All traffic counts every
    port of both lists' protocols; a protocol other than tcp, udp and ICMP counts as all its ports."""
    if permission.protocol == ALL_TRAFFIC:
        return 0 if authorizes_everything(parameters) else 2 * ALL_PORTS.count
    if permission.protocol in ICMP_PROTOCOLS:
        return 0
    if permission.protocol in PORT_RANGE_PROTOCOLS:
        return sum(part.count for part in uncovered(permission.ports, parameters.authorized[permission.protocol]))
    return ALL_PORTS.count


def offenders(group: SecurityGroup, parameters: Parameters) -> list[Permission]:
    """The in-scope ingress permissions opening unauthorized ports, most severe first."""
    judgements = parameters.judgements
    count = lambda entry: unauthorized_ports(entry, parameters)  # noqa: E731  # remembered per protocol and ports
    found = []
    for entry in group.ingress_entries:  # an entry's ports are judged once, for all its sources
        unauthorized = judgements.ports(entry, count)
        if unauthorized:
            found += [(entry.permission(index), unauthorized) for index, source in enumerate(entry.sources)
                      if judgements.source(source)]
    return [permission for permission, _ in sorted(found, key=lambda pair: (
        pair[0].protocol != ALL_TRAFFIC, pair[0].protocol in PORT_RANGE_PROTOCOLS, -pair[1]))]


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    group = security_group_from_configuration(configuration_of(item), egress=False)  # egress is out of scope
    found = offenders(group, parameters)
    scope = SCOPE_WORDS[parameters.source_scope]
    if found:
        return Verdict(NON_COMPLIANT, summarise("Unauthorized inbound ports open", [p.label() for p in found]))
    if not any(parameters.judgements.source(source) for entry in group.ingress_entries for source in entry.sources):
        return Verdict(COMPLIANT, f"No inbound rule open to {scope}")
    return Verdict(COMPLIANT, f"Only authorized ports open to {scope}")
