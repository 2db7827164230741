"""The daily exemption pass every rule runs on a ScheduledNotification (perimeter.periodic.exemption_pass).

Config's advanced query (SelectResourceConfig) and BatchGetResourceConfig come from botocore Stubbers, which
validate every request and response against botocore's service model (moto answers neither for real);
PutEvaluations runs on moto in TestMode. "Today" is set through perimeter.rule.evaluation_date.
"""
from __future__ import annotations

import dataclasses
import json
import types
from datetime import date

import pytest
from moto import mock_aws

import perimeter.rule
from conftest import ACCOUNT_ID, REGION, load_fixture
from perimeter.exemptions import tag_key
from perimeter.periodic import EXEMPTION_PASS_ACTIONS, PeriodicListing, exemption_query
from perimeter.registry import all_rules, rule_by_id
from perimeter.rule import RuleInvocationError, lambda_handler_for
from support import ClientInterceptor, OperationStubber, stub_clients
from tests.builders import api_shape

SG_RULE = "sg-ingress-port-range-restricted"
SG_TYPE = "AWS::EC2::SecurityGroup"
SG_ID = "sg-0e1f2a3b4c5d6e7f8"  # tests/fixtures/items/sg-open-range.notification.json
OPEN = "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        yield ClientInterceptor(monkeypatch)


def on(monkeypatch, day: str) -> None:
    monkeypatch.setattr(perimeter.rule, "evaluation_date", lambda: date.fromisoformat(day))


def scheduled_event(rule_id: str = SG_RULE) -> dict:
    invoking = {"awsAccountId": ACCOUNT_ID, "notificationCreationTime": "2026-12-01T10:00:00.000Z",
                "messageType": "ScheduledNotification", "recordVersion": "1.0"}
    return {"invokingEvent": json.dumps(invoking), "ruleParameters": "{}", "resultToken": "TESTMODE",
            "eventLeftScope": False, "executionRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/config-role",
            "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT_ID}:config-rule/config-rule-abc123",
            "configRuleName": f"perimeter-{rule_id}", "accountId": ACCOUNT_ID, "version": "1.0"}


def row(resource_id: str, tags: dict, resource_type: str = SG_TYPE) -> str:
    """One advanced-query result: JSON text, tags as Config's query returns them."""
    return json.dumps({"resourceId": resource_id, "resourceType": resource_type,
                       "tags": [{"key": key, "value": value} for key, value in tags.items()]})


def recorded_group(value: str | None) -> dict:
    """The open-range group as BatchGetResourceConfig returns it: API shape, no tags map, tags in configuration."""
    item = load_fixture("items/sg-open-range.notification.json")
    item["configuration"]["tags"] = [{"key": "Name", "value": "build-agents"}] + (
        [{"key": tag_key(SG_RULE), "value": value}] if value is not None else [])
    base = api_shape(item)
    return {key: base[key] for key in ("version", "accountId", "configurationItemCaptureTime",
                                       "configurationItemStatus", "configurationStateId", "arn", "resourceType",
                                       "resourceId", "resourceName", "awsRegion", "configuration",
                                       "supplementaryConfiguration")}


def expect(aws, rows: list[str], batches: list[tuple[list[dict], dict]] = (), rule_id: str = SG_RULE,
           types_=(SG_TYPE,)) -> list:
    """Stub the first config client the Lambda creates: one query answering ``rows``, then each BatchGet in turn."""
    stubbers = []

    def configure(client):
        stubber = OperationStubber(client, "SelectResourceConfig", "BatchGetResourceConfig")
        if not stubbers:
            stubber.add_response("select_resource_config", {"Results": rows, "QueryInfo": {"SelectFields": [
                {"Name": "resourceId"}, {"Name": "resourceType"}, {"Name": "tags"}]}},
                {"Expression": exemption_query(rule_id, types_)})
            for keys, response in batches:
                stubber.add_response("batch_get_resource_config", response, {"resourceKeys": keys})
        stubbers.append(stubber)
        return stubber
    stub_clients(aws, "config", configure)
    return stubbers


def delivered(result) -> dict:
    return {e["ComplianceResourceId"]: (e["ComplianceType"], e["Annotation"]) for e in result}


KEY = [{"resourceType": SG_TYPE, "resourceId": SG_ID}]


def test_an_exemption_that_expires_between_two_runs_is_re_evaluated_on_the_first_day_after(aws, monkeypatch):
    handler = lambda_handler_for(rule_by_id(SG_RULE))
    value = "2026-12-01 vendor appliance"

    on(monkeypatch, "2026-12-01")  # the last exempt day: nothing changed since the last pass
    first = expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})])
    assert handler(scheduled_event(), None) == []
    first[0].assert_no_pending_responses()
    assert aws.operations("config") == ["SelectResourceConfig"]

    aws.on_create["config"].clear()
    aws.calls.clear()
    on(monkeypatch, "2026-12-02")  # expired since: re-read and judged, without any configuration change
    second = expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
                    [(KEY, {"baseConfigurationItems": [recorded_group(value)]})])
    assert delivered(handler(scheduled_event(), None)) == {
        SG_ID: ("NON_COMPLIANT", f"{OPEN}; exemption expired 2026-12-01")}
    second[0].assert_no_pending_responses()
    assert aws.operations("config") == ["SelectResourceConfig", "BatchGetResourceConfig", "PutEvaluations"]


