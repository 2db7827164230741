"""The remediation functions' one AWS Lambda entry point: ``perimeter.remediation_entry.lambda_handler``.

A rule's runbook does not carry its script: perimeter.runbooks rewrites each ``ScriptFile: remediation.py`` step into
an ``aws:invokeLambdaFunction`` step calling the rule's remediation function, and a short check step. That function
runs this handler from the pack's one artifact; its environment variable ``PERIMETER_RULE_ID`` (set by the
templates, as for the evaluation functions, perimeter.entry) says which rule's ``remediation.handler(events,
context)`` it runs, so the runbook judges with exactly the rule's code.

The event is the step's InputPayload, as ``aws:executeScript`` would have handed it to the script, plus the key
``automation:EXECUTION_ID`` the renderer adds; it is taken out again and handed over as the context the script
would have had (``context['automation:EXECUTION_ID']``, the only documented key). The answer is
``{"RuleId": <rule id>, "Result": <what the handler returned>}``: the check step accepts only that shape, so any
failure (a raised error, which Lambda reports with ``FunctionError``, a timeout, the wrong function) fails the step.
Errors are raised, never returned: they count in the function's Errors metric, which the templates alarm on.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable

from perimeter.registry import rule_by_id

# The variable perimeter.entry reads too: the templates set it on every function of a rule.
RULE_ID_VARIABLE = "PERIMETER_RULE_ID"
# The key under which the runbook passes the automation's execution id (the SSM variable's own name).
EXECUTION_ID_KEY = "automation:EXECUTION_ID"

_handlers: dict[str, Callable[[dict, dict], Any]] = {}


class RemediationInvocationError(Exception):
    """The function cannot run a remediation: no or an unknown rule id, a rule without remediation, a bad event."""


def handler_for_environment() -> tuple[str, Callable[[dict, dict], Any]]:
    """(rule id, its remediation handler), resolved once per execution environment."""
    rule_id = os.environ.get(RULE_ID_VARIABLE, "").strip()
    if not rule_id:
        raise RemediationInvocationError(
            f"the function's environment has no {RULE_ID_VARIABLE}: set it to the rule id this function remediates")
    if rule_id not in _handlers:
        try:
            spec = rule_by_id(rule_id)
        except KeyError as error:
            raise RemediationInvocationError(f"environment variable {RULE_ID_VARIABLE}: {error.args[0]}") from None
        module_name = spec.module.__name__.rpartition(".")[0] + ".remediation"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            raise RemediationInvocationError(f"rule {rule_id} has no remediation ({module_name})") from None
        if not callable(getattr(module, "handler", None)):
            raise RemediationInvocationError(f"{module_name} defines no handler(events, context)")
        _handlers[rule_id] = module.handler
    return rule_id, _handlers[rule_id]


def lambda_handler(event, context):
    rule_id, handler = handler_for_environment()
    if not isinstance(event, dict):
        raise RemediationInvocationError(
            f"the payload must be a JSON object of the runbook step's InputPayload, not {type(event).__name__}")
    events = dict(event)
    script_context = {EXECUTION_ID_KEY: events.pop(EXECUTION_ID_KEY)} if EXECUTION_ID_KEY in events else {}
    # The shape the runbook's check step accepts (perimeter.runbooks.CHECK_SCRIPT).
    return {"RuleId": rule_id, "Result": handler(events, script_context)}
