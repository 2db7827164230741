"""perimeter.oversized: the item an oversized notification announces, never its predecessor (issue 10, item 1).

The reproduction runs the Lambda handler with a botocore client that serialises timestamps as older botocore
releases do (``timestamp_precision='legacy'``: whole seconds) against Config's history served over HTTP by a
small backend that answers GetResourceConfigHistory as the API reference describes it: items captured up to
``laterTime``, newest first, ``limit`` per page. Its responses are checked against botocore's output shape.
"""
from __future__ import annotations

import datetime
import json

import boto3
import botocore.session
import pytest
from botocore.serialize import TIMESTAMP_PRECISION_OPTIONS, create_serializer
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from moto import mock_aws

from conftest import load_fixture
from faultinjection import HttpFaults, ok
from perimeter.oversized import MAX_PAGES, PAGE_LIMIT, HistoryMismatchError, fetch_item, history_request
from perimeter.rule import RuleInvocationError
from support import ClientInterceptor
from support import rule_handler

lambda_handler = rule_handler("sg-ingress-port-range-restricted")

UTC = datetime.timezone.utc
SG_ID = "sg-0e1f2a3b4c5d6e7f8"
CAPTURED = datetime.datetime(2026, 11, 20, 10, 15, 42, 123000, UTC)  # the oversized fixture's capture time
NEXT_SECOND = datetime.datetime(2026, 11, 20, 10, 15, 43, tzinfo=UTC)
CONFIG = botocore.session.get_session().get_service_model("config")
HISTORY = CONFIG.operation_model("GetResourceConfigHistory")


def summary(**fields) -> dict:
    invoking = json.loads(load_fixture("events/oversized-open-range.json")["invokingEvent"])
    return {**invoking["configurationItemSummary"], **fields}


def announced_item() -> dict:
    """The item the fixture summary announces (tcp 0-65535 and tcp 443 from the world), in the API shape."""
    return load_fixture("items/sg-open-range.api.json") | {"configurationItemCaptureTime": CAPTURED}


def previous_item() -> dict:
    """The same group twelve seconds earlier, before tcp 0-65535 was opened: COMPLIANT."""
    item = load_fixture("items/sg-open-range.api.json")
    configuration = json.loads(item["configuration"])
    configuration["ipPermissions"] = configuration["ipPermissions"][1:]
    return item | {"configuration": json.dumps(configuration), "configurationStateId": "1763633730000",
                   "configurationItemCaptureTime": datetime.datetime(2026, 11, 20, 10, 15, 30, tzinfo=UTC)}


# --- the request: a whole second strictly after the capture time ----------------------------------------------


@pytest.mark.parametrize(
    "capture_time, later_time",
    [
        ("2026-11-20T10:15:42.123Z", NEXT_SECOND),
        ("2026-11-20T10:15:42.999Z", NEXT_SECOND),
        ("2026-11-20T10:15:42.000Z", NEXT_SECOND),  # strictly after: an item of the same millisecond is inside
        ("2026-11-20T10:15:42Z", NEXT_SECOND),
        ("2026-11-20T11:15:42.123+01:00", NEXT_SECOND),
        ("2026-11-20T10:15:42.123", NEXT_SECOND),  # no zone: Config's times are UTC
    ],
)
def test_history_window_ends_on_the_next_whole_second(capture_time, later_time):
    assert history_request(summary(configurationItemCaptureTime=capture_time)) == {
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": SG_ID, "laterTime": later_time, "limit": PAGE_LIMIT,
    }


def test_history_window_without_capture_time_ends_now():
    without = summary()
    del without["configurationItemCaptureTime"]
    assert "laterTime" not in history_request(without)


@pytest.mark.parametrize("precision", TIMESTAMP_PRECISION_OPTIONS)
def test_later_time_on_the_wire_is_the_same_at_every_timestamp_precision(precision):
    """The old request sent the capture time itself, which 'legacy' truncates to 10:15:42, before the change."""
    serializer = create_serializer(HISTORY.metadata["protocol"], timestamp_precision=precision)
    body = json.loads(serializer.serialize_to_request(history_request(summary()), HISTORY)["body"])
    assert body["laterTime"] == NEXT_SECOND.timestamp() > CAPTURED.timestamp()


