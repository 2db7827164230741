"""The sg-default-closed runbook, rendered, validated and executed end to end against moto EC2."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perimeter.rules.sg_default_closed import rule
from tests.sg_runbook_support import (  # noqa: F401 (account, document: fixtures)
    ROLE, Network, account, before_first, changes_in, check_exempt_group_is_left_unchanged,
    check_missing_group_fails_clearly, cidrs, document, grant, ignore_revocations, permissions, remediate, tcp,
)
from tests.ssm import validator
from tests.ssm.runner import FAILED, SUCCESS, run_document
from tests.support import ClientInterceptor

RULE_ID = "sg-default-closed"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "sg_default_closed"
OUTPUTS = ("RemovedIngress", "RemovedEgress", "SkippedIngress", "SkippedEgress")


def default_group(account) -> Network:
    """A new VPC's default group. The VPC has an IPv6 block: moto ignores an outbound IPv6 rule's revocation
    in a VPC without one."""
    ec2 = account[0]
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    group_id = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                     {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]["GroupId"]
    return Network(account, group_id)


@pytest.fixture
def default(account) -> Network:
    """The default group as AWS creates it: all traffic from the group itself (moto leaves this rule out) and all
    traffic out to 0.0.0.0/0 and ::/0 (moto adds these)."""
    net = default_group(account)
    net.allow({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": net.group_id, "Description": "itself"}]})
    return net


def state(net: Network) -> tuple:
    """Every inbound and outbound permission with its description, as DescribeSecurityGroups lists them."""
    described = net.described()
    return tuple(sorted(json.dumps(_one_source_entries(permission), sort_keys=True)
                        for permission in described[name]) for name in ("IpPermissions", "IpPermissionsEgress"))


def _one_source_entries(permission: dict) -> list:
    return sorted(json.dumps({**{k: v for k, v in permission.items() if not isinstance(v, list)}, name: [source]},
                             sort_keys=True) for name, sources in permission.items() if isinstance(sources, list)
                  for source in sources)


def restore(net: Network, result) -> None:
    """What an operator does with the outputs: pass them as IpPermissions, as they are."""
    if result.outputs["Remediate.RemovedIngress"]:
        net.ec2.authorize_security_group_ingress(GroupId=net.group_id,
                                                 IpPermissions=result.outputs["Remediate.RemovedIngress"])
    if result.outputs["Remediate.RemovedEgress"]:
        net.ec2.authorize_security_group_egress(GroupId=net.group_id,
                                                IpPermissions=result.outputs["Remediate.RemovedEgress"])


# --- the document -------------------------------------------------------------------------------------------

def test_document_validates_and_takes_the_group_and_dry_run_only(document):
    assert validator.validate_document(document) == []
    assert len(json.dumps(document).encode()) < 64 * 1024
    assert list(document["parameters"]) == ["SecurityGroupId", "AutomationAssumeRole", "DryRun"]
    assert document["parameters"]["DryRun"]["default"] is True
    assert document["outputs"] == [f"Remediate.{name}" for name in OUTPUTS] + ["Remediate.ExemptUntil"]


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, default):
    before = state(default)

    result = run_document(document, {"SecurityGroupId": default.group_id, "AutomationAssumeRole": ROLE})

    assert result.status == SUCCESS, result.failure_message
    assert state(default) == before
    assert result.outputs["Remediate.RemovedIngress"] == [{"IpProtocol": "-1", "UserIdGroupPairs": [
        {"GroupId": default.group_id, "UserId": "123456789012", "Description": "itself"}]}]
    assert result.outputs["Remediate.RemovedEgress"] == [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                                                         {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]


# --- closing ------------------------------------------------------------------------------------------------

def test_every_rule_goes_and_the_outputs_restore_the_group_exactly(document, default):
    default.allow(tcp(22, 22, IpRanges=cidrs("10.0.0.0/8", description="admins"),
                      Ipv6Ranges=[{"CidrIpv6": "::/0", "Description": "v6"}],
                      PrefixListIds=[{"PrefixListId": default.prefix_list_id, "Description": "offices"}]),
                  {"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": cidrs("0.0.0.0/0")},
                  {"IpProtocol": "50", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": default.peer_id}]})
    default.ec2.authorize_security_group_egress(GroupId=default.group_id, IpPermissions=[
        tcp(443, 443, Ipv6Ranges=[{"CidrIpv6": "::/0"}]),
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default.group_id, "Description": "to itself"}]}])
    before = state(default)

    result = remediate(document, default)

    assert result.status == SUCCESS, result.failure_message
    assert default.rules() == {} and default.rules(egress=True) == {}
    assert (len(result.outputs["Remediate.RemovedIngress"]), len(result.outputs["Remediate.RemovedEgress"])) == (6, 4)
    assert rule.evaluate(default.item(), None).compliance == "COMPLIANT"
    restore(default, result)
    assert state(default) == before


def test_a_group_not_named_default_is_refused_and_left_unchanged(document, account, monkeypatch):
    net = Network(account)
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))
    before = state(net)
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net)

    assert result.status == FAILED
    assert (f"security group {net.group_id} is named '{net.described()['GroupName']}', not a VPC default security "
            "group") in result.failure_message
    assert state(net) == before
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroups"]


def test_a_closed_group_is_left_alone_and_a_second_run_succeeds(document, default, monkeypatch):
    assert remediate(document, default).status == SUCCESS
    interceptor = ClientInterceptor(monkeypatch)

    second = remediate(document, default)

    assert second.status == SUCCESS, second.failure_message
    assert all(second.outputs[f"Remediate.{name}"] == [] for name in OUTPUTS)
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroups"]


# --- exemptions, a missing group, concurrent changes, loud failure --------------------------------------------

def test_an_exempt_group_is_left_unchanged(document, default, monkeypatch):
    check_exempt_group_is_left_unchanged(document, default, RULE_ID, monkeypatch)


def test_a_deleted_group_fails_clearly(document, account):
    check_missing_group_fails_clearly(document, Network(account))


def test_a_rule_added_meanwhile_fails_the_run_loudly_with_what_was_removed(document, default, monkeypatch):
    def add_rule():  # someone opens SSH between the runbook's read and its revokes
        default.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))

    before_first(monkeypatch, "RevokeSecurityGroupIngress", add_rule)
    result = remediate(document, default)

    assert result.status == FAILED
    assert (f"security group {default.group_id} is still NON_COMPLIANT after remediation: Default security group has "
            "1 inbound and 0 outbound rules") in result.failure_message
    assert default.allowed() == {("tcp", 22, 22, "CidrIpv4", "0.0.0.0/0")}
    changes = changes_in(result.failure_message)
    assert [entry["IpProtocol"] for entry in changes["RemovedIngress"] + changes["RemovedEgress"]] == ["-1"] * 3
    assert changes["RemovedIngress"] == result.outputs["Remediate.RemovedIngress"]


def test_a_rule_changed_meanwhile_is_skipped_and_the_run_fails_loudly(document, default, monkeypatch):
    [self_id] = default.rules()

    def narrow():  # the self-reference becomes tcp 443 from the group, keeping its ID
        default.ec2.modify_security_group_rules(GroupId=default.group_id, SecurityGroupRules=[{
            "SecurityGroupRuleId": self_id, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "ReferencedGroupId": default.group_id}}])

    before_first(monkeypatch, "RevokeSecurityGroupIngress", narrow)
    result = remediate(document, default)

    assert result.status == FAILED
    assert "is still NON_COMPLIANT after remediation" in result.failure_message
    assert [entry["IpProtocol"] for entry in result.outputs["Remediate.SkippedIngress"]] == ["-1"]
    assert result.outputs["Remediate.RemovedIngress"] == [] and default.rules(egress=True) == {}


def test_revokes_that_change_nothing_fail_the_run(document, default, monkeypatch):
    ignore_revocations(monkeypatch, "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress")

    result = remediate(document, default)

    assert result.status == FAILED
    assert "Default security group has 1 inbound and 2 outbound rules" in result.failure_message
    assert all(result.outputs[f"Remediate.{name}"] == [] for name in OUTPUTS)  # confirmed gone: nothing


# --- property -----------------------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(inbound=st.lists(permissions(("tcp", "udp", "-1", "icmp", "50", "132")), max_size=5, unique=True),
       outbound=st.lists(permissions(("tcp", "udp", "-1", "icmp")), max_size=3, unique=True))
def test_any_default_group_ends_closed_and_the_outputs_restore_it(document, account, inbound, outbound):
    net = default_group(account)
    grant(net, inbound)
    egress = Network(account, net.group_id)
    egress.allow = lambda *entries: net.ec2.authorize_security_group_egress(GroupId=net.group_id,
                                                                           IpPermissions=list(entries))
    grant(egress, [view for view in outbound if view[:3] != ("-1", -1, -1) or view[3] not in ("0.0.0.0/0", "::/0")])
    before = state(net)

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == {} and net.rules(egress=True) == {}  # (a), (b): everything was the offending set
    assert rule.evaluate(net.item(), None).compliance == "COMPLIANT"  # (c)
    restore(net, result)
    assert state(net) == before
