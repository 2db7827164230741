"""The sg-ingress-authorized-ports-only runbook, rendered, validated and executed end to end against moto EC2."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perimeter.rules.sg_ingress_authorized_ports_only import rule
from tests.sg_runbook_support import (  # noqa: F401 (account, document, net: fixtures)
    ROLE, Network, account, added, as_allowed, before_first, changes_in, check_exempt_group_is_left_unchanged,
    check_missing_group_fails_clearly, cidrs, covered, document, net, permissions, refused, remediate,
    remediate_random_group, removed, skipped, tcp, udp, undone,
)
from tests.ssm import validator
from tests.ssm.runner import FAILED, SUCCESS, run_document
from tests.support import ClientInterceptor

RULE_ID = "sg-ingress-authorized-ports-only"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "sg_ingress_authorized_ports_only"
WORLD = "0.0.0.0/0"


def world(protocol: str, first: int = -1, last: int = -1, description: str | None = None) -> dict:
    return {"IpProtocol": protocol, "FromPort": first, "ToPort": last, "IpRanges": cidrs(WORLD, description=description)}


def views(entries: list[dict]) -> list[tuple]:
    return [as_allowed(entry) for entry in entries]


# --- the document -------------------------------------------------------------------------------------------

def test_document_validates_and_carries_the_rule_parameters(document):
    assert validator.validate_document(document) == []
    assert len(json.dumps(document).encode()) < 64 * 1024
    parameters = document["parameters"]
    assert list(parameters) == ["SecurityGroupId", "AutomationAssumeRole", "AuthorizedTcpPorts", "AuthorizedUdpPorts",
                                "SourceScope", "TrustedSources", "InboundRuleQuota", "DryRun"]
    assert parameters["DryRun"] == {**parameters["DryRun"], "type": "Boolean", "default": True}
    assert document["outputs"] == ["Remediate.Removed", "Remediate.Added", "Remediate.Undone", "Remediate.Skipped",
                                   "Remediate.ExemptUntil"]


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, net):
    net.allow(world("tcp", 0, 65535))
    before = net.rules()

    result = run_document(document, {"SecurityGroupId": net.group_id, "AutomationAssumeRole": ROLE})

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == before
    assert views(removed(result)) == [("tcp", 0, 65535, "CidrIpv4", WORLD)]
    assert views(added(result)) == [("tcp", 80, 80, "CidrIpv4", WORLD), ("tcp", 443, 443, "CidrIpv4", WORLD)]


# --- narrowing ----------------------------------------------------------------------------------------------

def test_a_wide_rule_becomes_the_authorized_ports_for_the_same_source_and_description(document, net, monkeypatch):
    net.allow(world("tcp", 0, 65535, description="legacy"), tcp(80, 80, IpRanges=cidrs("10.0.0.0/8")))
    before = net.rules()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert views(removed(result)) == [("tcp", 0, 65535, "CidrIpv4", WORLD)]
    assert net.allowed() == {("tcp", 80, 80, "CidrIpv4", WORLD), ("tcp", 443, 443, "CidrIpv4", WORLD),
                             ("tcp", 80, 80, "CidrIpv4", "10.0.0.0/8")}
    rules = net.rules()
    assert {rules[entry["SecurityGroupRuleId"]][5] for entry in added(result)} == {"legacy"}
    assert set(before) - set(rules) == {removed(result)[0]["SecurityGroupRuleId"]}
    # With room, the replacements go in before the range goes.
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules",
                                             "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                             "DescribeSecurityGroupRules"]


def test_authorized_ranges_are_intersected_with_the_revoked_range(document, net):
    net.allow(world("tcp", 1500, 3500), udp(0, 100, Ipv6Ranges=[{"CidrIpv6": "::/0"}]))

    result = remediate(document, net, AuthorizedTcpPorts="1000-2000,3000,9000", AuthorizedUdpPorts="53,60-70")

    assert result.status == SUCCESS, result.failure_message
    assert net.allowed() == {("tcp", 1500, 2000, "CidrIpv4", WORLD), ("tcp", 3000, 3000, "CidrIpv4", WORLD),
                             ("udp", 53, 53, "CidrIpv6", "::/0"), ("udp", 60, 70, "CidrIpv6", "::/0")}


def test_all_traffic_becomes_the_tcp_list_as_tcp_and_the_udp_list_as_udp(document, net):
    net.allow({"IpProtocol": "-1", "IpRanges": cidrs(WORLD), "UserIdGroupPairs": [{"GroupId": net.peer_id}]})

    result = remediate(document, net, SourceScope="any", AuthorizedUdpPorts="53")

    assert result.status == SUCCESS, result.failure_message
    # ICMP is authorized (the rule's S7): the ICMP all traffic carried stays, of each family the source admits.
    assert net.allowed() == {(protocol, port, port, kind, value) for kind, value in (
        ("CidrIpv4", WORLD), ("ReferencedGroupId", net.peer_id)) for protocol, port in (
        ("tcp", 80), ("tcp", 443), ("udp", 53))} | {
        ("icmp", -1, -1, "CidrIpv4", WORLD), ("icmp", -1, -1, "ReferencedGroupId", net.peer_id),
        ("icmpv6", -1, -1, "ReferencedGroupId", net.peer_id)}
    assert {entry["ReferencedUserId"] for entry in added(result) if "ReferencedGroupId" in entry} == {"123456789012"}


def test_all_traffic_keeps_its_authorized_icmp_only_once(document, net):
    """Revoking all traffic must not take the ICMP the rule authorizes (path MTU discovery needs ICMP "fragmentation
    needed" / ICMPv6 "packet too big"), nor add an ICMP rule the group already has."""
    net.allow({"IpProtocol": "-1", "IpRanges": cidrs(WORLD), "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
              {"IpProtocol": "icmpv6", "FromPort": -1, "ToPort": -1, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})

    result = remediate(document, net, AuthorizedTcpPorts="443")

    assert result.status == SUCCESS, result.failure_message
    assert sorted(views(removed(result))) == [("-1", -1, -1, "CidrIpv4", WORLD), ("-1", -1, -1, "CidrIpv6", "::/0")]
    assert net.allowed() == {("tcp", 443, 443, "CidrIpv4", WORLD), ("tcp", 443, 443, "CidrIpv6", "::/0"),
                             ("icmp", -1, -1, "CidrIpv4", WORLD), ("icmpv6", -1, -1, "CidrIpv6", "::/0")}
    assert ("icmpv6", -1, -1, "CidrIpv6", "::/0") not in views(added(result))  # it was there already


def test_all_traffic_from_a_prefix_list_gets_no_icmp_of_a_family_it_may_not_hold(document, net):
    net.allow({"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": net.prefix_list_id}]})

    result = remediate(document, net, SourceScope="any", AuthorizedTcpPorts="443")

    assert result.status == SUCCESS, result.failure_message
    assert net.allowed() == {("tcp", 443, 443, "PrefixListId", net.prefix_list_id)}


