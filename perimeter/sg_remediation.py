"""What the security-group runbooks share: read a group's rules, revoke exactly a (protocol, ports, source), authorize
replacements with room and race handling, judge the group again, and report rules in a form that restores them.

Used by the ``remediation.py`` of sg-ingress-port-range-restricted, sg-ingress-restricted-ports,
sg-ingress-authorized-ports-only and sg-default-closed; runs in their remediation functions (boto3 at hand). The
replacement rules of the runbooks that narrow (authorize, room, undo) are perimeter.sg_replacement.

Every rule is revoked by its full specification, never by its SecurityGroupRuleId alone: ModifySecurityGroupRules
keeps a rule's ID while changing what it allows, so an ID read a moment ago may name a narrowed, compliant rule by
now. A rule that no longer matches what was judged is left as it is and reported skipped.
"""
from __future__ import annotations

from typing import Callable

from botocore.exceptions import ClientError

from perimeter.parameters import ParameterError, int_value
from perimeter.protocols import PORT_RANGE_PROTOCOLS
from perimeter.remediation import (
    InputError, RemediationError, client, ec2_tags, error_code, exemption_refusal, outcome,
)
from perimeter.securitygroups import (
    ALL_TRAFFIC, CIDR_IPV4, CIDR_IPV6, PREFIX_LIST, SECURITY_GROUP, Permission, SecurityGroup, permission_from_rule,
    permissions_from_entries,
)
from perimeter.verdicts import NON_COMPLIANT, Verdict

PAGE_SIZE = 200  # MaxResults of DescribeSecurityGroupRules (5-1000)
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
# How AuthorizeSecurityGroupIngress/Egress spell each source kind: (IpPermissions list, key in its entries).
AUTHORIZE_SOURCES = {CIDR_IPV4: ("IpRanges", "CidrIp"), CIDR_IPV6: ("Ipv6Ranges", "CidrIpv6"),
                     PREFIX_LIST: ("PrefixListIds", "PrefixListId"), SECURITY_GROUP: ("UserIdGroupPairs", "GroupId")}
INGRESS, EGRESS = "ingress", "egress"


class Run:
    """What this run removed, added, revoked again (undone) and left as it found it (skipped); ``shown``: the
    outputs the runbook declares (a runbook that adds nothing has no Added or Undone)."""

    def __init__(self, shown=("Removed", "Added", "Undone", "Skipped")):
        self.owners, self.removed, self.added, self.undone, self.skipped = {}, [], [], [], []
        self.shown = shown

    def outputs(self) -> dict:
        lists = {"Removed": self.removed, "Added": self.added, "Undone": self.undone, "Skipped": self.skipped}
        return {name: [entry(permission, self.owners) for permission in lists[name]] for name in self.shown}


def group_handler(rule_id: str, events: dict, run, remediate: Callable) -> dict:
    """A runbook script's handler: the group's tags first (an exempt group ends here, unchanged), then
    ``remediate(events, run, ec2)``; failures are returned with ``run.outputs()``, for the Fail step to raise."""
    try:
        ec2 = client("ec2")
        exempt = exemption_refusal(rule_id, ec2_tags(ec2, events["SecurityGroupId"]))
        if exempt:  # tagged perimeter:exempt:<rule id> with an active exemption: nothing changes
            return outcome({**run.outputs(), **exempt}, None)
        remediate(events, run, ec2)
    except Exception as error:  # returned, not raised: the outputs must exist on failure too
        return outcome(run.outputs(), error)
    return outcome(run.outputs(), None)


def quota_input(value) -> int:
    raw = {"InboundRuleQuota": "" if value is None else str(value)}
    try:
        return int_value(raw, "InboundRuleQuota", default=DEFAULT_QUOTA, minimum=1)
    except ParameterError as error:
        raise InputError(str(error)) from None


# --- reading ------------------------------------------------------------------------------------------------------
def describe_group(ec2, group_id: str) -> dict:
    """The group as DescribeSecurityGroups returns it; RemediationError when it does not exist."""
    try:
        return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    except ClientError as error:
        if error_code(error) in GROUP_GONE:
            raise RemediationError(f"security group {group_id} does not exist ({error_code(error)}); it may "
                                   "have been deleted after Config evaluated it: nothing to remediate") from None
        raise


def read_group(ec2, group_id: str, egress: bool = False) -> tuple[SecurityGroup, dict[str, str]]:
    """The group's rules as the model (inbound; outbound too with ``egress``), and the owner account of each
    referenced group. Only when the listing is empty is the group described: the rules API lists nothing for a
    missing group."""
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}], PaginationConfig={"PageSize": PAGE_SIZE})
    rules = [rule for page in pages for rule in page["SecurityGroupRules"]]
    if not rules:
        describe_group(ec2, group_id)
    owners = {rule["ReferencedGroupInfo"]["GroupId"]: rule["ReferencedGroupInfo"]["UserId"]
              for rule in rules if (rule.get("ReferencedGroupInfo") or {}).get("UserId")}
    return SecurityGroup(group_id, "", None, ingress=_direction_rules(rules, INGRESS),
                         egress=_direction_rules(rules, EGRESS) if egress else ()), owners


def _direction_rules(rules, direction: str) -> tuple[Permission, ...]:
    return tuple(permission_from_rule(rule) for rule in rules if bool(rule.get("IsEgress")) == (direction == EGRESS))


def _of(group: SecurityGroup, direction: str) -> tuple[Permission, ...]:
    return group.egress if direction == EGRESS else group.ingress


