"""Remediation of sg-ingress-port-range-restricted: the aws:executeScript handler of runbook.yaml.

The group is judged by the rule's own code (``offending_permissions`` over the perimeter.securitygroups model),
read from DescribeSecurityGroupRules, where each inbound rule is one (protocol, port range, source) with its
own SecurityGroupRuleId. Exactly the offending rules are revoked by that id; other sources of the same
permission and every compliant rule stay. Replacement ports that lay inside a revoked range are authorized again
as single-port rules for the same protocol and source, before the range is revoked so that they stay reachable,
unless a remaining rule already allows them. The group is then read and judged again.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from perimeter.parameters import ParameterError
from perimeter.ports import parse_port
from perimeter.remediation import InputError, boolean_input, client, error_code, string_list_input
from perimeter.securitygroups import (
    ALL_TRAFFIC, CIDR_IPV4, CIDR_IPV6, PREFIX_LIST, SECURITY_GROUP, Permission, SecurityGroup, ingress_from_rules,
)
from perimeter.rules.sg_ingress_port_range_restricted.rule import offending_permissions, parse_parameters

PAGE_SIZE = 200  # MaxResults of DescribeSecurityGroupRules (5-1000)
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"MaxPorts": "maxPorts", "AuthorizedTcpPorts": "authorizedTcpPorts",
                   "AuthorizedUdpPorts": "authorizedUdpPorts", "SourceScope": "sourceScope",
                   "IncludeSelfReferences": "includeSelfReferences"}
REPLACEMENT_PARAMETERS = {"tcp": "ReplacementTcpPorts", "udp": "ReplacementUdpPorts"}
GROUP_GONE = ("InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidGroupId.Malformed")
NO_ROOM = "RulesPerSecurityGroupLimitExceeded"
# How AuthorizeSecurityGroupIngress spells each source kind: (IpPermissions list, key in its entries).
AUTHORIZE_SOURCES = {CIDR_IPV4: ("IpRanges", "CidrIp"), CIDR_IPV6: ("Ipv6Ranges", "CidrIpv6"),
                     PREFIX_LIST: ("PrefixListIds", "PrefixListId"), SECURITY_GROUP: ("UserIdGroupPairs", "GroupId")}


def handler(events, context):
    group_id = events["SecurityGroupId"]
    parameters = rule_parameters(events)
    ports = {protocol: port_list(events.get(name), name) for protocol, name in REPLACEMENT_PARAMETERS.items()}
    dry_run = boolean_input(events.get("DryRun", False), "DryRun")
    ec2 = client("ec2")

    group, owners = read_group(ec2, group_id)
    removals = offending_permissions(group, parameters)
    kept = [permission for permission in group.ingress if permission not in removals]
    additions = replacements(removals, kept, ports)
    if not dry_run and removals:
        apply(ec2, group_id, removals, additions, owners)
        group, _ = read_group(ec2, group_id)
        still = offending_permissions(group, parameters)
        if still:
            raise RuntimeError(f"security group {group_id} still opens inbound port ranges after remediation: "
                               f"{'; '.join(permission.label() for permission in still)}")
        rule_ids = {_key(permission): permission.rule_id for permission in group.ingress}
        additions = [added._replace(rule_id=rule_ids.get(_key(added))) for added in additions]
    return {"Removed": [entry(removed, owners) for removed in removals],
            "Added": [entry(added, owners) for added in additions]}


def rule_parameters(events: dict):
    """The rule's Parameters from the runbook's parameters; invalid values fail with the rule's own message."""
    raw = {rule: str(events[name]) for name, rule in RULE_PARAMETERS.items() if events.get(name) is not None}
    try:
        return parse_parameters(raw)
    except ParameterError as error:
        message = str(error)
        for name, rule in RULE_PARAMETERS.items():
            message = message.replace(f"parameter {rule}:", f"parameter {name} (rule parameter {rule}):")
        raise InputError(message) from None


def port_list(value, name: str) -> list[int]:
    items = string_list_input(value, name)
    try:
        return sorted({parse_port(item) for item in items})
    except ValueError as error:
        raise InputError(f"parameter {name}: {error}") from None


