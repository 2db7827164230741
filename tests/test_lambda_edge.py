"""The Lambda edge (perimeter.entry, perimeter.rule on rdklib) end to end under moto (PutEvaluations in TestMode),
exercised through the security-group rule; rule-specific Lambda behaviour lives in each rule's own tests."""
from __future__ import annotations

import datetime
import json
import logging

import pytest
from moto import mock_aws

from perimeter.rule import RuleInvocationError
from support import ClientInterceptor, OperationStubber, rule_handler, stub_client_error, stub_clients

lambda_handler = rule_handler("sg-ingress-port-range-restricted")

RULE_ID = "sg-ingress-port-range-restricted"


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def verdicts(result):
    return [(e["ComplianceResourceId"], e["ComplianceType"], e.get("Annotation")) for e in result]


def test_change_event_evaluates_and_puts_one_evaluation(aws, fixture_event):
    result = lambda_handler(fixture_event("change-open-range"), None)

    assert verdicts(result) == [
        ("sg-0e1f2a3b4c5d6e7f8", "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
    ]
    assert result[0]["ComplianceResourceType"] == "AWS::EC2::SecurityGroup"
    assert result[0]["OrderingTimestamp"] == "2026-11-20T10:15:42.123Z"
    # Same-account mode: the Lambda's own role, no STS; one PutEvaluations and nothing else.
    assert aws.calls == [("config", "PutEvaluations")]


def test_compliant_group(aws, fixture_event, fixture_item):
    event = fixture_event("change-open-range")
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItem"] = fixture_item("sg-compliant.notification")
    event["invokingEvent"] = json.dumps(invoking)

    assert verdicts(lambda_handler(event, None)) == [
        ("sg-0c1d2e3f4a5b6c7d8", "COMPLIANT", "No inbound port range over 1 port(s) open to any source")
    ]


def test_deleted_item_is_not_applicable(aws, fixture_event):
    result = lambda_handler(fixture_event("change-deleted"), None)

    assert verdicts(result) == [("sg-0dead0000beef0000", "NOT_APPLICABLE", "Resource status is ResourceDeleted")]


def test_event_left_scope_is_not_applicable(aws, fixture_event):
    event = fixture_event("change-open-range") | {"eventLeftScope": True}

    assert verdicts(lambda_handler(event, None)) == [
        ("sg-0e1f2a3b4c5d6e7f8", "NOT_APPLICABLE", "Resource left the scope of this rule")
    ]


@pytest.mark.parametrize("parameters", [None, "", "{}"])
def test_absent_or_empty_rule_parameters_and_no_event_left_scope(aws, fixture_event, parameters):
    event = fixture_event("change-open-range")
    del event["eventLeftScope"]
    del event["executionRoleArn"]
    if parameters is None:
        del event["ruleParameters"]
    else:
        event["ruleParameters"] = parameters

    assert verdicts(lambda_handler(event, None))[0][1] == "NON_COMPLIANT"


def test_parameters_reach_the_rule(aws, fixture_event):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"authorizedTcpPorts": "0-65535"})

    assert verdicts(lambda_handler(event, None))[0][1] == "COMPLIANT"


CAPTURED = datetime.datetime(2026, 11, 20, 10, 15, 42, 123000, datetime.timezone.utc)  # the fixture summary's
HISTORY_WINDOW = {  # up to the next whole second: the same request at any timestamp precision
    "resourceType": "AWS::EC2::SecurityGroup",
    "resourceId": "sg-0e1f2a3b4c5d6e7f8",
    "laterTime": datetime.datetime(2026, 11, 20, 10, 15, 43, tzinfo=datetime.timezone.utc),
    "limit": 5,
}


def _announced_item(fixture_item) -> dict:
    """The item the oversized fixture announces (configurationStateId 1763633742123), as the API returns it."""
    item = fixture_item("sg-open-range.api")
    item["configurationItemCaptureTime"] = CAPTURED
    return item


