"""PackRule: the rdklib ConfigRule every rule's Lambda runs, with rdklib 0.3.10's traps fixed.

- Role: rdklib assumes the event's ``executionRoleArn`` (the Config service-linked role, which a
  Lambda cannot assume). We use the Lambda's own role, and assume ``ExecutionRoleName`` in the
  event's account only when that parameter is given (central-account deployment).
- Errors: ``Evaluator.handle`` returns error dicts for ClientError/ValueError/invalid parameters, so
  the Lambda would "succeed" and Config would record nothing. We raise instead.
- Events: missing ``eventLeftScope``/``ruleParameters`` and ``ruleParameters: ""`` are normalised
  before rdklib reads them (see perimeter.events).
- Oversized items: rdklib fetches the *latest* item; we fetch the one at the notification's capture
  time (``laterTime``) and convert it from the API shape with perimeter.items.
- Delivery: rdklib sends an empty ``Evaluations=[]`` call and ignores ``FailedEvaluations``; we send
  nothing when there is nothing, re-send failed ones (bounded) and fail the invocation naming them.
The last two replace rdklib module functions; the tests check those names still exist (rdklib < 0.4).
"""
from __future__ import annotations

import json
import logging
import os

# botocore reads this when a client is created; standard mode retries throttling and 5xx with backoff.
os.environ.setdefault("AWS_RETRY_MODE", "standard")

import botocore.exceptions  # noqa: E402
import rdklib.evaluator  # noqa: E402
import rdklib.util.evaluations  # noqa: E402
from rdklib import ConfigRule, Evaluation, Evaluator, InvalidParametersError  # noqa: E402

from perimeter.events import EventError, normalise_event  # noqa: E402
from perimeter.items import normalise_item  # noqa: E402
from perimeter.parameters import ParameterError  # noqa: E402
from perimeter.registry import RuleSpec, load_rule  # noqa: E402

LOG = logging.getLogger("perimeter")
LOG.setLevel(os.environ.get("PERIMETER_LOG_LEVEL", "INFO"))

PUT_EVALUATIONS_BATCH = 100  # the API's limit per call
DELIVERY_ATTEMPTS = 3


class RuleInvocationError(RuntimeError):
    """The invocation failed; raised so that Lambda and Config record a failure, with what to fix."""


def log_json(**fields) -> None:
    LOG.info(json.dumps(fields, sort_keys=True, default=str))


class PackRule(ConfigRule):
    # A pack rule never flips resources it did not evaluate to NOT_APPLICABLE (rdklib's default does).
    delete_old_evaluations_on_scheduled_notification = False

    def __init__(self, spec: RuleSpec):
        super().__init__()
        self.spec = spec

    def evaluate_parameters(self, rule_parameters):
        try:
            return self.spec.parse_parameters(rule_parameters)
        except ParameterError as error:
            raise InvalidParametersError(f"{self.spec.rule_id}: {error}") from None

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        left_scope = event["eventLeftScope"]
        if not left_scope:
            configuration_item = self.spec.complete(configuration_item, client_factory)
        verdict = self.spec.evaluate(configuration_item, valid_rule_parameters, left_scope=left_scope)
        log_json(
            rule=self.spec.rule_id,
            configRuleName=event.get("configRuleName"),
            resourceType=configuration_item.get("resourceType"),
            resourceId=configuration_item.get("resourceId"),
            verdict=verdict.compliance,
            annotation=verdict.annotation,
        )
        return [Evaluation(verdict.compliance, annotation=verdict.annotation)]

    # --- role: the Lambda's own, or ExecutionRoleName in the evaluated account -------------------
    def get_execution_role_arn(self, event):
        role_name = json.loads(event["ruleParameters"]).get("ExecutionRoleName")
        if not role_name:
            return None
        partition = "aws"
        for arn in (event.get("executionRoleArn"), event.get("configRuleArn")):
            if isinstance(arn, str) and arn.startswith("arn:"):
                partition = arn.split(":")[1]
                break
        return f"arn:{partition}:iam::{event['accountId']}:role/{role_name}"

    def get_assume_role_mode(self, event):
        return bool(json.loads(event["ruleParameters"]).get("ExecutionRoleName"))

    def get_assume_role_region(self, event):
        return None  # the Lambda's region (AWS_REGION): Config invokes rules in their own region


