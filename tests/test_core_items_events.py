"""perimeter.items (three item shapes, NOT_APPLICABLE reasons) and perimeter.events (invoking events)."""
from __future__ import annotations

import copy
import json

import pytest

from perimeter.events import (
    CHANGE,
    OVERSIZED,
    SCHEDULED,
    EventError,
    invoking_event,
    normalise_event,
    rule_parameters,
)
from perimeter.items import ItemError, configuration_of, normalise_item, not_applicable_reason

SG = "AWS::EC2::SecurityGroup"

# --- items: the three shapes ---------------------------------------------------------------------


def test_notification_shape_is_unchanged(fixture_item):
    raw = fixture_item("sg-open-range.notification")
    before = copy.deepcopy(raw)
    assert normalise_item(raw) == before
    assert raw == before  # the input is not changed


def test_api_shape_becomes_the_notification_shape(fixture_item):
    raw = fixture_item("sg-open-range.api")
    before = copy.deepcopy(raw)
    item = normalise_item(raw)
    assert raw == before
    notification = fixture_item("sg-open-range.notification")
    assert item["configuration"] == notification["configuration"]
    assert item["awsAccountId"] == "123456789012"
    assert item["ARN"] == notification["ARN"]
    assert item["configurationStateMd5Hash"] == ""
    assert item["configurationItemVersion"] == "1.3"
    for api_only in ("accountId", "arn", "configurationItemMD5Hash", "version"):
        assert api_only not in item
    assert item["relationships"] == [
        {"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-0a1b2c3d4e5f60718", "name": "Is contained in Vpc"}
    ]
    assert item["supplementaryConfiguration"] == {}


def test_api_shape_supplementary_values_are_decoded(fixture_item):
    raw = fixture_item("sg-open-range.api")
    raw["supplementaryConfiguration"] = {
        "BucketPolicy": json.dumps({"policyText": None}),
        "Flag": "true",
        "Empty": "",
        "AlreadyDecoded": {"a": 1},
    }
    item = normalise_item(raw)
    assert item["supplementaryConfiguration"] == {
        "BucketPolicy": {"policyText": None},
        "Flag": True,
        "Empty": None,
        "AlreadyDecoded": {"a": 1},
    }


def test_api_shape_empty_configuration_text_is_none(fixture_item):
    raw = fixture_item("sg-open-range.api")
    raw["configuration"] = ""
    raw["configurationItemStatus"] = "ResourceDeleted"
    assert normalise_item(raw)["configuration"] is None


def test_snapshot_entries_are_notification_shaped(fixture_item):
    snapshot = fixture_item("snapshot")
    assert snapshot["fileVersion"] == "1.0"
    items = [normalise_item(entry) for entry in snapshot["configurationItems"]]
    assert items == snapshot["configurationItems"]
    assert [item["resourceId"] for item in items] == [
        "sg-0e1f2a3b4c5d6e7f8",
        "sg-0c1d2e3f4a5b6c7d8",
        "sg-01234567",
        "sg-0a9b8c7d6e5f4a3b2",
    ]
    assert all(isinstance(configuration_of(item), dict) for item in items)


def test_normalise_is_idempotent(fixture_item):
    once = normalise_item(fixture_item("sg-open-range.api"))
    assert normalise_item(once) == once


@pytest.mark.parametrize("field", ["configuration", "supplementaryConfiguration"])
def test_bad_json_text_names_the_item(fixture_item, field):
    raw = fixture_item("sg-open-range.api")
    raw[field] = "{not json"
    with pytest.raises(ItemError) as caught:
        normalise_item(raw)
    assert str(caught.value).startswith(f"AWS::EC2::SecurityGroup sg-0e1f2a3b4c5d6e7f8: {field} is not valid JSON (")


def test_bad_json_in_a_supplementary_value_names_the_key(fixture_item):
    raw = fixture_item("sg-open-range.api")
    raw["supplementaryConfiguration"] = {"Tags": "[1,"}
    with pytest.raises(ItemError, match=r"sg-0e1f2a3b4c5d6e7f8: supplementaryConfiguration\.Tags is not valid JSON"):
        normalise_item(raw)


@pytest.mark.parametrize("raw, kind", [([], "list"), ("text", "str"), (None, "NoneType"), (42, "int")])
def test_non_object_item(raw, kind):
    with pytest.raises(ItemError) as caught:
        normalise_item(raw)
    assert str(caught.value) == f"a configuration item must be a JSON object, not {kind}"


@pytest.mark.parametrize("field", ["resourceId", "resourceType"])
@pytest.mark.parametrize("value", ["<absent>", "", None, 7])
def test_missing_resource_id_or_type(fixture_item, field, value):
    raw = fixture_item("sg-open-range.notification")
    if value == "<absent>":
        del raw[field]
    else:
        raw[field] = value
    with pytest.raises(ItemError) as caught:
        normalise_item(raw)
    assert str(caught.value).startswith(f"configuration item without {field}: ")


