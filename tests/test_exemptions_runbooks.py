"""Runbooks refuse to change an exempt resource (issue 15): the rendered documents, run with tests/ssm/runner.py,
against moto EC2 for a security group and the Network Firewall fake for a policy. The runbooks judge exemptions at
today's date (UTC), so the tags here are written relative to it."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from perimeter.exemptions import evaluation_date, tag_key
from perimeter.runbooks import render_runbook
from support import ClientInterceptor
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.ssm.runner import FAILED, SUCCESS, run_document

RULES = Path(__file__).resolve().parents[1] / "rules"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/PerimeterRemediation"
SG_RULE = "sg-ingress-port-range-restricted"
NFW_RULE = "netfw-policy-rule-group-associated"
MANAGED = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/ThreatSignaturesBotnetActionOrder"


def day(offset: int) -> str:
    return (evaluation_date() + timedelta(days=offset)).isoformat()


# --- security group (moto) --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sg_document() -> dict:
    return render_runbook(RULES / "sg_ingress_port_range_restricted")


@pytest.fixture
def ec2(monkeypatch):
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def open_group(ec2, *tags: tuple[str, str], sources=("0.0.0.0/0",)) -> str:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="target", Description="target", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": cidr} for cidr in sources]}])
    if tags:
        ec2.create_tags(Resources=[group], Tags=[{"Key": key, "Value": value} for key, value in tags])
    return group


def inbound(ec2, group: str) -> list[tuple]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return sorted((r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4")) for r in rules if not r["IsEgress"])


def remediate(document: dict, group: str, **parameters):
    return run_document(document, {"SecurityGroupId": group, "AutomationAssumeRole": ROLE, "DryRun": "false",
                                   **parameters}, region=REGION)


def test_an_exempt_group_is_left_unchanged_and_the_run_says_until_when(sg_document, ec2, monkeypatch):
    until = day(30)
    group = open_group(ec2, (tag_key(SG_RULE), f"{until} vendor appliance CHG-77"), ("Name", "appliance"))
    before = inbound(ec2, group)
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(sg_document, group)

    assert result.status == SUCCESS, result.failure_message
    assert inbound(ec2, group) == before
    assert result.outputs == {"Remediate.Removed": [], "Remediate.Added": [], "Remediate.Undone": [],
                              "Remediate.Skipped": [], "Remediate.ExemptUntil": until}
    assert result.step("Remediate").outputs["Failed"] is False
    assert interceptor.operations("ec2") == ["DescribeTags"]  # nothing read or changed beyond the tags


@pytest.mark.parametrize("value", [f"{day(-1)} expired yesterday", "no date at all", f"{day(3651)} too far for any",
                                   f"{day(5)} bad # reason"])
def test_an_exemption_no_rule_could_honour_does_not_stop_the_runbook(sg_document, ec2, value):
    group = open_group(ec2, (tag_key(SG_RULE), value))

    result = remediate(sg_document, group)

    assert result.status == SUCCESS, result.failure_message
    assert [entry["ToPort"] for entry in result.outputs["Remediate.Removed"]] == [65535]
    assert inbound(ec2, group) == []
    assert "Remediate.ExemptUntil" not in result.outputs


def test_an_exemption_longer_than_the_default_max_still_stops_the_runbook(sg_document, ec2):
    """The runbook cannot know the rule's maxExemptionDays: any exemption some setting could allow (up to 3650
    days) stops it, so automation never overrides an exemption someone wrote; the rule reports it meanwhile."""
    group = open_group(ec2, (tag_key(SG_RULE), f"{day(400)} long migration"))
    before = inbound(ec2, group)

    result = remediate(sg_document, group)

    assert (result.status, result.outputs["Remediate.ExemptUntil"]) == (SUCCESS, day(400))
    assert inbound(ec2, group) == before


def test_another_rules_exemption_does_not_stop_this_runbook(sg_document, ec2):
    group = open_group(ec2, (tag_key("some-other-rule"), f"{day(30)} vendor"))
    assert remediate(sg_document, group).status == SUCCESS
    assert inbound(ec2, group) == []


def test_trusted_sources_are_never_touched(sg_document, ec2):
    group = open_group(ec2, sources=("0.0.0.0/0", "203.0.113.0/25"))

    result = remediate(sg_document, group, TrustedSources="203.0.113.0/24, pl-0123456789abcdef0")

    assert result.status == SUCCESS, result.failure_message
    assert inbound(ec2, group) == [("tcp", 0, 65535, "203.0.113.0/25")]
    assert [entry["CidrIpv4"] for entry in result.outputs["Remediate.Removed"]] == ["0.0.0.0/0"]


def test_an_invalid_trusted_source_fails_naming_both_parameters(sg_document, ec2):
    group = open_group(ec2)
    result = remediate(sg_document, group, TrustedSources="10.0.0.0/8,10.0.0.0/33")
    assert result.status == FAILED
    assert "parameter TrustedSources (rule parameter trustedSources): '10.0.0.0/33' is not a CIDR, pl- or sg- id" \
        in result.failure_message
    assert inbound(ec2, group) == [("tcp", 0, 65535, "0.0.0.0/0")]


# --- firewall policy (the Network Firewall fake) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def nfw_document() -> dict:
    return render_runbook(RULES / "netfw_policy_rule_group_associated")


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region=REGION) as fake:
        yield fake


EMPTY_POLICY = {"StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:drop"]}


def associate(document: dict, policy: str, **parameters):
    return run_document(document, {"AutomationAssumeRole": ROLE, "FirewallPolicy": policy, "RuleGroupArn": [MANAGED],
                                   "DryRun": "false", **parameters}, region=REGION)


def test_an_exempt_policy_is_left_unchanged_and_the_run_says_until_when(nfw_document, nfw):
    until = day(10)
    arn = nfw.put_firewall_policy("edge", EMPTY_POLICY, tags=[
        {"Key": tag_key(NFW_RULE), "Value": f"{until} inspection by the on-premises firewall"}])
    before = nfw.firewall_policy(arn)

    result = associate(nfw_document, arn)

    assert result.status == SUCCESS, result.failure_message
    outputs = {name.split(".", 1)[1]: value for name, value in result.outputs.items()}
    assert (outputs["Changed"], outputs["ExemptUntil"]) == (False, until)
    assert outputs["Message"] == (f"Exempt from {NFW_RULE} until {until} (inspection by the on-premises firewall): "
                                  "nothing changed")
    assert nfw.firewall_policy(arn) == before
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_a_policy_found_by_name_is_refused_as_well(nfw_document, nfw):
    nfw.put_firewall_policy("edge", EMPTY_POLICY, tags=[{"Key": tag_key(NFW_RULE), "Value": f"{day(0)} last day"}])
    result = associate(nfw_document, "edge")
    assert result.status == SUCCESS and result.outputs["AssociateRuleGroup.ExemptUntil"] == day(0)
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_an_expired_exemption_does_not_stop_the_firewall_runbook(nfw_document, nfw):
    arn = nfw.put_firewall_policy("edge", EMPTY_POLICY, tags=[
        {"Key": tag_key(NFW_RULE), "Value": f"{day(-1)} expired"}])

    result = associate(nfw_document, arn)

    assert result.status == SUCCESS, result.failure_message
    assert result.outputs["AssociateRuleGroup.Changed"] is True
    assert nfw.firewall_policy(arn)["StatefulRuleGroupReferences"] == [{"ResourceArn": MANAGED}]
