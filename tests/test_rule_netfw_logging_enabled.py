"""netfw-logging-enabled: one test group per scenario S1..S11 of the rule's docstring.

The periodic Lambda (S7) runs through the deployed entry point under moto (S3, CloudWatch Logs, Firehose,
PutEvaluations in TestMode) with the Network Firewall fake; Config's record of the rule's earlier results
(GetComplianceDetailsByConfigRule, which moto lacks) comes from a Stubber validated against botocore's model.
"""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from builders import ACCOUNT_ID, REGION, api_shape
from conftest import change_event
from netfw_items import (
    FIREWALL_ARN, FIREWALL_TYPE, LOGGING_TYPE, destination, firewall_body, firewall_item, logging_configuration,
    logging_item,
)
from perimeter.firewall import DESTINATIONS_EXIST_KEY, LOGGING_KEY
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.periodic import GONE_ANNOTATION
from perimeter.registry import rule_by_id
from perimeter.scan import scan
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from support import ClientInterceptor, OperationStubber, rule_handler, stub_clients
from tests.fakes.networkfirewall import FakeNetworkFirewall

RULE_ID = "netfw-logging-enabled"
RULE_NAME = f"perimeter-{RULE_ID}"
SPEC = rule_by_id(RULE_ID)
ALERT_S3 = destination("ALERT", "S3", "fw-alerts")
FLOW_LOGS = destination("FLOW", "CloudWatchLogs", "/network-firewall/flow")
LOGGED = Verdict(COMPLIANT, "Logging ALERT to S3 bucket fw-alerts; FLOW to CloudWatchLogs log group /network-firewall/flow")


def logged(*destinations, exist=None) -> dict:
    supplement = {LOGGING_KEY: logging_configuration(*destinations)}
    if exist is not None:
        supplement[DESTINATIONS_EXIST_KEY] = exist
    return firewall_item(supplementary=supplement)


def judge(item, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw))


def scanned(*items, **raw) -> list[tuple[str, str, str]]:
    return [(f.resourceId, f.complianceType, f.annotation) for f in scan(items, [SPEC], {RULE_ID: raw})]


# --- S1 both required types to existing destinations ------------------------------------------------------------
def test_s1_alert_and_flow_to_existing_destinations_are_compliant():
    assert judge(logged(ALERT_S3, FLOW_LOGS, exist={"ALERT": True, "FLOW": True})) == LOGGED
    assert SPEC.parameter_defaults == {"logTypes": "ALERT,FLOW", "maxExemptionDays": "365"}
    assert SPEC.periodic_frequency == "TwentyFour_Hours" and not SPEC.is_change_triggered


# --- S2 a required type without a destination -----------------------------------------------------------------
def test_s2_a_missing_destination_is_non_compliant():
    assert judge(logged(ALERT_S3)) == Verdict(NON_COMPLIANT, "Logging incomplete: FLOW logs have no destination")
    assert judge(logged()) == Verdict(
        NON_COMPLIANT, "Logging incomplete: ALERT logs have no destination; FLOW logs have no destination")


# --- S3 a destination that does not exist -------------------------------------------------------------------
def test_s3_a_destination_that_does_not_exist_is_non_compliant():
    assert judge(logged(ALERT_S3, FLOW_LOGS, exist={"ALERT": False, "FLOW": True})) == Verdict(
        NON_COMPLIANT, "Logging incomplete: ALERT logs go to S3 bucket fw-alerts, which does not exist")


# --- S4 no logging configuration -----------------------------------------------------------------------------
def test_s4_no_logging_configuration_recorded():
    assert judge(firewall_item()) == Verdict(NON_COMPLIANT, "No logging configuration recorded")
    assert scanned(firewall_item()) == [(firewall_item()["resourceId"], NON_COMPLIANT, "No logging configuration recorded")]


# --- S5 the required log types ---------------------------------------------------------------------------------
def test_s5_log_types_parameter():
    assert judge(logged(ALERT_S3, FLOW_LOGS), logTypes="ALERT,FLOW,TLS") == Verdict(
        NON_COMPLIANT, "Logging incomplete: TLS logs have no destination")
    assert judge(logged(ALERT_S3), logTypes="ALERT") == Verdict(COMPLIANT, "Logging ALERT to S3 bucket fw-alerts")


