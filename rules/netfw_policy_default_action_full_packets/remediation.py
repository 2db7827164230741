"""Remediation of netfw-policy-default-action-full-packets: the aws:executeScript handler of runbook.yaml.

Replaces the standard action of the policy's StatelessDefaultActions with TargetAction (one the rule's
statelessDefaultActions allows, else refused), keeping its custom actions and the rest of the policy as read; the
logic, shared with netfw-policy-default-action-fragment-packets, is perimeter.firewall_policy_remediation's.
"""
from __future__ import annotations

from perimeter.firewall_policy_remediation import remediate_action_list, stateless_default_action_remedy
from perimeter.rules.netfw_policy_default_action_full_packets.rule import SETTING, evaluate, parse_parameters

REMEDY = stateless_default_action_remedy("netfw-policy-default-action-full-packets", "StatelessDefaultActions",
                                         SETTING, parse_parameters, evaluate)


def handler(events, context):
    return remediate_action_list(events, REMEDY)
