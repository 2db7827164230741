"""nacl-ingress-admin-ports-restricted: one test group per scenario S1..S15 of the rule's docstring, then the Lambda
under moto (PutEvaluations in TestMode)."""
from __future__ import annotations

import ipaddress

import pytest
from moto import mock_aws

from builders import api_shape, nacl_entry as entry, network_acl_item
from conftest import change_event
from perimeter.cidrs import public_ranges
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.rule import RuleInvocationError
from perimeter.registry import rule_by_id
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, rule_handler

RULE_ID = "nacl-ingress-admin-ports-restricted"
SPEC = rule_by_id(RULE_ID)
CLOSED = Verdict(COMPLIANT, "No restricted port open to the world")
OPEN = "Restricted ports allowed in: "
FINAL = entry(32767, "-1", "deny")


def judge(item, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw))


def ssh(number, action="allow", cidr="0.0.0.0/0"):
    return entry(number, "6", action, cidr, (22, 22))


# --- S1 ------------------------------------------------------------------------------------------------------------
def test_s01_ssh_allowed_from_the_world():
    assert judge(network_acl_item(ssh(100), FINAL)) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")
    assert judge(api_shape(network_acl_item(ssh(100), FINAL))).compliance == NON_COMPLIANT


# --- S2 ------------------------------------------------------------------------------------------------------------
def test_s02_a_deny_ahead_shadows_the_allow():
    assert judge(network_acl_item(ssh(90, "deny"), ssh(100), FINAL)) == CLOSED


def test_s02_entries_are_ordered_by_number_not_by_position():
    assert judge(network_acl_item(ssh(100), ssh(90, "deny"), FINAL)) == CLOSED


# --- S3 ------------------------------------------------------------------------------------------------------------
def test_s03_a_deny_after_the_allow_changes_nothing():
    assert judge(network_acl_item(ssh(100), ssh(110, "deny"), FINAL)) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")


# --- S4 ------------------------------------------------------------------------------------------------------------
def test_s04_partial_address_shadow():
    item = network_acl_item(ssh(80, "deny", "0.0.0.0/1"), ssh(90, "deny", "128.0.0.0/2"), ssh(100), FINAL)
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")


def test_s04_partial_port_shadow_names_only_the_ports_still_decided():
    item = network_acl_item(entry(90, "6", "deny", "0.0.0.0/0", (0, 1023)), entry(100, "6", "allow", "0.0.0.0/0"), FINAL)
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 3389 from 0.0.0.0/0 (rule 100)")


# --- S5 ------------------------------------------------------------------------------------------------------------
def test_s05_unions_of_denies_shadow_exactly():
    item = network_acl_item(entry(10, "6", "deny", "0.0.0.0/1", (0, 1000)), entry(20, "6", "deny", "0.0.0.0/1", (1001, 65535)),
                            entry(30, "6", "deny", "128.0.0.0/1"), entry(40, "17", "deny", "0.0.0.0/0"),
                            entry(100, "-1", "allow", "0.0.0.0/0"), FINAL)
    assert judge(item) == CLOSED


def test_s05_one_address_left_open_is_found():
    item = network_acl_item(entry(10, "6", "deny", "0.0.0.0/1"), entry(20, "6", "deny", "128.0.0.0/1", (0, 3388)),
                            entry(30, "6", "deny", "128.0.0.0/1", (3390, 65535)), entry(31, "6", "deny", "128.0.0.0/2"),
                            entry(32, "6", "deny", "192.0.0.0/3"), entry(40, "17", "deny", "0.0.0.0/0"),
                            entry(100, "-1", "allow", "0.0.0.0/0"), FINAL)
    # 3389 stays open to 224.0.0.0/3 only: still decided by rule 100 for those addresses.
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 3389 from 0.0.0.0/0 (rule 100)")


# --- S6 ------------------------------------------------------------------------------------------------------------
def test_s06_all_traffic_allowed():
    assert judge(network_acl_item(entry(100, "-1"), FINAL)) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22, 3389 from 0.0.0.0/0 (rule 100); udp 22, 3389 from 0.0.0.0/0 (rule 100)")


@pytest.mark.parametrize("protocol, name", [("6", "tcp"), ("17", "udp")])
def test_s06_entry_without_port_range_holds_every_port(protocol, name):
    assert judge(network_acl_item(entry(100, protocol), FINAL)) == Verdict(
        NON_COMPLIANT, OPEN + f"{name} 22, 3389 from 0.0.0.0/0 (rule 100)")


# --- S7 ------------------------------------------------------------------------------------------------------------
def test_s07_ipv4_deny_does_not_shadow_ipv6_allow():
    item = network_acl_item(ssh(90, "deny", "0.0.0.0/0"), ssh(100, cidr="::/0"), FINAL)
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from ::/0 (rule 100)")


def test_s07_ipv6_deny_does_not_shadow_ipv4_allow():
    item = network_acl_item(ssh(90, "deny", "::/0"), ssh(100), FINAL)
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")


# --- S8 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("allowed", [entry(100, "1"), entry(100, "58", cidr="::/0"), entry(100, "50"),
                                     entry(100, "6", ports=(80, 80)), entry(101, "6", ports=(443, 443))])