# --- S6 the offline scan matches LoggingConfiguration items by firewall ARN, in any order ----------------------
def test_s6_logging_items_before_or_after_their_firewalls():
    other_arn = FIREWALL_ARN.replace("edge-fw", "branch-fw")
    other = firewall_item(arn=other_arn, firewall_id="0f0e0d0c-0b0a-4909-8807-060504030201", name="branch-fw")
    first, second = firewall_item(), other
    items = [logging_item(ALERT_S3, arn=other_arn), first, second, logging_item(ALERT_S3, FLOW_LOGS)]
    assert scanned(*items) == [
        (first["resourceId"], *LOGGED),
        (second["resourceId"], NON_COMPLIANT, "Logging incomplete: FLOW logs have no destination"),
    ]
    assert scanned(api_shape(logging_item(ALERT_S3, FLOW_LOGS)), first) == [(first["resourceId"], *LOGGED)]


# --- S7 the periodic Lambda over several firewalls, one deleted between runs --------------------------------------
@pytest.fixture
def aws(monkeypatch):
    with mock_aws(), FakeNetworkFirewall() as nfw:
        interceptor = ClientInterceptor(monkeypatch)
        interceptor.nfw = nfw
        yield interceptor


def scheduled_event(**raw) -> dict:
    invoking = {"awsAccountId": ACCOUNT_ID, "notificationCreationTime": "2026-12-01T10:00:00.000Z",
                "messageType": "ScheduledNotification", "recordVersion": "1.0"}
    return {"invokingEvent": json.dumps(invoking), "ruleParameters": json.dumps(raw), "resultToken": "TESTMODE",
            "eventLeftScope": False, "executionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/config-role",
            "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT_ID}:config-rule/config-rule-abc123",
            "configRuleName": RULE_NAME, "accountId": ACCOUNT_ID, "version": "1.0"}


def earlier_results(aws, resource_ids: list[str]):
    results = [{"EvaluationResultIdentifier": {"EvaluationResultQualifier": {
        "ConfigRuleName": RULE_NAME, "ResourceType": FIREWALL_TYPE, "ResourceId": resource_id}},
        "ComplianceType": "NON_COMPLIANT"} for resource_id in resource_ids]

    def configure(client):
        stubber = OperationStubber(client, "GetComplianceDetailsByConfigRule")
        stubber.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": results},
                             {"ConfigRuleName": RULE_NAME, "ComplianceTypes": ["COMPLIANT", "NON_COMPLIANT"]})
        return stubber
    aws.on_create.pop("config", None)
    return stub_clients(aws, "config", configure)


def verdicts(result) -> dict:
    return {e["ComplianceResourceId"]: (e["ComplianceResourceType"], e["ComplianceType"], e["Annotation"]) for e in result}


def account(aws) -> dict:
    """Three firewalls: one logging to an S3 bucket and a log group that exist, one whose FLOW log group was
    deleted, one logging nothing."""
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="fw-alerts")
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/network-firewall/flow")
    firehose_role = f"arn:aws:iam::{ACCOUNT_ID}:role/firehose"
    boto3.client("firehose", region_name=REGION).create_delivery_stream(
        DeliveryStreamName="fw-flow", S3DestinationConfiguration={"RoleARN": firehose_role,
                                                                  "BucketARN": "arn:aws:s3:::fw-alerts"})
    policy = aws.nfw.put_firewall_policy("edge", {"StatelessDefaultActions": ["aws:forward_to_sfe"],
                                                  "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"]})
    subnets = {"subnet-0a1a1a1a1a1a1a1a1": "us-east-1a", "subnet-0b2b2b2b2b2b2b2b2": "us-east-1b"}
    pascal = lambda d: {"LogType": d["logType"], "LogDestinationType": d["logDestinationType"],  # noqa: E731
                        "LogDestination": d["logDestination"]}
    arns = {
        "logged": aws.nfw.put_firewall("logged", policy, subnets, logging=[
            pascal(ALERT_S3), pascal(destination("FLOW", "KinesisDataFirehose", "fw-flow"))]),
        "gone-group": aws.nfw.put_firewall("gone-group", policy, subnets, logging=[
            pascal(ALERT_S3), pascal(destination("FLOW", "CloudWatchLogs", "/network-firewall/deleted"))]),
        "silent": aws.nfw.put_firewall("silent", policy, subnets),
    }
    return {name: aws.nfw.firewall(arn).id for name, arn in arns.items()}


