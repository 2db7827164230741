"""Invoking events as AWS Config sends them to a custom Lambda rule, checked before rdklib reads them.

rdklib raises KeyError or JSONDecodeError on events Config legitimately sends (no ``eventLeftScope``,
no ``executionRoleArn``, ``ruleParameters`` absent or ``""``); normalising first keeps those events
working and turns the truly malformed ones into an EventError that says what is wrong.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

CHANGE = "ConfigurationItemChangeNotification"
OVERSIZED = "OversizedConfigurationItemChangeNotification"
SCHEDULED = "ScheduledNotification"
MESSAGE_TYPES = (CHANGE, OVERSIZED, SCHEDULED)


class EventError(ValueError):
    """The invoking event is malformed; the message names the field."""


def _decode_object(event: dict, field: str, empty_means: str | None) -> dict:
    value = event.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if empty_means is None:
            raise EventError(f"event field {field} is missing")
        value = empty_means
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise EventError(f"event field {field} must be a JSON string, not {type(value).__name__}")
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError as error:
        raise EventError(f"event field {field} is not valid JSON: {error.msg} at position {error.pos}") from None
    if not isinstance(decoded, dict):
        raise EventError(f"event field {field} must hold a JSON object")
    return decoded


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_item(item: dict, where: str, *, capture_time_required: bool) -> dict:
    """The fields rdklib and PutEvaluations read from the event's item, checked so that a malformed
    item is an EventError naming the field rather than a KeyError (or a rejected PutEvaluations) later."""
    for name in ("resourceType", "resourceId"):
        if not _text(item.get(name)):
            raise EventError(f"{where}.{name} is missing or not a non-empty string")
    capture_time = item.get("configurationItemCaptureTime")
    if capture_time is not None or capture_time_required:
        try:  # PutEvaluations' OrderingTimestamp is this time: it must be one
            datetime.fromisoformat(capture_time)
        except (TypeError, ValueError):
            raise EventError(
                f"{where}.configurationItemCaptureTime {capture_time!r} is not an ISO 8601 time"
            ) from None
    status = item.get("configurationItemStatus")
    if status is None:  # as perimeter.items reads it; rdklib would raise KeyError
        return {**item, "configurationItemStatus": "OK"}
    if not isinstance(status, str):
        raise EventError(f"{where}.configurationItemStatus {status!r} is not a string")
    return item


def normalise_event(event: Any) -> dict:
    """A copy of the event that rdklib can read; EventError when it cannot be made one."""
    if not isinstance(event, dict):
        raise EventError(f"the event must be a JSON object, not {type(event).__name__}")
    invoking = _decode_object(event, "invokingEvent", empty_means=None)
    message_type = invoking.get("messageType")
    if message_type not in MESSAGE_TYPES:
        raise EventError(f"invokingEvent.messageType {message_type!r} is not one of {', '.join(MESSAGE_TYPES)}")
    if message_type == CHANGE:
        if not isinstance(invoking.get("configurationItem"), dict):
            raise EventError("invokingEvent.configurationItem is missing from a change notification")
        invoking["configurationItem"] = _check_item(
            invoking["configurationItem"], "invokingEvent.configurationItem", capture_time_required=True
        )
    if message_type == OVERSIZED:
        if not isinstance(invoking.get("configurationItemSummary"), dict):
            raise EventError("invokingEvent.configurationItemSummary is missing from an oversized notification")
        _check_item(
            invoking["configurationItemSummary"], "invokingEvent.configurationItemSummary", capture_time_required=False
        )
    parameters = _decode_object(event, "ruleParameters", empty_means="{}")
    if not isinstance(event.get("resultToken"), str) or not event["resultToken"]:
        raise EventError("event field resultToken is missing")
    left_scope = event.get("eventLeftScope", False)  # absent: Config sends it, but rdklib must not KeyError
    if not isinstance(left_scope, bool):  # "false" would be truthy, null neither: never guess which was meant
        shown = json.dumps(left_scope, default=repr)
        raise EventError(
            f"event field eventLeftScope must be a JSON boolean (true or false), not {shown[:60]}"
        )
    return {
        **event,
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters),
        "eventLeftScope": left_scope,
    }


def invoking_event(event: dict) -> dict:
    return json.loads(event["invokingEvent"])


def rule_parameters(event: dict) -> dict:
    return json.loads(event["ruleParameters"])
