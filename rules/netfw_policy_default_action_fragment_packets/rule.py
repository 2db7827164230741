"""netfw-policy-default-action-fragment-packets: a policy's stateless default action for fragments must not pass.

A fragmented packet that no stateless rule matches gets the policy's stateless default action; ``aws:pass`` lets it
through without stateful inspection. Read as AWS reads it (managed rule netfw-policy-default-action-fragment-packets,
Security Hub NetworkFirewall.5). The judgement is shared with netfw-policy-default-action-full-packets
(perimeter.firewall.judge_stateless_default_action). Pure: configuration item + parameters -> verdict.

Scenarios (tests/test_rule_netfw_policy_default_action_fragment_packets.py mirrors each one by its number):

S1  Given a policy whose statelessFragmentDefaultActions is ["aws:forward_to_sfe"] or ["aws:drop"]
    When it is evaluated with the default statelessFragmentDefaultActions "aws:drop,aws:forward_to_sfe"
    Then COMPLIANT "Stateless default action for fragmented packets is aws:forward_to_sfe"
S2  Given a policy whose statelessFragmentDefaultActions is ["aws:pass"]
    Then NON_COMPLIANT "Stateless default action for fragmented packets is aws:pass; allowed: aws:drop,
    aws:forward_to_sfe"
S3  Given a standard action with custom actions (["aws:pass", "count-packets"])
    Then the custom action is named and does not decide: NON_COMPLIANT "Stateless default action for fragmented packets
    is aws:pass (with custom action count-packets); allowed: aws:drop, aws:forward_to_sfe"
S4  Given the parameter statelessFragmentDefaultActions "aws:drop"
    Then aws:forward_to_sfe is NON_COMPLIANT "...; allowed: aws:drop" and aws:drop COMPLIANT
S5  Given a policy whose statelessFragmentDefaultActions holds no standard action (missing, empty, only custom actions)
    or two of them
    Then the item is malformed: a clear error naming the item and statelessFragmentDefaultActions
S6  Given the PascalCase spelling (DescribeFirewallPolicy / CloudFormation export) or the API shape
    Then the same verdicts as the camelCase recorded item
S7  Given an invalid statelessFragmentDefaultActions value (e.g. "aws:reject") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S8  Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.firewall import firewall_policy_from_configuration, judge_stateless_default_action
from perimeter.items import configuration_of
from perimeter.rules.netfw_policy_default_action_fragment_packets.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict

SETTING = "statelessFragmentDefaultActions"


@dataclass(frozen=True)
class Parameters:
    allowed: tuple[str, ...] = ("aws:drop", "aws:forward_to_sfe")


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)[SETTING])


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    policy = firewall_policy_from_configuration(configuration_of(item))
    compliant, annotation = judge_stateless_default_action(policy, SETTING, parameters.allowed)
    return Verdict(COMPLIANT if compliant else NON_COMPLIANT, annotation)
