"""Invoking events as AWS Config sends them to a custom Lambda rule, checked before rdklib reads them.

rdklib raises KeyError or JSONDecodeError on events Config legitimately sends (no ``eventLeftScope``,
no ``executionRoleArn``, ``ruleParameters`` absent or ``""``); normalising first keeps those events
working and turns the truly malformed ones into an EventError that says what is wrong.
"""
from __future__ import annotations

import json
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


def normalise_event(event: Any) -> dict:
    """A copy of the event that rdklib can read; EventError when it cannot be made one."""
    if not isinstance(event, dict):
        raise EventError(f"the event must be a JSON object, not {type(event).__name__}")
    invoking = _decode_object(event, "invokingEvent", empty_means=None)
    message_type = invoking.get("messageType")
    if message_type not in MESSAGE_TYPES:
        raise EventError(f"invokingEvent.messageType {message_type!r} is not one of {', '.join(MESSAGE_TYPES)}")
    if message_type == CHANGE and not isinstance(invoking.get("configurationItem"), dict):
        raise EventError("invokingEvent.configurationItem is missing from a change notification")
    if message_type == OVERSIZED and not isinstance(invoking.get("configurationItemSummary"), dict):
        raise EventError("invokingEvent.configurationItemSummary is missing from an oversized notification")
    parameters = _decode_object(event, "ruleParameters", empty_means="{}")
    if not isinstance(event.get("resultToken"), str) or not event["resultToken"]:
        raise EventError("event field resultToken is missing")
    left_scope = event.get("eventLeftScope", False)
    if isinstance(left_scope, str):  # some tools serialise booleans as text
        left_scope = left_scope.lower() == "true"
    return {
        **event,
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters),
        "eventLeftScope": bool(left_scope),
    }


def invoking_event(event: dict) -> dict:
    return json.loads(event["invokingEvent"])


def rule_parameters(event: dict) -> dict:
    return json.loads(event["ruleParameters"])