def test_a_pass_that_failed_is_caught_up_within_the_lookback_and_not_repeated_after(aws, monkeypatch):
    handler = lambda_handler_for(rule_by_id(SG_RULE))
    value = "2026-12-01 vendor appliance"
    on(monkeypatch, "2026-12-04")  # expired three days ago: the passes of the 2nd and 3rd may have failed
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
           [(KEY, {"baseConfigurationItems": [recorded_group(value)]})])
    assert delivered(handler(scheduled_event(), None))[SG_ID][0] == "NON_COMPLIANT"

    aws.on_create["config"].clear()
    on(monkeypatch, "2026-12-05")  # long expired: that tag is stale, and the resource was judged already
    stubbers = expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})])
    assert handler(scheduled_event(), None) == []
    stubbers[0].assert_no_pending_responses()


def test_a_resource_that_lost_its_tag_is_left_alone(aws, monkeypatch):
    """Removing the tag is a configuration change: Config re-evaluates it then. The pass neither lists it (the query
    no longer returns it, or returns a stale row without the key) nor flips it."""
    on(monkeypatch, "2026-12-02")
    stubbers = expect(aws, [row("sg-0aaaaaaaaaaaaaaaa", {"Name": "was exempt"})])
    assert lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None) == []
    stubbers[0].assert_no_pending_responses()
    assert aws.operations("config") == ["SelectResourceConfig"]  # no BatchGet, no GetComplianceDetails, no put


@pytest.mark.parametrize("tags_now", [[{"key": "Name", "value": "build-agents"}], []],
                         ids=["other tags remain", "no tag remains"])
def test_a_resource_that_lost_its_tag_after_the_querys_index_is_judged_without_it(aws, monkeypatch, tags_now):
    """The query's index still lists the expired tag, but the item BatchGetResourceConfig returns no longer carries
    it (its configuration records its tags, perhaps none): the stale tag does not stand in for the current ones."""
    on(monkeypatch, "2026-12-02")
    current = recorded_group(None)
    current["configuration"] = json.dumps({**json.loads(current["configuration"]), "tags": tags_now})
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): "2026-12-01 vendor appliance"})],
           [(KEY, {"baseConfigurationItems": [current]})])
    assert delivered(lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None)) == {
        SG_ID: ("NON_COMPLIANT", OPEN)}


def test_an_exemption_that_becomes_valid_is_honoured_without_a_change(aws, monkeypatch):
    value = "2027-12-03 migration"  # 367 days ahead on 2026-12-01: too far for maxExemptionDays 365 until 12-03
    on(monkeypatch, "2026-12-03")
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
           [(KEY, {"baseConfigurationItems": [recorded_group(value)]})])
    assert delivered(lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None)) == {
        SG_ID: ("COMPLIANT", f"Exempt until 2027-12-03 (migration): would be NON_COMPLIANT: {OPEN}")}


def test_an_invalid_tag_is_judged_again_on_every_pass(aws, monkeypatch):
    on(monkeypatch, "2026-12-02")
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): "someday"})],
           [(KEY, {"baseConfigurationItems": [recorded_group("someday")]})])
    assert delivered(lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None)) == {
        SG_ID: ("NON_COMPLIANT", f"{OPEN}; exemption tag ignored: no date given (expected 'YYYY-MM-DD reason', "
                                 f"got 'someday')")}


def test_without_tags_in_the_configuration_the_querys_tags_stand_in(aws, monkeypatch):
    """BatchGetResourceConfig's items have no tags map; a rule group's configuration carries none of its own."""
    group = load_fixture("items/netfw-group-stateless-empty.notification.json")
    group.pop("tags")
    rule_id, kind = "netfw-rule-group-not-empty", group["resourceType"]
    on(monkeypatch, "2026-12-02")
    expect(aws, [row(group["resourceId"], {tag_key(rule_id): "2026-12-01 lab"}, kind)],
           [([{"resourceType": kind, "resourceId": group["resourceId"]}],
             {"baseConfigurationItems": [{k: v for k, v in api_shape(group).items() if k != "relatedEvents"
                                          and k != "relationships" and k != "configurationItemMD5Hash"}]})],
           rule_id=rule_id, types_=(kind,))
    verdict = delivered(lambda_handler_for(rule_by_id(rule_id))(scheduled_event(rule_id), None))[group["resourceId"]]
    assert verdict == ("NON_COMPLIANT", "Stateless rule group is empty: no stateless rules; "
                                        "exemption expired 2026-12-01")