def read_group(ec2, group_id: str) -> tuple[SecurityGroup, dict[str, str]]:
    """The group's inbound rules as the model, and the owner account of each referenced group.

    One rule listing; only when it comes back empty (a group with no rules at all, or none) is the group
    described, because the rules API answers an empty list for a group that does not exist.
    """
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}], PaginationConfig={"PageSize": PAGE_SIZE})
    rules = [rule for page in pages for rule in page["SecurityGroupRules"]]
    if not rules:
        _check_exists(ec2, group_id)
    owners = {rule["ReferencedGroupInfo"]["GroupId"]: rule["ReferencedGroupInfo"]["UserId"]
              for rule in rules if (rule.get("ReferencedGroupInfo") or {}).get("UserId")}
    group = SecurityGroup(group_id, "", None, ingress=ingress_from_rules(rules), egress=())
    return group, owners


def _check_exists(ec2, group_id: str) -> None:
    try:
        ec2.describe_security_groups(GroupIds=[group_id])
    except ClientError as error:
        if error_code(error) in GROUP_GONE:
            raise LookupError(f"security group {group_id} does not exist ({error_code(error)}); it may have been "
                              "deleted after Config evaluated it: nothing to remediate") from None
        raise


def replacements(removals: list[Permission], kept: list[Permission], ports: dict[str, list[int]]) -> list[Permission]:
    """Single-port rules keeping the listed ports open to each revoked rule's source: only ports that lay inside
    the revoked range, for its protocol (all traffic: tcp and udp), and only where no remaining rule allows them."""
    added: list[Permission] = []
    for removed in removals:
        for protocol in ("tcp", "udp") if removed.protocol == ALL_TRAFFIC else (removed.protocol,):
            for port in ports[protocol]:
                candidate = Permission(protocol, port, port, removed.source, removed.description)
                if removed.ports.contains(candidate.ports) and not any(
                        _allows(existing, candidate) for existing in kept + added):
                    added.append(candidate)
    return added


def _allows(existing: Permission, wanted: Permission) -> bool:
    return (existing.source == wanted.source and existing.protocol in (wanted.protocol, ALL_TRAFFIC)
            and existing.ports is not None and existing.ports.contains(wanted.ports))


def apply(ec2, group_id: str, removals: list[Permission], additions: list[Permission], owners: dict) -> None:
    """Authorize the narrower rules, then revoke the ranges; revoke first only when the group has no room yet."""
    def authorize():
        if additions:
            ec2.authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=[ip_permission(added, owners) for added in additions])

    def revoke():
        ec2.revoke_security_group_ingress(GroupId=group_id,
                                          SecurityGroupRuleIds=[removed.rule_id for removed in removals])

    try:
        authorize()
    except ClientError as error:
        if error_code(error) != NO_ROOM:
            raise
        revoke()
        authorize()
        return
    revoke()


def ip_permission(permission: Permission, owners: dict) -> dict:
    list_name, key = AUTHORIZE_SOURCES[permission.source.kind]
    source = {key: permission.source.value}
    if permission.source.kind == SECURITY_GROUP and permission.source.value in owners:
        source["UserId"] = owners[permission.source.value]
    if permission.description:
        source["Description"] = permission.description
    return {"IpProtocol": permission.protocol, "FromPort": permission.from_port, "ToPort": permission.to_port,
            list_name: [source]}


def entry(permission: Permission, owners: dict) -> dict:
    """A rule as the outputs report it: enough to authorize it again."""
    reported = {"SecurityGroupRuleId": permission.rule_id} if permission.rule_id else {}
    reported.update({
        "IpProtocol": permission.protocol,
        "FromPort": -1 if permission.from_port is None else permission.from_port,  # all traffic: -1, as AWS says
        "ToPort": -1 if permission.to_port is None else permission.to_port,
        permission.source.kind: permission.source.value,
    })
    if permission.source.kind == SECURITY_GROUP and permission.source.value in owners:
        reported["ReferencedUserId"] = owners[permission.source.value]
    reported["Description"] = permission.description
    return reported


def _key(permission: Permission) -> tuple:
    return permission.protocol, permission.from_port, permission.to_port, permission.source
