"""nacl-ingress-admin-ports-restricted: network ACLs must not let the world reach remote administration ports.

Security Hub EC2.21 and the managed rule nacl-no-unrestricted-ssh-rdp, with rule order, which the managed rule
ignores: inbound entries are applied in ascending rule number, the first match decides (perimeter.networkacls),
so a deny ahead of an allow closes the port and a deny after it changes nothing. Pure.

Scenarios (tests/test_rule_nacl_ingress_admin_ports_restricted.py mirrors each one by its number):

S1  Given an ACL associated with a subnet whose inbound entries allow tcp 22 from 0.0.0.0/0 (rule 100)
    When it is evaluated with the defaults
    Then NON_COMPLIANT "Restricted ports allowed in: tcp 22 from 0.0.0.0/0 (rule 100)"
S2  Given a deny for tcp 22 from 0.0.0.0/0 ahead of that allow (rule 90)
    Then COMPLIANT "No restricted port open to the world": the allow is shadowed
S3  Given the same deny after the allow (rule 110)
    Then NON_COMPLIANT as S1: a later deny changes nothing
S4  Given denies that shadow the allow only in part (tcp 22 from 0.0.0.0/1 and from 128.0.0.0/2), or only for
    some of its ports
    Then NON_COMPLIANT naming exactly the ports the allow still decides for at least one address
S5  Given denies whose union covers the whole address space (0.0.0.0/1 and 128.0.0.0/1) and port ranges
    (tcp 0-1000 and tcp 1001-65535) ahead of an allow of all traffic
    Then COMPLIANT: shadowing is computed exactly over unions, never by sampling
S6  Given all traffic (-1) allowed from 0.0.0.0/0, or a tcp/udp allow without portRange
    Then NON_COMPLIANT naming tcp and udp 22 and 3389 (an entry without portRange holds every port)
S7  Given an IPv6 allow (::/0) shadowed only by an IPv4 deny (0.0.0.0/0), or the other way round
    Then NON_COMPLIANT: IPv4 entries match IPv4 packets only, IPv6 entries IPv6 packets only
S8  Given icmp ("1"), icmpv6 ("58") or another protocol ("50") allowed from 0.0.0.0/0, or tcp 80/443 only
    Then COMPLIANT: they reach no restricted tcp/udp port
S9  Given sourceScope "world" and an allow from 8.8.8.0/24 or 0.0.0.0/1
    Then COMPLIANT (only /0 entries count); with "public" NON_COMPLIANT, while an allow from 10.0.0.0/8 or
    from 0.0.0.0/0 behind denies for every public block stays COMPLIANT
S10 Given an ACL with no subnet association
    Then NOT_APPLICABLE "Not associated with any subnet"
S11 Given a default ACL (isDefault true)
    Then NOT_APPLICABLE "Default network ACL is not evaluated"; with evaluateDefaultNetworkAcl "true" it is judged
S12 Given egress entries that allow the restricted ports
    Then they are not judged (only inbound entries are)
S13 Given invalid parameters (sourceScope "any", both port lists "none", a port over 65535, evaluateDefaultNetworkAcl
    "yes", an unknown name)
    Then the invocation fails naming the parameter and the value; a blank value means the default
S14 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
S15 Given several offending entries
    Then they are named in rule-number order, as many as fit in 256 characters with "(+N more)"
S16 Given trustedSources "203.0.113.0/24,2001:db8::/32" and an allow for tcp 22 from 0.0.0.0/0 (rule 100)
    Then NON_COMPLIANT as S1: an address inside a trusted CIDR is not judged, the others still are
S17 Given trustedSources that cover every address the allow decides: "0.0.0.0/0", or "0.0.0.0/1,128.0.0.0/1",
    or "0.0.0.0/1" behind a deny for tcp 22 from 128.0.0.0/1 (rule 90)
    Then COMPLIANT: with world, a /0 allow offends only when it decides a restricted (protocol, port) for at least
    one address outside the trusted CIDRs; an IPv4 trusted CIDR leaves an IPv6 ::/0 allow judged
S18 Given sourceScope "public" and trustedSources "8.8.8.0/24" with an allow for tcp 22 from 8.8.8.0/24, and another
    from 8.8.0.0/16
    Then the first is COMPLIANT and the second NON_COMPLIANT: only globally routable addresses outside the trusted
    CIDRs count
S19 Given trustedSources naming a prefix list or a security group ("pl-0123456789abcdef0,sg-0123456789abcdef0")
    Then they are accepted (one value may serve SG and ACL rules alike) and change nothing: they never match an ACL
    entry, so an allow from 0.0.0.0/0 is NON_COMPLIANT as in S1
S20 Given an invalid trustedSources entry ("office", "10.0.0.0/33")
    Then the invocation fails naming the parameter and the entry
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.declarations import declared_values
from perimeter.items import configuration_of
from perimeter.networkacls import Finding, NetworkAcl, allowed_restricted, network_acl_from_configuration
from perimeter.parameters import restricted_port_lists
from perimeter.rules.nacl_ingress_admin_ports_restricted.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict, summarise

SCOPE_WORDS = {"world": "the world", "public": "public addresses"}


@dataclass(frozen=True)
class Parameters:
    restricted: dict  # "tcp"/"udp" -> tuple[PortRange, ...]
    source_scope: str = "world"
    evaluate_default: bool = False
    trusted: TrustedSources = TrustedSources()


def parse_parameters(raw: dict) -> Parameters:
    values = declared_values(DECLARATION, raw)
    return Parameters(restricted=restricted_port_lists(values, "restrictedTcpPorts", "restrictedUdpPorts"),
                      source_scope=values["sourceScope"], evaluate_default=values["evaluateDefaultNetworkAcl"],
                      trusted=parse_trusted_sources(values["trustedSources"]))


def findings(acl: NetworkAcl, parameters: Parameters) -> list[Finding]:
    """The inbound allow entries that decide a restricted (protocol, port) for an in-scope, untrusted address."""
    return allowed_restricted(acl.ingress, parameters.restricted, parameters.source_scope, parameters.trusted)


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    acl = network_acl_from_configuration(configuration_of(item))
    if acl.is_default and not parameters.evaluate_default:
        return Verdict(NOT_APPLICABLE, "Default network ACL is not evaluated")
    if not acl.subnet_ids:
        return Verdict(NOT_APPLICABLE, "Not associated with any subnet")
    found = findings(acl, parameters)
    if not found:
        return Verdict(COMPLIANT, f"No restricted port open to {SCOPE_WORDS[parameters.source_scope]}")
    return Verdict(NON_COMPLIANT, summarise("Restricted ports allowed in", [finding.label() for finding in found]))
