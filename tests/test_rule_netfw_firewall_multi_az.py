"""netfw-firewall-multi-az: one test group per scenario S1..S11 of the rule's docstring.

The offline scan's subnet lookup (S4, S5) runs through perimeter.scan.scan; the Lambda's DescribeFirewall (S6)
through the deployed entry point under moto (Config, TestMode) with the Network Firewall fake.
"""
from __future__ import annotations

import pytest
from moto import mock_aws

from builders import api_shape, pascalise
from conftest import change_event
from netfw_items import FIREWALL_TYPE, SUBNETS, firewall_body, firewall_item, subnet_item, sync_states
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, rule_by_id
from perimeter.scan import scan
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, rule_handler
from tests.fakes.networkfirewall import FakeNetworkFirewall

RULE_ID = "netfw-firewall-multi-az"
SPEC = rule_by_id(RULE_ID)
TWO = Verdict(COMPLIANT, "Firewall endpoints span 2 availability zones: us-east-1a, us-east-1b")
ONE = Verdict(NON_COMPLIANT, "Firewall endpoints span 1 availability zone(s): us-east-1a; at least 2 required")


def judge(item, *, left_scope=False, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw), left_scope=left_scope)


def scanned(*items, **raw) -> list[tuple[str, str, str]]:
    findings = scan(items, [SPEC], {RULE_ID: raw})
    return [(finding.resourceId, finding.complianceType, finding.annotation) for finding in findings]


# --- S1 two zones in syncStates --------------------------------------------------------------------------------
def test_s1_two_zones_are_compliant():
    assert judge(firewall_item(status=sync_states("us-east-1a", "us-east-1b"))) == TWO
    assert SPEC.parameter_defaults == {"minAvailabilityZones": "2", "maxExemptionDays": "365"}


# --- S2 one zone ---------------------------------------------------------------------------------------------------
def test_s2_one_zone_is_non_compliant():
    assert judge(firewall_item(status=sync_states("us-east-1a"), subnets=["subnet-0a1a1a1a1a1a1a1a1"])) == ONE


# --- S3 syncStates alone counts ----------------------------------------------------------------------------------
def test_s3_sync_states_alone_count_even_with_subnets_in_two_zones():
    firewall = firewall_item(status=sync_states("us-east-1a"))  # two subnet mappings, one endpoint in sync
    subnets = [subnet_item(subnet, zone) for subnet, zone in SUBNETS.items()]
    assert scanned(firewall, *subnets)[0][1:] == tuple(ONE)


# --- S4 the offline scan looks subnets up in the same input ---------------------------------------------------
def test_s4_subnets_before_or_after_the_firewall_give_their_zones():
    firewall = firewall_item()
    subnets = [subnet_item(subnet, zone) for subnet, zone in SUBNETS.items()]
    assert scanned(subnets[0], firewall, subnets[1]) == [(firewall["resourceId"], *TWO)]
    assert scanned(firewall, *subnets) == [(firewall["resourceId"], *TWO)]
    same_zone = [subnet_item(subnet, "us-east-1a") for subnet in SUBNETS]
    assert scanned(*same_zone, firewall) == [(firewall["resourceId"], NON_COMPLIANT,
                                              "Firewall endpoints span 1 availability zone(s): us-east-1a; at least 2 required")]


# --- S5 undetermined ----------------------------------------------------------------------------------------------
def test_s5_a_subnet_without_an_item_leaves_the_zones_undetermined():
    firewall = firewall_item()
    missing = "subnet-0b2b2b2b2b2b2b2b2"
    assert scanned(firewall, subnet_item("subnet-0a1a1a1a1a1a1a1a1", "us-east-1a")) == [(
        firewall["resourceId"], NON_COMPLIANT, "Availability zones could not be determined from the item "
        f"(no firewallStatus.syncStates; no AWS::EC2::Subnet item for {missing})")]
    assert judge(firewall).annotation.startswith("Availability zones could not be determined from the item")


def test_s5_zones_found_that_suffice_are_enough():
    firewall = firewall_item(subnets=[*SUBNETS, "subnet-0d4d4d4d4d4d4d4d4"])
    subnets = [subnet_item(subnet, zone) for subnet, zone in SUBNETS.items()]
    assert scanned(firewall, *subnets)[0][1:] == tuple(TWO)