@pytest.mark.parametrize("protocol, first, last", [("50", -1, -1), ("47", 0, 0), ("132", 10, 20)])
def test_another_protocol_is_revoked_with_no_replacement(document, net, protocol, first, last):
    net.allow(world(protocol, first, last), world("icmp"), world("tcp", 443, 443))

    result = remediate(document, net, AuthorizedTcpPorts="0-65535", AuthorizedUdpPorts="0-65535")

    assert result.status == SUCCESS, result.failure_message
    assert views(removed(result)) == [(protocol, first, last, "CidrIpv4", WORLD)]
    assert added(result) == []
    assert net.allowed() == {("icmp", -1, -1, "CidrIpv4", WORLD), ("tcp", 443, 443, "CidrIpv4", WORLD)}


def test_a_port_a_remaining_rule_allows_is_not_added_again(document, net):
    net.allow(world("tcp", 0, 1000), world("tcp", 443, 443), world("tcp", 70, 90))

    result = remediate(document, net, AuthorizedTcpPorts="80-90,443")

    assert result.status == SUCCESS, result.failure_message
    assert views(removed(result)) == [("tcp", 0, 1000, "CidrIpv4", WORLD), ("tcp", 70, 90, "CidrIpv4", WORLD)]
    assert views(added(result)) == [("tcp", 80, 90, "CidrIpv4", WORLD)]  # 443 stays as its own rule