def test_missing_resource_id_message_names_what_is_known(fixture_item):
    raw = fixture_item("sg-open-range.notification")
    del raw["resourceId"]
    with pytest.raises(ItemError) as caught:
        normalise_item(raw)
    assert str(caught.value) == "configuration item without resourceId: AWS::EC2::SecurityGroup ?"


# --- items: not_applicable_reason ----------------------------------------------------------------


@pytest.mark.parametrize("status", ["OK", "ResourceDiscovered"])
def test_evaluated_statuses_have_no_reason(fixture_item, status):
    item = fixture_item("sg-open-range.notification")
    item["configurationItemStatus"] = status
    assert not_applicable_reason(item, [SG]) is None


def test_missing_status_counts_as_ok(fixture_item):
    item = fixture_item("sg-open-range.notification")
    del item["configurationItemStatus"]
    assert not_applicable_reason(item, (SG,)) is None


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_gone_statuses(fixture_item, status):
    item = fixture_item("sg-deleted.notification")
    item["configurationItemStatus"] = status
    assert not_applicable_reason(item, [SG]) == f"Resource status is {status}"


def test_gone_status_wins_over_resource_type(fixture_item):
    item = fixture_item("sg-deleted.notification")
    assert not_applicable_reason(item, ["AWS::EC2::VPC"]) == "Resource status is ResourceDeleted"


def test_other_resource_type(fixture_item):
    item = fixture_item("sg-open-range.notification")
    assert (
        not_applicable_reason(item, iter(["AWS::EC2::VPC", "AWS::EC2::Subnet"]))
        == "Resource type AWS::EC2::SecurityGroup is not evaluated by this rule"
    )


def test_unknown_status_is_an_error(fixture_item):
    item = fixture_item("sg-open-range.notification")
    item["configurationItemStatus"] = "Weird"
    with pytest.raises(ItemError, match="sg-0e1f2a3b4c5d6e7f8: unknown configurationItemStatus 'Weird'"):
        not_applicable_reason(item, [SG])


@pytest.mark.parametrize("configuration", [None, "text", [1]])
def test_configuration_of_requires_an_object(fixture_item, configuration):
    item = fixture_item("sg-open-range.notification")
    item["configuration"] = configuration
    with pytest.raises(ItemError) as caught:
        configuration_of(item)
    assert str(caught.value) == "AWS::EC2::SecurityGroup sg-0e1f2a3b4c5d6e7f8: configuration is missing or not an object"


# --- events ---------------------------------------------------------------------------------------


def test_change_event_is_kept(fixture_event):
    raw = fixture_event("change-open-range")
    event = normalise_event(raw)
    assert invoking_event(event) == json.loads(raw["invokingEvent"])
    assert invoking_event(event)["messageType"] == CHANGE
    assert rule_parameters(event) == {}
    assert event["eventLeftScope"] is False
    assert event["resultToken"] == "TESTMODE"
    assert event["executionRoleArn"] == raw["executionRoleArn"]


def test_oversized_event_is_kept(fixture_event):
    event = normalise_event(fixture_event("oversized-open-range"))
    summary = invoking_event(event)["configurationItemSummary"]
    assert invoking_event(event)["messageType"] == OVERSIZED
    assert summary["resourceId"] == "sg-0e1f2a3b4c5d6e7f8"
    assert summary["configurationItemCaptureTime"] == "2026-11-20T10:15:42.123Z"


def test_scheduled_event(fixture_event):
    raw = fixture_event("change-open-range")
    raw["invokingEvent"] = json.dumps({"awsAccountId": "123456789012", "messageType": SCHEDULED})
    assert invoking_event(normalise_event(raw))["messageType"] == SCHEDULED


def test_input_event_is_not_changed(fixture_event):
    raw = fixture_event("change-open-range")
    del raw["eventLeftScope"]
    raw["ruleParameters"] = ""
    before = copy.deepcopy(raw)
    normalise_event(raw)
    assert raw == before


def test_missing_event_left_scope_means_false(fixture_event):
    raw = fixture_event("change-open-range")
    del raw["eventLeftScope"]
    assert normalise_event(raw)["eventLeftScope"] is False


@pytest.mark.parametrize("value", [True, False])
def test_event_left_scope_is_a_json_boolean(fixture_event, value):
    raw = fixture_event("change-open-range")
    raw["eventLeftScope"] = value
    assert normalise_event(raw)["eventLeftScope"] is value


@pytest.mark.parametrize(
    "value, shown",
    [("true", '"true"'), ("false", '"false"'), ("FALSE", '"FALSE"'), (None, "null"), (0, "0"), (1, "1"),
     ([], "[]"), ({"left": True}, '{"left": true}')],
)
def test_event_left_scope_not_a_boolean_is_a_malformed_event(fixture_event, value, shown):
    # "false" as text would have been truthy to rdklib, null neither: never guess which the sender meant.
    raw = fixture_event("change-open-range")
    raw["eventLeftScope"] = value
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == f"event field eventLeftScope must be a JSON boolean (true or false), not {shown}"


