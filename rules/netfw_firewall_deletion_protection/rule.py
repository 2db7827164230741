"""netfw-firewall-deletion-protection: a firewall must have deletion protection enabled.

Read as AWS reads it (managed rule netfw-deletion-protection-enabled, Security Hub NetworkFirewall.9). A firewall
is created without deletion protection unless asked (CreateFirewall DeleteProtection, default false), so an absent
setting is off. Pure: configuration item + parameters -> verdict.

Scenarios (tests/test_rule_netfw_firewall_deletion_protection.py mirrors each one by its number):

S1  Given a firewall whose deleteProtection is true
    When it is evaluated
    Then COMPLIANT "Deletion protection is enabled"
S2  Given a firewall whose deleteProtection is false or absent
    Then NON_COMPLIANT "Deletion protection is disabled"
S3  Given the PascalCase spelling of DescribeFirewall, a CloudFormation export without the firewall wrapper, the
    API shape, or the flag written as text ("true")
    Then the same verdicts as the camelCase recorded item
S4  Given a deleteProtection that is neither a Boolean nor true/false text (e.g. 1), or a firewall that is not an
    object
    Then the item is malformed: a clear error naming the item and the field
S5  Given an unknown parameter name
    Then the invocation fails with InvalidParametersError naming it
S6  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from perimeter.declarations import declared_values
from perimeter.firewall import firewall_from_configuration
from perimeter.items import configuration_of
from perimeter.rules.netfw_firewall_deletion_protection.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict


def parse_parameters(raw: dict) -> None:
    declared_values(DECLARATION, raw)  # no parameters beyond the pack's own: refuses unknown names
    return None


def evaluate(item: dict, parameters: None) -> Verdict:
    firewall = firewall_from_configuration(configuration_of(item))
    if firewall.delete_protection:
        return Verdict(COMPLIANT, "Deletion protection is enabled")
    return Verdict(NON_COMPLIANT, "Deletion protection is disabled")
