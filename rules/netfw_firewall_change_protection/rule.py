"""netfw-firewall-change-protection: a firewall must be protected against subnet (and policy) changes.

Read as AWS reads it (managed rule netfw-subnet-change-protection-enabled, Security Hub NetworkFirewall.10), which
checks subnet change protection only; ``requirePolicyChangeProtection`` extends it to the firewall's policy
association. Both settings default to false when a firewall is created (CreateFirewall), so absent means off.
Pure: configuration item + parameters -> verdict.

Scenarios (tests/test_rule_netfw_firewall_change_protection.py mirrors each one by its number):

S1  Given a firewall whose subnetChangeProtection is true
    When it is evaluated with the default requirePolicyChangeProtection "false"
    Then COMPLIANT "Subnet change protection is enabled (firewall policy change protection not required)"
S2  Given a firewall whose subnetChangeProtection is false or absent
    Then NON_COMPLIANT "Subnet change protection is disabled"
S3  Given requirePolicyChangeProtection "true" and a firewall with both protections
    Then COMPLIANT "Subnet change protection is enabled; firewall policy change protection is enabled"
S4  Given requirePolicyChangeProtection "true" and firewallPolicyChangeProtection false or absent
    Then NON_COMPLIANT naming what is off: "Firewall policy change protection is disabled", or with subnet
    change protection off too "Subnet change protection is disabled; firewall policy change protection is
    disabled"
S5  Given the PascalCase spelling of DescribeFirewall, a CloudFormation export, or the API shape
    Then the same verdicts as the camelCase recorded item
S6  Given a protection flag that is neither a Boolean nor true/false text
    Then the item is malformed: a clear error naming the item and the field
S7  Given an invalid requirePolicyChangeProtection (e.g. "yes") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S8  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.firewall import firewall_from_configuration
from perimeter.items import configuration_of
from perimeter.rules.netfw_firewall_change_protection.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict


@dataclass(frozen=True)
class Parameters:
    require_policy_change_protection: bool = False


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)["requirePolicyChangeProtection"])


def protections_off(item: dict, parameters: Parameters) -> list[str]:
    """The protections the parameters require and the firewall lacks (the runbook turns on exactly these)."""
    firewall = firewall_from_configuration(configuration_of(item))
    off = [] if firewall.subnet_change_protection else ["subnet change protection"]
    if parameters.require_policy_change_protection and not firewall.policy_change_protection:
        off.append("firewall policy change protection")
    return off


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    off = protections_off(item, parameters)
    if off:
        text = "; ".join(f"{name} is disabled" for name in off)
        return Verdict(NON_COMPLIANT, text[0].upper() + text[1:])
    if parameters.require_policy_change_protection:
        return Verdict(COMPLIANT, "Subnet change protection is enabled; firewall policy change protection is enabled")
    return Verdict(COMPLIANT, "Subnet change protection is enabled (firewall policy change protection not required)")
