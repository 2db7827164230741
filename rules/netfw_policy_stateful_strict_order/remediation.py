"""Remediation of netfw-policy-stateful-strict-order: the aws:executeScript handler of runbook.yaml.

A STRICT_ORDER policy whose StatefulDefaultActions hold no drop gets ``aws:drop_established`` added; its alert
actions (aws:alert_strict, aws:alert_established) and the rest of the policy stay as read. The read-plan-update loop
with the UpdateToken, the exemption refusal and the verification are perimeter.firewall_policy_remediation's.

A policy that is not in STRICT_ORDER is refused, changing nothing, with how to migrate. Switching the rule order
of a policy in place is not something this runbook can plan: with STRICT_ORDER every stateful rule group reference
needs a Priority and every referenced stateful group must itself be a strict-order group (FirewallPolicy
StatefulEngineOptions: "The stateful rule groups that you use in your policy must have stateful rule options
settings that are compatible with these settings"; StatefulRuleGroupReference Priority "only applies to firewall
policies that specify the STRICT_ORDER rule order"), and the evaluation of every rule changes (StatefulEngineOptions
RuleOrder: with DEFAULT_ACTION_ORDER pass rules run first, "followed by DROP, REJECT, and ALERT"; with STRICT_ORDER
"provide your rules in the order that you want them to be evaluated"). Those are design decisions for the owner.
Whether UpdateFirewallPolicy accepts a changed RuleOrder at all: the API reference (the botocore 1.44 service model's
documentation of UpdateFirewallPolicy, StatefulEngineOptions and RuleOrder) does not say it is fixed at creation, as
it does for the TLS inspection configuration ("You can't add or remove a TLSInspectionConfiguration after you create
a firewall policy"), and the CloudFormation reference gives StatefulEngineOptions RuleOrder "Update requires: No
interruption". The migration the refusal names is the one that keeps a way back: a new policy (CreateFirewallPolicy
with StatefulEngineOptions RuleOrder STRICT_ORDER), then AssociateFirewallPolicy on each firewall that uses the old
one, which stays until deleted.
"""
from __future__ import annotations

from perimeter.firewall import STATEFUL_DROP_ACTIONS, STRICT_ORDER, firewall_policy_from_configuration
from perimeter.firewall_policy_remediation import ActionListRemedy, judge, remediate_action_list
from perimeter.remediation import RemediationError
from perimeter.rules.netfw_policy_stateful_strict_order.rule import evaluate, parse_parameters

RULE = "netfw-policy-stateful-strict-order"
SETTING = "StatefulDefaultActions"
ADDED_DROP = "aws:drop_established"
MIGRATION = (
    "Rule order cannot be switched by this runbook: create a new firewall policy with StatefulEngineOptions "
    "RuleOrder STRICT_ORDER (CreateFirewallPolicy), the strict-order variant of each stateful rule group with a "
    "Priority per reference, and StatefulDefaultActions aws:drop_established (plus aws:alert_established to log "
    "what it drops); then point each firewall that uses this policy at the new one with AssociateFirewallPolicy "
    "(firewall policy change protection must be off), and delete the old policy once no firewall uses it."
)


def add_default_drop(described: dict, actions: list, parameters) -> list:
    """aws:drop_established first, the alert actions after it as they were; refused unless the policy is strict."""
    policy = firewall_policy_from_configuration(described)
    if policy.rule_order != STRICT_ORDER:
        verdict = judge(described, evaluate, parameters)
        raise RemediationError(f"Firewall policy {policy.arn} is judged {verdict.compliance} by {RULE}: "
                               f"{verdict.annotation}. {MIGRATION} Nothing changed.")
    other_drops = [action for action in actions if action.startswith("aws:drop")]
    if other_drops:
        # A policy takes one drop action among its stateful default actions (the console offers them as one
        # choice); replacing the one there changes what is dropped: the owner's choice, not this runbook's.
        raise RemediationError(f"Firewall policy {policy.arn} already has the drop action {', '.join(other_drops)} "
                               f"in {SETTING}, which {RULE} does not count as a default drop "
                               f"({' or '.join(STATEFUL_DROP_ACTIONS)}); replace it by hand. Nothing changed.")
    return [ADDED_DROP, *actions]


REMEDY = ActionListRemedy(RULE, SETTING, {"RequireDefaultDrop": "requireDefaultDrop"}, parse_parameters, evaluate,
                          prepare=lambda events, parameters: parameters, change=add_default_drop)


def handler(events, context):
    return remediate_action_list(events, REMEDY)