def test_missing_execution_role_arn_is_fine(fixture_event):
    raw = fixture_event("change-open-range")
    del raw["executionRoleArn"]
    assert "executionRoleArn" not in normalise_event(raw)


@pytest.mark.parametrize("value", ["<absent>", None, "", "  ", "{}", {}])
def test_rule_parameters_absent_or_empty(fixture_event, value):
    raw = fixture_event("change-open-range")
    if value == "<absent>":
        del raw["ruleParameters"]
    else:
        raw["ruleParameters"] = value
    event = normalise_event(raw)
    assert event["ruleParameters"] == "{}"
    assert rule_parameters(event) == {}


def test_rule_parameters_are_kept(fixture_event):
    raw = fixture_event("change-open-range")
    raw["ruleParameters"] = json.dumps({"maxPorts": "10", "sourceScope": "world"})
    assert rule_parameters(normalise_event(raw)) == {"maxPorts": "10", "sourceScope": "world"}


@pytest.mark.parametrize(
    "value, message",
    [
        ("{maxPorts: 1}", "event field ruleParameters is not valid JSON: "),
        ('["maxPorts"]', "event field ruleParameters must hold a JSON object"),
        ('"text"', "event field ruleParameters must hold a JSON object"),
        (5, "event field ruleParameters must be a JSON string, not int"),
    ],
)
def test_rule_parameters_malformed(fixture_event, value, message):
    raw = fixture_event("change-open-range")
    raw["ruleParameters"] = value
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("value", ["<absent>", None, ""])
def test_invoking_event_missing(fixture_event, value):
    raw = fixture_event("change-open-range")
    if value == "<absent>":
        del raw["invokingEvent"]
    else:
        raw["invokingEvent"] = value
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == "event field invokingEvent is missing"


def test_invoking_event_invalid_json(fixture_event):
    raw = fixture_event("change-open-range")
    raw["invokingEvent"] = raw["invokingEvent"][:-1]
    with pytest.raises(EventError, match=r"^event field invokingEvent is not valid JSON: .* at position \d+$"):
        normalise_event(raw)


def test_invoking_event_not_an_object(fixture_event):
    raw = fixture_event("change-open-range")
    raw["invokingEvent"] = "[]"
    with pytest.raises(EventError, match="^event field invokingEvent must hold a JSON object$"):
        normalise_event(raw)


@pytest.mark.parametrize("message_type", ["ConfigurationSnapshotDeliveryCompleted", None])
def test_unknown_message_type(fixture_event, message_type):
    raw = fixture_event("change-open-range")
    invoking = json.loads(raw["invokingEvent"])
    invoking["messageType"] = message_type
    raw["invokingEvent"] = json.dumps(invoking)
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == (
        f"invokingEvent.messageType {message_type!r} is not one of "
        "ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification"
    )


@pytest.mark.parametrize("item", ["<absent>", None, "text"])
def test_change_without_configuration_item(fixture_event, item):
    raw = fixture_event("change-open-range")
    invoking = json.loads(raw["invokingEvent"])
    if item == "<absent>":
        del invoking["configurationItem"]
    else:
        invoking["configurationItem"] = item
    raw["invokingEvent"] = json.dumps(invoking)
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == "invokingEvent.configurationItem is missing from a change notification"


def test_oversized_without_summary(fixture_event):
    raw = fixture_event("oversized-open-range")
    invoking = json.loads(raw["invokingEvent"])
    del invoking["configurationItemSummary"]
    raw["invokingEvent"] = json.dumps(invoking)
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == "invokingEvent.configurationItemSummary is missing from an oversized notification"


@pytest.mark.parametrize("token", ["<absent>", "", None, 5])
def test_missing_result_token(fixture_event, token):
    raw = fixture_event("change-open-range")
    if token == "<absent>":
        del raw["resultToken"]
    else:
        raw["resultToken"] = token
    with pytest.raises(EventError) as caught:
        normalise_event(raw)
    assert str(caught.value) == "event field resultToken is missing"


@pytest.mark.parametrize("event, kind", [([], "list"), ("{}", "str"), (None, "NoneType")])
def test_event_must_be_an_object(event, kind):
    with pytest.raises(EventError) as caught:
        normalise_event(event)
    assert str(caught.value) == f"the event must be a JSON object, not {kind}"


def test_invoking_event_given_as_an_object(fixture_event):
    raw = fixture_event("change-open-range")
    raw["invokingEvent"] = json.loads(raw["invokingEvent"])
    event = normalise_event(raw)
    assert isinstance(event["invokingEvent"], str)
    assert invoking_event(event)["configurationItem"]["resourceId"] == "sg-0e1f2a3b4c5d6e7f8"


def test_event_error_is_a_value_error():
    assert issubclass(EventError, ValueError)
    assert issubclass(ItemError, ValueError)
