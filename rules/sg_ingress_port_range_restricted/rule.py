"""sg-ingress-port-range-restricted: security groups must not open inbound port ranges.

Only ingress (``ipPermissions``) is judged; every source of a permission is judged on its own.
Pure: configuration item + parameters -> verdict. The remediation runbook imports this module too.

Scenarios (tests/test_rule_sg_ingress_port_range_restricted.py mirrors each one by its number):

S1  Given a group with no inbound permissions
    When it is evaluated
    Then COMPLIANT "No inbound port range over 1 port(s) open to any source"
S2  Given a group whose inbound permissions each open one port (tcp 443, udp 53)
    Then COMPLIANT "No inbound port range over 1 port(s) open to any source"
S3  Given tcp 0-65535 from 0.0.0.0/0
    Then NON_COMPLIANT "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"
S4  Given a tcp or udp permission (also "6"/"17") missing fromPort and toPort
    Then NON_COMPLIANT naming the whole range, e.g. "Inbound port ranges open: udp 0-65535 from 10.0.0.0/8"
S5  Given all traffic (-1) from a referenced group
    Then NON_COMPLIANT "Inbound port ranges open: all traffic from sg-0abc"
S6  Given icmp/icmpv6 ("1"/"58") with type and code -1, or a protocol without ports such as GRE "47",
    ESP "50" or AH "51", whatever its fields say
    Then COMPLIANT: those fields are never a port range
S7  Given one permission with several sources (IPv4, legacy ipRanges string, IPv6, prefix list, group)
    Then each source is judged and named on its own, most open first:
    NON_COMPLIANT "Inbound port ranges open: all traffic from ...; tcp 0-65535 from ...; tcp 1000-2000 from ..."
S8  Given more offenders than fit in 256 characters
    Then NON_COMPLIANT naming as many as fit and "(+N more)"
S9  Given maxPorts "10" and tcp 8000-8009 (10 ports) / tcp 8000-8010 (11 ports)
    Then COMPLIANT / NON_COMPLIANT "Inbound port ranges open: tcp 8000-8010 from ..."
S10 Given authorizedTcpPorts "443,1024-65535" and tcp 1024-65535 / tcp 1000-2000
    Then COMPLIANT (inside one listed range) / NON_COMPLIANT (not wholly inside one range)
S11 Given authorizedTcpPorts and authorizedUdpPorts both "0-65535" and all traffic
    Then NON_COMPLIANT "... all traffic from ...": all traffic also opens every SCTP, DCCP and UDP-Lite
    port, which neither list covers
S12 Given sourceScope "public" and ranges from private, shared, link-local, loopback, unique-local and
    documentation CIDRs, a prefix list and a group
    Then COMPLIANT "No inbound port range over 1 port(s) open to public sources"; the same range from
    a public CIDR (e.g. 8.8.8.0/24 or 10.0.0.0/7) is NON_COMPLIANT
S13 Given sourceScope "world" and a range from 8.8.8.0/24
    Then COMPLIANT "No inbound port range over 1 port(s) open to the world"; from 0.0.0.0/0 or ::/0 NON_COMPLIANT
S14 Given an invalid parameter (maxPorts "abc" or "0", a port over 65535, a reversed range, an
    unknown sourceScope, an unknown parameter name)
    Then the invocation fails with InvalidParametersError naming the parameter and the value
    (e.g. "parameter maxPorts: 'abc' is not an integer >= 1"); a blank value means the default
S15 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason: "Resource status is ResourceDeleted" (also
    ResourceDeletedNotRecorded, ResourceNotRecorded), "Resource left the scope of this rule",
    "Resource type AWS::EC2::VPC is not evaluated by this rule"
S16 Given only the egress permissions open ranges
    Then COMPLIANT: egress is out of scope
S17 Given a port-carrying protocol other than tcp/udp by number: SCTP "132", DCCP "33", UDP-Lite "136",
    with any fromPort/toPort (EC2 opens every port of it)
    Then NON_COMPLIANT "Inbound port ranges open: sctp all ports from 0.0.0.0/0" (DCCP and UDP-Lite:
    "protocol 33 all ports from ...", "protocol 136 all ports from ..."), even with authorizedTcpPorts and
    authorizedUdpPorts "0-65535": those lists cover tcp and udp only
S18 Given a configuration without ipPermissions, or a port that is not a whole number (22.5)
    Then the item is malformed: the invocation fails naming the field
    (e.g. "AWS::EC2::SecurityGroup sg-0abc: ipPermissions is missing"); a whole-number float port (22.0,
    as advanced-query exports write it) is that port
S19 Given trustedSources "203.0.113.0/24,2001:db8::/32,pl-0123456789abcdef0,sg-0123456789abcdef0" and ranges
    from 203.0.113.128/25, 2001:db8:1::/48, that prefix list and that group
    Then COMPLIANT: trusted sources are not judged; the same range from 203.0.112.0/23 (wider than the trusted
    CIDR) or from another group is NON_COMPLIANT naming only the untrusted sources
S20 Given trustedSources with an entry that is no CIDR, prefix list id or group id (e.g. "10.0.0.0/33", "office")
    Then the invocation fails with InvalidParametersError naming trustedSources and the entry
S21 Given all traffic from the group itself (the default group's rule) and includeSelfReferences unset or "false"
    Then that rule is not judged: COMPLIANT; with "true", NON_COMPLIANT "... all traffic from sg-..."
    (a reference to another group is judged either way)
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.items import configuration_of
from perimeter.declarations import declared_values
from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.ports import PortRange, covered_by_one
from perimeter.securitygroups import (
    ALL_TRAFFIC,
    SCOPE_WORDS,
    Entry,
    JudgingSources,
    Permission,
    SecurityGroup,
    is_self,
    security_group_from_configuration,
)
from perimeter.rules.sg_ingress_port_range_restricted.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict, summarise


@dataclass(frozen=True)
class Parameters(JudgingSources):
    max_ports: int = 1
    authorized_tcp: tuple[PortRange, ...] = ()
    authorized_udp: tuple[PortRange, ...] = ()
    source_scope: str = "any"
    trusted: TrustedSources = TrustedSources()
    include_self_references: bool = False


def parse_parameters(raw: dict) -> Parameters:
    """Values as Config passes them (strings), parsed as declared; ParameterError names the parameter and value."""
    values = declared_values(DECLARATION, raw)
    return Parameters(
        max_ports=values["maxPorts"],
        authorized_tcp=values["authorizedTcpPorts"],
        authorized_udp=values["authorizedUdpPorts"],
        source_scope=values["sourceScope"],
        trusted=parse_trusted_sources(values["trustedSources"]),
        include_self_references=values["includeSelfReferences"],
    )


def opens_port_range(permission: Permission | Entry, parameters: Parameters) -> bool:
    ports = permission.ports
    if ports is None:
        return False  # ICMP type/code and protocols without ports
    if permission.protocol == ALL_TRAFFIC:
        # Every port of every protocol, SCTP/DCCP/UDP-Lite included, which no parameter exempts: always a range.
        return True
    if ports.count <= parameters.max_ports:
        return False
    authorized = {"tcp": parameters.authorized_tcp, "udp": parameters.authorized_udp}.get(permission.protocol, ())
    return not covered_by_one(ports, authorized)


def _openness(permission: Permission) -> tuple:
    """Sort key: all traffic first, then the widest ranges."""
    return (permission.protocol != ALL_TRAFFIC, -permission.ports.count)


def offending_permissions(group: SecurityGroup, parameters: Parameters) -> list[Permission]:
    """The in-scope ingress permissions from untrusted sources that open a non-exempt range, most open first.

    An entry's ports are judged once, for all its sources (``opens_port_range`` reads only protocol and ports)."""
    judgements, group_id = parameters.judgements, group.group_id
    offenders = [
        entry.permission(index)
        for entry in group.ingress_entries if opens_port_range(entry, parameters)
        for index, source in enumerate(entry.sources)
        if judgements.source(source) and (parameters.include_self_references or not is_self(source, group_id))
    ]
    return sorted(offenders, key=_openness)


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    group = security_group_from_configuration(configuration_of(item), egress=False)  # egress is out of scope
    offenders = offending_permissions(group, parameters)
    if not offenders:
        return Verdict(
            COMPLIANT,
            f"No inbound port range over {parameters.max_ports} port(s) open to {SCOPE_WORDS[parameters.source_scope]}",
        )
    return Verdict(NON_COMPLIANT, summarise("Inbound port ranges open", [p.label() for p in offenders]))