def test_s08_other_protocols_and_ports_are_compliant(allowed):
    assert judge(network_acl_item(allowed, FINAL)) == CLOSED


# --- S9 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cidr", ["8.8.8.0/24", "0.0.0.0/1", "2001:4860::/32"])
def test_s09_world_counts_only_slash_zero_entries(cidr):
    assert judge(network_acl_item(ssh(100, cidr=cidr), FINAL)) == CLOSED


def test_s09_public_counts_any_public_address():
    assert judge(network_acl_item(ssh(100, cidr="8.8.8.0/24"), FINAL), sourceScope="public") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 8.8.8.0/24 (rule 100)")


def test_s09_public_leaves_private_addresses_alone():
    assert judge(network_acl_item(ssh(100, cidr="10.0.0.0/8"), FINAL), sourceScope="public") == Verdict(
        COMPLIANT, "No restricted port open to public addresses")


def test_s09_world_entry_behind_denies_for_every_public_block_is_compliant_under_public():
    blocks = [network for first, last in public_ranges(4) for network in ipaddress.summarize_address_range(
        ipaddress.IPv4Address(first), ipaddress.IPv4Address(last))]
    denies = [entry(index + 1, "-1", "deny", str(network)) for index, network in enumerate(blocks)]
    item = network_acl_item(*denies, entry(1000, "-1"), FINAL)
    assert judge(item, sourceScope="public") == Verdict(COMPLIANT, "No restricted port open to public addresses")
    assert judge(item).compliance == NON_COMPLIANT


# --- S10 -----------------------------------------------------------------------------------------------------------
def test_s10_no_subnet_association():
    assert judge(network_acl_item(ssh(100), FINAL, subnets=())) == Verdict(NOT_APPLICABLE, "Not associated with any subnet")


# --- S11 -----------------------------------------------------------------------------------------------------------
def test_s11_default_acl_is_not_evaluated_by_default():
    item = network_acl_item(entry(100, "-1"), FINAL, default=True)
    assert judge(item) == Verdict(NOT_APPLICABLE, "Default network ACL is not evaluated")
    assert judge(item, evaluateDefaultNetworkAcl="false") == Verdict(NOT_APPLICABLE, "Default network ACL is not evaluated")


def test_s11_default_acl_judged_on_request():
    item = network_acl_item(entry(100, "-1"), FINAL, default=True)
    assert judge(item, evaluateDefaultNetworkAcl="TRUE").compliance == NON_COMPLIANT


# --- S12 -----------------------------------------------------------------------------------------------------------
def test_s12_egress_entries_are_not_judged():
    item = network_acl_item(entry(100, "-1", egress=True), entry(32767, "-1", "deny", egress=True), FINAL)
    assert judge(item) == CLOSED


# --- S13 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    ({"sourceScope": "any"}, "parameter sourceScope: 'any' is not one of world, public"),
    ({"restrictedTcpPorts": "none", "restrictedUdpPorts": "NONE"}, "both are empty"),
    ({"restrictedTcpPorts": "70000"}, "parameter restrictedTcpPorts: '70000' is invalid: port 70000 is over 65535"),
    ({"evaluateDefaultNetworkAcl": "yes"}, "parameter evaluateDefaultNetworkAcl: 'yes' is not true or false"),
    ({"restrictedPorts": "22"}, "unknown parameter(s) restrictedPorts"),
])
def test_s13_invalid_parameters(raw, message):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters(raw)
    assert message in str(caught.value)


def test_s13_blank_is_the_default_and_one_list_may_be_none():
    item = network_acl_item(entry(100, "17"), FINAL)
    assert judge(item, restrictedTcpPorts="", sourceScope=" ").compliance == NON_COMPLIANT
    assert judge(item, restrictedUdpPorts="none") == CLOSED