def _previous_item(fixture_item) -> dict:
    """The group's item before the change: only tcp 443 open, COMPLIANT."""
    item = fixture_item("sg-open-range.api")
    configuration = json.loads(item["configuration"])
    configuration["ipPermissions"] = configuration["ipPermissions"][1:]
    item.update(configuration=json.dumps(configuration), configurationStateId="1763633730000",
                configurationItemCaptureTime=CAPTURED.replace(second=30, microsecond=0))
    return item


def _stub_history(aws, *pages, expected=HISTORY_WINDOW):
    """GetResourceConfigHistory answers ``pages`` in turn; the first request must be ``expected``."""

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        for index, page in enumerate(pages):
            expected_params = dict(expected, nextToken=f"page-{index}") if index else expected
            stubber.add_response("get_resource_config_history", page, expected_params=expected_params)
        return stubber

    return stub_clients(aws, "config", configure)


def test_oversized_item_is_fetched_at_its_capture_time(aws, fixture_event, fixture_item):
    stubbers = _stub_history(aws, {"configurationItems": [_announced_item(fixture_item), _previous_item(fixture_item)]})
    result = lambda_handler(fixture_event("oversized-open-range"), None)

    assert verdicts(result) == [
        ("sg-0e1f2a3b4c5d6e7f8", "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
    ]
    stubbers[0].assert_no_pending_responses()
    assert aws.operations() == ["GetResourceConfigHistory", "PutEvaluations"]


def test_oversized_item_is_the_announced_one_even_when_the_previous_item_comes_first(aws, fixture_event, fixture_item):
    """Issue 10 item 1: the item before the change (tcp 443 only) must never stand in for the announced one."""
    _stub_history(aws, {"configurationItems": [_previous_item(fixture_item), _announced_item(fixture_item)]})

    assert verdicts(lambda_handler(fixture_event("oversized-open-range"), None)) == [
        ("sg-0e1f2a3b4c5d6e7f8", "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
    ]


def test_oversized_item_answered_only_by_the_previous_item_fails_the_invocation(aws, fixture_event, fixture_item):
    """What a whole-second laterTime gets back: the previous item. No verdict rather than a wrong COMPLIANT."""
    _stub_history(aws, {"configurationItems": [_previous_item(fixture_item)]})

    with pytest.raises(RuleInvocationError) as raised:
        lambda_handler(fixture_event("oversized-open-range"), None)
    assert str(raised.value) == (
        f"{RULE_ID}: AWS::EC2::SecurityGroup sg-0e1f2a3b4c5d6e7f8: Config's history holds no item with "
        "configurationStateId 1763633742123 captured at 2026-11-20T10:15:42.123Z (status OK) among the 1 item(s) "
        "captured up to 2026-11-20T10:15:43Z; not judging another configuration"
    )
    assert "PutEvaluations" not in aws.operations()


def test_oversized_item_on_a_later_page_is_found(aws, fixture_event, fixture_item):
    stubbers = _stub_history(
        aws,
        {"configurationItems": [], "nextToken": "page-1"},  # a page can come back short (seven-day spans)
        {"configurationItems": [_announced_item(fixture_item)]},
    )

    assert verdicts(lambda_handler(fixture_event("oversized-open-range"), None))[0][1] == "NON_COMPLIANT"
    stubbers[0].assert_no_pending_responses()


def test_oversized_history_pages_are_bounded(aws, fixture_event, fixture_item):
    pages = [{"configurationItems": [_previous_item(fixture_item)], "nextToken": f"page-{n + 1}"} for n in range(4)]
    _stub_history(aws, *pages)

    with pytest.raises(RuleInvocationError, match=r"among the 4 item\(s\)"):
        lambda_handler(fixture_event("oversized-open-range"), None)
    assert aws.operations() == ["GetResourceConfigHistory"] * 4


def test_oversized_item_of_another_resource_fails_the_invocation(aws, fixture_event, fixture_item):
    other = _announced_item(fixture_item) | {"resourceId": "sg-0aaaaaaaaaaaaaaaa"}
    _stub_history(aws, {"configurationItems": [other]})

    with pytest.raises(RuleInvocationError, match="answered with an item of AWS::EC2::SecurityGroup sg-0aaaaaaaaaaaaaaaa"):
        lambda_handler(fixture_event("oversized-open-range"), None)


@pytest.mark.parametrize("answer", ["not discovered", "empty history"])
def test_oversized_item_of_a_live_resource_missing_from_history_fails_the_invocation(aws, fixture_event, answer):
    """Never NOT_APPLICABLE for a summary that says OK: it would overwrite the resource's last verdict."""

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        if answer == "not discovered":
            stubber.add_client_error(
                "get_resource_config_history", "ResourceNotDiscoveredException", "Resource sg-0e1f2a3b4c5d6e7f8 is not discovered"
            )
        else:
            stubber.add_response("get_resource_config_history", {"configurationItems": []})
        return stubber

    stub_clients(aws, "config", configure)
    with pytest.raises(RuleInvocationError, match="holds no item with configurationStateId 1763633742123"):
        lambda_handler(fixture_event("oversized-open-range"), None)
    assert "PutEvaluations" not in aws.operations()


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_oversized_summary_of_a_gone_resource_is_not_applicable_without_a_fetch(aws, fixture_event, status):
    event = fixture_event("oversized-open-range")
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItemSummary"]["configurationItemStatus"] = status
    event["invokingEvent"] = json.dumps(invoking)

    assert verdicts(lambda_handler(event, None)) == [("sg-0e1f2a3b4c5d6e7f8", "NOT_APPLICABLE", f"Resource status is {status}")]
    assert aws.operations() == ["PutEvaluations"]


def test_oversized_fetch_denied_fails_the_invocation(aws, fixture_event):
    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        stubber.add_client_error("get_resource_config_history", "AccessDeniedException", "not authorized")
        return stubber

    stub_clients(aws, "config", configure)
    with pytest.raises(RuleInvocationError, match=r"AccessDeniedException.*check the Lambda role"):
        lambda_handler(fixture_event("oversized-open-range"), None)


@pytest.mark.parametrize(
    "parameters, named",
    [
        ({"maxPorts": "0"}, "maxPorts: '0'"),
        ({"authorizedTcpPorts": "70000"}, "authorizedTcpPorts: '70000'"),
        ({"sourceScope": "internet"}, "sourceScope: 'internet'"),
        ({"maxport": "2"}, "unknown parameter(s) maxport"),
    ],
)
def test_invalid_parameters_fail_the_invocation_as_a_customer_error(aws, fixture_event, parameters, named):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps(parameters)

    with pytest.raises(RuleInvocationError) as raised:
        lambda_handler(event, None)

    message = str(raised.value)
    assert message.startswith(f"{RULE_ID}: InvalidParameterValueException")
    assert named in message
    assert aws.calls == []  # nothing was put: Config records the failure, not a verdict


def test_rdklib_error_dict_becomes_a_raised_error(aws, fixture_event):
    """rdklib turns a ClientError into a returned dict; the Lambda must fail instead."""
    stub_client_error(aws, "config", "PutEvaluations", "AccessDeniedException",
                      "User is not authorized to perform config:PutEvaluations")
    with pytest.raises(RuleInvocationError, match="AccessDeniedException.*not authorized to perform config:PutEvaluations"):
        lambda_handler(fixture_event("change-open-range"), None)


def test_item_error_becomes_a_raised_error(aws, fixture_event):
    event = fixture_event("change-open-range")
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItem"]["configuration"]["ipPermissions"][0]["fromPort"] = 70000
    event["invokingEvent"] = json.dumps(invoking)

    with pytest.raises(RuleInvocationError, match=r"sg-0e1f2a3b4c5d6e7f8: fromPort 70000 for tcp is outside 0-65535"):
        lambda_handler(event, None)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda e: e.pop("invokingEvent"), "invokingEvent is missing"),
        (lambda e: e.update(invokingEvent="{not json"), "invokingEvent is not valid JSON"),
        (lambda e: e.update(invokingEvent='{"messageType": "Surprise"}'), "messageType 'Surprise'"),
        (lambda e: e.update(ruleParameters="[1]"), "ruleParameters must hold a JSON object"),
        (lambda e: e.pop("resultToken"), "resultToken is missing"),
    ],
)
def test_malformed_event_fails_with_a_clear_message(aws, fixture_event, mutate, message):
    event = fixture_event("change-open-range")
    mutate(event)

    with pytest.raises(RuleInvocationError, match=message):
        lambda_handler(event, None)


