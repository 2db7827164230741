"""sg-default-closed: the default security group of a VPC must have no inbound or outbound rules.

Security Hub EC2.2 and the managed rule vpc-default-security-group-closed. A rule is one (protocol, port range,
source), the unit AWS counts and DescribeSecurityGroupRules lists; the legacy ``ipRanges`` strings repeating
``ipv4Ranges`` count once. Pure.

Scenarios (tests/test_rule_sg_default_closed.py mirrors each one by its number):

S1  Given a group named "default" with no inbound and no outbound permissions
    When it is evaluated
    Then COMPLIANT "Default security group has no inbound or outbound rules"
S2  Given the default group as AWS creates it (all traffic from itself, all traffic to 0.0.0.0/0)
    Then NON_COMPLIANT "Default security group has 1 inbound and 1 outbound rules"
S3  Given a default group with one permission holding two sources inbound and one rule outbound
    Then NON_COMPLIANT "Default security group has 2 inbound and 1 outbound rules" (one rule per source)
S4  Given a default group with only outbound rules, or only inbound rules
    Then NON_COMPLIANT counting each direction ("... has 0 inbound and 2 outbound rules")
S5  Given any group not named "default" (also "Default", "default-web")
    Then NOT_APPLICABLE "Not a VPC default security group"
S6  Given an unknown parameter name
    Then the invocation fails naming it
S7  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from perimeter.declarations import declared_values
from perimeter.items import configuration_of, field
from perimeter.securitygroups import rule_count, security_group_from_configuration
from perimeter.rules.sg_default_closed.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict

# EC2 names the group it creates with each VPC "default", and refuses the name for any other group
# (CreateSecurityGroup fails with InvalidParameterValue "Cannot use reserved security group name: default").
DEFAULT_GROUP_NAME = "default"
NOT_DEFAULT = "Not a VPC default security group"


def parse_parameters(raw: dict) -> None:
    declared_values(DECLARATION, raw)  # no parameters: refuses unknown names
    return None


def is_default_group(configuration: dict) -> bool:
    return field(configuration, "groupName") == DEFAULT_GROUP_NAME


def evaluate(item: dict, parameters: None) -> Verdict:
    configuration = configuration_of(item)
    group = security_group_from_configuration(configuration)  # reads (and so validates) the group either way
    if not is_default_group(configuration):
        return Verdict(NOT_APPLICABLE, NOT_DEFAULT)
    inbound, outbound = rule_count(group.ingress_entries), rule_count(group.egress_entries)
    if not inbound and not outbound:
        return Verdict(COMPLIANT, "Default security group has no inbound or outbound rules")
    return Verdict(NON_COMPLIANT, f"Default security group has {inbound} inbound and {outbound} outbound rules")
