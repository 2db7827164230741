"""What the tests of the firewall-policy runbooks that rewrite one action list share (default actions for full and
fragmented packets, stateful default actions): running a rendered document against the Network Firewall fake, its
outputs, the policy as described, the rule's verdict, and a concurrent writer."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import boto3

from perimeter.exemptions import evaluation_date, tag_key
from perimeter.registry import load_rule
from tests.ssm.runner import SUCCESS, outputs, run_document  # noqa: F401  # outputs: for the runbooks' tests

RULES = Path(__file__).resolve().parents[1] / "rules"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/NetworkFirewallRemediation"
VOLATILE = ("LastModifiedTime", "ConsumedStatefulRuleCapacity")  # response fields an update changes by itself
OUTPUTS = ("Changed", "DryRun", "PolicyArn", "Setting", "Before", "After", "Attempts", "Message")


def run(document: dict, firewall_policy: str, **parameters):
    """Run the document; DryRun false unless given (the document's own default, a dry run, has its own test)."""
    return run_document(document, {"AutomationAssumeRole": ROLE, "FirewallPolicy": firewall_policy, "DryRun": False,
                                   **parameters}, region=REGION)


def failure_outputs(result) -> dict:
    """The outputs a failed run recorded: the JSON at the end of the failure message (what the Fail step raised),
    which is also what the step Remediate returned."""
    assert result.status != SUCCESS
    recorded = json.loads(result.failure_message.rsplit("What this run changed: ", 1)[1].splitlines()[0])
    step = result.step("Remediate").outputs
    assert {name: step[name] for name in OUTPUTS} == recorded and step["Failed"] is True
    return recorded


def describe(arn: str) -> dict:
    return boto3.client("network-firewall", region_name=REGION).describe_firewall_policy(FirewallPolicyArn=arn)


def without(described: dict, member: str) -> dict:
    """The described policy except ``member`` of its FirewallPolicy and the fields every update changes."""
    return {"UpdateToken": "-",
            "FirewallPolicy": {key: value for key, value in described["FirewallPolicy"].items() if key != member},
            "FirewallPolicyResponse": {key: value for key, value in described["FirewallPolicyResponse"].items()
                                       if key not in VOLATILE}}


def verdict(module: str, arn: str, **raw) -> tuple[str, str]:
    """The rule's verdict, through the registry as the Lambda gives it, on the policy as described now."""
    spec = load_rule(f"perimeter.rules.{module}.rule")
    item = {"resourceType": "AWS::NetworkFirewall::FirewallPolicy", "resourceId": arn,
            "configurationItemStatus": "OK", "configuration": describe(arn)}
    judged = spec.evaluate(item, spec.parse_parameters(raw))
    return judged.compliance, judged.annotation


def exemption_tag(rule_id: str, days: int = 30) -> tuple[list[dict], str]:
    until = (evaluation_date() + timedelta(days=days)).isoformat()
    return [{"Key": tag_key(rule_id), "Value": f"{until} change freeze CHG-9"}], until


def concurrent_writer(nfw, change, times: int) -> None:
    """Right after each of the next ``times`` DescribeFirewallPolicy calls, another writer changes the policy."""
    describe_policy = nfw._operations["DescribeFirewallPolicy"]
    left = [times]

    def describe_then_write(params, region):
        response = describe_policy(params, region)
        if left[0]:
            left[0] -= 1
            nfw.bump_token(response["FirewallPolicyResponse"]["FirewallPolicyArn"], change)
        return response

    nfw._operations["DescribeFirewallPolicy"] = describe_then_write


def deleted_after(nfw, operation: str) -> None:
    """Right after the next call of ``operation``, another actor deletes the policy it named."""
    served = nfw._operations[operation]

    def serve_then_delete(params, region):
        response = served(params, region)
        nfw._operations[operation] = served
        nfw.delete_policy_now(response["FirewallPolicyResponse"]["FirewallPolicyArn"])
        return response

    nfw._operations[operation] = serve_then_delete
