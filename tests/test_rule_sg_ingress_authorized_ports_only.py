"""sg-ingress-authorized-ports-only: one test group per scenario S1..S13 of the rule's docstring, then the Lambda
under moto (PutEvaluations in TestMode). Verdicts go through the registry, as the Lambda and the scan judge."""
from __future__ import annotations

import pytest
from moto import mock_aws

from builders import api_shape, security_group_item, sg_permission as perm
from conftest import change_event
from perimeter.items import normalise_item
from perimeter.parameters import ParameterError
from perimeter.rule import RuleInvocationError
from perimeter.registry import rule_by_id
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, rule_handler

RULE_ID = "sg-ingress-authorized-ports-only"
SPEC = rule_by_id(RULE_ID)
NO_RULE = Verdict(COMPLIANT, "No inbound rule open to the world")
ONLY = Verdict(COMPLIANT, "Only authorized ports open to the world")
OPEN = "Unauthorized inbound ports open: "


def judge(item, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw))


def world(protocol, first=None, last=None):
    return perm(protocol, first, last, ipv4=["0.0.0.0/0"])


# --- S1 nothing in scope ------------------------------------------------------------------------------------------
def test_s01_no_inbound_permissions():
    assert judge(security_group_item()) == NO_RULE


def test_s01_only_out_of_scope_sources():
    item = security_group_item(perm("tcp", 22, 22, ipv4=["10.0.0.0/8"], groups=["sg-0abc"]), perm("-1", prefix_lists=["pl-1"]))
    assert judge(item) == NO_RULE


# --- S2 authorized ports ------------------------------------------------------------------------------------------
def test_s02_web_ports_from_both_worlds():
    item = security_group_item(perm("tcp", 80, 80, ipv4=["0.0.0.0/0"], ipv6=["::/0"]), world("6", 443, 443))
    assert judge(item) == ONLY
    assert judge(api_shape(item)) == ONLY


# --- S3 unauthorized ports ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("first, last", [(22, 22), (80, 443), (0, 65535)])
def test_s03_a_port_outside_the_authorized_union(first, last):
    label = f"tcp {first}" if first == last else f"tcp {first}-{last}"
    assert judge(security_group_item(world("tcp", first, last))) == Verdict(NON_COMPLIANT, f"{OPEN}{label} from 0.0.0.0/0")


def test_s03_missing_ports_mean_every_port():
    assert judge(security_group_item(world("tcp"))) == Verdict(NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0")


# --- S4 the authorized ranges are united --------------------------------------------------------------------------
@pytest.mark.parametrize("authorized, first, last", [("80,81", 80, 81), ("80-90,91-100", 85, 95), ("1-10,5-20", 2, 20)])
def test_s04_union_of_authorized_ranges(authorized, first, last):
    assert judge(security_group_item(world("tcp", first, last)), authorizedTcpPorts=authorized) == ONLY


def test_s04_a_gap_in_the_union_is_unauthorized():
    assert judge(security_group_item(world("tcp", 80, 82)), authorizedTcpPorts="80,82") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 80-82 from 0.0.0.0/0")


# --- S5 udp -------------------------------------------------------------------------------------------------------
def test_s05_udp_with_no_udp_port_authorized():
    assert judge(security_group_item(world("udp", 53, 53))) == Verdict(NON_COMPLIANT, OPEN + "udp 53 from 0.0.0.0/0")


def test_s05_udp_authorized():
    assert judge(security_group_item(world("17", 53, 53)), authorizedUdpPorts="53") == ONLY


# --- S6 all traffic -----------------------------------------------------------------------------------------------
def test_s06_all_traffic_is_unauthorized():
    assert judge(security_group_item(world("-1"))) == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


def test_s06_all_traffic_authorized_only_when_both_lists_cover_everything():
    item = security_group_item(world("-1"))
    assert judge(item, authorizedTcpPorts="0-65535", authorizedUdpPorts="0-1000,1001-65535") == ONLY
    assert judge(item, authorizedTcpPorts="0-65535").compliance == NON_COMPLIANT


# --- S7 ICMP ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol, first, last", [("icmp", -1, -1), ("1", 8, 0), ("icmpv6", -1, -1), ("58", 128, 0)])
def test_s07_icmp_is_authorized(protocol, first, last):
    assert judge(security_group_item(perm(protocol, first, last, ipv4=["0.0.0.0/0"], ipv6=["::/0"]))) == ONLY


# --- S8 other protocols -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["50", "47", "132"])
def test_s08_other_protocols_are_named_by_number(protocol):
    verdict = judge(security_group_item(world(protocol, -1, -1)), authorizedTcpPorts="0-65535",
                    authorizedUdpPorts="0-65535")
    assert verdict.compliance == NON_COMPLIANT
    assert verdict.annotation.startswith(OPEN) and verdict.annotation.endswith(" from 0.0.0.0/0")
    assert protocol in verdict.annotation or "sctp" in verdict.annotation


# --- S9 source scope ----------------------------------------------------------------------------------------------
SOURCES = security_group_item(perm("tcp", 22, 22, ipv4=["8.8.8.0/24", "10.0.0.0/8"], prefix_lists=["pl-0abc"],
                                   groups=["sg-0abc"]))


def test_s09_world_counts_only_the_world():
    assert judge(SOURCES) == NO_RULE


def test_s09_public_counts_globally_routable_cidrs():
    assert judge(SOURCES, sourceScope="public") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 8.8.8.0/24")


def test_s09_any_counts_every_source():
    assert judge(SOURCES, sourceScope="any") == Verdict(NON_COMPLIANT, OPEN + "tcp 22 from 8.8.8.0/24; tcp 22 from "
                                                        "10.0.0.0/8; tcp 22 from pl-0abc; tcp 22 from sg-0abc")


# --- S10 ordering and length --------------------------------------------------------------------------------------
def test_s10_most_severe_first():
    item = security_group_item(world("tcp", 22, 22), world("tcp", 0, 1000), world("50"), perm("-1", ipv6=["::/0"]))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "all traffic from ::/0; protocol 50 from 0.0.0.0/0; "
                                  "tcp 0-1000 from 0.0.0.0/0; tcp 22 from 0.0.0.0/0")