# --- picking the item -----------------------------------------------------------------------------------------


@pytest.fixture
def config_client():
    return boto3.client("config", region_name="us-east-1")


def stubbed(client, *pages: dict) -> Stubber:
    stubber = Stubber(client)
    for page in pages:
        stubber.add_response("get_resource_config_history", page)
    stubber.activate()
    return stubber


def test_the_item_with_the_summarys_state_id_is_picked_whatever_its_place(config_client):
    stubbed(config_client, {"configurationItems": [previous_item(), announced_item()]})
    item = fetch_item(config_client, summary())
    assert (item["configurationStateId"], item["configurationItemCaptureTime"]) == ("1763633742123", CAPTURED)
    assert item["configuration"]["ipPermissions"][0]["toPort"] == 65535  # notification shape: decoded


def test_without_state_id_the_exact_capture_time_picks_the_item(config_client):
    newer = announced_item() | {"configurationItemCaptureTime": CAPTURED + datetime.timedelta(milliseconds=1)}
    stubbed(config_client, {"configurationItems": [
        {key: value for key, value in item.items() if key != "configurationStateId"}
        for item in (newer, announced_item(), previous_item())
    ]})
    without_state = summary()
    del without_state["configurationStateId"]
    assert fetch_item(config_client, without_state)["configurationItemCaptureTime"] == CAPTURED


def test_capture_time_off_by_a_float_microsecond_still_matches(config_client):
    # Config answers epoch seconds as a JSON number; botocore's float parsing may land a microsecond off.
    item = announced_item() | {"configurationItemCaptureTime": CAPTURED - datetime.timedelta(microseconds=1)}
    del item["configurationStateId"]
    stubbed(config_client, {"configurationItems": [item]})
    without_state = summary()
    del without_state["configurationStateId"]
    assert fetch_item(config_client, without_state)["resourceId"] == SG_ID


def test_state_id_decides_over_an_equal_capture_time(config_client):
    twin = announced_item() | {"configurationStateId": "1763633742124"}
    stubbed(config_client, {"configurationItems": [twin]})
    with pytest.raises(HistoryMismatchError, match="no item with configurationStateId 1763633742123"):
        fetch_item(config_client, summary())


@pytest.mark.parametrize("field, value", [("resourceId", "sg-0aaaaaaaaaaaaaaaa"), ("resourceType", "AWS::EC2::VPC")])
def test_an_item_of_another_resource_is_an_error(config_client, field, value):
    stubbed(config_client, {"configurationItems": [announced_item() | {field: value}]})
    with pytest.raises(HistoryMismatchError, match="GetResourceConfigHistory answered with an item of"):
        fetch_item(config_client, summary())


def test_pages_are_followed_within_a_bound(config_client):
    pages = [{"configurationItems": [previous_item()], "nextToken": f"t{n}"} for n in range(MAX_PAGES)]
    stubber = stubbed(config_client, *pages)
    with pytest.raises(HistoryMismatchError, match=rf"among the {MAX_PAGES} item\(s\)"):
        fetch_item(config_client, summary())
    stubber.assert_no_pending_responses()


def test_summary_with_neither_state_id_nor_capture_time_is_an_error(config_client):
    anonymous = summary()
    del anonymous["configurationStateId"], anonymous["configurationItemCaptureTime"]
    with pytest.raises(HistoryMismatchError, match="neither configurationStateId nor configurationItemCaptureTime"):
        fetch_item(config_client, anonymous)


def test_other_client_errors_propagate(config_client):
    stubber = Stubber(config_client)
    stubber.add_client_error("get_resource_config_history", "AccessDeniedException", "not authorized")
    stubber.activate()
    with pytest.raises(config_client.exceptions.ClientError, match="AccessDeniedException"):
        fetch_item(config_client, summary())