# --- changing -----------------------------------------------------------------------------------------------------
def revoke_exactly(ec2, group_id: str, wanted: list, owners: dict, direction: str = INGRESS,
                   revoke: Callable | None = None) -> tuple[list, list]:
    """Revoke each rule by its full specification: (revoked, skipped as no rule matches it any more).

    RevokeSecurityGroupIngress / RevokeSecurityGroupEgress (EC2 API Reference): in a non-default VPC an unmatched
    specification fails the call with InvalidPermission.NotFound "and no rules are revoked", so the rules still
    there exactly are tried again; in a default VPC the call succeeds and lists it in UnknownIpPermissions.
    """
    if revoke is None:  # outbound: the caller passes its RevokeSecurityGroupEgress call
        def revoke(**request):
            return ec2.revoke_security_group_ingress(**request)
    pending, skipped, response = _settled(ec2, group_id, wanted, owners, NOT_FOUND, present=True, direction=direction,
                                          call=lambda entries: revoke(GroupId=group_id, IpPermissions=entries))
    unknown = {key(permission) for permission in permissions_from_entries(
        response.get("UnknownIpPermissions") or [], "UnknownIpPermissions")}
    revoked = {key(permission): permission for permission in _direction_rules(
        ({**rule, "ReferencedGroupInfo": {"GroupId": rule.get("ReferencedGroupId")}}
         for rule in response.get("RevokedSecurityGroupRules") or []), direction)}
    return ([revoked.get(key(permission), permission) for permission in pending if key(permission) not in unknown],
            skipped + [permission for permission in pending if key(permission) in unknown])


def _settled(ec2, group_id: str, pending: list, owners: dict, conflict: str, present: bool, direction: str, call):
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
        group = read_group(ec2, group_id, egress=direction == EGRESS)[0]
        current = {key(permission): permission for permission in _of(group, direction)}
        dropped += [permission for permission in pending if (key(permission) in current) != present]
        pending = [current.get(key(permission), permission) for permission in pending
                   if (key(permission) in current) == present]
    raise RemediationError(f"security group {group_id} kept changing while it was being remediated; run again")


# --- verifying ----------------------------------------------------------------------------------------------------
def gone(removed: list, listed) -> list:
    """The removed rules that the group no longer lists: by rule ID and specification where the ID is known (a rule
    authorized again meanwhile has a new ID), else by specification."""
    present = {(permission.rule_id, key(permission)) for permission in listed} | {
        (None, key(permission)) for permission in listed}
    return [permission for permission in removed if (permission.rule_id, key(permission)) not in present]


def confirm(run: Run, group: SecurityGroup) -> None:
    """After the changes, from the group as now listed: Removed keeps the rules now gone, Added gets the rule IDs."""
    run.removed = gone(run.removed, group.ingress)
    rule_ids = {key(permission): permission.rule_id for permission in group.ingress}
    run.added = [added._replace(rule_id=rule_ids.get(key(added), added.rule_id)) for added in run.added]


def require_compliant(group_id: str, verdict: Verdict) -> None:
    """The rule's verdict on the group as read after the changes; RemediationError when still NON_COMPLIANT."""
    if verdict.compliance == NON_COMPLIANT:
        raise RemediationError(f"security group {group_id} is still NON_COMPLIANT after remediation: "
                               f"{verdict.annotation}")


def judge_again(ec2, group_id: str, judge: Callable[[dict], Verdict], run: Run) -> None:
    """Read the inbound rules again, confirm the outputs, and judge the group with the rule's own evaluate
    (``judge``: configuration item -> verdict)."""
    group, owners = read_group(ec2, group_id)
    confirm(run, group)
    require_compliant(group_id, judge(group_item(group, owners)))


def group_item(group: SecurityGroup, owners: dict) -> dict:
    """A configuration item of the group as read, for the rule's evaluate."""
    return {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": group.group_id, "configurationItemStatus": "OK",
            "configuration": {"groupId": group.group_id, "groupName": group.group_name, "vpcId": group.vpc_id,
                              "ipPermissions": [ip_permission(p, owners) for p in group.ingress],
                              "ipPermissionsEgress": [ip_permission(p, owners) for p in group.egress]}}


# --- how rules are spelled ----------------------------------------------------------------------------------------
def ip_permission(permission: Permission, owners: dict) -> dict:
    """The rule as an IpPermissions entry, as AuthorizeSecurityGroupIngress/Egress take it. Revoking needs no
    description (EC2 API Reference); the one read is sent anyway, the rule exactly as judged, and one changed
    meanwhile is read again after InvalidPermission.NotFound."""
    list_name, value_key = AUTHORIZE_SOURCES[permission.source.kind]
    source = {value_key: permission.source.value}
    if permission.source.kind == SECURITY_GROUP and permission.source.value in owners:
        source["UserId"] = owners[permission.source.value]
    if permission.description:
        source["Description"] = permission.description
    specification = {"IpProtocol": permission.protocol, list_name: [source]}
    if permission.protocol != ALL_TRAFFIC:
        # tcp/udp: the range (a missing bound is the whole range). Any other protocol: the fields as read, which a
        # revoke must match, though SCTP's open every port (EC2 API Reference, IpPermission) and ESP's mean nothing.
        first, last = permission.ports if permission.protocol in PORT_RANGE_PROTOCOLS else \
            (permission.from_port, permission.to_port)
        specification.update({name: value for name, value in (("FromPort", first), ("ToPort", last))
                              if value is not None})
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


def key(permission: Permission) -> tuple:
    """What a rule allows, however its ports are spelled (all traffic: none, or -1)."""
    return permission.protocol, tuple(permission.ports or (permission.from_port, permission.to_port)), permission.source


def labels(permissions) -> str:
    return "; ".join(permission.label() for permission in permissions)
