"""The IAM statements of the security-group runbooks' remediation functions, declared once: each SG rule's
declaration.py builds its ``remediation.permissions`` here (the schema: perimeter/declaration_schema.py).

Every SG runbook reads the group's tags (exempt?), its rules and, where needed, the group itself
(perimeter.sg_remediation); the changes it makes are its own. Authorize and Revoke calls are authorized on the group
and on its security-group rules (EC2's service authorization reference lists both resource types for them). Pure.
"""
from __future__ import annotations

READ_ACTIONS = ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeTags")
GROUP_RESOURCES = ("arn:{partition}:ec2:{region}:{account}:security-group/*",
                   "arn:{partition}:ec2:{region}:{account}:security-group-rule/*")


def sg_remediation_permissions(*changes: str) -> list[dict]:
    """The reads on every resource (Describe* supports no resource-level permissions), then one statement per
    change action (``ec2:RevokeSecurityGroupIngress`` ...) on the account's groups and group rules."""
    return [{"actions": list(READ_ACTIONS), "resources": ["*"]}] + [
        {"actions": [action], "resources": list(GROUP_RESOURCES)} for action in changes]