def test_only_in_scope_untrusted_sources_are_touched_and_never_egress(document, net):
    net.allow(tcp(22, 22, IpRanges=cidrs(WORLD, "10.0.0.0/8", "203.0.113.0/24"), Ipv6Ranges=[{"CidrIpv6": "::/0"}],
                  PrefixListIds=[{"PrefixListId": net.prefix_list_id}]))
    egress_before = net.rules(egress=True)

    result = remediate(document, net, SourceScope="public", TrustedSources="203.0.113.0/24")

    assert result.status == SUCCESS, result.failure_message
    assert sorted(views(removed(result))) == [("tcp", 22, 22, "CidrIpv4", WORLD), ("tcp", 22, 22, "CidrIpv6", "::/0")]
    assert {view[4] for view in net.allowed()} == {"10.0.0.0/8", "203.0.113.0/24", net.prefix_list_id}
    assert net.rules(egress=True) == egress_before


def test_a_second_run_changes_nothing_and_succeeds(document, net, monkeypatch):
    net.allow(world("tcp", 0, 65535), world("udp", 0, 65535))
    assert remediate(document, net).status == SUCCESS
    after_first = net.rules()
    interceptor = ClientInterceptor(monkeypatch)

    second = remediate(document, net)

    assert (second.status, removed(second), added(second), net.rules()) == (SUCCESS, [], [], after_first)
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules"]


# --- room under the quota -----------------------------------------------------------------------------------

def fill(net: Network, count: int) -> None:
    net.allow(*[tcp(port, port, IpRanges=cidrs("10.1.0.0/16")) for port in range(30000, 30000 + count)])


def test_when_the_group_is_full_the_range_goes_first(document, net, monkeypatch):
    fill(net, 59)
    net.allow(world("tcp", 0, 1000))  # 60 rules: tcp 80 fits only once the range is gone
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net, AuthorizedTcpPorts="80")

    assert result.status == SUCCESS, result.failure_message
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeSecurityGroupRules",
                                             "RevokeSecurityGroupIngress", "AuthorizeSecurityGroupIngress",
                                             "DescribeSecurityGroupRules"]
    assert ("tcp", 80, 80, "CidrIpv4", WORLD) in net.allowed() and len(net.rules()) == 60


def test_replacements_that_cannot_fit_fail_before_any_change(document, net):
    fill(net, 59)
    net.allow(world("tcp", 0, 1000))
    before = net.rules()

    result = remediate(document, net, AuthorizedTcpPorts="80,443")

    assert result.status == FAILED
    assert "would need 61 inbound IPv4 rules (60 now, 1 revoked, 2 replacement rules added)" in result.failure_message
    assert net.rules() == before
    assert changes_in(result.failure_message) == {"Removed": [], "Added": [], "Undone": [], "Skipped": []}


# --- exemptions, a missing group, concurrent changes --------------------------------------------------------

def test_an_exempt_group_is_left_unchanged(document, net, monkeypatch):
    net.allow(world("tcp", 0, 65535))
    check_exempt_group_is_left_unchanged(document, net, RULE_ID, monkeypatch)


def test_a_deleted_group_fails_clearly(document, net):
    check_missing_group_fails_clearly(document, net)


