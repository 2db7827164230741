"""sg-ingress-restricted-ports: one test group per scenario S1..S13 of the rule's docstring, then the Lambda under
moto (PutEvaluations in TestMode). Verdicts go through the registry, as the Lambda and the scan judge."""
from __future__ import annotations

import pytest
from moto import mock_aws

from builders import api_shape, security_group_item, sg_permission as perm
from conftest import change_event
from perimeter.events import invoking_event, normalise_event
from perimeter.items import normalise_item
from perimeter.parameters import ParameterError
from perimeter.rule import RuleInvocationError
from perimeter.registry import rule_by_id
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, rule_handler

RULE_ID = "sg-ingress-restricted-ports"
SPEC = rule_by_id(RULE_ID)
NONE_WORLD = Verdict(COMPLIANT, "No restricted port open to the world")
OPEN = "Restricted ports open: "


def judge(item, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw))


def world(protocol, first=None, last=None):
    return perm(protocol, first, last, ipv4=["0.0.0.0/0"])


# --- S1 no ingress ------------------------------------------------------------------------------------------------
def test_s01_no_inbound_permissions():
    assert judge(security_group_item()) == NONE_WORLD


def test_s01_api_shape_is_read_the_same():
    assert judge(api_shape(security_group_item(world("tcp", 22, 22)))) == judge(security_group_item(world("tcp", 22, 22)))


# --- S2 one restricted port ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["tcp", "6", "TCP", 6])
def test_s02_ssh_from_the_world(protocol):
    assert judge(security_group_item(world(protocol, 22, 22))) == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0")


def test_s02_rdp_from_ipv6_world():
    item = security_group_item(perm("tcp", 3389, 3389, ipv6=["::/0"]))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 3389 from ::/0")


# --- S3 a range holding restricted ports --------------------------------------------------------------------------
def test_s03_range_names_the_restricted_ports_it_reaches():
    assert judge(security_group_item(world("tcp", 3000, 4000))) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 3000-4000 from 0.0.0.0/0 (reaches 3000, 3306, 3389)")


def test_s03_many_restricted_ports_are_counted_after_three():
    assert judge(security_group_item(world("tcp", 0, 1000))) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 0-1000 from 0.0.0.0/0 (reaches 20-23, 25, 110 and 3 more)")


# --- S4 no restricted port inside ---------------------------------------------------------------------------------
def test_s04_web_ports_are_compliant():
    assert judge(security_group_item(world("tcp", 443, 443), world("tcp", 8443, 8500), world("tcp", 26, 109))) == NONE_WORLD


# --- S5 all traffic -----------------------------------------------------------------------------------------------
def test_s05_all_traffic_from_the_world():
    assert judge(security_group_item(world("-1"))) == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


