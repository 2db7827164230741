"""Remediation of netfw-firewall-deletion-protection: the handler of runbook.yaml's Remediate step.

UpdateFirewallDeleteProtection(DeleteProtection=true) with the UpdateToken of the DescribeFirewall it was planned
from, retried after a re-read when the token went stale; the firewall is then judged by the rule's own evaluate.
The shared steps are perimeter.firewall_remediation's.
"""
from __future__ import annotations

from perimeter.firewall_remediation import Protection, ProtectionRule, protection_handler
from perimeter.rules.netfw_firewall_deletion_protection.rule import evaluate, parse_parameters

DELETE_PROTECTION = Protection(
    "DeleteProtection", lambda nfw, **request: nfw.update_firewall_delete_protection(**request), "deletion protection")
RULE = ProtectionRule("netfw-firewall-deletion-protection", {}, parse_parameters, evaluate,
                      required=lambda parameters: [DELETE_PROTECTION])


def handler(events, context):
    return protection_handler(events, RULE)