def test_unprocessed_keys_are_asked_for_again_and_a_lasting_refusal_fails_the_invocation(aws, monkeypatch):
    value = "2026-12-01 vendor"
    on(monkeypatch, "2026-12-02")
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
           [(KEY, {"baseConfigurationItems": [], "unprocessedResourceKeys": KEY}),
            (KEY, {"baseConfigurationItems": [recorded_group(value)]})])
    assert delivered(lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None))[SG_ID][0] == "NON_COMPLIANT"

    aws.on_create["config"].clear()
    aws.calls.clear()
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
           [(KEY, {"baseConfigurationItems": [], "unprocessedResourceKeys": KEY})] * 3)
    with pytest.raises(RuleInvocationError, match=f"BatchGetResourceConfig left 1 resource\\(s\\) unprocessed after "
                                                  f"3 attempts: {SG_TYPE} {SG_ID}"):
        lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None)
    assert "PutEvaluations" not in aws.operations("config")


def test_a_denied_query_fails_the_invocation_naming_the_call(aws, monkeypatch):
    on(monkeypatch, "2026-12-02")

    def configure(client):
        stubber = OperationStubber(client, "SelectResourceConfig")
        stubber.add_client_error("select_resource_config", "AccessDeniedException", "not authorized")
        return stubber
    stub_clients(aws, "config", configure)
    with pytest.raises(RuleInvocationError, match="AccessDeniedException.*SelectResourceConfig.*check the Lambda role"):
        lambda_handler_for(rule_by_id(SG_RULE))(scheduled_event(), None)


def test_the_query_asks_only_for_the_rules_tag_key_and_types():
    assert exemption_query("netfw-rule-group-not-empty", ("AWS::NetworkFirewall::RuleGroup",)) == (
        "SELECT resourceId, resourceType, tags WHERE resourceType IN ('AWS::NetworkFirewall::RuleGroup') "
        "AND tags.key = 'perimeter:exempt:netfw-rule-group-not-empty'")


@pytest.mark.parametrize("spec", all_rules(), ids=lambda spec: spec.rule_id)
def test_every_rule_is_scheduled_daily_and_may_call_the_pass(spec):
    assert spec.periodic_frequency == "TwentyFour_Hours"
    assert spec.metadata["Parameters"]["SourcePeriodic"] == "TwentyFour_Hours"
    assert {"Action": sorted(EXEMPTION_PASS_ACTIONS), "Resource": ["*"]} in [
        {**statement, "Action": sorted(statement["Action"])} for statement in spec.metadata["Perimeter"]["LambdaActions"]]


# --- a rule with a periodic listing of its own ------------------------------------------------------------------
def own_listing_spec(items: list, complete: bool):
    base = rule_by_id(SG_RULE)
    module = types.ModuleType("synthetic_periodic_rule")
    module.__dict__.update({k: v for k, v in vars(base.module).items() if not k.startswith("__")})
    module.periodic_listing = lambda client_factory, parameters: PeriodicListing(items, complete=complete)
    declaration = {**base.declaration, "trigger": {"change": True, "periodic": "One_Hour"}}
    return dataclasses.replace(base, module=module, declaration=declaration)


def test_a_complete_own_listing_needs_no_exemption_pass(aws, monkeypatch):
    from perimeter.items import normalise_item

    on(monkeypatch, "2026-12-02")
    item = normalise_item(recorded_group("2026-12-01 vendor"))
    spec = own_listing_spec([item], complete=True)
    assert spec.periodic_frequency == "One_Hour"

    def configure(client):
        stubber = OperationStubber(client, "GetComplianceDetailsByConfigRule")
        stubber.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        return stubber
    stub_clients(aws, "config", configure)
    assert delivered(lambda_handler_for(spec)(scheduled_event(), None)) == {
        SG_ID: ("NON_COMPLIANT", f"{OPEN}; exemption expired 2026-12-01")}
    assert "SelectResourceConfig" not in aws.operations("config")


def test_a_partial_own_listing_gets_the_exemption_pass_without_duplicates(aws, monkeypatch):
    from perimeter.items import normalise_item

    on(monkeypatch, "2026-12-02")
    value = "2026-12-01 vendor"
    other = {**normalise_item(recorded_group(None)), "resourceId": "sg-0bbbbbbbbbbbbbbbb"}
    listed = normalise_item(recorded_group(value))
    expect(aws, [row(SG_ID, {tag_key(SG_RULE): value})],
           [(KEY, {"baseConfigurationItems": [recorded_group(value)]})])
    found = delivered(lambda_handler_for(own_listing_spec([listed, other], complete=False))(scheduled_event(), None))
    assert set(found) == {SG_ID, "sg-0bbbbbbbbbbbbbbbb"}