def test_s05_all_traffic_counts_when_either_list_is_non_empty():
    item = security_group_item(world("-1"))
    assert judge(item, restrictedTcpPorts="none", restrictedUdpPorts="53") == Verdict(
        NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


# --- S6 ICMP and other protocols ----------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["icmp", "1", "icmpv6", "58", "50", "47", "132"])
def test_s06_icmp_and_other_protocols_reach_no_tcp_or_udp_port(protocol):
    item = security_group_item(perm(protocol, -1, -1, ipv4=["0.0.0.0/0"], ipv6=["::/0"]))
    assert judge(item, restrictedUdpPorts="0-65535") == NONE_WORLD


# --- S7 udp -------------------------------------------------------------------------------------------------------
def test_s07_udp_range_reaching_restricted_udp_ports():
    assert judge(security_group_item(world("udp", 0, 1000)), restrictedUdpPorts="53,161") == Verdict(
        NON_COMPLIANT, OPEN + "udp 0-1000 from 0.0.0.0/0 (reaches 53, 161)")


def test_s07_udp_port_outside_the_list_and_tcp_list_not_applied_to_udp():
    assert judge(security_group_item(world("udp", 500, 500), world("udp", 22, 22)), restrictedUdpPorts="53,161") == NONE_WORLD


# --- S8 missing ports ---------------------------------------------------------------------------------------------
def test_s08_tcp_without_ports_opens_every_port():
    assert judge(security_group_item(world("tcp"))) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0 (reaches 20-23, 25, 110 and 17 more)")


def test_s08_udp_without_ports_opens_every_port():
    assert judge(security_group_item(world("17")), restrictedUdpPorts="53") == Verdict(
        NON_COMPLIANT, OPEN + "udp 0-65535 from 0.0.0.0/0 (reaches 53)")


# --- S9 source scope ----------------------------------------------------------------------------------------------
SOURCES = security_group_item(perm("tcp", 22, 22, ipv4=["8.8.8.0/24", "10.0.0.0/8"], prefix_lists=["pl-0abc"],
                                   groups=["sg-0abc"]))


def test_s09_world_counts_only_the_world():
    assert judge(SOURCES) == NONE_WORLD


def test_s09_public_counts_globally_routable_cidrs():
    assert judge(SOURCES, sourceScope="public") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 8.8.8.0/24")
    assert judge(security_group_item(perm("tcp", 22, 22, ipv4=["10.0.0.0/8"])), sourceScope="public") == Verdict(
        COMPLIANT, "No restricted port open to public sources")


def test_s09_any_counts_every_source():
    assert judge(SOURCES, sourceScope="any") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 8.8.8.0/24; tcp 22 from "
                                                        "10.0.0.0/8; tcp 22 from pl-0abc; tcp 22 from sg-0abc")


# --- S10 ordering and length --------------------------------------------------------------------------------------
def test_s10_most_severe_first():
    item = security_group_item(world("tcp", 22, 22), world("tcp", 0, 1000), perm("-1", ipv6=["::/0"]))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "all traffic from ::/0; tcp 0-1000 from 0.0.0.0/0 "
                                  "(reaches 20-23, 25, 110 and 3 more); tcp 22 from 0.0.0.0/0")


def test_s10_many_offenders_fit_in_256_characters():
    item = security_group_item(*[perm("tcp", 22, 22, ipv4=[f"{n}.0.0.0/8"]) for n in range(1, 60)])
    verdict = judge(item, sourceScope="public")
    assert verdict.compliance == NON_COMPLIANT and len(verdict.annotation) <= MAX_ANNOTATION
    assert verdict.annotation.endswith(" more)")


# --- S11 invalid parameters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    ({"restrictedTcpPorts": "22,70000"}, "parameter restrictedTcpPorts: '22,70000' is invalid: port 70000 is over 65535"),
    ({"restrictedUdpPorts": "100-50"}, "parameter restrictedUdpPorts: '100-50' is invalid: range '100-50' is reversed"),
    ({"sourceScope": "galaxy"}, "parameter sourceScope: 'galaxy' is not one of any, public, world"),
    ({"restrictedTcpPorts": "none"}, "parameters restrictedTcpPorts and restrictedUdpPorts: both are empty"),
    ({"restrictedTcpPorts": "NONE", "restrictedUdpPorts": ""}, "both are empty"),
    ({"ports": "22"}, "unknown parameter(s) ports (value '22'); known parameters: ExecutionRoleName, "
                      "maxExemptionDays, restrictedTcpPorts, restrictedUdpPorts, sourceScope"),
])
def test_s11_invalid_parameters_name_the_parameter_and_value(raw, message):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters(raw)
    assert message in str(caught.value)


def test_s11_blank_means_the_default():
    assert judge(security_group_item(world("tcp", 22, 22)), restrictedTcpPorts=" ", sourceScope="") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0")


