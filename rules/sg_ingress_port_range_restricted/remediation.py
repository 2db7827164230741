"""Remediation of sg-ingress-port-range-restricted: the aws:executeScript handler of runbook.yaml.

The group's DescribeSecurityGroupRules listing is judged by the rule's own code. Each offending rule is revoked
by its full specification, never by rule ID: ModifySecurityGroupRules keeps a rule's ID while changing what it
allows, so an ID read a moment ago may name a narrowed, compliant rule by now. Replacement ports inside a
revoked range are authorized as single-port rules, before the range is revoked (after it when there is no room
yet); one whose range this run did not revoke is revoked again. Replacements that cannot fit under the rules
quota fail the run before any change. The group is then judged again. Failures are returned with the outputs.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from perimeter.parameters import ParameterError, int_value
from perimeter.ports import parse_port
from perimeter.remediation import (
    InputError, RemediationError, boolean_input, client, ec2_tags, error_code, exemption_refusal, outcome,
    rule_parameters, string_list_input,
)
from perimeter.securitygroups import (
    ALL_TRAFFIC, CIDR_IPV4, CIDR_IPV6, PREFIX_LIST, SECURITY_GROUP, Permission, SecurityGroup, ingress_from_rules,
    permissions_from_entries,
)
from perimeter.rules.sg_ingress_port_range_restricted.rule import offending_permissions, parse_parameters

RULE = "sg-ingress-port-range-restricted"
PAGE_SIZE = 200  # MaxResults of DescribeSecurityGroupRules (5-1000)
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"MaxPorts": "maxPorts", "AuthorizedTcpPorts": "authorizedTcpPorts",
                   "AuthorizedUdpPorts": "authorizedUdpPorts", "SourceScope": "sourceScope",
                   "TrustedSources": "trustedSources",
                   "IncludeSelfReferences": "includeSelfReferences"}
REPLACEMENT_PARAMETERS = {"tcp": "ReplacementTcpPorts", "udp": "ReplacementUdpPorts"}
GROUP_GONE = ("InvalidGroup.NotFound", "InvalidGroupId.NotFound", "InvalidGroupId.Malformed")
NOT_FOUND, DUPLICATE, NO_ROOM = "InvalidPermission.NotFound", "InvalidPermission.Duplicate", \
    "RulesPerSecurityGroupLimitExceeded"
ATTEMPTS = 3  # calls of one change before a group that keeps changing fails the run
# Amazon VPC quotas: "Inbound or outbound rules per security group" (L-0EA8095F), 60 by default, "enforced
# separately for IPv4 rules and IPv6 rules". A group reference admits both families and a prefix list's family is
# not in the rule: both count in both, so the check errs towards failing before any change.
DEFAULT_QUOTA = 60
FAMILIES = {CIDR_IPV4: ("IPv4",), CIDR_IPV6: ("IPv6",), SECURITY_GROUP: ("IPv4", "IPv6"),
            PREFIX_LIST: ("IPv4", "IPv6")}
# How AuthorizeSecurityGroupIngress spells each source kind: (IpPermissions list, key in its entries).
AUTHORIZE_SOURCES = {CIDR_IPV4: ("IpRanges", "CidrIp"), CIDR_IPV6: ("Ipv6Ranges", "CidrIpv6"),
                     PREFIX_LIST: ("PrefixListIds", "PrefixListId"), SECURITY_GROUP: ("UserIdGroupPairs", "GroupId")}


class Run:
    """What this run removed, added, revoked again (undone) and left as it found it (skipped)."""

    def __init__(self):
        self.owners, self.removed, self.added, self.undone, self.skipped = {}, [], [], [], []

    def outputs(self) -> dict:
        return {name: [entry(permission, self.owners) for permission in permissions] for name, permissions in (
            ("Removed", self.removed), ("Added", self.added), ("Undone", self.undone), ("Skipped", self.skipped))}


def handler(events, context):
    run = Run()
    try:
        ec2 = client("ec2")
        exempt = exemption_refusal(RULE, ec2_tags(ec2, events["SecurityGroupId"]))
        if exempt:  # tagged perimeter:exempt:<rule id> with an active exemption: nothing changes
            return outcome({**run.outputs(), **exempt}, None)
        remediate(events, run, ec2)
    except Exception as error:  # returned, not raised: the outputs must exist on failure too
        return outcome(run.outputs(), error)
    return outcome(run.outputs(), None)


def remediate(events: dict, run: Run, ec2=None) -> None:
    group_id = events["SecurityGroupId"]
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    ports = {protocol: port_list(events.get(name), name) for protocol, name in REPLACEMENT_PARAMETERS.items()}
    quota = quota_input(events.get("InboundRuleQuota"))
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    group, run.owners = read_group(ec2, group_id)
    removals = offending_permissions(group, parameters)
    kept = [permission for permission in group.ingress if permission not in removals]
    additions = replacements(removals, kept, ports)
    revoke_first = needs_revoke_first(group_id, group.ingress, removals, additions, quota)
    if dry_run or not removals:
        run.removed, run.added = removals, additions
        return
    if revoke_first:
        run.removed, run.skipped = revoke_exactly(ec2, group_id, removals, run.owners)
        wanted = [added for added in additions if _held(added, run.removed)]
        try:
            run.added = authorize(ec2, group_id, wanted, run.owners)
        except ClientError as error:
            raise RemediationError(f"the ranges were revoked, but adding the replacement rules failed ({error}); "
                                   f"add them when there is room: {_labels(wanted)}") from None
    else:
        try:
            run.added = authorize(ec2, group_id, additions, run.owners)
        except ClientError as error:
            if error_code(error) != NO_ROOM:
                raise
            raise RemediationError(f"no room for the replacement rules ({error}); nothing changed. A customer-managed "
                                   "prefix list counts as its maximum entries; check InboundRuleQuota") from None
        try:
            run.removed, run.skipped = revoke_exactly(ec2, group_id, removals, run.owners)
        finally:
            withdraw_strays(ec2, group_id, run)
    verify(ec2, group_id, parameters, run)


def port_list(value, name: str) -> list[int]:
    items = string_list_input(value, name)
    try:
        return sorted({parse_port(item) for item in items})
    except ValueError as error:
        raise InputError(f"parameter {name}: {error}") from None


def quota_input(value) -> int:
    raw = {"InboundRuleQuota": "" if value is None else str(value)}
    try:
        return int_value(raw, "InboundRuleQuota", default=DEFAULT_QUOTA, minimum=1)
    except ParameterError as error:
        raise InputError(str(error)) from None


def read_group(ec2, group_id: str) -> tuple[SecurityGroup, dict[str, str]]:
    """The group's inbound rules as the model, and the owner account of each referenced group.

    Only when the listing is empty is the group described: the rules API lists nothing for a missing group.
    """
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}], PaginationConfig={"PageSize": PAGE_SIZE})
    rules = [rule for page in pages for rule in page["SecurityGroupRules"]]
    if not rules:
        try:
            ec2.describe_security_groups(GroupIds=[group_id])
        except ClientError as error:
            if error_code(error) in GROUP_GONE:
                raise RemediationError(f"security group {group_id} does not exist ({error_code(error)}); it may "
                                       "have been deleted after Config evaluated it: nothing to remediate") from None
            raise
    owners = {rule["ReferencedGroupInfo"]["GroupId"]: rule["ReferencedGroupInfo"]["UserId"]
              for rule in rules if (rule.get("ReferencedGroupInfo") or {}).get("UserId")}
    return SecurityGroup(group_id, "", None, ingress=ingress_from_rules(rules), egress=()), owners


def replacements(removals: list[Permission], kept: list[Permission], ports: dict[str, list[int]]) -> list[Permission]:
    """Single-port rules keeping the listed ports open to each revoked rule's source: only ports that lay inside
    the revoked range, for its protocol (all traffic: tcp and udp), and only where no remaining rule allows them."""
    added: list[Permission] = []
    for removed in removals:
        for protocol in ("tcp", "udp") if removed.protocol == ALL_TRAFFIC else (removed.protocol,):
            for port in ports.get(protocol, ()):
                candidate = Permission(protocol, port, port, removed.source, removed.description)
                if _allows(removed, candidate) and not _held(candidate, kept + added):
                    added.append(candidate)
    return added


def _allows(existing: Permission, wanted: Permission) -> bool:
    return (existing.source == wanted.source and existing.protocol in (wanted.protocol, ALL_TRAFFIC)
            and existing.ports is not None and existing.ports.contains(wanted.ports))


def _held(wanted: Permission, permissions) -> bool:
    return any(_allows(existing, wanted) for existing in permissions)


def rule_counts(permissions) -> dict[str, int]:
    counts = {"IPv4": 0, "IPv6": 0}
    for permission in permissions:
        for family in FAMILIES[permission.source.kind]:
            counts[family] += 1
    return counts


def needs_revoke_first(group_id: str, ingress, removals, additions, quota: int) -> bool:
    """Whether the replacements fit only once the ranges are gone; RemediationError when they never fit.

    Every rule counts as one here; a customer-managed prefix list counts as its maximum entries (Amazon VPC
    quotas), so AWS may still refuse: before any change when the replacements go in first.
    """
    now, out, new = rule_counts(ingress), rule_counts(removals), rule_counts(additions)
    revoke_first = False
    for family in now:
        limit = max(quota, now[family])  # a group above the given quota shows that the account's is higher
        after = now[family] - out[family] + new[family]
        if after > limit:
            raise RemediationError(
                f"security group {group_id} would need {after} inbound {family} rules ({now[family]} now, "
                f"{out[family]} revoked, {new[family]} replacement rules added), over the quota of {limit}; "
                "nothing changed. Pass fewer replacement ports, or raise the quota 'Inbound or outbound rules per "
                "security group' (L-0EA8095F) and pass it as InboundRuleQuota")
        revoke_first = revoke_first or now[family] + new[family] > limit
    return revoke_first


def revoke_exactly(ec2, group_id: str, wanted: list, owners: dict) -> tuple[list, list]:
    """Revoke each rule by its full specification: (revoked, skipped as no rule matches it any more).

    RevokeSecurityGroupIngress (EC2 API Reference): in a non-default VPC an unmatched specification fails the
    call with InvalidPermission.NotFound "and no rules are revoked", so the rules still there exactly are tried
    again; in a default VPC the call succeeds and lists it in UnknownIpPermissions.
    """
    pending, skipped, response = _settled(ec2, group_id, wanted, owners, NOT_FOUND, present=True, call=lambda entries:
                                          ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=entries))
    unknown = {_key(permission) for permission in permissions_from_entries(
        response.get("UnknownIpPermissions") or [], "UnknownIpPermissions")}
    revoked = {_key(permission): permission for permission in ingress_from_rules(
        {**rule, "ReferencedGroupInfo": {"GroupId": rule.get("ReferencedGroupId")}}
        for rule in response.get("RevokedSecurityGroupRules") or [])}
    return ([revoked.get(_key(permission), permission) for permission in pending if _key(permission) not in unknown],
            skipped + [permission for permission in pending if _key(permission) in unknown])


def authorize(ec2, group_id: str, additions: list, owners: dict) -> list[Permission]:
    """Authorize the rules, leaving out any that someone added meanwhile (InvalidPermission.Duplicate)."""
    pending, _, response = _settled(ec2, group_id, additions, owners, DUPLICATE, present=False, call=lambda entries:
                                    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=entries))
    ids = {_key(rule): rule.rule_id for rule in ingress_from_rules(response.get("SecurityGroupRules") or [])}
    return [added._replace(rule_id=ids.get(_key(added))) for added in pending]


def _settled(ec2, group_id: str, pending: list, owners: dict, conflict: str, present: bool, call):
    """(rules called with, rules dropped, response) of ``call`` with the rules' IpPermissions. After ``conflict``
    (the group changed meanwhile; the call changed nothing) the group is read again, and only the rules that are
    ``present`` there (as now listed), or absent, are called with again."""
    dropped: list[Permission] = []
    for _ in range(ATTEMPTS):
        if not pending:
            return [], dropped, {}
        try:
            return pending, dropped, call([ip_permission(permission, owners) for permission in pending])
        except ClientError as error:
            if error_code(error) != conflict:
                raise
        current = {_key(permission): permission for permission in read_group(ec2, group_id)[0].ingress}
        dropped += [permission for permission in pending if (_key(permission) in current) != present]
        pending = [current.get(_key(permission), permission) for permission in pending
                   if (_key(permission) in current) == present]
    raise RemediationError(f"security group {group_id} kept changing while it was being remediated; run again")


def withdraw_strays(ec2, group_id: str, run: Run) -> None:
    """Revoke the replacements that no range revoked by this run held: they would widen access."""
    strays = [added for added in run.added if not _held(added, run.removed)]
    if strays:
        run.added = [added for added in run.added if added not in strays]
        try:
            run.undone = revoke_exactly(ec2, group_id, strays, run.owners)[0]
        except Exception:
            run.added += strays  # still open as far as this run knows
            raise RemediationError(f"revoke these replacement rules, whose ranges stay: {_labels(strays)}")


def verify(ec2, group_id: str, parameters, run: Run) -> None:
    """Judge the group again; Removed keeps the rules now gone, Added gets the rule IDs the group lists."""
    group, _ = read_group(ec2, group_id)
    listed = {(permission.rule_id, _key(permission)) for permission in group.ingress}
    run.removed = [removed for removed in run.removed if (removed.rule_id, _key(removed)) not in listed]
    rule_ids = {_key(permission): permission.rule_id for permission in group.ingress}
    run.added = [added._replace(rule_id=rule_ids.get(_key(added), added.rule_id)) for added in run.added]
    still = offending_permissions(group, parameters)
    if still:
        raise RemediationError(
            f"security group {group_id} still opens inbound port ranges after remediation: {_labels(still)}")


def ip_permission(permission: Permission, owners: dict) -> dict:
    """The rule as an IpPermissions entry. Revoking needs no description (EC2 API Reference); the one read is sent
    anyway, the rule exactly as judged, and one changed meanwhile is read again after InvalidPermission.NotFound."""
    list_name, key = AUTHORIZE_SOURCES[permission.source.kind]
    source = {key: permission.source.value}
    if permission.source.kind == SECURITY_GROUP and permission.source.value in owners:
        source["UserId"] = owners[permission.source.value]
    if permission.description:
        source["Description"] = permission.description
    specification = {"IpProtocol": permission.protocol, list_name: [source]}
    if permission.protocol != ALL_TRAFFIC:
        first, last = permission.ports or (permission.from_port, permission.to_port)
        specification.update(FromPort=first, ToPort=last)
    return specification


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
    """What a rule allows, however its ports are spelled (all traffic: none, or -1)."""
    return permission.protocol, tuple(permission.ports or (permission.from_port, permission.to_port)), permission.source


def _labels(permissions) -> str:
    return "; ".join(permission.label() for permission in permissions)
