"""Remediation of sg-ingress-port-range-restricted: the aws:executeScript handler of runbook.yaml.

The group's DescribeSecurityGroupRules listing is judged by the rule's own code. Each offending rule is revoked
by its full specification, never by rule ID: ModifySecurityGroupRules keeps a rule's ID while changing what it
allows, so an ID read a moment ago may name a narrowed, compliant rule by now. Replacement ports inside a
revoked range are authorized as single-port rules, before the range is revoked (after it when there is no room
yet); one whose range this run did not revoke is revoked again. Replacements that cannot fit under the rules
quota fail the run before any change. The group is then judged again. Failures are returned with the outputs.
The machinery (reading, revoking, authorizing, room and races) is perimeter.sg_remediation, shared by the SG runbooks.
"""
from __future__ import annotations

from perimeter.ports import parse_port
from perimeter.remediation import (
    InputError, RemediationError, boolean_input, client, rule_parameters, string_list_input,
)
from perimeter.securitygroups import ALL_TRAFFIC, Permission
from perimeter.sg_remediation import PAGE_SIZE, Run, confirm, group_handler, labels, quota_input, read_group
from perimeter.sg_replacement import held, needs_revoke_first, replace_offenders
from perimeter.rules.sg_ingress_port_range_restricted.rule import offending_permissions, parse_parameters

__all__ = ["PAGE_SIZE", "Run", "handler", "needs_revoke_first", "remediate"]

RULE = "sg-ingress-port-range-restricted"
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"MaxPorts": "maxPorts", "AuthorizedTcpPorts": "authorizedTcpPorts",
                   "AuthorizedUdpPorts": "authorizedUdpPorts", "SourceScope": "sourceScope",
                   "TrustedSources": "trustedSources",
                   "IncludeSelfReferences": "includeSelfReferences"}
REPLACEMENT_PARAMETERS = {"tcp": "ReplacementTcpPorts", "udp": "ReplacementUdpPorts"}


def handler(events, context):
    return group_handler(RULE, events, Run(), remediate)


def remediate(events: dict, run: Run, ec2=None) -> None:
    group_id = events["SecurityGroupId"]
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    ports = {protocol: port_list(events.get(name), name) for protocol, name in REPLACEMENT_PARAMETERS.items()}
    quota = quota_input(events.get("InboundRuleQuota"))
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    if replace_offenders(ec2, group_id, run, lambda group: offending_permissions(group, parameters),
                         lambda removals, kept: replacements(removals, kept, ports), quota, dry_run):
        verify(ec2, group_id, parameters, run)


def port_list(value, name: str) -> list[int]:
    items = string_list_input(value, name)
    try:
        return sorted({parse_port(item) for item in items})
    except ValueError as error:
        raise InputError(f"parameter {name}: {error}") from None


def replacements(removals: list[Permission], kept: list[Permission], ports: dict[str, list[int]]) -> list[Permission]:
    """Single-port rules keeping the listed ports open to each revoked rule's source: only ports that lay inside
    the revoked range, for its protocol (all traffic: tcp and udp), and only where no remaining rule allows them."""
    added: list[Permission] = []
    for removed in removals:
        for protocol in ("tcp", "udp") if removed.protocol == ALL_TRAFFIC else (removed.protocol,):
            for port in ports.get(protocol, ()):
                candidate = Permission(protocol, port, port, removed.source, removed.description)
                if held(candidate, [removed]) and not held(candidate, kept + added):
                    added.append(candidate)
    return added


def verify(ec2, group_id: str, parameters, run: Run) -> None:
    """Judge the group again; Removed keeps the rules now gone, Added gets the rule IDs the group lists."""
    group, _ = read_group(ec2, group_id)
    confirm(run, group)
    still = offending_permissions(group, parameters)
    if still:
        raise RemediationError(
            f"security group {group_id} still opens inbound port ranges after remediation: {labels(still)}")