def test_failed_evaluations_are_resent_then_the_invocation_fails(aws, fixture_event):
    failed = {
        "ComplianceResourceType": "AWS::EC2::SecurityGroup",
        "ComplianceResourceId": "sg-0e1f2a3b4c5d6e7f8",
        "ComplianceType": "NON_COMPLIANT",
        "OrderingTimestamp": datetime.datetime(2026, 11, 20, tzinfo=datetime.timezone.utc),
    }

    def configure(client):
        stubber = OperationStubber(client, "PutEvaluations")
        for _ in range(3):
            stubber.add_response("put_evaluations", {"FailedEvaluations": [failed]})
        return stubber

    stubbers = stub_clients(aws, "config", configure)
    with pytest.raises(RuleInvocationError, match="kept rejecting 1 evaluation.*sg-0e1f2a3b4c5d6e7f8"):
        lambda_handler(fixture_event("change-open-range"), None)
    stubbers[0].assert_no_pending_responses()


def test_failed_evaluation_resent_once_succeeds(aws, fixture_event):
    def configure(client):
        stubber = OperationStubber(client, "PutEvaluations")
        stubber.add_response(
            "put_evaluations",
            {"FailedEvaluations": [{"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": "sg-0e1f2a3b4c5d6e7f8",
                                     "ComplianceType": "NON_COMPLIANT", "OrderingTimestamp": datetime.datetime(2026, 11, 20)}]},
        )
        stubber.add_response("put_evaluations", {"FailedEvaluations": []})
        return stubber

    stub_clients(aws, "config", configure)
    assert verdicts(lambda_handler(fixture_event("change-open-range"), None))[0][1] == "NON_COMPLIANT"
    assert aws.operations("config") == ["PutEvaluations", "PutEvaluations"]


