"""Faults injected into the Lambdas' AWS calls (issue 6): each one retried, delivered, or failed loudly.

Throttling and 5xx are injected as HTTP responses inside botocore's retry loop (tests/faultinjection.py), so
the attempts counted here are botocore's own; the standard retry mode makes at most 3 attempts.
"""
from __future__ import annotations

import copy
import datetime
import json
import uuid

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import perimeter.rule
from conftest import change_event, load_fixture
from botocore.exceptions import ClientError

from faultinjection import HttpFaults, denied, fake_backend, ok, server_error, throttle
from perimeter.oversized import PAGE_LIMIT, history_request
from perimeter.registry import all_rules
from perimeter.rule import PUT_EVALUATIONS_BATCH, PackClientFactory, RuleInvocationError, deliver_evaluations
from support import ClientInterceptor, OperationStubber, stub_clients, rule_handler
from tests.fakes.networkfirewall import FakeNetworkFirewall

policy_handler = rule_handler("netfw-policy-rule-group-associated")
group_handler = rule_handler("netfw-rule-group-not-empty")
sg_handler = rule_handler("sg-ingress-port-range-restricted")

MAX_ATTEMPTS = 3  # botocore's standard retry mode
SG_ID = "sg-0e1f2a3b4c5d6e7f8"
GROUP_ARN = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/big-suricata"
HANDLERS = {spec.rule_id: rule_handler(spec.rule_id) for spec in all_rules()}
# One recorded item per resource type, the one the oversized tests convert to the API shape; a rule gets its type's.
ITEMS_BY_TYPE = {
    "AWS::EC2::SecurityGroup": "sg-open-range.notification",
    "AWS::NetworkFirewall::FirewallPolicy": "netfw-policy-stateless-only.notification",
    "AWS::NetworkFirewall::RuleGroup": "netfw-group-suricata.notification",
    "AWS::NetworkFirewall::Firewall": "netfw-firewall.notification",
    "AWS::EC2::NetworkAcl": "nacl-ssh-open.notification",
}
RULE_ITEMS = {spec.rule_id: ITEMS_BY_TYPE[spec.resource_types[0]] for spec in all_rules()}
RULE_ITEMS["sg-default-closed"] = "sg-default.notification"  # it judges default groups only


@pytest.fixture(scope="module")
def moto_account():
    """One moto for the module (starting it per test costs ~0.5 s); each test makes resources of its own."""
    with mock_aws():
        yield


@pytest.fixture
def aws(moto_account, monkeypatch):
    """Every client the code under test creates is seen (ClientInterceptor) and carries HTTP fault injection."""
    interceptor = ClientInterceptor(monkeypatch)
    interceptor.faults = HttpFaults()
    interceptor.faults.no_backoff_sleep(monkeypatch)
    interceptor.clients = []
    for service in ("config", "sts", "network-firewall", "ec2"):
        interceptor.on_create.setdefault(service, []).extend([interceptor.faults.attach, interceptor.clients.append])
    return interceptor


def verdicts(result):
    return [(e["ComplianceResourceId"], e["ComplianceType"], e.get("Annotation")) for e in result]


def oversized_event(item: dict, rule_name: str, **fields) -> dict:
    template = load_fixture("events/oversized-open-range.json")
    invoking = json.loads(template["invokingEvent"])
    summary = {key: item[key] for key in invoking["configurationItemSummary"] if key in item}
    invoking["configurationItemSummary"] = {**summary, "changeType": "UPDATE"}
    return {**template, "invokingEvent": json.dumps(invoking), "configRuleName": rule_name, **fields}


