"""The netfw-logging-enabled runbook, rendered, validated and run end to end: Network Firewall from the fake, the
destinations (S3, CloudWatch Logs, Firehose) from moto, so the existence checks are the real calls."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from perimeter.exemptions import evaluation_date
from perimeter.firewall import firewall_item
from perimeter.firewall_logging import logging_supplement
from perimeter.registry import load_rule
from perimeter.rules.netfw_logging_enabled.rule import parse_parameters
from perimeter.runbooks import render_runbook
from perimeter.templates.remediation_parameters import (
    RESOURCE_ID, RULE_VALUE, TEMPLATE_VALUE, map_remediation_parameters,
)
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.netfw_firewall_runbooks import (
    ACCOUNT, REGION, ROLE, exempt_tags, failed_outputs, new_firewall, outputs, run, verdict,
)
from tests.ssm.runner import run_document
from tests.ssm.validator import validate_document

RULE_ID = "netfw-logging-enabled"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "netfw_logging_enabled"
SPEC = load_rule("perimeter.rules.netfw_logging_enabled.rule")
UPDATE = "UpdateLoggingConfiguration"
TO_BUCKET = {"LogDestinationType": "S3", "LogBucketName": "fw-logs", "LogBucketPrefix": "edge"}
TO_GROUP = {"LogDestinationType": "CloudWatchLogs", "LogGroupName": "/network-firewall/edge"}


def config(log_type: str, kind: str, **destination) -> dict:
    return {"LogType": log_type, "LogDestinationType": kind, "LogDestination": destination}


BUCKET_ALERT = config("ALERT", "S3", bucketName="fw-logs", prefix="edge")
BUCKET_FLOW = config("FLOW", "S3", bucketName="fw-logs", prefix="edge")


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULE_DIR)


@pytest.fixture
def nfw():
    with mock_aws(), FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="fw-logs")
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/network-firewall/edge")
        boto3.client("firehose", region_name=REGION).create_delivery_stream(
            DeliveryStreamName="fw-stream", S3DestinationConfiguration={
                "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose", "BucketARN": "arn:aws:s3:::fw-logs"})
        yield fake


def logged(nfw, arn: str) -> list[dict]:
    return nfw.firewall(arn).logging


def lambda_verdict(nfw, arn: str, log_types: str = "ALERT,FLOW") -> tuple[str, str]:
    """The rule's verdict as its Lambda reaches it: the firewall, its logging, and the destinations' existence."""
    def client(service):
        return boto3.client(service, region_name=REGION)

    required = parse_parameters({"logTypes": log_types}).log_types
    item = {**firewall_item(client("network-firewall").describe_firewall(FirewallArn=arn)),
            "supplementaryConfiguration": logging_supplement(client, arn, required)}
    return verdict(nfw, SPEC, arn, {"logTypes": log_types}, item)


def test_the_rendered_document_is_valid_and_its_parameters_map(document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["parameters"]["DryRun"]["default"] is True
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(SPEC, document)}
    assert mapped["Firewall"].source == RESOURCE_ID
    assert (mapped["LogTypes"].source, mapped["LogTypes"].rule_parameter) == (RULE_VALUE, "logTypes")
    assert document["parameters"]["LogTypes"]["default"] == SPEC.parameter_defaults["logTypes"]
    assert mapped["LogDestinationType"].source == TEMPLATE_VALUE and mapped["LogDestinationType"].required


def test_the_document_defaults_to_a_dry_run_that_plans_and_changes_nothing(document, nfw):
    arn = new_firewall(nfw)
    out = outputs(run_document(document, {"AutomationAssumeRole": ROLE, "Firewall": arn, **TO_BUCKET}, region=REGION))
    assert (out["Changed"], out["DryRun"], out["Changes"]) == (False, True, [])
    assert out["Planned"] == [{"Action": "Add", **BUCKET_ALERT}, {"Action": "Add", **BUCKET_FLOW}]
    assert out["Message"] == (f"Dry run: would change the logging of {arn}: send ALERT logs to S3 bucket fw-logs; "
                              "send FLOW logs to S3 bucket fw-logs; nothing changed")
    assert nfw.calls_to(UPDATE) == [] and logged(nfw, arn) == []


def test_two_missing_types_take_two_calls_of_one_change_each(document, nfw):
    arn = new_firewall(nfw)
    assert lambda_verdict(nfw, arn)[0] == "NON_COMPLIANT"
    out = outputs(run(document, nfw.firewall(arn).id, **TO_BUCKET))
    assert (out["Changed"], out["Attempts"]) == (True, 2)
    assert out["Changes"] == [{"Action": "Add", **BUCKET_ALERT}, {"Action": "Add", **BUCKET_FLOW}]
    first, second = nfw.calls_to(UPDATE)
    assert first["LoggingConfiguration"]["LogDestinationConfigs"] == [BUCKET_ALERT]
    assert second["LoggingConfiguration"]["LogDestinationConfigs"] == [BUCKET_ALERT, BUCKET_FLOW]
    assert lambda_verdict(nfw, arn) == ("COMPLIANT", "Logging ALERT to S3 bucket fw-logs; FLOW to S3 bucket fw-logs")
    assert out["Message"].endswith(f"{RULE_ID} now judges it COMPLIANT (Logging ALERT to S3 bucket fw-logs; FLOW to "
                                   "S3 bucket fw-logs)")


def test_existing_destinations_are_kept_exactly(document, nfw):
    stream_alert = config("ALERT", "KinesisDataFirehose", deliveryStream="fw-stream")
    tls_elsewhere = config("TLS", "CloudWatchLogs", logGroup="/not/required/and/gone")
    arn = new_firewall(nfw, logging=[tls_elsewhere, stream_alert])
    out = outputs(run(document, arn, **TO_GROUP))
    flow = config("FLOW", "CloudWatchLogs", logGroup="/network-firewall/edge")
    assert out["Changes"] == [{"Action": "Add", **flow}]
    assert logged(nfw, arn) == [tls_elsewhere, stream_alert, flow]


def test_a_second_run_changes_nothing_and_succeeds(document, nfw):
    arn = new_firewall(nfw)
    outputs(run(document, arn, **TO_BUCKET))
    out = outputs(run(document, arn, **TO_BUCKET))
    assert (out["Changed"], out["Planned"], out["Attempts"]) == (False, [], 0)
    assert out["Message"].startswith(f"{RULE_ID} already judges {arn} COMPLIANT")
    assert len(nfw.calls_to(UPDATE)) == 2


def test_a_dangling_destination_of_the_same_type_is_relocated_in_one_call(document, nfw):
    dangling = config("FLOW", "S3", bucketName="deleted-bucket")
    arn = new_firewall(nfw, logging=[BUCKET_ALERT, dangling])
    assert lambda_verdict(nfw, arn)[1] == ("Logging incomplete: FLOW logs go to S3 bucket deleted-bucket, which does "
                                           "not exist")
    out = outputs(run(document, arn, **TO_BUCKET))
    assert out["Changes"] == [{"Action": "Relocate", **BUCKET_FLOW, "ReplacedLogDestination": {"bucketName":
                                                                                               "deleted-bucket"}}]
    assert logged(nfw, arn) == [BUCKET_ALERT, BUCKET_FLOW] and len(nfw.calls_to(UPDATE)) == 1
    assert lambda_verdict(nfw, arn)[0] == "COMPLIANT"


def test_a_dangling_destination_of_another_type_is_removed_then_the_given_one_added(document, nfw):
    dangling = config("FLOW", "CloudWatchLogs", logGroup="/deleted/group")
    arn = new_firewall(nfw, logging=[dangling, BUCKET_ALERT])
    out = outputs(run(document, arn, **TO_BUCKET))
    assert out["Changes"] == [{"Action": "Remove", **dangling}, {"Action": "Add", **BUCKET_FLOW}]
    remove, add = (call["LoggingConfiguration"]["LogDestinationConfigs"] for call in nfw.calls_to(UPDATE))
    assert (remove, add) == ([BUCKET_ALERT], [BUCKET_ALERT, BUCKET_FLOW])
    assert "remove FLOW logs' CloudWatchLogs log group /deleted/group, which does not exist" in out["Message"]
    assert lambda_verdict(nfw, arn)[0] == "COMPLIANT"


def test_a_destination_that_does_not_exist_is_refused_before_any_change(document, nfw):
    arn = new_firewall(nfw)
    result = run(document, arn, LogDestinationType="KinesisDataFirehose", DeliveryStreamName="no-such-stream")
    out = failed_outputs(result)
    assert (out["Changed"], out["Changes"]) == (False, [])
    assert "The given destination, KinesisDataFirehose delivery stream no-such-stream, does not exist" in \
        result.failure_message
    assert nfw.calls_to(UPDATE) == []


def test_the_log_types_are_the_rules(document, nfw):
    arn = new_firewall(nfw, logging=[BUCKET_ALERT, BUCKET_FLOW])
    out = outputs(run(document, arn, LogTypes="ALERT,FLOW,TLS", LogDestinationType="KinesisDataFirehose",
                      DeliveryStreamName="fw-stream"))
    assert out["Changes"] == [{"Action": "Add", **config("TLS", "KinesisDataFirehose", deliveryStream="fw-stream")}]
    result = run(document, arn, LogTypes="ALERT,DEBUG", **TO_BUCKET)
    assert "parameter LogTypes (rule parameter logTypes)" in failed_outputs(result)["Failure"]


def test_a_stale_token_is_re_read_and_retried(document, nfw):
    arn = new_firewall(nfw)
    nfw.fail_next(UPDATE, "InvalidTokenException")
    out = outputs(run(document, arn, **TO_GROUP))
    assert (out["Changed"], out["Attempts"], len(out["Changes"])) == (True, 3, 2)
    assert len(logged(nfw, arn)) == 2


def test_a_persistent_conflict_fails_after_five_attempts_saying_what_changed_before(document, nfw):
    arn = new_firewall(nfw)
    update = nfw._operations[UPDATE]

    def first_then_refuse(params, region):
        response = update(params, region)
        nfw.fail_next(UPDATE, "InvalidTokenException", times=50)
        return response

    nfw._operations[UPDATE] = first_then_refuse
    result = run(document, arn, **TO_BUCKET)
    out = failed_outputs(result)
    assert (out["Changed"], out["Changes"], out["Attempts"]) == (True, [{"Action": "Add", **BUCKET_ALERT}], 1 + 5)
    assert f"Changing the logging configuration of {arn}: refused with InvalidTokenException 5 times in a row" in \
        result.failure_message
    assert logged(nfw, arn) == [BUCKET_ALERT]


def test_a_firewall_deleted_mid_run_fails_loudly_with_what_changed(document, nfw):
    arn = new_firewall(nfw)
    update = nfw._operations[UPDATE]

    def update_then_delete(params, region):
        response = update(params, region)
        nfw.delete_firewall_now(arn)
        return response

    nfw._operations[UPDATE] = update_then_delete
    result = run(document, arn, **TO_BUCKET)
    out = failed_outputs(result)
    assert out["Changes"] == [{"Action": "Add", **BUCKET_ALERT}]
    assert f"Firewall {arn} no longer exists: it was deleted during the run" in result.failure_message


def test_an_exempt_firewall_is_left_unchanged_and_the_run_says_until_when(document, nfw):
    until = (evaluation_date() + timedelta(days=7)).isoformat()
    arn = new_firewall(nfw, tags=exempt_tags(RULE_ID, until))
    out = outputs(run(document, arn, **TO_BUCKET))
    assert (out["ExemptUntil"], out["Changed"], out["Planned"]) == (until, False, [])
    assert nfw.calls_to(UPDATE) == nfw.calls_to("DescribeLoggingConfiguration") == [] and logged(nfw, arn) == []


# --- the plan, pure: one log type per call, every required type ends at an existing destination, nothing else moves
KINDS = {"S3": "bucketName", "CloudWatchLogs": "logGroup", "KinesisDataFirehose": "deliveryStream"}
ENTRIES = st.builds(lambda kind, exists: (kind, exists), st.sampled_from(sorted(KINDS)), st.booleans())


@settings(max_examples=40, deadline=None)
@given(current=st.dictionaries(st.sampled_from(["ALERT", "FLOW", "TLS"]), ENTRIES),
       required=st.lists(st.sampled_from(["ALERT", "FLOW", "TLS"]), min_size=1, max_size=3, unique=True),
       kind=st.sampled_from(sorted(KINDS)))
def test_the_plan_changes_one_log_type_per_call_and_ends_compliant(current, required, kind):
    from perimeter.rules.netfw_logging_enabled.remediation import next_change, plan

    configs = [config(log_type, entry_kind, **{KINDS[entry_kind]: f"{log_type.lower()}-old"})
               for log_type, (entry_kind, _) in current.items()]
    exist = {log_type: exists for log_type, (_, exists) in current.items()}
    given_destination = {"LogDestinationType": kind, "LogDestination": {KINDS[kind]: "given"}}
    changes = plan(configs, exist, tuple(required), given_destination)
    state, exist_now = configs, dict(exist)
    for change in changes:
        step, after = next_change(state, exist_now, tuple(required), given_destination)
        assert step == change
        before_by_type = {c["LogType"]: c for c in state}
        after_by_type = {c["LogType"]: c for c in after}
        touched = [t for t in before_by_type.keys() | after_by_type.keys()
                   if before_by_type.get(t) != after_by_type.get(t)]
        assert touched == [change.config["LogType"]]  # one LogDestinationConfig per call
        kept = before_by_type.get(touched[0])
        assert kept is None or after_by_type.get(touched[0]) is None or \
            kept["LogDestinationType"] == after_by_type[touched[0]]["LogDestinationType"]  # no type change in place
        state = after
        exist_now[touched[0]] = change.action != "Remove"
        if change.action == "Remove":
            exist_now.pop(touched[0])
    final = {c["LogType"]: c for c in state}
    for log_type in required:
        assert log_type in final and (exist.get(log_type) is True and final[log_type] == {c["LogType"]: c for c in
                                                                                           configs}[log_type]
                                      or final[log_type]["LogDestination"] == {KINDS[kind]: "given"})
    untouched = [c for c in configs if c["LogType"] not in required or exist.get(c["LogType"]) is True]
    assert all(c in state for c in untouched)
    assert len(changes) <= 2 * len(required)
