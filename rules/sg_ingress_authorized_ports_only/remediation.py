"""Remediation of sg-ingress-authorized-ports-only: the aws:executeScript handler of runbook.yaml.

The group's inbound rules (DescribeSecurityGroupRules) are judged by the rule's own code. For each rule it flags,
the authorized ports inside the flagged range are authorized for the same protocol, source and description (all
traffic: the tcp list as tcp rules, the udp list as udp rules, and all ICMP, which the rule authorizes), as ranges
(the authorized list's ranges intersected with the flagged one), then the flagged rule is revoked by its full
specification: access only narrows, and only the unauthorized part goes. A protocol
other than tcp, udp, icmp and icmpv6 is revoked with no replacement. Replacements go in first when the group has
room (quota L-0EA8095F, per address family), after the revoke when not; one whose range was not revoked after all
is revoked again. The group is then judged by the rule's evaluate. The machinery is perimeter.sg_remediation and
perimeter.sg_replacement.
"""
from __future__ import annotations

from perimeter.intervals import intersection, uncovered
from perimeter.protocols import ALL_TRAFFIC
from perimeter.remediation import boolean_input, client, rule_parameters
from perimeter.securitygroups import CIDR_IPV4, CIDR_IPV6, PREFIX_LIST, SECURITY_GROUP, Permission
from perimeter.sg_remediation import Run, group_handler, judge_again, quota_input
from perimeter.sg_replacement import replace_offenders
from perimeter.rules.sg_ingress_authorized_ports_only.rule import evaluate, offenders, parse_parameters

RULE = "sg-ingress-authorized-ports-only"
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"AuthorizedTcpPorts": "authorizedTcpPorts", "AuthorizedUdpPorts": "authorizedUdpPorts",
                   "SourceScope": "sourceScope", "TrustedSources": "trustedSources"}
TCP_UDP = ("tcp", "udp")  # the protocols with authorized lists, in the order replacements are listed
# The ICMP an all-traffic rule carried for its source, which the rule authorizes (its S7) and so must stay: icmp for an
# IPv4 CIDR, icmpv6 for an IPv6 one, both for a group reference (it admits both families). A prefix list's family is
# not in the rule (DescribeManagedPrefixLists would need another permission), and whether EC2 accepts an ICMP rule
# of the other family for it is not documented: none, so the run cannot fail on it (the description says so).
ICMP_OF_SOURCE = {CIDR_IPV4: ("icmp",), CIDR_IPV6: ("icmpv6",), SECURITY_GROUP: ("icmp", "icmpv6"), PREFIX_LIST: ()}
ALL_TYPES = -1  # FromPort/ToPort of an ICMP rule for every type and code


def handler(events, context):
    return group_handler(RULE, events, Run(), remediate)


def remediate(events: dict, run: Run, ec2=None) -> None:
    group_id = events["SecurityGroupId"]
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    quota = quota_input(events.get("InboundRuleQuota"))
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    if replace_offenders(ec2, group_id, run, lambda group: offenders(group, parameters),
                         lambda removals, kept: replacements(removals, kept, parameters.authorized), quota, dry_run):
        judge_again(ec2, group_id, lambda item: evaluate(item, parameters), run)


def replacements(removals: list[Permission], kept: list[Permission], authorized: dict) -> list[Permission]:
    """The authorized parts of each revoked rule's range, as rules for its source and description: for tcp and udp
    their own list, for all traffic both and all ICMP of the source's families (ICMP_OF_SOURCE); none for other protocols. Parts a
    remaining rule (or an earlier replacement) already allows that source are left out."""
    added: list[Permission] = []
    for removed in removals:
        protocols = TCP_UDP if removed.protocol == ALL_TRAFFIC else \
            (removed.protocol,) if removed.protocol in TCP_UDP else ()
        for protocol in protocols:
            for part in intersection(removed.ports, authorized[protocol]):
                open_already = [other.ports for other in kept + added if other.source == removed.source
                                and other.protocol in (protocol, ALL_TRAFFIC) and other.ports is not None]
                added += [Permission(protocol, piece.first, piece.last, removed.source, removed.description)
                          for piece in uncovered(part, open_already)]
        if removed.protocol == ALL_TRAFFIC:
            added += [Permission(protocol, ALL_TYPES, ALL_TYPES, removed.source, removed.description)
                      for protocol in ICMP_OF_SOURCE[removed.source.kind]
                      if not any(other.source == removed.source and (other.protocol == ALL_TRAFFIC or (
                          other.protocol == protocol and other.from_port in (ALL_TYPES, None)))
                          for other in kept + added)]
    return added