# --- the reproduction: an older botocore's whole-second timestamps against Config's history -------------------


class ConfigHistory:
    """GetResourceConfigHistory and PutEvaluations over HTTP, from a list of items in the API shape."""

    def __init__(self, items: list[dict]):
        self.items = items
        self.requests: list[dict] = []
        self.evaluations: list[dict] = []

    def __call__(self, operation: str, params: dict, region: str):
        if operation == "PutEvaluations":
            self.evaluations.extend(params["Evaluations"])
            return self._reply(operation, {"FailedEvaluations": []})
        assert operation == "GetResourceConfigHistory", operation
        self.requests.append(params)
        later = params.get("laterTime", float("inf"))  # epoch seconds, as the client serialised them
        history = sorted(
            (item for item in self.items if (item["resourceType"], item["resourceId"]) == (params["resourceType"], params["resourceId"])
             and item["configurationItemCaptureTime"].timestamp() <= later),
            key=lambda item: item["configurationItemCaptureTime"], reverse=True,
        )
        start = int(params.get("nextToken") or 0)
        limit = params.get("limit") or 10
        page = {"configurationItems": history[start:start + limit]}
        if start + limit < len(history):
            page["nextToken"] = str(start + limit)
        return self._reply(operation, page)

    @staticmethod
    def _reply(operation: str, body: dict):
        validate_parameters(body, CONFIG.operation_model(operation).output_shape)  # as Stubber checks a response
        return ok(body)


@pytest.fixture
def legacy_aws(monkeypatch):
    """Clients made by the code under test serialise timestamps to whole seconds; Config answers over HTTP."""
    with mock_aws():  # moto resets boto3's default session when it starts: replace it afterwards
        session = boto3.Session()
        session.events.register(
            "creating-serializer", lambda serializer_kwargs, **_: serializer_kwargs.update(timestamp_precision="legacy")
        )
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
        interceptor = ClientInterceptor(monkeypatch)
        faults = HttpFaults()
        interceptor.on_create.setdefault("config", []).append(faults.attach)
        yield faults


def test_the_old_request_gets_the_previous_item_from_a_legacy_client(legacy_aws):
    """Why the fix: laterTime=<capture time>, limit=1 names 10:15:42.000 on the wire, before the change."""
    history = ConfigHistory([previous_item(), announced_item()])
    legacy_aws.serve("config", history)
    client = boto3.client("config", region_name="us-east-1")

    answer = client.get_resource_config_history(
        resourceType="AWS::EC2::SecurityGroup", resourceId=SG_ID, laterTime="2026-11-20T10:15:42.123Z", limit=1)

    assert history.requests[0]["laterTime"] == int(CAPTURED.timestamp())  # truncated to 10:15:42
    assert [item["configurationStateId"] for item in answer["configurationItems"]] == ["1763633730000"]


def test_oversized_group_opened_to_the_world_is_non_compliant_under_a_legacy_client(legacy_aws):
    """Issue 10 item 1: a group that now opens tcp 0-65535 to 0.0.0.0/0 was judged COMPLIANT (its previous item)."""
    history = ConfigHistory([previous_item(), announced_item()])
    legacy_aws.serve("config", history)

    result = lambda_handler(load_fixture("events/oversized-open-range.json"), None)

    assert [(e["ComplianceResourceId"], e["ComplianceType"], e["Annotation"]) for e in result] == [
        (SG_ID, "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
    ]
    assert [request["laterTime"] for request in history.requests] == [NEXT_SECOND.timestamp()]
    assert [evaluation["ComplianceType"] for evaluation in history.evaluations] == ["NON_COMPLIANT"]


def test_oversized_item_not_yet_in_history_fails_rather_than_judging_the_previous_one(legacy_aws):
    history = ConfigHistory([previous_item()])
    legacy_aws.serve("config", history)

    with pytest.raises(RuleInvocationError, match="holds no item with configurationStateId 1763633742123"):
        lambda_handler(load_fixture("events/oversized-open-range.json"), None)
    assert history.evaluations == []