def test_replacements_for_a_range_removed_meanwhile_are_revoked_again(document, net, monkeypatch):
    net.allow(world("tcp", 0, 1000), tcp(22, 22, IpRanges=cidrs("10.0.0.0/8")))
    range_id = next(rule_id for rule_id, view in net.rules().items() if view[2] == 1000)

    def remove_range():  # someone else removes the range after the replacements went in
        net.ec2.revoke_security_group_ingress(GroupId=net.group_id, SecurityGroupRuleIds=[range_id])

    before_first(monkeypatch, "RevokeSecurityGroupIngress", remove_range)
    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert net.allowed() == {("tcp", 22, 22, "CidrIpv4", "10.0.0.0/8")}  # 80 and 443 would widen what is left
    assert views(undone(result)) == [("tcp", 80, 80, "CidrIpv4", WORLD), ("tcp", 443, 443, "CidrIpv4", WORLD)]
    assert views(skipped(result)) == [("tcp", 0, 1000, "CidrIpv4", WORLD)]
    assert (removed(result), added(result)) == ([], [])


def test_replacements_are_revoked_again_when_the_revoke_fails(document, net, monkeypatch):
    net.allow(world("tcp", 0, 1000))
    before = net.rules()

    before_first(monkeypatch, "RevokeSecurityGroupIngress", refused("UnauthorizedOperation"))
    result = remediate(document, net)

    assert result.status == FAILED
    assert "UnauthorizedOperation" in result.failure_message
    assert net.rules() == before
    assert [view[:3] for view in views(undone(result))] == [("tcp", 80, 80), ("tcp", 443, 443)]
    assert changes_in(result.failure_message)["Undone"] == undone(result)


def test_a_rule_narrowed_to_an_authorized_port_meanwhile_stays(document, net, monkeypatch):
    net.allow(world("tcp", 0, 1000))
    [wide_id] = net.rules()

    def narrow():  # the administrator's own fix, between the runbook's read and its writes
        net.ec2.modify_security_group_rules(GroupId=net.group_id, SecurityGroupRules=[{
            "SecurityGroupRuleId": wide_id, "SecurityGroupRule": {
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": WORLD}}])

    before_first(monkeypatch, "AuthorizeSecurityGroupIngress", narrow)
    # One authorized port: moto, unlike EC2, keeps the other rules of a call refused as InvalidPermission.Duplicate.
    result = remediate(document, net, AuthorizedTcpPorts="443")

    assert result.status == SUCCESS, result.failure_message
    assert net.rules() == {wide_id: ("tcp", 443, 443, "CidrIpv4", WORLD, "")}
    assert views(skipped(result)) == [("tcp", 0, 1000, "CidrIpv4", WORLD)]
    assert (removed(result), added(result), undone(result)) == ([], [], [])


# --- property -----------------------------------------------------------------------------------------------

PROTOCOLS = ("tcp", "udp", "-1", "icmp", "50", "132")
TRUSTED = ((), ("8.8.8.0/24",), ("0.0.0.0/0", "peer"), ("prefix-list", "fd00::/8"))


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    granted=st.lists(permissions(PROTOCOLS), min_size=1, max_size=6, unique=True),
    authorized=st.sampled_from((("", ""), ("22", "53"), ("80,443,1000-1024", ""), ("none", "0-65535"),
                                ("0-65535", "0-65535"), ("1-100,8080", "none"))),
    scope=st.sampled_from(("any", "public", "world")),
    trusted=st.sampled_from(TRUSTED),
)
def test_access_only_narrows_only_offenders_go_and_the_group_is_compliant(
        document, account, granted, authorized, scope, trusted):
    before, after, offending, result = remediate_random_group(
        document, account, granted, {"authorizedTcpPorts": authorized[0], "authorizedUdpPorts": authorized[1],
                                     "sourceScope": scope, "trustedSources": trusted}, rule, rule.offenders)

    assert all(covered(view, before) for view in after), after - before  # access only narrows
    assert before - after == offending == set(views(removed(result)))  # nothing else removed
    assert after - before == set(views(added(result)))