def api_shape(item: dict) -> dict:
    """The notification-shaped item as GetResourceConfigHistory returns it (configuration as JSON text)."""
    renamed = {"awsAccountId": "accountId", "ARN": "arn", "configurationStateMd5Hash": "configurationItemMD5Hash",
               "configurationItemVersion": "version"}
    api = {renamed.get(key, key): value for key, value in item.items() if key not in ("relatedEvents", "tags")}
    api["configuration"] = json.dumps(item["configuration"])
    api["supplementaryConfiguration"] = {k: json.dumps(v) for k, v in (item.get("supplementaryConfiguration") or {}).items()}
    api["relationships"] = [{("relationshipName" if k == "name" else k): v for k, v in r.items()} for r in item["relationships"]]
    api["configurationItemCaptureTime"] = datetime.datetime.fromisoformat(item["configurationItemCaptureTime"])
    api["configurationStateId"] = str(api["configurationStateId"])
    if api.get("resourceCreationTime"):
        api["resourceCreationTime"] = datetime.datetime.fromisoformat(api["resourceCreationTime"])
    api["relationships"] = [{k: v for k, v in r.items() if v is not None} for r in api["relationships"]]
    return {key: value for key, value in api.items() if value is not None}


# --- every call the Lambdas make: throttling and 5xx retried, then delivered or failed loudly ----------------

RULE_GROUP_BODY = {
    "UpdateToken": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "RuleGroup": {"RulesSource": {"RulesString": 'drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"telnet"; sid:1; rev:1;)'}},
    "RuleGroupResponse": {"RuleGroupArn": GROUP_ARN, "RuleGroupName": "big-suricata", "RuleGroupId": "5c1e2f3a", "Type": "STATEFUL"},
}


def _put_evaluations_case():
    return sg_handler, change_event(load_fixture("items/sg-open-range.notification.json"), "r"), None, "NON_COMPLIANT"


def _config_history_case():
    body = {"configurationItems": [load_fixture("items/sg-open-range.api.json")]}
    return sg_handler, load_fixture("events/oversized-open-range.json"), ok(body), "NON_COMPLIANT"


def _describe_rule_group_case():
    event = change_event(load_fixture("items/netfw-group-no-rules-source.notification.json"), "r")
    return group_handler, event, ok(RULE_GROUP_BODY), "COMPLIANT"


def _assume_role_case():
    event = change_event(load_fixture("items/sg-open-range.notification.json"), "r",
                         ruleParameters=json.dumps({"ExecutionRoleName": "perimeter-execution"}))
    return sg_handler, event, None, "NON_COMPLIANT"


LAMBDA_CALLS = {
    ("config", "PutEvaluations"): _put_evaluations_case,
    ("config", "GetResourceConfigHistory"): _config_history_case,
    ("network-firewall", "DescribeRuleGroup"): _describe_rule_group_case,
    ("sts", "AssumeRole"): _assume_role_case,
}
FAULTS = {"throttling": throttle, "500": lambda: server_error(500), "503": lambda: server_error(503)}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("call", LAMBDA_CALLS, ids="/".join)
def test_transient_fault_is_retried_and_the_evaluation_delivered(aws, call, fault):
    handler, event, answer, verdict = LAMBDA_CALLS[call]()
    aws.faults.script(*call, FAULTS[fault](), FAULTS[fault]())
    if answer:
        aws.faults.script(*call, answer)

    result = handler(event, None)

    assert [entry["ComplianceType"] for entry in result] == [verdict]
    assert aws.faults.attempts(*call) == MAX_ATTEMPTS  # two faults, then the answer
    assert len(aws.faults.delays) >= 2 and all(delay >= 0 for delay in aws.faults.delays)  # backoff computed
    assert aws.operations().count("PutEvaluations") == 1  # delivered, once
    assert aws.faults.pending() == {}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("call", LAMBDA_CALLS, ids="/".join)