def test_s10_many_offenders_fit_in_256_characters():
    item = security_group_item(*[world("tcp", port, port) for port in range(1000, 1100)])
    verdict = judge(item)
    assert len(verdict.annotation) <= MAX_ANNOTATION and verdict.annotation.endswith(" more)")


# --- S11 invalid parameters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    ({"authorizedTcpPorts": "443,70000"}, "parameter authorizedTcpPorts: '443,70000' is invalid: port 70000 is over 65535"),
    ({"authorizedUdpPorts": "100-50"}, "parameter authorizedUdpPorts: '100-50' is invalid: range '100-50' is reversed"),
    ({"sourceScope": "galaxy"}, "parameter sourceScope: 'galaxy' is not one of any, public, world"),
    ({"maxPorts": "1"}, "unknown parameter(s) maxPorts (value '1'); known parameters: ExecutionRoleName, "
                        "authorizedTcpPorts, authorizedUdpPorts, maxExemptionDays, sourceScope"),
])
def test_s11_invalid_parameters_name_the_parameter_and_value(raw, message):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters(raw)
    assert message in str(caught.value)


def test_s11_blank_is_the_default_and_none_authorizes_no_port():
    item = security_group_item(world("tcp", 443, 443))
    assert judge(item, authorizedTcpPorts="") == ONLY
    assert judge(item, authorizedTcpPorts="none") == Verdict(NON_COMPLIANT, OPEN + "tcp 443 from 0.0.0.0/0")


# --- S12 not applicable -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s12_gone_items(status):
    item = security_group_item(world("tcp", 22, 22), status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s12_left_scope_and_other_types():
    item = normalise_item(security_group_item(world("tcp", 22, 22)))
    assert SPEC.evaluate(item, SPEC.parse_parameters({}), left_scope=True).compliance == NOT_APPLICABLE
    item["resourceType"] = "AWS::EC2::NetworkAcl"
    assert SPEC.evaluate(item, SPEC.parse_parameters({})).compliance == NOT_APPLICABLE


# --- S13 egress ---------------------------------------------------------------------------------------------------
def test_s13_egress_is_out_of_scope():
    assert judge(security_group_item(world("tcp", 443, 443), egress=[world("-1")])) == ONLY


# --- the Lambda, under moto -----------------------------------------------------------------------------------------
lambda_handler = rule_handler(RULE_ID)


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def test_lambda_puts_one_evaluation_with_the_verdict(aws):
    event = change_event(security_group_item(world("tcp", 22, 22)), f"perimeter-{RULE_ID}")
    [evaluation] = lambda_handler(event, None)
    assert (evaluation["ComplianceType"], evaluation["Annotation"]) == (NON_COMPLIANT, OPEN + "tcp 22 from 0.0.0.0/0")
    assert aws.calls == [("config", "PutEvaluations")]


def test_lambda_counts_a_group_without_world_ingress_as_compliant(aws):
    event = change_event(security_group_item(), f"perimeter-{RULE_ID}")
    assert lambda_handler(event, None)[0]["ComplianceType"] == COMPLIANT


def test_lambda_fails_the_invocation_on_invalid_parameters(aws):
    event = change_event(security_group_item(), f"perimeter-{RULE_ID}", ruleParameters='{"sourceScope": "x"}')
    with pytest.raises(RuleInvocationError, match="parameter sourceScope: 'x'"):
        lambda_handler(event, None)


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
