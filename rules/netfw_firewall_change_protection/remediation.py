"""Remediation of netfw-firewall-change-protection: the handler of runbook.yaml's Remediate step.

UpdateSubnetChangeProtection(true), and UpdateFirewallPolicyChangeProtection(true) when requirePolicyChangeProtection
(the runbook's RequirePolicyChangeProtection, read by the rule's own parser) is true: only the calls the firewall
needs, each with the UpdateToken it was planned from, retried after a re-read when the token went stale. The
firewall is then judged by the rule's own evaluate. The shared steps are perimeter.firewall_remediation's.
"""
from __future__ import annotations

from perimeter.firewall_remediation import Protection, ProtectionRule, protection_handler
from perimeter.rules.netfw_firewall_change_protection.rule import evaluate, parse_parameters

SUBNET_CHANGE_PROTECTION = Protection(
    "SubnetChangeProtection", lambda nfw, **request: nfw.update_subnet_change_protection(**request),
    "subnet change protection")
POLICY_CHANGE_PROTECTION = Protection(
    "FirewallPolicyChangeProtection", lambda nfw, **request: nfw.update_firewall_policy_change_protection(**request),
    "firewall policy change protection")


def required(parameters) -> list:
    return [SUBNET_CHANGE_PROTECTION] + ([POLICY_CHANGE_PROTECTION] if parameters.require_policy_change_protection
                                         else [])


RULE = ProtectionRule("netfw-firewall-change-protection", {"RequirePolicyChangeProtection": "requirePolicyChangeProtection"},
                      parse_parameters, evaluate, required)


def handler(events, context):
    return protection_handler(events, RULE)