def fetch_oversized_item(config_client, invoking_event: dict) -> dict:
    """Replacement for rdklib's inflate_oversized_notification: the item as of its capture time."""
    summary = invoking_event["configurationItemSummary"]
    request = {
        "resourceType": summary["resourceType"],
        "resourceId": summary["resourceId"],
        "limit": 1,
    }
    if summary.get("configurationItemCaptureTime"):
        request["laterTime"] = summary["configurationItemCaptureTime"]
    try:
        history = config_client.get_resource_config_history(**request).get("configurationItems") or []
    except config_client.exceptions.ResourceNotDiscoveredException:
        history = []
    if history:
        item = normalise_item(history[0])
    else:  # gone from Config's history: nothing left to judge
        item = {**summary, "configurationItemStatus": "ResourceNotRecorded", "configuration": None}
    return {
        "configurationItem": item,
        "notificationCreationTime": invoking_event.get("notificationCreationTime"),
        "messageType": invoking_event["messageType"],
        "recordVersion": invoking_event.get("recordVersion"),
    }


def deliver_evaluations(event, client_factory, evaluations):
    """Replacement for rdklib's process_evaluations: batches of 100, failed ones re-sent, no empty call."""
    if not evaluations:
        return []
    config_client = client_factory.build_client("config")
    token = event["resultToken"]
    for start in range(0, len(evaluations), PUT_EVALUATIONS_BATCH):
        pending = evaluations[start : start + PUT_EVALUATIONS_BATCH]
        for _ in range(DELIVERY_ATTEMPTS):
            response = config_client.put_evaluations(
                Evaluations=pending, ResultToken=token, TestMode=token == "TESTMODE"
            )
            failed = {
                (entry.get("ComplianceResourceType"), entry.get("ComplianceResourceId"))
                for entry in response.get("FailedEvaluations") or []
            }
            pending = [e for e in pending if (e["ComplianceResourceType"], e["ComplianceResourceId"]) in failed]
            if not pending:
                break
        else:
            names = ", ".join(f"{e['ComplianceResourceType']} {e['ComplianceResourceId']}" for e in pending)
            raise RuleInvocationError(
                f"PutEvaluations kept rejecting {len(pending)} evaluation(s) after {DELIVERY_ATTEMPTS} attempts: {names}"
            )
    return evaluations


rdklib.evaluator.inflate_oversized_notification = fetch_oversized_item
rdklib.util.evaluations.process_evaluations = deliver_evaluations


def _error_message(rule_id: str, response: dict) -> str:
    code = response.get("customerErrorCode")
    detail = response.get("customerErrorMessage") or response.get("internalErrorDetails")
    summary = response.get("internalErrorMessage")
    parts = [part for part in (code, summary, detail) if part]
    return f"{rule_id}: " + ": ".join(dict.fromkeys(parts))


def _client_error_message(rule_id: str, error: botocore.exceptions.ClientError) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    hint = ""
    if "AccessDenied" in code or "UnauthorizedOperation" in code:
        hint = " (check the Lambda role, or the ExecutionRoleName role and its trust policy in that account)"
    return f"{rule_id}: {error}{hint}"


def lambda_handler_for(module) -> callable:
    """The Lambda entry point for a rule module (``rules.<folder>.rule``)."""
    spec = load_rule(module.__name__)

    def lambda_handler(event, context):
        try:
            event = normalise_event(event)
        except EventError as error:
            raise RuleInvocationError(f"{spec.rule_id}: malformed invoking event: {error}") from None
        # is_applicable_status=True: deleted items and eventLeftScope reach our evaluation, which gives
        # NOT_APPLICABLE *with* its reason (rdklib's own NOT_APPLICABLE carries no annotation).
        evaluator = Evaluator(PackRule(spec), list(spec.resource_types), is_applicable_status=True)
        try:
            result = evaluator.handle(event, context)
        except botocore.exceptions.ClientError as error:  # rdklib lets the oversized fetch escape
            raise RuleInvocationError(_client_error_message(spec.rule_id, error)) from error
        if isinstance(result, dict):
            raise RuleInvocationError(_error_message(spec.rule_id, result))
        return result

    lambda_handler.spec = spec
    return lambda_handler
