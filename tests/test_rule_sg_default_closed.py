"""sg-default-closed: one test group per scenario S1..S7 of the rule's docstring, then the Lambda under moto
(PutEvaluations in TestMode)."""
from __future__ import annotations

import pytest
from moto import mock_aws

from builders import api_shape, security_group_item, sg_permission as perm
from conftest import change_event
from perimeter.items import normalise_item
from perimeter.parameters import ParameterError
from perimeter.rule import RuleInvocationError
from perimeter.registry import rule_by_id
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, rule_handler

RULE_ID = "sg-default-closed"
SPEC = rule_by_id(RULE_ID)
GROUP = "sg-0123456789abcdef0"


def judge(item, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw))


def default_group(*ingress, egress=()):
    return security_group_item(*ingress, egress=egress, name="default")


AS_CREATED = default_group(perm("-1", groups=[GROUP]), egress=[perm("-1", ipv4=["0.0.0.0/0"])])


# --- S1 closed ----------------------------------------------------------------------------------------------------
def test_s01_default_group_without_rules():
    assert judge(default_group()) == Verdict(COMPLIANT, "Default security group has no inbound or outbound rules")


def test_s01_permission_without_sources_is_no_rule():
    assert judge(default_group(perm("tcp", 22, 22))).compliance == COMPLIANT


# --- S2 as AWS creates it -----------------------------------------------------------------------------------------
def test_s02_default_group_as_created():
    assert judge(AS_CREATED) == Verdict(NON_COMPLIANT, "Default security group has 1 inbound and 1 outbound rules")
    assert judge(api_shape(AS_CREATED)) == judge(AS_CREATED)


# --- S3 one rule per source ---------------------------------------------------------------------------------------
def test_s03_each_source_is_a_rule_and_legacy_ip_ranges_count_once():
    item = default_group(perm("tcp", 22, 22, ipv4=["10.0.0.0/8"], ipv6=["::/0"]),
                         egress=[perm("-1", ipv4=["0.0.0.0/0"])])
    assert judge(item) == Verdict(NON_COMPLIANT, "Default security group has 2 inbound and 1 outbound rules")


# --- S4 one direction only ----------------------------------------------------------------------------------------
def test_s04_only_outbound():
    item = default_group(egress=[perm("-1", ipv4=["0.0.0.0/0"], ipv6=["::/0"])])
    assert judge(item) == Verdict(NON_COMPLIANT, "Default security group has 0 inbound and 2 outbound rules")


def test_s04_only_inbound():
    item = default_group(perm("-1", groups=[GROUP]))
    assert judge(item) == Verdict(NON_COMPLIANT, "Default security group has 1 inbound and 0 outbound rules")


# --- S5 other groups ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["web", "Default", "default-web", ""])
def test_s05_other_groups_are_not_applicable(name):
    item = security_group_item(perm("-1", ipv4=["0.0.0.0/0"]), name=name)
    assert judge(item) == Verdict(NOT_APPLICABLE, "Not a VPC default security group")


# --- S6 parameters ------------------------------------------------------------------------------------------------
def test_s06_unknown_parameter_is_refused():
    with pytest.raises(ParameterError, match=r"unknown parameter\(s\) sourceScope"):
        SPEC.parse_parameters({"sourceScope": "world"})


# --- S7 not applicable --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s07_gone_items(status):
    item = security_group_item(name="default", status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s07_left_scope_and_other_types():
    item = normalise_item(AS_CREATED)
    assert SPEC.evaluate(item, None, left_scope=True).compliance == NOT_APPLICABLE
    item["resourceType"] = "AWS::EC2::NetworkAcl"
    assert SPEC.evaluate(item, None).compliance == NOT_APPLICABLE


# --- the Lambda, under moto -----------------------------------------------------------------------------------------
lambda_handler = rule_handler(RULE_ID)


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def test_lambda_puts_the_verdict(aws):
    [evaluation] = lambda_handler(change_event(AS_CREATED, f"perimeter-{RULE_ID}"), None)
    assert (evaluation["ComplianceType"], evaluation["Annotation"]) == (
        NON_COMPLIANT, "Default security group has 1 inbound and 1 outbound rules")
    assert aws.calls == [("config", "PutEvaluations")]


def test_lambda_reports_other_groups_not_applicable(aws):
    [evaluation] = lambda_handler(change_event(security_group_item(), f"perimeter-{RULE_ID}"), None)
    assert evaluation["ComplianceType"] == NOT_APPLICABLE


def test_lambda_fails_on_an_unknown_parameter(aws):
    event = change_event(AS_CREATED, f"perimeter-{RULE_ID}", ruleParameters='{"x": "1"}')
    with pytest.raises(RuleInvocationError, match="unknown parameter"):
        lambda_handler(event, None)