def test_execution_role_name_assumes_that_role_in_the_evaluated_account(aws, fixture_event):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})

    assert verdicts(lambda_handler(event, None))[0][1] == "NON_COMPLIANT"
    assert aws.operations() == ["AssumeRole", "PutEvaluations"]


def test_execution_role_arn_is_built_from_account_and_partition():
    from perimeter.rule import PackRule
    handler = rule_handler("sg-ingress-port-range-restricted")

    rule = PackRule(handler.spec)
    event = {"ruleParameters": json.dumps({"ExecutionRoleName": "perimeter-execution"}), "accountId": "210987654321",
             "executionRoleArn": "arn:aws-us-gov:iam::210987654321:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}
    assert rule.get_execution_role_arn(event) == "arn:aws-us-gov:iam::210987654321:role/perimeter-execution"
    assert rule.get_assume_role_mode(event) is True
    assert rule.get_assume_role_mode({"ruleParameters": "{}"}) is False


def test_structured_log_line_names_rule_resource_and_verdict(aws, fixture_event, caplog):
    with caplog.at_level(logging.INFO, logger="perimeter"):
        lambda_handler(fixture_event("change-open-range"), None)

    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "perimeter"]
    assert lines == [
        {
            "annotation": "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0",
            "configRuleName": "perimeter-sg-ingress-port-range-restricted",
            "resourceId": "sg-0e1f2a3b4c5d6e7f8",
            "resourceType": "AWS::EC2::SecurityGroup",
            "rule": RULE_ID,
            "verdict": "NON_COMPLIANT",
        }
    ]


def test_rdklib_functions_we_replace_still_exist():
    """perimeter.rule replaces two rdklib module functions; an rdklib upgrade must not silently undo that."""
    import rdklib.evaluator
    import rdklib.util.evaluations

    from perimeter.rule import deliver_evaluations, fetch_oversized_item

    assert rdklib.evaluator.inflate_oversized_notification is fetch_oversized_item
    assert rdklib.util.evaluations.process_evaluations is deliver_evaluations
    assert "inflate_oversized_notification(" in open(rdklib.evaluator.__file__).read()
    assert "process_evaluations(" in open(rdklib.util.evaluations.__file__).read()