# --- S14 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s14_gone_items(status):
    item = network_acl_item(status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s14_left_scope_other_types_and_malformed_entries():
    item = normalise_item(network_acl_item(ssh(100)))
    assert SPEC.evaluate(item, SPEC.parse_parameters({}), left_scope=True).compliance == NOT_APPLICABLE
    other = dict(item, resourceType="AWS::EC2::SecurityGroup")
    assert SPEC.evaluate(other, SPEC.parse_parameters({})).compliance == NOT_APPLICABLE
    broken = network_acl_item({**ssh(100), "ruleAction": "maybe"})
    with pytest.raises(ItemError, match="AWS::EC2::NetworkAcl acl-0123456789abcdef0: entry 100: ruleAction 'maybe'"):
        judge(broken)


# --- S15 -----------------------------------------------------------------------------------------------------------
def test_s15_offenders_in_rule_number_order():
    item = network_acl_item(entry(200, "17", ports=(3389, 3389)), ssh(100, cidr="::/0"), FINAL)
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from ::/0 (rule 100); udp 3389 from 0.0.0.0/0 (rule 200)")


def test_s15_many_offenders_fit():
    item = network_acl_item(*[ssh(n, cidr=f"{n}.0.0.0/8") for n in range(1, 40)], FINAL)
    verdict = judge(item, sourceScope="public")
    assert len(verdict.annotation) <= MAX_ANNOTATION and verdict.annotation.endswith(" more)")


# --- S16 -----------------------------------------------------------------------------------------------------------
def test_s16_addresses_outside_the_trusted_cidrs_are_still_judged():
    item = network_acl_item(ssh(100), FINAL)
    assert judge(item, trustedSources="203.0.113.0/24,2001:db8::/32") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")


# --- S17 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("trusted", ["0.0.0.0/0", "0.0.0.0/1,128.0.0.0/1", " 0.0.0.0/0 , ::/0 "])
def test_s17_an_allow_deciding_only_for_trusted_addresses_is_compliant(trusted):
    assert judge(network_acl_item(ssh(100), FINAL), trustedSources=trusted) == CLOSED


def test_s17_the_untrusted_rest_shadowed_by_a_deny_is_compliant():
    item = network_acl_item(ssh(90, "deny", "128.0.0.0/1"), ssh(100), FINAL)
    assert judge(item, trustedSources="0.0.0.0/1") == CLOSED
    assert judge(item, trustedSources="0.0.0.0/2") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")


def test_s17_a_trusted_ipv4_cidr_leaves_an_ipv6_allow_judged():
    item = network_acl_item(ssh(100), ssh(110, cidr="::/0"), FINAL)
    assert judge(item, trustedSources="0.0.0.0/0") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from ::/0 (rule 110)")


# --- S18 -----------------------------------------------------------------------------------------------------------
def test_s18_public_counts_only_public_addresses_outside_the_trusted_cidrs():
    inside = network_acl_item(ssh(100, cidr="8.8.8.0/24"), FINAL)
    wider = network_acl_item(ssh(100, cidr="8.8.0.0/16"), FINAL)
    assert judge(inside, sourceScope="public", trustedSources="8.8.8.0/24") == Verdict(
        COMPLIANT, "No restricted port open to public addresses")
    assert judge(wider, sourceScope="public", trustedSources="8.8.8.0/24") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 8.8.0.0/16 (rule 100)")
    # Trusting every public block but one leaves that one judged; the private blocks never were.
    everything_else = ",".join(str(network) for network in ipaddress.ip_network("0.0.0.0/0").address_exclude(
        ipaddress.ip_network("8.8.8.0/24")))
    assert judge(network_acl_item(entry(100, "-1"), FINAL), sourceScope="public",
                 trustedSources=everything_else).compliance == NON_COMPLIANT
    assert judge(network_acl_item(entry(100, "-1"), FINAL), sourceScope="public",
                 trustedSources=everything_else + ",8.8.8.0/24") == Verdict(
        COMPLIANT, "No restricted port open to public addresses")


# --- S19 -----------------------------------------------------------------------------------------------------------
def test_s19_prefix_lists_and_groups_are_accepted_and_match_no_entry():
    parameters = SPEC.parse_parameters({"trustedSources": "pl-0123456789abcdef0,sg-0123456789abcdef0"})
    assert parameters.own.trusted.ids == {"pl-0123456789abcdef0", "sg-0123456789abcdef0"}
    assert SPEC.evaluate(normalise_item(network_acl_item(ssh(100), FINAL)), parameters) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")
    assert "never match an ACL entry" in SPEC.declaration["parameters"]["trustedSources"]["description"]


# --- S20 -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["office", "10.0.0.0/33", "pl-xyz"])
def test_s20_invalid_trusted_sources(bad):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters({"trustedSources": f"10.0.0.0/8, {bad}"})
    assert str(caught.value) == f"parameter trustedSources: '{bad}' is not a CIDR, pl- or sg- id"


# --- the Lambda, under moto -----------------------------------------------------------------------------------------
lambda_handler = rule_handler(RULE_ID)


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def test_lambda_puts_the_verdict(aws):
    [evaluation] = lambda_handler(change_event(network_acl_item(ssh(100), FINAL), f"perimeter-{RULE_ID}"), None)
    assert (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"], evaluation["ComplianceType"],
            evaluation["Annotation"]) == ("AWS::EC2::NetworkAcl", "acl-0123456789abcdef0", NON_COMPLIANT,
                                          OPEN + "tcp 22 from 0.0.0.0/0 (rule 100)")
    assert aws.calls == [("config", "PutEvaluations")]


def test_lambda_reads_parameters(aws):
    event = change_event(network_acl_item(entry(100, "-1"), FINAL, default=True), f"perimeter-{RULE_ID}",
                         ruleParameters='{"evaluateDefaultNetworkAcl": "true", "restrictedUdpPorts": "none"}')
    assert lambda_handler(event, None)[0]["Annotation"] == OPEN + "tcp 22, 3389 from 0.0.0.0/0 (rule 100)"


def test_lambda_fails_on_scope_any(aws):
    event = change_event(network_acl_item(ssh(100)), f"perimeter-{RULE_ID}", ruleParameters='{"sourceScope": "any"}')
    with pytest.raises(RuleInvocationError, match="'any' is not one of world, public"):
        lambda_handler(event, None)
