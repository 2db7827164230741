"""Shared by the firewall runbooks' tests (deletion protection, change protection, logging): a firewall in the
Network Firewall fake, a run of the rendered document, and the fake's DescribeFirewall turned into a moment when
another actor writes or deletes the firewall."""
from __future__ import annotations

import json

import pytest

from perimeter.exemptions import tag_key
from perimeter.firewall import firewall_item
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.ssm.runner import FAILED, outputs, run_document  # noqa: F401  # outputs: for the runbooks' tests

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/NetworkFirewallRemediation"
SUBNETS = {"subnet-0a1a1a1a1a1a1a1a1": "us-east-1a", "subnet-0b2b2b2b2b2b2b2b2": "us-east-1b"}


@pytest.fixture
def nfw():
    """The Network Firewall fake (a test module imports this fixture to use it)."""
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        yield fake


def new_firewall(nfw, name: str = "edge-fw", **settings) -> str:
    """A firewall (its ARN) with a policy of its own; ``settings`` are put_firewall's (protections, logging, tags)."""
    policy = nfw.put_firewall_policy(f"{name}-policy", {"StatelessDefaultActions": ["aws:forward_to_sfe"],
                                                        "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"]})
    return nfw.put_firewall(name, policy, SUBNETS, **settings)


def exempt_tags(rule_id: str, until: str) -> list[dict]:
    return [{"Key": tag_key(rule_id), "Value": f"{until} appliance under migration CHG-12"}]


def run(document: dict, firewall: str, **parameters):
    """The document run with DryRun false unless given (the document's own default has its own test)."""
    return run_document(document, {"AutomationAssumeRole": ROLE, "Firewall": firewall, "DryRun": False,
                                   **parameters}, region=REGION)


def failed_outputs(result) -> dict:
    """A failed run: the Remediate step's outputs, and the failure ends with them as JSON."""
    assert result.status == FAILED
    remediate = result.step("Remediate").outputs
    assert remediate["Failed"] is True
    recorded = json.loads(result.failure_message.rsplit("What this run changed: ", 1)[1].split("\n")[0])
    assert recorded == {key: value for key, value in remediate.items() if key not in ("Failed", "Failure")}
    return remediate


def after_describe(nfw, act, times: int = 1) -> None:
    """Right after each of the next ``times`` DescribeFirewall calls, ``act(arn)`` (another writer, a deletion)."""
    describe = nfw._operations["DescribeFirewall"]
    left = [times]

    def describe_then_act(params, region):
        response = describe(params, region)
        if left[0]:
            left[0] -= 1
            act(response["Firewall"]["FirewallArn"])
        return response

    nfw._operations["DescribeFirewall"] = describe_then_act


def verdict(nfw, rule, arn: str, parameters: dict | None = None, item: dict | None = None) -> tuple[str, str]:
    """The rule's verdict on the firewall as the fake holds it now (``item``: one the caller built)."""
    import boto3

    if item is None:
        item = firewall_item(boto3.client("network-firewall", region_name=REGION).describe_firewall(FirewallArn=arn))
    judged = rule.evaluate(item, rule.parse_parameters(parameters or {}))
    return judged.compliance, judged.annotation
