"""netfw-policy-rule-group-associated: a firewall policy must reference rule groups.

A policy that references no rule group inspects nothing: every packet gets its default actions.
Read as AWS reads it (managed rule netfw-policy-rule-group-associated, Security Hub NetworkFirewall.3).
Pure: configuration item + parameters -> verdict.

Scenarios (tests/test_rule_netfw_policy_rule_group_associated.py mirrors each one by its number):

S1  Given a policy referencing 1 stateless and 1 stateful rule group
    When it is evaluated with the default requiredRuleGroupTypes "any"
    Then COMPLIANT "Policy references 1 stateless and 1 stateful rule group(s)"
S2  Given a policy whose reference lists are empty, missing, or whose firewallPolicy is missing
    Then NON_COMPLIANT "No stateless or stateful rule group associated (policy has none); stateless
    default action aws:pass" (the default actions the policy has, or "not set")
S3  Given requiredRuleGroupTypes "stateful" and a policy with only 2 stateless references
    Then NON_COMPLIANT "No stateful rule group associated (policy has 2 stateless); stateless default
    action aws:forward_to_sfe"
S4  Given requiredRuleGroupTypes "stateless" and a policy with only stateful references
    Then NON_COMPLIANT "No stateless rule group associated (policy has 1 stateful); ..." and with a
    stateless reference COMPLIANT
S5  Given requiredRuleGroupTypes "both"
    Then COMPLIANT with at least one of each; NON_COMPLIANT naming the missing type otherwise
S6  Given a policy with stateful default actions (STRICT_ORDER) and no rule groups
    Then the annotation also names them: "...; stateful default action aws:drop_strict"
S7  Given the PascalCase spelling (DescribeFirewallPolicy / CloudFormation export)
    Then the same verdicts as the camelCase recorded item
S8  Given an invalid requiredRuleGroupTypes (e.g. "all") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S9  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.firewall import FirewallPolicy, firewall_policy_from_configuration
from perimeter.items import configuration_of
from perimeter.declarations import declared_values
from perimeter.rules.netfw_policy_rule_group_associated.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict



@dataclass(frozen=True)
class Parameters:
    required_rule_group_types: str = "any"


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)["requiredRuleGroupTypes"])


def missing_types(policy: FirewallPolicy, requirement: str) -> list[str]:
    """The rule-group types the requirement wants and the policy lacks; empty when met."""
    has = {"stateless": bool(policy.stateless_references), "stateful": bool(policy.stateful_references)}
    if requirement == "any":
        return [] if any(has.values()) else ["stateless", "stateful"]
    wanted = ("stateless", "stateful") if requirement == "both" else (requirement,)
    return [kind for kind in wanted if not has[kind]]


def _holdings(policy: FirewallPolicy) -> str:
    parts = [
        f"{len(references)} {kind}"
        for kind, references in (("stateless", policy.stateless_references), ("stateful", policy.stateful_references))
        if references
    ]
    return " and ".join(parts) or "none"


def _default_actions(policy: FirewallPolicy) -> str:
    stateless = ", ".join(policy.stateless_default_actions) or "not set"
    text = f"stateless default action {stateless}"
    if policy.stateful_default_actions:
        text += f"; stateful default action {', '.join(policy.stateful_default_actions)}"
    return text


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    policy = firewall_policy_from_configuration(configuration_of(item))
    missing = missing_types(policy, parameters.required_rule_group_types)
    if not missing:
        return Verdict(
            COMPLIANT,
            f"Policy references {len(policy.stateless_references)} stateless and "
            f"{len(policy.stateful_references)} stateful rule group(s)",
        )
    # "No stateless or stateful": neither is there, whether one of them ("any") or each ("both") was wanted.
    return Verdict(
        NON_COMPLIANT,
        f"No {' or '.join(missing)} rule group associated (policy has {_holdings(policy)}); {_default_actions(policy)}",
    )
