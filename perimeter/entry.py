"""The one AWS Lambda entry point of the pack: ``perimeter.entry.lambda_handler``.

Every rule's function runs this handler from the same artifact; the function's environment variable
``PERIMETER_RULE_ID`` (set by the templates) says which rule it evaluates. The rule is resolved once per
execution environment (cold start); a missing or unknown id fails every invocation with a message saying what
to set, never an empty success.
"""
from __future__ import annotations

import os

from perimeter.rule import RuleInvocationError, lambda_handler_for
from perimeter.registry import rule_by_id

RULE_ID_VARIABLE = "PERIMETER_RULE_ID"

_handlers: dict = {}


def handler_for_environment() -> callable:
    rule_id = os.environ.get(RULE_ID_VARIABLE, "").strip()
    if not rule_id:
        raise RuleInvocationError(
            f"the function's environment has no {RULE_ID_VARIABLE}: set it to the rule id this function evaluates"
        )
    if rule_id not in _handlers:
        try:
            spec = rule_by_id(rule_id)
        except KeyError as error:
            raise RuleInvocationError(f"environment variable {RULE_ID_VARIABLE}: {error.args[0]}") from None
        _handlers[rule_id] = lambda_handler_for(spec)
    return _handlers[rule_id]


def lambda_handler(event, context):
    return handler_for_environment()(event, context)
