"""netfw-policy-stateful-strict-order: stateful rules in strict order, and a default action that drops.

With the default action order, Suricata runs pass rules before drop rules whatever their place, and traffic no
rule matches passes; with STRICT_ORDER the rules run in the order given and the policy's stateful default actions
decide the rest (Developer Guide, "Managing evaluation order for Suricata compatible rules"; AWS's Network
Firewall best practices recommend strict order with a default drop). No Security Hub control checks this.
Pure: configuration item + parameters -> verdict.

Scenarios (tests/test_rule_netfw_policy_stateful_strict_order.py mirrors each one by its number):

S1  Given a policy with statefulEngineOptions.ruleOrder STRICT_ORDER and statefulDefaultActions
    ["aws:drop_established", "aws:alert_established"]
    When it is evaluated with the default requireDefaultDrop "true"
    Then COMPLIANT "Stateful rules in STRICT_ORDER; default action aws:drop_established, aws:alert_established"
S2  Given a policy with ruleOrder DEFAULT_ACTION_ORDER, or no statefulEngineOptions (the default action order)
    Then NON_COMPLIANT "Stateful rule order is DEFAULT_ACTION_ORDER, not STRICT_ORDER" (with " (not set: the
    default)" when absent)
S3  Given a STRICT_ORDER policy whose statefulDefaultActions hold neither aws:drop_strict nor aws:drop_established
    (only alert actions, or none)
    Then NON_COMPLIANT "Stateful rules in STRICT_ORDER but no default drop: stateful default actions
    aws:alert_strict hold neither aws:drop_strict nor aws:drop_established" ("none" when empty)
S4  Given requireDefaultDrop "false" and a STRICT_ORDER policy without a default drop
    Then COMPLIANT "Stateful rules in STRICT_ORDER; default action none (default drop not required)"
S5  Given the PascalCase spelling (DescribeFirewallPolicy / CloudFormation export) or the API shape
    Then the same verdicts as the camelCase recorded item
S6  Given an unknown ruleOrder (e.g. "RANDOM") or statefulDefaultActions that is not a list of strings
    Then the item is malformed: a clear error naming the item and the field
S7  Given an invalid requireDefaultDrop (e.g. "yes") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S8  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.firewall import STATEFUL_DROP_ACTIONS, STRICT_ORDER, firewall_policy_from_configuration
from perimeter.items import configuration_of, field
from perimeter.rules.netfw_policy_stateful_strict_order.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict


@dataclass(frozen=True)
class Parameters:
    require_default_drop: bool = True


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)["requireDefaultDrop"])


def _rule_order_is_set(configuration: dict) -> bool:
    body = field(configuration, "firewallPolicy")
    engine = field(body, "statefulEngineOptions") if isinstance(body, dict) else None
    return isinstance(engine, dict) and field(engine, "ruleOrder") is not None


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    configuration = configuration_of(item)
    policy = firewall_policy_from_configuration(configuration)
    if policy.rule_order != STRICT_ORDER:
        unset = "" if _rule_order_is_set(configuration) else " (not set: the default)"
        return Verdict(NON_COMPLIANT, f"Stateful rule order is {policy.rule_order}{unset}, not {STRICT_ORDER}")
    actions = ", ".join(policy.stateful_default_actions) or "none"
    if not any(action in STATEFUL_DROP_ACTIONS for action in policy.stateful_default_actions):
        if parameters.require_default_drop:
            return Verdict(NON_COMPLIANT, f"Stateful rules in {STRICT_ORDER} but no default drop: stateful default "
                                          f"actions {actions} hold neither {' nor '.join(STATEFUL_DROP_ACTIONS)}")
        return Verdict(COMPLIANT, f"Stateful rules in {STRICT_ORDER}; default action {actions} "
                                  "(default drop not required)")
    return Verdict(COMPLIANT, f"Stateful rules in {STRICT_ORDER}; default action {actions}")
