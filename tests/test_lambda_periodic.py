"""The base supports periodic and hybrid rules (PackRule.evaluate_periodic, perimeter.periodic).

A synthetic periodic rule stands in until the pack has a real one: the security-group rule's own evaluation, with a
periodic trigger and a listing that reads every group of the region from EC2 (moto). Config's record of the rule's
earlier results (GetComplianceDetailsByConfigRule, which moto lacks) comes from a Stubber validated against
botocore's model; PutEvaluations runs on moto in TestMode.
"""
from __future__ import annotations

import dataclasses
import json
import types

import boto3
import pytest
from moto import mock_aws

from conftest import ACCOUNT_ID, REGION
from perimeter import live
from perimeter.declaration_schema import DeclarationError
from perimeter.periodic import GONE_ANNOTATION, PeriodicListing
from perimeter.registry import load_rule, rule_by_id
from perimeter.rule import RuleInvocationError, lambda_handler_for
from support import ClientInterceptor, OperationStubber, stub_client_error, stub_clients

RULE_NAME = "perimeter-sg-ingress-port-range-restricted"


def periodic_spec(complete: bool = True):
    """The SG rule as a periodic rule whose listing reads every group through EC2."""
    base = rule_by_id("sg-ingress-port-range-restricted")

    def periodic_listing(client_factory, parameters):
        region = live._Region(boto3.Session(region_name=REGION), REGION, ACCOUNT_ID)
        return PeriodicListing(list(live.security_group_items(region)), complete=complete)

    module = types.ModuleType("synthetic_periodic_rule")
    module.__dict__.update({k: v for k, v in vars(base.module).items() if not k.startswith("__")})
    module.periodic_listing = periodic_listing
    declaration = {**base.declaration, "trigger": {"change": False, "periodic": "TwentyFour_Hours"}}
    return dataclasses.replace(base, module=module, declaration=declaration)


def scheduled_event() -> dict:
    invoking = {"awsAccountId": ACCOUNT_ID, "notificationCreationTime": "2026-12-01T10:00:00.000Z",
                "messageType": "ScheduledNotification", "recordVersion": "1.0"}
    return {"invokingEvent": json.dumps(invoking), "ruleParameters": "{}", "resultToken": "TESTMODE",
            "eventLeftScope": False, "executionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/config-role",
            "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT_ID}:config-rule/config-rule-abc123",
            "configRuleName": RULE_NAME, "accountId": ACCOUNT_ID, "version": "1.0"}


def earlier_result(resource_type: str, resource_id: str, compliance: str) -> dict:
    return {"EvaluationResultIdentifier": {"EvaluationResultQualifier": {
        "ConfigRuleName": RULE_NAME, "ResourceType": resource_type, "ResourceId": resource_id}},
        "ComplianceType": compliance}


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def groups():
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    open_id = ec2.create_security_group(GroupName="open", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=open_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    closed_id = ec2.create_security_group(GroupName="closed", Description="d", VpcId=vpc)["GroupId"]
    return open_id, closed_id


def expect_earlier_results(aws, results: list[dict]):
    def configure(client):
        stubber = OperationStubber(client, "GetComplianceDetailsByConfigRule")
        stubber.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": results},
                             {"ConfigRuleName": RULE_NAME, "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"]})
        return stubber
    return stub_clients(aws, "config", configure)


def verdicts(result) -> dict:
    return {(e["ComplianceResourceType"], e["ComplianceResourceId"]): (e["ComplianceType"], e["Annotation"])
            for e in result}


def test_a_periodic_rule_reports_each_listed_resource_under_its_own_type_and_id(aws):
    open_id, closed_id = groups()
    expect_earlier_results(aws, [])

    found = verdicts(lambda_handler_for(periodic_spec())(scheduled_event(), None))

    assert found[("AWS::EC2::SecurityGroup", open_id)] == (
        "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
    assert found[("AWS::EC2::SecurityGroup", closed_id)][0] == "COMPLIANT"
    assert aws.operations("config") == ["GetComplianceDetailsByConfigRule", "PutEvaluations"]


def test_a_resource_gone_since_the_last_run_is_reported_not_applicable_once(aws):
    open_id, _ = groups()
    stubbers = expect_earlier_results(aws, [
        earlier_result("AWS::EC2::SecurityGroup", "sg-0123456789abcdef0", "NON_COMPLIANT"),  # deleted since
        earlier_result("AWS::EC2::SecurityGroup", open_id, "NON_COMPLIANT"),
        earlier_result("AWS::EC2::VPC", "vpc-0123456789abcdef0", "COMPLIANT"),  # not this rule's type: untouched
    ])
    handler = lambda_handler_for(periodic_spec())

    first = verdicts(handler(scheduled_event(), None))
    assert first[("AWS::EC2::SecurityGroup", "sg-0123456789abcdef0")] == ("NOT_APPLICABLE", GONE_ANNOTATION)
    assert ("AWS::EC2::VPC", "vpc-0123456789abcdef0") not in first
    stubbers[0].assert_no_pending_responses()

    # Next run: Config no longer lists the group among COMPLIANT/NON_COMPLIANT results, so it is not reported again.
    aws.on_create["config"].clear()
    expect_earlier_results(aws, [earlier_result("AWS::EC2::SecurityGroup", open_id, "NON_COMPLIANT")])
    second = verdicts(handler(scheduled_event(), None))
    assert ("AWS::EC2::SecurityGroup", "sg-0123456789abcdef0") not in second
    assert second[("AWS::EC2::SecurityGroup", open_id)][0] == "NON_COMPLIANT"


def test_a_partial_listing_flips_nothing_it_did_not_evaluate(aws):
    open_id, closed_id = groups()

    found = verdicts(lambda_handler_for(periodic_spec(complete=False))(scheduled_event(), None))

    listed = {group["GroupId"] for group in boto3.client("ec2", region_name=REGION).describe_security_groups()[
        "SecurityGroups"]}  # the two above and the VPCs' default groups
    assert {open_id, closed_id} <= listed
    assert set(found) == {("AWS::EC2::SecurityGroup", group_id) for group_id in listed}
    assert "GetComplianceDetailsByConfigRule" not in aws.operations("config")


def test_a_failure_reading_earlier_results_fails_the_invocation(aws):
    groups()
    stub_client_error(aws, "config", "GetComplianceDetailsByConfigRule", "AccessDeniedException", "denied")

    with pytest.raises(RuleInvocationError, match="cannot read this rule's earlier results .*AccessDenied"):
        lambda_handler_for(periodic_spec())(scheduled_event(), None)
    assert "PutEvaluations" not in aws.operations("config")


def test_a_periodic_declaration_needs_a_periodic_listing(monkeypatch):
    from perimeter.rules.netfw_rule_group_not_empty import declaration

    periodic = {**declaration.DECLARATION, "trigger": {"change": True, "periodic": "TwentyFour_Hours"}}
    monkeypatch.setattr(declaration, "DECLARATION", periodic)
    with pytest.raises(DeclarationError, match="trigger.periodic: rules/netfw_rule_group_not_empty/rule.py defines "
                                               "no periodic_listing"):
        load_rule("perimeter.rules.netfw_rule_group_not_empty.rule")
