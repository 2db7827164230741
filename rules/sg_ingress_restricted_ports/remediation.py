"""Remediation of sg-ingress-restricted-ports: the aws:executeScript handler of runbook.yaml.

The group's inbound rules (DescribeSecurityGroupRules) are judged by the rule's own code, and each rule it flags is
revoked by its full specification (protocol, ports, source), nothing else: other sources of the same permission,
trusted sources, sources outside the scope and outbound rules stay. No rule is added, so access only narrows. The
group is then read again and judged by the rule's evaluate; still NON_COMPLIANT fails the run, with the outputs.
The machinery is perimeter.sg_remediation, shared by the security-group runbooks.
"""
from __future__ import annotations

from perimeter.remediation import boolean_input, client, rule_parameters
from perimeter.sg_remediation import Run, group_handler, judge_again, read_group, revoke_exactly
from perimeter.rules.sg_ingress_restricted_ports.rule import evaluate, offenders, parse_parameters

RULE = "sg-ingress-restricted-ports"
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"RestrictedTcpPorts": "restrictedTcpPorts", "RestrictedUdpPorts": "restrictedUdpPorts",
                   "SourceScope": "sourceScope", "TrustedSources": "trustedSources"}
OUTPUTS = ("Removed", "Skipped")


def handler(events, context):
    return group_handler(RULE, events, Run(OUTPUTS), remediate)


def remediate(events: dict, run: Run, ec2=None) -> None:
    group_id = events["SecurityGroupId"]
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    group, run.owners = read_group(ec2, group_id)
    removals = [permission for permission, _ in offenders(group, parameters)]
    if dry_run or not removals:
        run.removed = removals
        return
    run.removed, run.skipped = revoke_exactly(ec2, group_id, removals, run.owners)
    judge_again(ec2, group_id, lambda item: evaluate(item, parameters), run)