def test_s7_every_firewall_is_judged_and_a_deleted_one_is_retired_once(aws):
    ids = account(aws)
    deleted_id = "5e4d3c2b-1a09-4887-9766-554433221100"
    earlier_results(aws, [deleted_id, ids["silent"]])
    handler = rule_handler(RULE_ID)

    first = verdicts(handler(scheduled_event(), None))

    assert first == {
        ids["logged"]: (FIREWALL_TYPE, COMPLIANT,
                        "Logging ALERT to S3 bucket fw-alerts; FLOW to KinesisDataFirehose delivery stream fw-flow"),
        ids["gone-group"]: (FIREWALL_TYPE, NON_COMPLIANT, "Logging incomplete: FLOW logs go to CloudWatchLogs log "
                                                          "group /network-firewall/deleted, which does not exist"),
        ids["silent"]: (FIREWALL_TYPE, NON_COMPLIANT,
                        "Logging incomplete: ALERT logs have no destination; FLOW logs have no destination"),
        deleted_id: (FIREWALL_TYPE, NOT_APPLICABLE, GONE_ANNOTATION),
    }
    # The next run: "silent" was deleted in between; Config no longer lists the first deleted one.
    aws.nfw.delete_firewall_now("silent")
    earlier_results(aws, [ids["logged"], ids["gone-group"], ids["silent"]])
    second = verdicts(handler(scheduled_event(), None))
    assert second[ids["silent"]] == (FIREWALL_TYPE, NOT_APPLICABLE, GONE_ANNOTATION)
    assert deleted_id not in second and second[ids["logged"]][1] == COMPLIANT


def test_s7_a_firewall_deleted_between_list_and_describe_is_skipped(aws):
    ids = account(aws)
    aws.nfw.fail_next("DescribeLoggingConfiguration", "ResourceNotFoundException")
    earlier_results(aws, [])
    found = verdicts(rule_handler(RULE_ID)(scheduled_event(), None))
    assert len(found) == 2 and set(found) < set(ids.values())


# --- S8 a change notification ------------------------------------------------------------------------------------
def test_s8_a_change_notification_judges_the_firewall_as_recorded(aws):
    result = rule_handler(RULE_ID)(change_event(firewall_item(), RULE_NAME), None)
    assert [(e["ComplianceType"], e["Annotation"]) for e in result] == [(NON_COMPLIANT, "No logging configuration recorded")]


# --- S9 malformed --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    (destination("DEBUG", "S3", "b"), "logType 'DEBUG' is not one of ALERT, FLOW, TLS"),
    ({**ALERT_S3, "logDestinationType": "Kafka"}, "logDestinationType 'Kafka' is not one of"),
])
def test_s9_malformed_destinations_are_clear_errors(bad, message):
    with pytest.raises(ItemError, match=f"{FIREWALL_TYPE} .*{message}"):
        judge(logged(bad))
    with pytest.raises(ItemError, match=f"{FIREWALL_TYPE} .*{message}"):
        scanned(firewall_item(), logging_item(bad))


def test_s9_a_logging_configuration_that_is_not_an_object_is_a_clear_error():
    with pytest.raises(ItemError, match="supplementaryConfiguration.LoggingConfiguration must be an object"):
        judge(firewall_item(supplementary={LOGGING_KEY: ["on"]}))


# --- S10 bad parameters -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [({"logTypes": "DEBUG"}, "'DEBUG' is not one of ALERT, FLOW, TLS"),
                                          ({"logType": "FLOW"}, "unknown parameter")])
def test_s10_invalid_parameters_are_refused(raw, message):
    with pytest.raises(ParameterError, match=message):
        SPEC.parse_parameters(raw)


# --- S11 not applicable -------------------------------------------------------------------------------------------
def test_s11_not_applicable():
    gone = firewall_item(item_status="ResourceDeleted")
    gone["configuration"] = None
    assert judge(gone) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")
    assert judge(logging_item(ALERT_S3)) == Verdict(
        NOT_APPLICABLE, f"Resource type {LOGGING_TYPE} is not evaluated by this rule")
    assert scanned(gone, logging_item(ALERT_S3)) == [(gone["resourceId"], NOT_APPLICABLE, "Resource status is ResourceDeleted")]