# --- S12 not applicable -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s12_gone_items(status):
    item = security_group_item(world("tcp", 22, 22), status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s12_left_scope_and_other_types():
    item = normalise_item(security_group_item(world("tcp", 22, 22)))
    assert SPEC.evaluate(item, SPEC.parse_parameters({}), left_scope=True) == Verdict(
        NOT_APPLICABLE, "Resource left the scope of this rule")
    item["resourceType"] = "AWS::EC2::NetworkAcl"
    assert SPEC.evaluate(item, SPEC.parse_parameters({})).annotation == (
        "Resource type AWS::EC2::NetworkAcl is not evaluated by this rule")


# --- S13 egress ---------------------------------------------------------------------------------------------------
def test_s13_egress_is_out_of_scope():
    assert judge(security_group_item(egress=[world("-1"), world("tcp", 22, 22)])) == NONE_WORLD


# --- the Lambda, under moto -----------------------------------------------------------------------------------------
lambda_handler = rule_handler(RULE_ID)


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def test_lambda_puts_one_evaluation_with_the_verdict(aws):
    event = change_event(security_group_item(world("tcp", 22, 22)), f"perimeter-{RULE_ID}")
    [evaluation] = lambda_handler(event, None)
    assert (evaluation["ComplianceResourceType"], evaluation["ComplianceResourceId"], evaluation["ComplianceType"],
            evaluation["Annotation"]) == ("AWS::EC2::SecurityGroup", "sg-0123456789abcdef0", NON_COMPLIANT,
                                          OPEN + "tcp 22 from 0.0.0.0/0")
    assert aws.calls == [("config", "PutEvaluations")]


def test_lambda_reads_the_rule_parameters(aws):
    event = change_event(security_group_item(world("tcp", 22, 22)), f"perimeter-{RULE_ID}",
                         ruleParameters='{"restrictedTcpPorts": "3389"}')
    assert lambda_handler(event, None)[0]["Annotation"] == NONE_WORLD.annotation


def test_lambda_fails_the_invocation_on_invalid_parameters(aws):
    event = change_event(security_group_item(), f"perimeter-{RULE_ID}",
                         ruleParameters='{"restrictedTcpPorts": "none", "restrictedUdpPorts": "none"}')
    with pytest.raises(RuleInvocationError, match="both are empty"):
        lambda_handler(event, None)
    assert aws.calls == []


def test_lambda_event_left_scope(aws):
    event = normalise_event(change_event(security_group_item(world("tcp", 22, 22)), f"perimeter-{RULE_ID}",
                                         eventLeftScope=True))
    assert invoking_event(event)["configurationItem"]["resourceId"] == "sg-0123456789abcdef0"
    assert lambda_handler(event, None)[0]["ComplianceType"] == NOT_APPLICABLE


# --- S14 trusted sources ------------------------------------------------------------------------------------------
TRUSTED = "203.0.113.0/24,sg-0123456789abcdef0"


def test_s14_trusted_sources_are_not_judged():
    trusted = security_group_item(perm("tcp", 22, 22, ipv4=["203.0.113.128/25"], groups=["sg-0123456789abcdef0"]),
                                  perm("-1", groups=["sg-0123456789abcdef0"]))
    assert judge(trusted, sourceScope="any", trustedSources=TRUSTED).compliance == COMPLIANT
    assert judge(trusted, sourceScope="any").compliance == NON_COMPLIANT  # the same group, nothing trusted


def test_s14_an_untrusted_source_of_the_same_rule_is_still_judged():
    item = security_group_item(perm("tcp", 22, 22, ipv4=["203.0.113.128/25", "198.51.100.0/24"]))
    verdict = judge(item, sourceScope="any", trustedSources=TRUSTED)
    assert verdict.compliance == NON_COMPLIANT
    assert "198.51.100.0/24" in verdict.annotation and "203.0.113" not in verdict.annotation


def test_s14_an_invalid_trusted_source_names_the_parameter_and_entry():
    with pytest.raises(ParameterError, match="parameter trustedSources: 'office' is not a CIDR, pl- or sg- id"):
        SPEC.parse_parameters({"trustedSources": "10.0.0.0/8,office"})
