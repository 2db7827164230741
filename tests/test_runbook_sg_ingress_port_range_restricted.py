"""The sg-ingress-port-range-restricted runbook, rendered, validated and executed end to end against moto EC2."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perimeter.rules.sg_ingress_port_range_restricted import rule
from perimeter.remediation import RemediationError
from perimeter.securitygroups import Permission, Source
from perimeter.rules.sg_ingress_port_range_restricted.remediation import PAGE_SIZE, needs_revoke_first
from tests.ssm import validator
from tests.sg_runbook_support import (  # noqa: F401 (account, document, net: fixtures)
    PORTS, REGION, ROLE, SOURCE_KEYS, Network, account, added, as_allowed, before_first, changes_in, cidrs, covered,
    document, ignore_revocations, net, permissions, refused, remediate, removed, restore, skipped, source_entry, tcp,
    udp, undone,
)
from tests.ssm.runner import FAILED, SUCCESS, ParameterError, run_document
from tests.support import ClientInterceptor

RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "sg_ingress_port_range_restricted"


# --- the document -------------------------------------------------------------------------------------------

def test_document_validates_and_declares_the_issue_parameters(document):
    assert validator.validate_document(document) == []
    parameters = document["parameters"]
    assert list(parameters) == ["SecurityGroupId", "AutomationAssumeRole", "MaxPorts", "AuthorizedTcpPorts",
                                "AuthorizedUdpPorts", "SourceScope", "TrustedSources",
                                "IncludeSelfReferences", "ReplacementTcpPorts",
                                "ReplacementUdpPorts", "InboundRuleQuota", "DryRun"]
    assert parameters["ReplacementTcpPorts"] == {**parameters["ReplacementTcpPorts"], "type": "StringList",
                                                 "default": []}
    assert parameters["InboundRuleQuota"]["default"] == "60"
    assert document["outputs"] == ["Remediate.Removed", "Remediate.Added", "Remediate.Undone", "Remediate.Skipped",
                                   "Remediate.ExemptUntil"]


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, net):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    result = run_document(document, {"SecurityGroupId": net.group_id, "AutomationAssumeRole": ROLE})

    assert document["parameters"]["DryRun"] == {**document["parameters"]["DryRun"], "type": "Boolean",
                                                 "default": True}
    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == before
    assert [as_allowed(entry) for entry in removed(result)] == [("tcp", 0, 65535, "CidrIpv4", "0.0.0.0/0")]


# --- exact revocation ---------------------------------------------------------------------------------------

def test_only_the_offending_sources_of_a_permission_are_revoked(document, net):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0", description="temporary") + cidrs("10.0.0.0/8"),
                  Ipv6Ranges=[{"CidrIpv6": "::/0"}], PrefixListIds=[{"PrefixListId": net.prefix_list_id}],
                  UserIdGroupPairs=[{"GroupId": net.peer_id}]),
              tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")),
              {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": cidrs("0.0.0.0/0")})
    before = net.rules()
    egress_before = [r for r in net.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [net.group_id]}])["SecurityGroupRules"] if r["IsEgress"]]

    result = remediate(document, net, SourceScope="public")

    assert result.status == SUCCESS, result.failure_message
    world = {rule_id for rule_id, view in before.items() if view[4] in ("0.0.0.0/0", "::/0") and view[2] == 65535}
    assert set(net.rules()) == set(before) - world  # 10.0.0.0/8, the prefix list, the group, 443 and icmp stay
    assert sorted(removed(result), key=lambda e: e["SecurityGroupRuleId"]) == sorted([
        {"SecurityGroupRuleId": rule_id, "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
         ("CidrIpv4" if "." in before[rule_id][4] else "CidrIpv6"): before[rule_id][4],
         "Description": before[rule_id][5]} for rule_id in world], key=lambda e: e["SecurityGroupRuleId"])
    assert {e["Description"] for e in removed(result)} == {"temporary", ""}
    assert added(result) == []
    egress_after = [r for r in net.ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [net.group_id]}])["SecurityGroupRules"] if r["IsEgress"]]
    assert egress_after == egress_before


SOURCES = {
    "ipv4": lambda net: {"IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "partner"}]},
    "ipv6": lambda net: {"Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "partner v6"}]},
    "prefix list": lambda net: {"PrefixListIds": [{"PrefixListId": net.prefix_list_id, "Description": "offices"}]},
    # No description: moto lists none for a group-reference rule, then wants it to match a revoke by specification
    # (AWS needs none, RevokeSecurityGroupIngress), so a described one could not be revoked under moto.
    "group reference": lambda net: {"UserIdGroupPairs": [{"GroupId": net.peer_id}]},
}


@pytest.mark.parametrize("kind", SOURCES)
def test_each_source_kind_is_revoked_by_rule_id_reported_and_restorable(document, net, kind):
    source = SOURCES[kind](net)
    net.allow(tcp(1000, 2000, **source), tcp(22, 22, **source), udp(53, 53, **source))
    before = net.rules()
    range_id = next(rule_id for rule_id, view in before.items() if view[1:3] == (1000, 2000))

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert set(net.rules()) == set(before) - {range_id}
    [entry] = removed(result)
    assert entry["SecurityGroupRuleId"] == range_id
    assert [key for key in SOURCE_KEYS if key in entry] == [before[range_id][3]]
    assert as_allowed(entry) == before[range_id][:5] and entry["Description"] == before[range_id][5]
    if kind == "group reference":
        assert entry["ReferencedUserId"] == "123456789012"
    restore(net.ec2, net.group_id, removed(result))
    assert sorted(net.rules().values()) == sorted(before.values())


def test_all_traffic_is_revoked_and_replaced_by_tcp_and_udp_single_ports(document, net):
    net.allow({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": net.peer_id}], "IpRanges": cidrs("0.0.0.0/0")})

    result = remediate(document, net, ReplacementTcpPorts=["443", "80"], ReplacementUdpPorts=["53"])

    assert result.status == SUCCESS, result.failure_message
    assert {(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in removed(result)} == {("-1", -1, -1)}
    expected = {(protocol, port, port, key, value)
                for key, value in (("CidrIpv4", "0.0.0.0/0"), ("ReferencedGroupId", net.peer_id))
                for protocol, port in (("tcp", 80), ("tcp", 443), ("udp", 53))}
    assert net.allowed() == expected
    assert {as_allowed(entry) for entry in added(result)} == expected
    rules = net.rules()
    assert all(rules[entry["SecurityGroupRuleId"]][:5] == as_allowed(entry) for entry in added(result))



@pytest.mark.parametrize("protocol", ["132", "33", "136"])
def test_an_sctp_dccp_or_udplite_rule_is_revoked_and_gets_no_replacement_ports(document, net, protocol):
    """Issue 10 item 2: these protocols open every port; the tcp/udp replacement lists do not apply to them."""
    net.allow({"IpProtocol": protocol, "FromPort": 0, "ToPort": 65535, "IpRanges": cidrs("0.0.0.0/0")})

    result = remediate(document, net, ReplacementTcpPorts=["443"], ReplacementUdpPorts=["53"])

    assert result.status == SUCCESS, result.failure_message
    assert [e["IpProtocol"] for e in removed(result)] == [protocol]
    assert added(result) == [] and net.allowed() == set()

# --- replacement ports --------------------------------------------------------------------------------------

def test_replacement_ports_only_inside_the_revoked_range_and_never_twice(document, net):
    net.allow(tcp(0, 1000, IpRanges=cidrs("0.0.0.0/0", description="legacy")), tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")),
              udp(500, 600, Ipv6Ranges=[{"CidrIpv6": "::/0"}]),
              tcp(8000, 8100, IpRanges=cidrs("198.51.100.0/24")))  # exempt below: AuthorizedTcpPorts covers it
    before = net.allowed()

    result = remediate(document, net, ReplacementTcpPorts=["22", "80", "8080", "80"],
                       ReplacementUdpPorts=["53", "514"], AuthorizedTcpPorts="8000-9000")

    assert result.status == SUCCESS, result.failure_message
    assert {as_allowed(entry) for entry in removed(result)} == {
        ("tcp", 0, 1000, "CidrIpv4", "0.0.0.0/0"), ("udp", 500, 600, "CidrIpv6", "::/0")}
    # 22 is already open as its own rule; 8080 and 53 lay outside the revoked ranges.
    assert [(as_allowed(entry), entry["Description"]) for entry in added(result)] == [
        (("tcp", 80, 80, "CidrIpv4", "0.0.0.0/0"), "legacy"), (("udp", 514, 514, "CidrIpv6", "::/0"), "")]
    assert net.allowed() == before - {as_allowed(entry) for entry in removed(result)} | {
        ("tcp", 80, 80, "CidrIpv4", "0.0.0.0/0"), ("udp", 514, 514, "CidrIpv6", "::/0")}
    assert net.rules()[added(result)[0]["SecurityGroupRuleId"]][5] == "legacy"


def test_replacements_go_in_first_and_the_range_first_only_when_the_group_is_full(document, net, monkeypatch):
    # 59 single ports and one range: moto, like AWS, allows 60 inbound rules in a VPC group.
    net.allow(*[tcp(port, port, IpRanges=cidrs("10.1.0.0/16")) for port in range(30000, 30059)])
    net.allow(tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")))
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net, ReplacementTcpPorts=["1433"])

    assert result.status == SUCCESS, result.failure_message
    # The room is counted first: no authorize is tried (and refused) before the range goes.
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules",
                                             "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress",
                                             "DescribeSecurityGroupRules"]
    assert ("tcp", 1433, 1433, "CidrIpv4", "0.0.0.0/0") in net.allowed()
    assert len(net.rules()) == 60


def test_with_room_replacements_are_authorized_before_the_range_is_revoked(document, net, monkeypatch):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    interceptor = ClientInterceptor(monkeypatch)

    assert remediate(document, net, ReplacementTcpPorts=["443"]).status == SUCCESS
    # The floor: the group's tags (exempt?), one rule listing, one authorize, one revoke, one verifying listing.
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules",
                                             "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                             "DescribeSecurityGroupRules"]


# --- concurrent changes and the rules quota (issue 10, items 10-12) ---------------------------------------

def test_a_rule_modified_between_read_and_revoke_keeps_its_new_meaning_and_is_reported_skipped(
        document, net, monkeypatch):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")), tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()
    wide_id = next(rule_id for rule_id, view in before.items() if view[2] == 65535)
    range_id = next(rule_id for rule_id, view in before.items() if view[1] == 1000)

    def narrow():  # an administrator narrows the wide rule to tcp 443; ModifySecurityGroupRules keeps its ID
        net.ec2.modify_security_group_rules(GroupId=net.group_id, SecurityGroupRules=[{
            "SecurityGroupRuleId": wide_id, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "0.0.0.0/0"}}])

    before_first(monkeypatch, "RevokeSecurityGroupIngress", narrow)
    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == {wide_id: ("tcp", 443, 443, "CidrIpv4", "0.0.0.0/0", "")}  # the compliant rule stays
    assert [entry["SecurityGroupRuleId"] for entry in removed(result)] == [range_id]
    assert [(entry["SecurityGroupRuleId"], as_allowed(entry)) for entry in skipped(result)] == [
        (wide_id, ("tcp", 0, 65535, "CidrIpv4", "0.0.0.0/0"))]  # judged as it was read, and left alone
    assert (added(result), undone(result)) == ([], [])


def test_a_rule_narrowed_to_a_replacement_port_before_the_authorize_is_neither_added_nor_revoked(
        document, net, monkeypatch):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    [wide_id] = net.rules()

    def narrow():  # the administrator's 443 is the very rule the runbook is about to add: InvalidPermission.Duplicate
        net.ec2.modify_security_group_rules(GroupId=net.group_id, SecurityGroupRules=[{
            "SecurityGroupRuleId": wide_id, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "0.0.0.0/0"}}])

    before_first(monkeypatch, "AuthorizeSecurityGroupIngress", narrow)
    result = remediate(document, net, ReplacementTcpPorts=["443"])

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == {wide_id: ("tcp", 443, 443, "CidrIpv4", "0.0.0.0/0", "")}
    assert (removed(result), added(result), undone(result)) == ([], [], [])
    assert [as_allowed(entry) for entry in skipped(result)] == [("tcp", 0, 65535, "CidrIpv4", "0.0.0.0/0")]


def test_replacements_for_a_range_removed_meanwhile_are_revoked_again(document, net, monkeypatch):
    net.allow(tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")), tcp(22, 22, IpRanges=cidrs("10.0.0.0/8")))
    range_id = next(rule_id for rule_id, view in net.rules().items() if view[1] == 1000)

    def remove_range():  # someone else removes the range after the replacement went in
        net.ec2.revoke_security_group_ingress(GroupId=net.group_id, SecurityGroupRuleIds=[range_id])

    before_first(monkeypatch, "RevokeSecurityGroupIngress", remove_range)
    result = remediate(document, net, ReplacementTcpPorts=["1433"])

    assert result.status == SUCCESS, result.failure_message
    assert net.allowed() == {("tcp", 22, 22, "CidrIpv4", "10.0.0.0/8")}  # 1433 would widen what is left
    assert [as_allowed(entry) for entry in undone(result)] == [("tcp", 1433, 1433, "CidrIpv4", "0.0.0.0/0")]
    assert [as_allowed(entry) for entry in skipped(result)] == [("tcp", 1000, 2000, "CidrIpv4", "0.0.0.0/0")]
    assert (removed(result), added(result)) == ([], [])


def test_replacements_are_revoked_again_when_the_revoke_fails_and_the_outputs_say_so(document, net, monkeypatch):
    net.allow(tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    before_first(monkeypatch, "RevokeSecurityGroupIngress", refused("UnauthorizedOperation"))
    result = remediate(document, net, ReplacementTcpPorts=["1433", "1521"])

    assert result.status == FAILED
    assert "UnauthorizedOperation" in result.failure_message
    assert net.rules() == before  # the range stays, and so nothing beside it
    assert [as_allowed(entry)[:3] for entry in undone(result)] == [("tcp", 1433, 1433), ("tcp", 1521, 1521)]
    assert (removed(result), added(result), skipped(result)) == ([], [], [])
    assert changes_in(result.failure_message)["Undone"] == undone(result)


def test_replacements_that_cannot_fit_fail_before_any_change_saying_how_many_rules_are_needed(
        document, net, monkeypatch):
    # 59 single ports and one range: 60 inbound IPv4 rules, the default quota. Two replacements for one range: 61.
    net.allow(*[tcp(port, port, IpRanges=cidrs("10.1.0.0/16")) for port in range(30000, 30059)])
    net.allow(tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net, ReplacementTcpPorts=["1433", "1521"])

    assert result.status == FAILED
    assert ("would need 61 inbound IPv4 rules (60 now, 1 revoked, 2 replacement rules added), over the quota of 60; "
            "nothing changed") in result.failure_message
    assert net.rules() == before
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules"]
    assert result.outputs == {"Remediate.Removed": [], "Remediate.Added": [], "Remediate.Undone": [],
                              "Remediate.Skipped": []}  # written on failure too
    assert changes_in(result.failure_message) == {"Removed": [], "Added": [], "Undone": [], "Skipped": []}


def test_when_the_room_is_taken_after_the_ranges_went_the_outputs_record_what_was_removed(
        document, net, monkeypatch):
    net.allow(*[tcp(port, port, IpRanges=cidrs("10.1.0.0/16")) for port in range(30000, 30059)])
    net.allow(tcp(1000, 2000, IpRanges=cidrs("0.0.0.0/0")))  # 60 rules: the range must go before 1433 fits
    range_id = next(rule_id for rule_id, view in net.rules().items() if view[1] == 1000)

    def take_the_room():  # someone adds a rule between the revoke and the authorize
        net.allow(tcp(40000, 40000, IpRanges=cidrs("10.1.0.0/16")))

    before_first(monkeypatch, "AuthorizeSecurityGroupIngress", take_the_room)
    result = remediate(document, net, ReplacementTcpPorts=["1433"])

    assert result.status == FAILED
    assert "RulesPerSecurityGroupLimitExceeded" in result.failure_message
    assert "add them when there is room: tcp 1433 from 0.0.0.0/0" in result.failure_message
    assert [(entry["SecurityGroupRuleId"], as_allowed(entry)) for entry in removed(result)] == [
        (range_id, ("tcp", 1000, 2000, "CidrIpv4", "0.0.0.0/0"))]
    assert added(result) == []
    assert changes_in(result.failure_message)["Removed"] == removed(result)
    assert range_id not in net.rules()


@pytest.mark.parametrize("rules, removals, additions, quota, outcome", [
    # IPv6 rules do not count against the IPv4 quota, nor IPv4 against IPv6.
    ({"CidrIpv4": 40, "CidrIpv6": 20}, {"CidrIpv4": 1}, {"CidrIpv4": 2}, 60, "in first"),
    ({"CidrIpv4": 59, "CidrIpv6": 59}, {"CidrIpv6": 1}, {"CidrIpv6": 1}, 60, "in first"),
    ({"CidrIpv4": 60}, {"CidrIpv4": 1}, {"CidrIpv4": 1}, 60, "revoke first"),
    ({"CidrIpv4": 60}, {"CidrIpv4": 1}, {"CidrIpv4": 2}, 60, "61 inbound IPv4"),
    ({"CidrIpv4": 60}, {"CidrIpv4": 1}, {"CidrIpv4": 2}, 100, "in first"),  # a raised quota, given
    ({"CidrIpv4": 80}, {"CidrIpv4": 1}, {}, 60, "in first"),  # above the given quota: the account's is higher
    # A group reference counts in both families.
    ({"CidrIpv6": 59, "ReferencedGroupId": 1}, {"ReferencedGroupId": 1}, {"ReferencedGroupId": 2}, 60,
     "61 inbound IPv6"),
])
def test_the_rules_quota_is_counted_per_direction_and_address_family(rules, removals, additions, quota, outcome):
    def permissions(counts: dict) -> list[Permission]:
        return [Permission("tcp", 1, 2, Source(kind, f"{kind}-{n}")) for kind, count in counts.items()
                for n in range(count)]

    try:
        revoke_first = needs_revoke_first("sg-1", permissions(rules), permissions(removals), permissions(additions),
                                          quota)
    except RemediationError as error:
        assert f"would need {outcome}" in str(error)
    else:
        assert ("revoke first" if revoke_first else "in first") == outcome


# --- dry run, idempotence, failures -------------------------------------------------------------------------

def test_dry_run_reports_and_changes_nothing(document, net):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")), tcp(80, 80, IpRanges=cidrs("10.0.0.0/8")))
    before = net.rules()

    result = remediate(document, net, DryRun="true", ReplacementTcpPorts=["443"])

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == before
    range_id = next(rule_id for rule_id, view in before.items() if view[2] == 65535)
    assert removed(result) == [{"SecurityGroupRuleId": range_id, "IpProtocol": "tcp", "FromPort": 0,
                                "ToPort": 65535, "CidrIpv4": "0.0.0.0/0", "Description": ""}]
    assert added(result) == [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "0.0.0.0/0",
                              "Description": ""}]  # no rule id: the rule does not exist


def test_a_second_run_changes_nothing_and_succeeds(document, net, monkeypatch):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")), udp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    first = remediate(document, net, ReplacementTcpPorts=["443"], ReplacementUdpPorts=["53"])
    assert first.status == SUCCESS and len(removed(first)) == 2 and len(added(first)) == 2
    after_first = net.rules()
    interceptor = ClientInterceptor(monkeypatch)

    second = remediate(document, net, ReplacementTcpPorts=["443"], ReplacementUdpPorts=["53"])

    assert (second.status, removed(second), added(second)) == (SUCCESS, [], [])
    assert net.rules() == after_first
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules"]  # tags: exempt?


def test_a_deleted_group_fails_clearly(document, net):
    net.ec2.delete_security_group(GroupId=net.group_id)

    result = remediate(document, net)

    assert result.status == FAILED
    assert f"security group {net.group_id} does not exist (InvalidGroup.NotFound)" in result.failure_message


def test_a_group_still_non_compliant_after_the_change_fails(document, net, monkeypatch):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    ignore_revocations(monkeypatch, "RevokeSecurityGroupIngress")
    result = remediate(document, net)

    assert result.status == FAILED
    assert (f"security group {net.group_id} still opens inbound port ranges after remediation: "
            "tcp 0-65535 from 0.0.0.0/0") in result.failure_message


@pytest.mark.parametrize("parameters, message", [
    ({"MaxPorts": "0"}, "parameter MaxPorts (rule parameter maxPorts): '0' is not an integer >= 1"),
    ({"AuthorizedTcpPorts": "443,70000"}, "parameter AuthorizedTcpPorts (rule parameter authorizedTcpPorts): "
                                          "'443,70000' is invalid: port 70000 is over 65535"),
    ({"AuthorizedUdpPorts": "2000-1000"}, "parameter AuthorizedUdpPorts (rule parameter authorizedUdpPorts): "
                                          "'2000-1000' is invalid: range '2000-1000' is reversed"),
    ({"SourceScope": "galaxy"}, "parameter SourceScope (rule parameter sourceScope): 'galaxy' is not one of any, "
                                "public, world"),
    ({"ReplacementTcpPorts": ["80", "99999"]}, "parameter ReplacementTcpPorts: port 99999 is over 65535"),
])
def test_invalid_values_fail_naming_the_parameter_and_change_nothing(document, net, parameters, message):
    net.allow(tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))
    before = net.rules()

    result = remediate(document, net, **parameters)

    assert result.status == FAILED
    assert message in result.failure_message
    assert net.rules() == before


@pytest.mark.parametrize("parameters, name", [
    ({"MaxPorts": "abc"}, "MaxPorts"), ({"SourceScope": "any;drop"}, "SourceScope"),
    ({"ReplacementUdpPorts": ["dns"]}, "ReplacementUdpPorts"), ({"DryRun": "maybe"}, "DryRun"),
    ({"SecurityGroupId": "sg-XYZ"}, "SecurityGroupId"), ({"AuthorizedTcpPorts": "443;rm"}, "AuthorizedTcpPorts"),
])
def test_values_outside_the_allowed_patterns_never_start(document, net, parameters, name):
    with pytest.raises(ParameterError, match=f"parameter {name}:"):
        remediate(document, net, **parameters)


# --- pagination and retries ---------------------------------------------------------------------------------

PAGE = 2  # rules per page in the paginated fake


@pytest.fixture
def paged(monkeypatch):
    """moto answers DescribeSecurityGroupRules in one page; split its answers into pages of PAGE with NextToken,
    as AWS does, for every EC2 client the script creates. Returns the request parameters seen."""
    real_client = boto3.client
    interceptor = ClientInterceptor(monkeypatch)
    requests: list[dict] = []
    configs: list = []

    def attach(client):
        reader = real_client("ec2", region_name=REGION)
        configs.append(client.meta.config)

        def remember(params, **_):
            requests.append(dict(params))

        def answer(**_):
            params = requests[-1]
            rules = reader.describe_security_group_rules(Filters=params["Filters"])["SecurityGroupRules"]
            start = int(params.get("NextToken") or 0)
            page = {"SecurityGroupRules": rules[start:start + PAGE]}
            if start + PAGE < len(rules):
                page["NextToken"] = str(start + PAGE)
            return AWSResponse("https://ec2.amazonaws.com", 200, {}, None), page

        client.meta.events.register("before-parameter-build.ec2.DescribeSecurityGroupRules", remember)
        client.meta.events.register("before-call.ec2.DescribeSecurityGroupRules", answer)

    interceptor.on_create["ec2"] = [attach]
    return requests, configs


def test_every_page_of_rules_is_read_and_judged(document, net, paged):
    requests, configs = paged
    net.allow(*[tcp(first, first + 10, IpRanges=cidrs("0.0.0.0/0")) for first in (100, 200, 300, 400, 500)],
              tcp(22, 22, IpRanges=cidrs("0.0.0.0/0")), tcp(443, 443, IpRanges=cidrs("0.0.0.0/0")))

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert len(removed(result)) == 5
    assert net.allowed() == {("tcp", 22, 22, "CidrIpv4", "0.0.0.0/0"), ("tcp", 443, 443, "CidrIpv4", "0.0.0.0/0")}
    # 8 rules (7 inbound, 1 outbound) in pages of 2 before, 3 rules after: 4 + 2 requests.
    assert len(requests) == 6
    assert [request.get("NextToken") for request in requests[:4]] == [None, "2", "4", "6"]
    assert all(request["MaxResults"] == PAGE_SIZE for request in requests)
    assert [config.retries["mode"] for config in configs] == ["standard"]


# --- property -----------------------------------------------------------------------------------------------

port_lists = st.lists(st.sampled_from(PORTS), max_size=3).map(lambda ports: [str(port) for port in ports])


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    granted=st.lists(permissions(), min_size=1, max_size=6, unique=True),
    max_ports=st.sampled_from(("1", "2", "100", "2000")),
    authorized_tcp=st.sampled_from(("", "443", "1024-65535", "0-65535")),
    authorized_udp=st.sampled_from(("", "53", "0-65535")),
    scope=st.sampled_from(("any", "public", "world")),
    replacement_tcp=port_lists,
    replacement_udp=port_lists,
)
def test_remediation_only_narrows_access_and_leaves_the_group_compliant(
        document, account, granted, max_ports, authorized_tcp, authorized_udp, scope, replacement_tcp, replacement_udp):
    parameters = {"MaxPorts": max_ports, "AuthorizedTcpPorts": authorized_tcp, "AuthorizedUdpPorts": authorized_udp,
                  "SourceScope": scope}
    net = Network(account)
    for protocol, first, last, source in granted:
        net.allow({"IpProtocol": protocol, "FromPort": first, "ToPort": last, **source_entry(net, source)})
    before = net.allowed()

    result = remediate(document, net, ReplacementTcpPorts=replacement_tcp, ReplacementUdpPorts=replacement_udp,
                       **parameters)

    assert result.status == SUCCESS, result.failure_message
    after = net.allowed()
    assert all(covered(view, before) for view in after), after - before
    assert {as_allowed(entry) for entry in removed(result)} == before - after
    assert {as_allowed(entry) for entry in added(result)} == after - before
    described = net.ec2.describe_security_groups(GroupIds=[net.group_id])["SecurityGroups"][0]
    item = {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": net.group_id,
            "configurationItemStatus": "OK", "configuration": described}
    rule_parameters = rule.parse_parameters({"maxPorts": max_ports, "authorizedTcpPorts": authorized_tcp,
                                             "authorizedUdpPorts": authorized_udp, "sourceScope": scope})
    assert rule.evaluate(item, rule_parameters).compliance == "COMPLIANT"


def test_a_rule_from_the_group_itself_stays_unless_self_references_are_included(document, net):
    net.allow({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": net.group_id}]}, tcp(0, 65535, IpRanges=cidrs("0.0.0.0/0")))

    kept = remediate(document, net)
    assert kept.status == SUCCESS, kept.failure_message
    assert net.allowed() == {("-1", -1, -1, "ReferencedGroupId", net.group_id)}

    included = remediate(document, net, IncludeSelfReferences="true")
    assert included.status == SUCCESS, included.failure_message
    assert net.allowed() == set() and [as_allowed(entry) for entry in removed(included)] == [
        ("-1", -1, -1, "ReferencedGroupId", net.group_id)]
