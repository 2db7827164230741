"""The sg-ingress-restricted-ports runbook, rendered, validated and executed end to end against moto EC2."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perimeter.rules.sg_ingress_restricted_ports import rule
from tests.sg_runbook_support import (  # noqa: F401 (account, document, net: fixtures)
    ROLE, Network, account, as_allowed, before_first, changes_in, check_exempt_group_is_left_unchanged,
    check_missing_group_fails_clearly, cidrs, document, ignore_revocations, net, permissions, remediate,
    remediate_random_group, removed, restore, skipped, tcp, udp,
)
from tests.ssm import validator
from tests.ssm.runner import FAILED, SUCCESS, ParameterError, run_document
from tests.support import ClientInterceptor

RULE_ID = "sg-ingress-restricted-ports"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "sg_ingress_restricted_ports"


def world(protocol: str, first: int = -1, last: int = -1) -> dict:
    return {"IpProtocol": protocol, "FromPort": first, "ToPort": last, "IpRanges": cidrs("0.0.0.0/0")}


# --- the document -------------------------------------------------------------------------------------------

def test_document_validates_and_carries_the_rule_parameters(document):
    assert validator.validate_document(document) == []
    assert len(json.dumps(document).encode()) < 64 * 1024
    parameters = document["parameters"]
    assert list(parameters) == ["SecurityGroupId", "AutomationAssumeRole", "RestrictedTcpPorts", "RestrictedUdpPorts",
                                "SourceScope", "TrustedSources", "DryRun"]
    assert parameters["DryRun"] == {**parameters["DryRun"], "type": "Boolean", "default": True}
    assert document["outputs"] == ["Remediate.Removed", "Remediate.Skipped", "Remediate.ExemptUntil"]


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, net):
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    result = run_document(document, {"SecurityGroupId": net.group_id, "AutomationAssumeRole": ROLE})

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == before
    [rule_id] = before
    assert removed(result) == [{"SecurityGroupRuleId": rule_id, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                "CidrIpv4": "0.0.0.0/0", "Description": ""}]


# --- exact revocation ---------------------------------------------------------------------------------------

def test_only_the_offending_sources_of_a_permission_are_revoked(document, net):
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0", description="bastion") + cidrs("10.0.0.0/8"),
                  Ipv6Ranges=[{"CidrIpv6": "::/0"}], PrefixListIds=[{"PrefixListId": net.prefix_list_id}],
                  UserIdGroupPairs=[{"GroupId": net.peer_id}]),
              tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")), world("icmp"))
    net.ec2.authorize_security_group_egress(GroupId=net.group_id, IpPermissions=[tcp(22, 22, IpRanges=cidrs("0.0.0.0/0"))])
    before, egress_before = net.rules(), net.rules(egress=True)

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    gone = {rule_id for rule_id, view in before.items() if view[1] == 22 and view[4] in ("0.0.0.0/0", "::/0")}
    assert len(gone) == 2 and set(net.rules()) == set(before) - gone
    assert {entry["SecurityGroupRuleId"]: entry["Description"] for entry in removed(result)} == {
        rule_id: before[rule_id][5] for rule_id in gone}
    assert net.rules(egress=True) == egress_before  # egress is never touched
    assert skipped(result) == []


CASES = {
    "ssh from the world": ({}, tcp(22, 22, IpRanges=cidrs("0.0.0.0/0", description="ops"))),
    "a range holding restricted ports": ({}, tcp(3000, 4000, IpRanges=cidrs("0.0.0.0/0"))),
    "tcp by number": ({}, {"IpProtocol": "6", "FromPort": 3389, "ToPort": 3389, "IpRanges": cidrs("0.0.0.0/0")}),
    "rdp from ipv6": ({}, tcp(3389, 3389, Ipv6Ranges=[{"CidrIpv6": "::/0", "Description": "v6"}])),
    "all traffic": ({}, world("-1")),
    "udp restricted": ({"RestrictedUdpPorts": "53,161"}, udp(0, 1000, IpRanges=cidrs("0.0.0.0/0"))),
    "public scope": ({"SourceScope": "public"}, tcp(5432, 5432, IpRanges=cidrs("8.8.8.0/24"))),
    "any scope, prefix list": ({"SourceScope": "any"}, tcp(22, 22, PrefixListIds=[{"PrefixListId": "PL"}])),
    "any scope, group": ({"SourceScope": "any"}, tcp(22, 22, UserIdGroupPairs=[{"GroupId": "PEER"}])),
}


@pytest.mark.parametrize("case", CASES)
def test_each_offending_rule_is_revoked_reported_and_restorable(document, net, case):
    parameters, offending = CASES[case]
    text = json.dumps(offending).replace('"PL"', f'"{net.prefix_list_id}"').replace('"PEER"', f'"{net.peer_id}"')
    net.allow(json.loads(text), tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")), tcp(8443, 8443, IpRanges=cidrs("10.0.0.0/8")))
    before = net.rules()

    result = remediate(document, net, **parameters)

    assert result.status == SUCCESS, result.failure_message
    [entry] = removed(result)
    assert set(net.rules()) == set(before) - {entry["SecurityGroupRuleId"]}
    assert as_allowed(entry) == before[entry["SecurityGroupRuleId"]][:5]
    assert entry["Description"] == before[entry["SecurityGroupRuleId"]][5]
    restore(net.ec2, net.group_id, removed(result))
    assert sorted(net.rules().values()) == sorted(before.values())


def test_rules_reaching_no_restricted_port_stay(document, net):
    net.allow(tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")), tcp(8443, 8500, Ipv6Ranges=[{"CidrIpv6": "::/0"}]),
              world("icmp"), world("50"), world("132", 22, 22), udp(53, 53, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    result = remediate(document, net)

    assert (result.status, removed(result)) == (SUCCESS, [])
    assert net.rules() == before


def test_trusted_sources_are_never_revoked(document, net):
    net.allow(tcp(22, 22, IpRanges=cidrs("203.0.113.128/25", "198.51.100.0/24"),
                  UserIdGroupPairs=[{"GroupId": net.peer_id}]))

    result = remediate(document, net, SourceScope="any", TrustedSources=f"203.0.113.0/24, {net.peer_id}")

    assert result.status == SUCCESS, result.failure_message
    assert [as_allowed(entry) for entry in removed(result)] == [("tcp", 22, 22, "CidrIpv4", "198.51.100.0/24")]
    assert {view[4] for view in net.rules().values()} == {"203.0.113.128/25", net.peer_id}


def test_a_second_run_changes_nothing_and_succeeds(document, net, monkeypatch):
    net.allow(tcp(20, 25, IpRanges=cidrs("0.0.0.0/0")), tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")))
    assert len(removed(remediate(document, net))) == 1
    after_first = net.rules()
    interceptor = ClientInterceptor(monkeypatch)

    second = remediate(document, net)

    assert (second.status, removed(second), net.rules()) == (SUCCESS, [], after_first)
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules"]


def test_invalid_values_fail_naming_the_parameter_and_change_nothing(document, net):
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    both_empty = remediate(document, net, RestrictedTcpPorts="none")
    over = remediate(document, net, RestrictedTcpPorts="22,70000")

    assert (both_empty.status, over.status) == (FAILED, FAILED)
    assert "restrictedTcpPorts and restrictedUdpPorts: both are empty" in both_empty.failure_message
    assert ("parameter RestrictedTcpPorts (rule parameter restrictedTcpPorts): '22,70000' is invalid: port 70000 is "
            "over 65535") in over.failure_message
    assert net.rules() == before
    with pytest.raises(ParameterError, match="parameter RestrictedTcpPorts:"):
        remediate(document, net, RestrictedTcpPorts="22;rm")


# --- exemptions, a missing group, concurrent changes, loud failure --------------------------------------------

def test_an_exempt_group_is_left_unchanged(document, net, monkeypatch):
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))
    check_exempt_group_is_left_unchanged(document, net, RULE_ID, monkeypatch)


def test_a_deleted_group_fails_clearly(document, net):
    check_missing_group_fails_clearly(document, net)


def narrow_to(net: Network, rule_id: str, port: int):
    """An administrator narrows the rule to one port; ModifySecurityGroupRules keeps its ID."""
    def narrow():  # returns None: the intercepted call then goes on to EC2
        net.ec2.modify_security_group_rules(GroupId=net.group_id, SecurityGroupRules=[{
            "SecurityGroupRuleId": rule_id, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIpv4": "0.0.0.0/0"}}])
    return narrow


def test_a_rule_narrowed_to_a_harmless_port_meanwhile_stays_and_is_reported_skipped(document, net, monkeypatch):
    net.allow(tcp(0, 1000, IpRanges=cidrs("0.0.0.0/0")), tcp(3389, 3389, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()
    wide_id = next(rule_id for rule_id, view in before.items() if view[2] == 1000)
    rdp_id = next(rule_id for rule_id, view in before.items() if view[1] == 3389)

    before_first(monkeypatch, "RevokeSecurityGroupIngress", narrow_to(net, wide_id, 443))
    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == {wide_id: ("tcp", 443, 443, "CidrIpv4", "0.0.0.0/0", "")}
    assert [entry["SecurityGroupRuleId"] for entry in removed(result)] == [rdp_id]
    assert [(entry["SecurityGroupRuleId"], as_allowed(entry)) for entry in skipped(result)] == [
        (wide_id, ("tcp", 0, 1000, "CidrIpv4", "0.0.0.0/0"))]


def test_a_rule_changed_meanwhile_to_another_restricted_port_fails_the_run_loudly(document, net, monkeypatch):
    net.allow(tcp(0, 1000, IpRanges=cidrs("0.0.0.0/0")))
    [wide_id] = net.rules()

    before_first(monkeypatch, "RevokeSecurityGroupIngress", narrow_to(net, wide_id, 3306))
    result = remediate(document, net)

    assert result.status == FAILED
    assert (f"security group {net.group_id} is still NON_COMPLIANT after remediation: Restricted ports open: "
            "tcp 3306 from 0.0.0.0/0") in result.failure_message
    assert [as_allowed(entry) for entry in skipped(result)] == [("tcp", 0, 1000, "CidrIpv4", "0.0.0.0/0")]
    assert changes_in(result.failure_message) == {"Removed": [], "Skipped": skipped(result)}


def test_a_group_still_non_compliant_after_the_change_fails_with_the_outputs(document, net, monkeypatch):
    net.allow(tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")))
    ignore_revocations(monkeypatch, "RevokeSecurityGroupIngress")
    result = remediate(document, net)

    assert result.status == FAILED
    assert "is still NON_COMPLIANT after remediation: Restricted ports open: tcp 22 from 0.0.0.0/0" in \
        result.failure_message
    assert result.executed == ["RemediateInvoke", "Remediate", "CheckOutcome", "Fail"]
    assert removed(result) == [] and "What this run changed: " in result.failure_message


# --- property -----------------------------------------------------------------------------------------------

PROTOCOLS = ("tcp", "udp", "-1", "icmp", "50", "132")
TRUSTED = ((), ("8.8.8.0/24",), ("0.0.0.0/0", "peer"), ("prefix-list", "fd00::/8"))


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    granted=st.lists(permissions(PROTOCOLS), min_size=1, max_size=6, unique=True),
    restricted=st.sampled_from((("", ""), ("22,3389", ""), ("0-1024", "53"), ("none", "0-65535"), ("1-100", "none"))),
    scope=st.sampled_from(("any", "public", "world")),
    trusted=st.sampled_from(TRUSTED),
)
def test_exactly_the_offending_rules_go_access_only_narrows_and_the_group_is_compliant(
        document, account, granted, restricted, scope, trusted):
    before, after, offending, result = remediate_random_group(
        document, account, granted, {"restrictedTcpPorts": restricted[0], "restrictedUdpPorts": restricted[1],
                                     "sourceScope": scope, "trustedSources": trusted},
        rule, lambda group, parameters: [permission for permission, _ in rule.offenders(group, parameters)])

    assert after <= before  # access only narrows: nothing added
    assert before - after == offending == {as_allowed(entry) for entry in removed(result)}