def test_persistent_fault_fails_the_invocation_after_bounded_retries(aws, call, fault):
    handler, event, _, _ = LAMBDA_CALLS[call]()
    reply = FAULTS[fault]()
    aws.faults.script(*call, *[reply] * (MAX_ATTEMPTS + 5))

    with pytest.raises(RuleInvocationError) as raised:
        handler(event, None)

    assert aws.faults.attempts(*call) == MAX_ATTEMPTS
    message = str(raised.value)
    rule_id = handler.spec.rule_id
    code = {"throttling": {"config": "ThrottlingException", "network-firewall": "ThrottlingException", "sts": "Throttling"}[call[0]],
            "500": "InternalFailure", "503": "ServiceUnavailable"}[fault]
    assert message.startswith(f"{rule_id}: ")
    assert f"({code}) when calling the {call[1]} operation (reached max retries: 2)" in message
    if call != ("config", "PutEvaluations"):
        assert "PutEvaluations" not in aws.operations()  # no verdict delivered on a failed invocation
    else:
        assert "(0 of 1 evaluation(s) were delivered)" in message


# --- every call the runbooks' scripts make: the same, through the remediation handlers ------------------------


@pytest.fixture(scope="module")
def vpc(moto_account):
    """An EC2 client outside the intercepted ones (loading the EC2 model once), and a VPC."""
    ec2 = boto3.Session(region_name="us-east-1").client("ec2")
    return ec2, ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def open_group(vpc):
    """A VPC group opening tcp 0-65535 to the world."""
    ec2, vpc_id = vpc
    group = ec2.create_security_group(GroupName=f"open-{uuid.uuid4().hex[:12]}", Description="open",
                                      VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return group


@pytest.fixture
def bare_group(vpc):
    """A VPC group without a single rule: only for such a group does the runbook describe the group itself
    (the rules API answers an empty list for a group that does not exist)."""
    ec2, vpc_id = vpc
    group = ec2.create_security_group(GroupName=f"bare-{uuid.uuid4().hex[:12]}", Description="bare",
                                      VpcId=vpc_id)["GroupId"]
    ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return group


@pytest.fixture
def policy_without_groups(aws):
    fake = FakeNetworkFirewall(region="us-east-1", account_id="123456789012")  # not entered: served by HttpFaults
    aws.faults.serve("network-firewall", fake_backend(fake))
    group = fake.put_rule_group("baseline", rules="pass tcp any any -> any 443 (sid:1;)")
    policy = fake.put_firewall_policy("edge", {"StatelessDefaultActions": ["aws:forward_to_sfe"],
                                               "StatelessFragmentDefaultActions": ["aws:drop"]})
    yield fake, {"FirewallPolicy": policy, "RuleGroupArn": group, "DryRun": "false"}  # absent: a dry run
    assert fake.contract_errors == []


def _run_sg_runbook(group):
    from perimeter.rules.sg_ingress_port_range_restricted.remediation import Run, remediate

    run = Run()  # remediate, not handler: the handler returns its failure for the document's Fail step to raise
    remediate({"SecurityGroupId": group, "ReplacementTcpPorts": ["443"], "DryRun": "false"}, run)
    result = run.outputs()
    return [(r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIpv4"]) for r in result["Removed"] + result["Added"]]


def _run_policy_runbook(events):
    from perimeter.rules.netfw_policy_rule_group_associated.remediation import handler

    result = handler(events, None)
    return result["Changed"], result["References"]


SG_RUNBOOK_CALLS = ["DescribeSecurityGroups", "DescribeSecurityGroupRules", "AuthorizeSecurityGroupIngress",
                    "RevokeSecurityGroupIngress"]
POLICY_RUNBOOK_CALLS = ["DescribeRuleGroup", "DescribeFirewallPolicy", "UpdateFirewallPolicy"]
RUNBOOK_CALLS = [("ec2", operation) for operation in SG_RUNBOOK_CALLS] + [
    ("network-firewall", operation) for operation in POLICY_RUNBOOK_CALLS]
EC2_CODES = {"throttling": "RequestLimitExceeded", "500": "InternalFailure", "503": "ServiceUnavailable"}


@pytest.fixture
def runbook(request, aws):
    """(run, expected outcome) for the runbook that makes the parametrized call."""
    service, operation = request.param
    if operation == "DescribeSecurityGroups":
        group = request.getfixturevalue("bare_group")
        return lambda: _run_sg_runbook(group), []
    if service == "ec2":
        group = request.getfixturevalue("open_group")
        return lambda: _run_sg_runbook(group), [("tcp", 0, 65535, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")]
    _, events = request.getfixturevalue("policy_without_groups")
    return lambda: _run_policy_runbook(events), (True, [
        {"List": "StatefulRuleGroupReferences", "ResourceArn": events["RuleGroupArn"], "Added": True}])


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("runbook, call", [(call, call) for call in RUNBOOK_CALLS], ids="/".join, indirect=["runbook"])
def test_runbook_call_retried_through_transient_faults(aws, runbook, call, fault):
    run, expected = runbook
    aws.faults.script(*call, FAULTS[fault](), FAULTS[fault]())

    assert run() == expected
    assert aws.faults.attempts(*call) >= MAX_ATTEMPTS  # the faulted call's three, plus any later calls
    assert aws.faults.pending() == {}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("runbook, call", [(call, call) for call in RUNBOOK_CALLS], ids="/".join, indirect=["runbook"])
def test_runbook_call_failing_past_the_retries_fails_the_step_clearly(aws, runbook, call, fault):
    run, _ = runbook
    aws.faults.script(*call, *[FAULTS[fault]()] * MAX_ATTEMPTS)

    with pytest.raises(ClientError) as raised:
        run()

    code = EC2_CODES[fault] if call[0] == "ec2" else {"throttling": "ThrottlingException"}.get(fault, EC2_CODES[fault])
    assert f"({code}) when calling the {call[1]} operation (reached max retries: 2)" in str(raised.value)
    # When the SG revoke fails, the replacement authorized before it is revoked again: one call more.
    undo = 1 if call == ("ec2", "RevokeSecurityGroupIngress") else 0
    assert aws.faults.attempts(*call) == MAX_ATTEMPTS + undo


def test_lambda_clients_use_the_standard_retry_mode(aws, fixture_event):
    sg_handler(fixture_event("change-open-range"), None)

    [client] = aws.clients
    assert client.meta.config.retries == {"mode": "standard"}  # AWS_RETRY_MODE, set by perimeter.rule unless given
    assert aws.faults.attempts("config", "PutEvaluations") == 1


def test_runbook_clients_use_the_standard_retry_mode():
    from perimeter.remediation import RETRY_CONFIG

    assert RETRY_CONFIG.retries == {"mode": "standard"}


# --- PutEvaluations: batches of 100, no empty call, FailedEvaluations re-sent ---------------------------------


class _Factory:
    def __init__(self, client):
        self.client = client

    def build_client(self, service, region=None, assume_role_mode=True):
        return self.client


def _evaluations(count: int) -> list[dict]:
    stamp = datetime.datetime(2026, 11, 20, tzinfo=datetime.timezone.utc)
    return [
        {"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": f"sg-{n:017x}",
         "ComplianceType": "COMPLIANT", "OrderingTimestamp": stamp, "Annotation": "ok"}
        for n in range(count)
    ]


def _failed(evaluations):
    return {"FailedEvaluations": [{key: e[key] for key in ("ComplianceResourceType", "ComplianceResourceId",
                                                          "ComplianceType", "OrderingTimestamp")} for e in evaluations]}


@pytest.fixture
def config_stub():
    client = boto3.client("config", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


EVENT = {"resultToken": "token-from-config"}


@pytest.mark.parametrize("count, batches", [(0, []), (1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])])
def test_batches_of_at_most_100_and_no_empty_call(config_stub, count, batches):
    client, stubber = config_stub
    evaluations = _evaluations(count)
    start = 0
    for size in batches:
        stubber.add_response("put_evaluations", {"FailedEvaluations": []}, expected_params={
            "Evaluations": evaluations[start : start + size], "ResultToken": "token-from-config", "TestMode": False})
        start += size

    assert deliver_evaluations(EVENT, _Factory(client), evaluations) == evaluations
    assert PUT_EVALUATIONS_BATCH == 100


def test_failed_evaluations_are_resent_alone_and_then_delivered(config_stub):
    client, stubber = config_stub
    evaluations = _evaluations(250)
    second = evaluations[100:200]
    sent = []
    for batch, response in [
        (evaluations[:100], {}),
        (second, _failed([second[3], second[70]])),
        ([second[3], second[70]], _failed([second[70]])),
        ([second[70]], {"FailedEvaluations": []}),
        (evaluations[200:], {}),
    ]:
        stubber.add_response("put_evaluations", response, expected_params={
            "Evaluations": batch, "ResultToken": "token-from-config", "TestMode": False})
        sent.append(len(batch))

    assert deliver_evaluations(EVENT, _Factory(client), evaluations) == evaluations
    assert sent == [100, 100, 2, 1, 50]


def test_evaluations_rejected_for_good_fail_the_invocation_naming_them_after_the_rest_is_delivered(config_stub):
    client, stubber = config_stub
    evaluations = _evaluations(250)
    stuck = [evaluations[150], evaluations[160]]
    stubber.add_response("put_evaluations", {}, expected_params={"Evaluations": evaluations[:100], "ResultToken": "token-from-config", "TestMode": False})
    stubber.add_response("put_evaluations", _failed(stuck), expected_params={"Evaluations": evaluations[100:200], "ResultToken": "token-from-config", "TestMode": False})
    for _ in range(2):
        stubber.add_response("put_evaluations", _failed(stuck), expected_params={"Evaluations": stuck, "ResultToken": "token-from-config", "TestMode": False})
    stubber.add_response("put_evaluations", {}, expected_params={"Evaluations": evaluations[200:], "ResultToken": "token-from-config", "TestMode": False})

    with pytest.raises(RuleInvocationError) as raised:
        deliver_evaluations(EVENT, _Factory(client), evaluations)

    assert str(raised.value) == (
        "PutEvaluations kept rejecting 2 evaluation(s) (of 250) after 3 attempts: "
        f"AWS::EC2::SecurityGroup {stuck[0]['ComplianceResourceId']}, AWS::EC2::SecurityGroup {stuck[1]['ComplianceResourceId']}"
    )


def test_many_rejected_evaluations_are_counted_not_all_listed(config_stub):
    client, stubber = config_stub
    evaluations = _evaluations(30)
    for _ in range(3):
        stubber.add_response("put_evaluations", _failed(evaluations))

    with pytest.raises(RuleInvocationError, match=r"kept rejecting 30 evaluation\(s\) \(of 30\) after 3 attempts: .* \(\+20 more\)$"):
        deliver_evaluations(EVENT, _Factory(client), evaluations)


def test_api_error_in_a_later_batch_says_how_many_were_delivered(config_stub):
    client, stubber = config_stub
    evaluations = _evaluations(250)
    stubber.add_response("put_evaluations", {})
    stubber.add_client_error("put_evaluations", "ThrottlingException", "Rate exceeded")

    with pytest.raises(RuleInvocationError, match=r"ThrottlingException.*PutEvaluations.*\(100 of 250 evaluation\(s\) were delivered\)"):
        deliver_evaluations(EVENT, _Factory(client), evaluations)


def test_the_handler_delivers_through_the_replacement(aws, fixture_event):
    """rdklib's own delivery would send an empty call and ignore FailedEvaluations: ours is the one wired in."""
    import rdklib.evaluator
    import rdklib.util.evaluations

    assert rdklib.util.evaluations.process_evaluations is deliver_evaluations
    assert rdklib.evaluator.ClientFactory is PackClientFactory
    assert "ClientFactory(" in open(rdklib.evaluator.__file__).read()


# --- oversized items: fetched at capture time, API shape converted, gone -> NOT_APPLICABLE, for every rule ----


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region="us-east-1", account_id="123456789012") as fake:
        yield fake


@pytest.mark.parametrize("spec", all_rules(), ids=lambda spec: spec.rule_id)
def test_oversized_item_is_fetched_at_capture_time_and_judged_as_the_recorded_one(aws, nfw, fixture_item, spec):
    item = fixture_item(RULE_ITEMS[spec.rule_id])
    handler = HANDLERS[spec.rule_id]
    expected = verdicts(handler(change_event(copy.deepcopy(item), "r"), None))

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        stubber.add_response("get_resource_config_history", {"configurationItems": [api_shape(item)]}, expected_params={
            "resourceType": item["resourceType"], "resourceId": item["resourceId"],
            "laterTime": history_request(item)["laterTime"], "limit": PAGE_LIMIT})
        return stubber

    stubbers = stub_clients(aws, "config", configure)
    assert verdicts(handler(oversized_event(item, "r"), None)) == expected
    stubbers[0].assert_no_pending_responses()
    assert expected[0][1] in ("COMPLIANT", "NON_COMPLIANT")


@pytest.mark.parametrize("gone", ["not discovered", "empty history", "deleted"])
@pytest.mark.parametrize("spec", all_rules(), ids=lambda spec: spec.rule_id)
def test_oversized_item_deleted_is_not_applicable_missing_from_history_fails(aws, fixture_item, spec, gone):
    item = fixture_item(RULE_ITEMS[spec.rule_id])

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        if gone == "not discovered":
            stubber.add_client_error("get_resource_config_history", "ResourceNotDiscoveredException", "not discovered")
        elif gone == "empty history":
            stubber.add_response("get_resource_config_history", {"configurationItems": []})
        else:
            deleted = api_shape(item) | {"configurationItemStatus": "ResourceDeleted", "configuration": "null"}
            stubber.add_response("get_resource_config_history", {"configurationItems": [deleted]})
        return stubber

    stub_clients(aws, "config", configure)
    if gone != "deleted":  # the summary says OK: a NOT_APPLICABLE would overwrite the last verdict
        with pytest.raises(RuleInvocationError, match="Config's history holds no item with configurationStateId"):
            HANDLERS[spec.rule_id](oversized_event(item, "r"), None)
        return
    assert verdicts(HANDLERS[spec.rule_id](oversized_event(item, "r"), None)) == [
        (item["resourceId"], "NOT_APPLICABLE", "Resource status is ResourceDeleted")
    ]


def test_oversized_summary_without_capture_time_is_found_by_its_state_id_from_the_latest(aws, fixture_item):
    item = fixture_item("sg-open-range.notification")
    event = oversized_event(item, "r")
    invoking = json.loads(event["invokingEvent"])
    del invoking["configurationItemSummary"]["configurationItemCaptureTime"]
    event["invokingEvent"] = json.dumps(invoking)

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        stubber.add_response("get_resource_config_history", {"configurationItems": [api_shape(item)]}, expected_params={
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": SG_ID, "limit": PAGE_LIMIT})
        return stubber

    stub_clients(aws, "config", configure)
    assert verdicts(sg_handler(event, None))[0][1] == "NON_COMPLIANT"


def test_oversized_item_with_broken_configuration_text_is_a_clear_error(aws, fixture_item):
    item = fixture_item("sg-open-range.notification")
    broken = api_shape(item) | {"configuration": "{not json"}

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        stubber.add_response("get_resource_config_history", {"configurationItems": [broken]})
        return stubber

    stub_clients(aws, "config", configure)
    with pytest.raises(RuleInvocationError, match=f"sg-ingress-port-range-restricted: AWS::EC2::SecurityGroup {SG_ID}: configuration is not valid JSON"):
        sg_handler(oversized_event(item, "r"), None)
    assert "PutEvaluations" not in aws.operations()


# --- periodic: nothing flips to NOT_APPLICABLE ------------------------------------------------------------------


# A rule whose declaration is change-triggered only: a ScheduledNotification runs nothing but the exemption pass.
CHANGE_ONLY_RULES = [spec for spec in all_rules() if not spec.declaration["trigger"]["periodic"]]


@pytest.mark.parametrize("spec", CHANGE_ONLY_RULES, ids=lambda spec: spec.rule_id)
def test_scheduled_notification_runs_only_the_exemption_pass_and_flips_nothing(aws, fixture_event, spec):
    event = fixture_event("change-open-range")
    event["invokingEvent"] = json.dumps({"awsAccountId": "123456789012", "notificationCreationTime": "2026-11-20T10:16:03.456Z",
                                         "messageType": "ScheduledNotification", "recordVersion": "1.0"})

    assert HANDLERS[spec.rule_id](event, None) == []
    # rdklib's default would page GetComplianceDetailsByConfigRule and put NOT_APPLICABLE for the rest; the
    # exemption pass asks only for the rule's exempt resources (moto's advanced query answers none).
    assert aws.calls == [("config", "SelectResourceConfig")]


def test_every_rule_is_scheduled_daily_at_least_and_never_flips_change_evaluated_resources():
    """Every change-triggered rule gets the daily exemption pass (perimeter.exemptions), which never flips resources
    (see PackRule); the declared periodic rules (netfw-logging-enabled) retire only what their own complete listing
    no longer holds (tests/test_lambda_periodic.py)."""
    assert perimeter.rule.PackRule.delete_old_evaluations_on_scheduled_notification is False
    assert all(spec.metadata["Parameters"].get("SourcePeriodic") == "TwentyFour_Hours" for spec in all_rules())
    periodic = [spec for spec in all_rules() if spec.declaration["trigger"]["periodic"]]
    assert [spec.rule_id for spec in periodic] == ["netfw-logging-enabled"]
    assert all(callable(getattr(spec.module, "periodic_listing", None)) for spec in periodic)


# --- cross-account mode (ExecutionRoleName) ---------------------------------------------------------------------


def _cross_account_oversized_group_event(fixture_item):
    item = fixture_item("netfw-group-no-rules-source.notification")
    return item, oversized_event(item, "r", ruleParameters=json.dumps({"ExecutionRoleName": "perimeter-execution"}))


def test_role_is_assumed_once_per_invocation_for_every_client(aws, nfw, fixture_item):
    nfw.put_rule_group("big-suricata", "STATEFUL", rules="drop tcp any any -> any 23 (sid:1;)")
    item, event = _cross_account_oversized_group_event(fixture_item)

    def configure(client):
        stubber = OperationStubber(client, "GetResourceConfigHistory")
        stubber.add_response("get_resource_config_history", {"configurationItems": [api_shape(item)]})
        return stubber

    stub_clients(aws, "config", configure)
    assert verdicts(group_handler(event, None))[0][1] == "COMPLIANT"

    # Three clients (config for the item, network-firewall for the rules, config for PutEvaluations), one AssumeRole.
    assert aws.operations() == ["AssumeRole", "GetResourceConfigHistory", "DescribeRuleGroup", "PutEvaluations"]
    role_clients = [client for client in aws.clients if client.meta.service_model.service_name != "sts"]
    assert len(role_clients) == 3
    keys = {client._request_signer._credentials.access_key for client in role_clients}
    assert len(keys) == 1 and keys != {"testing"}  # the assumed role's credentials, not the Lambda's own


def test_each_invocation_assumes_the_role_afresh(aws, fixture_event):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})

    sg_handler(copy.deepcopy(event), None)
    sg_handler(copy.deepcopy(event), None)

    assert aws.operations() == ["AssumeRole", "PutEvaluations"] * 2


@pytest.mark.parametrize("region, sts_host", [("eu-west-1", "sts.eu-west-1.amazonaws.com"),
                                              ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn")])
def test_region_is_respected(aws, fixture_event, monkeypatch, region, sts_host):
    monkeypatch.setenv("AWS_REGION", region)
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})
    event["executionRoleArn"] = event["executionRoleArn"].replace("arn:aws:", "arn:aws-cn:" if region.startswith("cn-") else "arn:aws:")

    sg_handler(event, None)

    assert {client.meta.region_name for client in aws.clients} == {region}
    [sts] = [client for client in aws.clients if client.meta.service_model.service_name == "sts"]
    assert sts.meta.endpoint_url == f"https://{sts_host}"  # regional, in the region's partition


def test_role_arn_carries_the_partition_and_the_evaluated_account(fixture_event):
    rule = perimeter.rule.PackRule(sg_handler.spec)
    event = {"ruleParameters": json.dumps({"ExecutionRoleName": "perimeter-execution"}), "accountId": "210987654321",
             "executionRoleArn": "arn:aws-cn:iam::210987654321:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}
    assert rule.get_execution_role_arn(event) == "arn:aws-cn:iam::210987654321:role/perimeter-execution"


def test_access_denied_on_assume_role_is_explained(aws, fixture_event):
    aws.faults.script("sts", "AssumeRole", denied("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/lambda/x "
                                                  "is not authorized to perform: sts:AssumeRole"))
    event = fixture_event("change-open-range")
    event["accountId"] = "210987654321"
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})

    with pytest.raises(RuleInvocationError) as raised:
        sg_handler(event, None)

    message = str(raised.value)
    assert message.startswith(
        "sg-ingress-port-range-restricted: cannot assume the ExecutionRoleName role "
        "arn:aws:iam::210987654321:role/perimeter-execution: An error occurred (AccessDenied) when calling the AssumeRole operation"
    )
    assert "The role must exist in account 210987654321 with a trust policy that lets this Lambda's role call sts:AssumeRole" in message
    assert "EXECUTION_ROLE_NAME" not in message and "ASSUME_ROLE_MODE" not in message  # rdklib's misleading advice
    assert aws.faults.attempts("sts", "AssumeRole") == 1  # not retried, and no second try on the global endpoint
    assert aws.operations() == ["AssumeRole"]


def test_other_assume_role_errors_keep_their_code(aws, fixture_event):
    """rdklib renames every non-AccessDenied error "InternalError"; the real code is what says what to do."""
    aws.faults.script("sts", "AssumeRole", *[throttle()] * MAX_ATTEMPTS)
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})

    with pytest.raises(RuleInvocationError, match=r"\(Throttling\) when calling the AssumeRole operation \(reached max retries: 2\)") as raised:
        sg_handler(event, None)
    assert "InternalError" not in str(raised.value) and "must exist" not in str(raised.value)


@pytest.mark.parametrize("role_name", ["../admin", "a" * 65, "role name", 42])
def test_invalid_execution_role_name_is_a_clear_error(aws, fixture_event, role_name):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": role_name})

    with pytest.raises(RuleInvocationError, match=r"^sg-ingress-port-range-restricted: parameter ExecutionRoleName: .* is not an IAM role name$"):
        sg_handler(event, None)
    assert aws.calls == []


@pytest.mark.parametrize("account", [None, "12345", 123456789012])
def test_execution_role_name_without_an_account_id_is_a_clear_error(aws, fixture_event, account):
    event = fixture_event("change-open-range")
    event["ruleParameters"] = json.dumps({"ExecutionRoleName": "perimeter-execution"})
    if account is None:
        del event["accountId"]
    else:
        event["accountId"] = account

    with pytest.raises(RuleInvocationError, match="event field accountId .* is not an account id"):
        sg_handler(event, None)


def test_no_credentials_is_a_clear_error(aws, fixture_event, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    with pytest.raises(RuleInvocationError, match="^sg-ingress-port-range-restricted: Unable to locate credentials$"):
        sg_handler(fixture_event("change-open-range"), None)
