"""Remediation of sg-default-closed: the aws:executeScript handler of runbook.yaml.

Refuses any group but a VPC's default one (GroupName ``default``, which EC2 gives only the group it creates with
each VPC), then revokes every inbound and every outbound rule, each by its full specification (so a rule changed
meanwhile is not removed in a form the outputs would not restore). The outputs list what was removed as
IpPermissions entries, self-references (``UserIdGroupPairs`` with the group's own ID and owner) and descriptions
included, ready for AuthorizeSecurityGroupIngress / AuthorizeSecurityGroupEgress. The group is then read again and
judged by the rule's evaluate. The machinery is perimeter.sg_remediation, shared by the security-group runbooks.
"""
from __future__ import annotations

from perimeter.remediation import RemediationError, boolean_input, client
from perimeter.securitygroups import security_group_from_configuration
from perimeter.sg_remediation import (
    EGRESS, INGRESS, describe_group, gone, group_handler, group_item, ip_permission, read_group, require_compliant,
    revoke_exactly,
)
from perimeter.rules.sg_default_closed.rule import DEFAULT_GROUP_NAME, evaluate

RULE = "sg-default-closed"
DIRECTIONS = {INGRESS: "Ingress", EGRESS: "Egress"}


class ClosingRun:
    """What this run removed and skipped (no rule matched it any more), per direction."""

    def __init__(self):
        self.owners = {}
        self.removed = {direction: [] for direction in DIRECTIONS}
        self.skipped = {direction: [] for direction in DIRECTIONS}

    def outputs(self) -> dict:
        return {f"{kind}{word}": [ip_permission(permission, self.owners) for permission in lists[direction]]
                for kind, lists in (("Removed", self.removed), ("Skipped", self.skipped))
                for direction, word in DIRECTIONS.items()}


def handler(events, context):
    return group_handler(RULE, events, ClosingRun(), remediate)


def remediate(events: dict, run: ClosingRun, ec2=None) -> None:
    group_id = events["SecurityGroupId"]
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    # DescribeSecurityGroups: the name, and every rule with its description and a referenced group's owner.
    described = describe_group(ec2, group_id)
    name = described.get("GroupName")
    if name != DEFAULT_GROUP_NAME:
        raise RemediationError(f"security group {group_id} is named {name!r}, not a VPC default security group "
                               f"(named {DEFAULT_GROUP_NAME!r}): this runbook closes only those; nothing changed")
    group = security_group_from_configuration(described)
    run.owners = {pair["GroupId"]: pair["UserId"] for permission in described.get("IpPermissions", []) +
                  described.get("IpPermissionsEgress", []) for pair in permission.get("UserIdGroupPairs", [])
                  if pair.get("GroupId") and pair.get("UserId")}
    planned = {INGRESS: list(group.ingress), EGRESS: list(group.egress)}
    if dry_run or not (group.ingress or group.egress):
        run.removed = planned  # what would be removed
        return
    run.removed[INGRESS], run.skipped[INGRESS] = revoke_exactly(ec2, group_id, planned[INGRESS], run.owners)
    # Outbound second; each direction's outputs only once its revoke has answered.
    run.removed[EGRESS], run.skipped[EGRESS] = revoke_exactly(
        ec2, group_id, planned[EGRESS], run.owners, EGRESS, lambda **request: ec2.revoke_security_group_egress(**request))
    verify(ec2, group_id, run)


def verify(ec2, group_id: str, run: ClosingRun) -> None:
    """Read the rules again: the removed lists keep the rules now gone; the rule's evaluate must say COMPLIANT."""
    group, _ = read_group(ec2, group_id, egress=True)
    run.removed = {INGRESS: gone(run.removed[INGRESS], group.ingress), EGRESS: gone(run.removed[EGRESS], group.egress)}
    named = group_item(group, run.owners)
    named["configuration"]["groupName"] = DEFAULT_GROUP_NAME  # asserted above; the rules API does not say it
    require_compliant(group_id, evaluate(named, None))