# --- S6 the Lambda asks DescribeFirewall ----------------------------------------------------------------------
@pytest.fixture
def aws(monkeypatch):
    with mock_aws(), FakeNetworkFirewall() as nfw:
        interceptor = ClientInterceptor(monkeypatch)
        interceptor.nfw = nfw
        yield interceptor


def verdicts(result):
    return [(e["ComplianceResourceType"], e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in result]


def test_s6_the_lambda_reads_the_zones_with_describe_firewall(aws):
    policy = aws.nfw.put_firewall_policy("edge", {"StatelessDefaultActions": ["aws:forward_to_sfe"],
                                                  "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"]})
    arn = aws.nfw.put_firewall("edge-fw", policy, SUBNETS)
    recorded = firewall_item(arn=arn)  # recorded without firewallStatus

    result = rule_handler(RULE_ID)(change_event(recorded, f"perimeter-{RULE_ID}"), None)

    assert verdicts(result) == [(FIREWALL_TYPE, recorded["resourceId"], *TWO)]
    assert aws.nfw.calls == [("DescribeFirewall", {"FirewallArn": arn})]


def test_s6_a_firewall_gone_meanwhile_is_not_applicable(aws):
    recorded = firewall_item()
    result = rule_handler(RULE_ID)(change_event(recorded, f"perimeter-{RULE_ID}"), None)
    assert verdicts(result) == [(FIREWALL_TYPE, recorded["resourceId"], NOT_APPLICABLE,
                                 "Resource status is ResourceDeletedNotRecorded")]


def test_s6_recorded_sync_states_need_no_call(aws):
    result = rule_handler(RULE_ID)(change_event(firewall_item(status=sync_states("us-east-1a")), "r"), None)
    assert verdicts(result)[0][2:] == tuple(ONE)
    assert aws.nfw.calls == []


# --- S7 more zones required ---------------------------------------------------------------------------------------
def test_s7_min_availability_zones_three():
    assert judge(firewall_item(status=sync_states("us-east-1a", "us-east-1b")), minAvailabilityZones="3") == Verdict(
        NON_COMPLIANT, "Firewall endpoints span 2 availability zone(s): us-east-1a, us-east-1b; at least 3 required")
    assert judge(firewall_item(status=sync_states("us-east-1a")), minAvailabilityZones="1").compliance == COMPLIANT


# --- S8 other spellings -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("zones", [("us-east-1a",), ("us-east-1a", "us-east-1b")])
def test_s8_pascal_case_api_shape_and_exports_give_the_same_verdict(zones):
    recorded = judge(firewall_item(status=sync_states(*zones)))
    # syncStates keys are zone names (data): the same in every spelling of the members around them.
    status = {**pascalise(sync_states(*zones)), "SyncStates": sync_states(*zones)["syncStates"]}
    described = {**firewall_item(), "configuration": {"Firewall": pascalise(firewall_body()), "FirewallStatus": status}}
    assert judge(described) == recorded
    assert judge(api_shape(firewall_item(status=sync_states(*zones)))) == recorded
    export = {**firewall_item(), "configuration": {**pascalise(firewall_body()), "FirewallStatus": status}}
    assert judge(export) == recorded


# --- S9 malformed -------------------------------------------------------------------------------------------------
def test_s9_malformed_items_are_clear_errors():
    with pytest.raises(ItemError, match=f"{FIREWALL_TYPE} .*: firewallStatus.syncStates must be an object"):
        judge(firewall_item(status={"syncStates": ["us-east-1a"]}))
    body = firewall_body()
    body["subnetMappings"] = [{"ipAddressType": "IPV4"}]
    with pytest.raises(ItemError, match="subnetMappings entry .* has no subnetId"):
        judge(firewall_item(body))


# --- S10 bad parameters -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [({"minAvailabilityZones": "0"}, "'0' is not an integer >= 1"),
                                          ({"minAvailabilityZones": "two"}, "'two' is not an integer >= 1"),
                                          ({"zones": "2"}, "unknown parameter")])
def test_s10_invalid_parameters_are_refused(raw, message):
    with pytest.raises(ParameterError, match=message):
        SPEC.parse_parameters(raw)


# --- S11 not applicable -------------------------------------------------------------------------------------------
def test_s11_not_applicable():
    gone = firewall_item(item_status="ResourceDeleted")
    gone["configuration"] = None
    assert judge(gone) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")
    assert judge(firewall_item(), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)
    assert scanned(gone) == [(gone["resourceId"], NOT_APPLICABLE, "Resource status is ResourceDeleted")]
