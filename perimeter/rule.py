"""PackRule: the rdklib ConfigRule every rule's Lambda runs, with rdklib 0.3.10's traps fixed.

- Role: rdklib assumes the event's ``executionRoleArn`` (the Config service-linked role, which a
  Lambda cannot assume). We use the Lambda's own role, and assume ``ExecutionRoleName`` in the
  event's account only when that parameter is given (central-account deployment).
- Errors: ``Evaluator.handle`` returns error dicts for ClientError/ValueError/invalid parameters, so
  the Lambda would "succeed" and Config would record nothing. We raise instead.
- Events: missing ``eventLeftScope``/``ruleParameters`` and ``ruleParameters: ""`` are normalised
  before rdklib reads them (see perimeter.events).
- Oversized items: rdklib fetches the *latest* item; we fetch the one the notification announces, by its
  configurationStateId, from a window that does not depend on sub-second timestamps (perimeter.oversized).
- Delivery: rdklib sends an empty ``Evaluations=[]`` call and ignores ``FailedEvaluations``; we send
  nothing when there is nothing, re-send failed ones (bounded) and fail the invocation naming them.
- Cross-account role: rdklib's ClientFactory calls AssumeRole against a hard-coded STS endpoint, calls it
  a second time on the global endpoint after any failure, renames every other error "InternalError",
  and explains AccessDenied with parameters this pack does not have (EXECUTION_ROLE_NAME,
  ASSUME_ROLE_MODE). PackClientFactory assumes the role once per invocation through botocore's
  regional endpoint and says what the role needs.
- Scheduled notifications: a periodic rule lists its resources itself (perimeter.periodic); each is reported
  under its own type and id, and only a complete listing retires resources the rule reported before. rdklib's
  delete_old_evaluations_on_scheduled_notification (flip every unreturned resource) stays off. Every rule gets
  the daily exemption pass (a partial listing: it flips nothing).
- Exemptions are judged at today's date in UTC (perimeter.exemptions.evaluation_date), once per invocation.
The last three replace rdklib module names; the tests check those names still exist (rdklib < 0.4).
"""
from __future__ import annotations

import json
import logging
import os
import re

# botocore reads this when a client is created; standard mode retries throttling and 5xx with backoff.
os.environ.setdefault("AWS_RETRY_MODE", "standard")

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402
import rdklib.evaluator  # noqa: E402
import rdklib.util.evaluations  # noqa: E402
from rdklib import ConfigRule, Evaluation, Evaluator, InvalidParametersError  # noqa: E402

from perimeter.events import EventError, normalise_event  # noqa: E402
from perimeter.exemptions import evaluation_date  # noqa: E402
from perimeter.items import ItemError, normalise_item  # noqa: E402
from perimeter.oversized import HistoryMismatchError, fetch_item  # noqa: E402
from perimeter.parameters import ParameterError  # noqa: E402
from perimeter.periodic import GONE_ANNOTATION, ExemptionPassError  # noqa: E402
from perimeter.verdicts import NOT_APPLICABLE  # noqa: E402
from perimeter.registry import RuleSpec  # noqa: E402

LOG = logging.getLogger("perimeter")
LOG.setLevel(os.environ.get("PERIMETER_LOG_LEVEL", "INFO"))

PUT_EVALUATIONS_BATCH = 100  # the API's limit per call
DELIVERY_ATTEMPTS = 3
ROLE_SESSION_NAME = "perimeter-config-rule"
ROLE_SESSION_SECONDS = 900  # the minimum; an invocation lasts at most 15 minutes
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM role names
_ACCOUNT_ID = re.compile(r"^\d{12}$")


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
        # A tool may send the API shape (configuration as JSON text); rdklib keeps the raw item for
        # the evaluation's resource id and ordering timestamp, which normalising does not change.
        configuration_item = normalise_item(configuration_item)
        if not left_scope:
            try:
                configuration_item = self.spec.complete(configuration_item, client_factory)
            except botocore.exceptions.ClientError as error:  # rdklib would keep only its code and message
                raise RuleInvocationError(client_error_message(error)) from error
        verdict = self.spec.evaluate(configuration_item, valid_rule_parameters, left_scope=left_scope,
                                     as_of=evaluation_date())
        log_json(
            rule=self.spec.rule_id,
            configRuleName=event.get("configRuleName"),
            resourceType=configuration_item.get("resourceType"),
            resourceId=configuration_item.get("resourceId"),
            verdict=verdict.compliance,
            annotation=verdict.annotation,
        )
        return [Evaluation(verdict.compliance, annotation=verdict.annotation)]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        """A ScheduledNotification: the resources the rule lists itself, each judged by its pure evaluation.

        A change-triggered rule lists only the resources whose exemption changed state (the exemption pass) and
        flips nothing else. With a complete listing, resources this rule reported earlier that are no longer listed
        are reported NOT_APPLICABLE once (perimeter.periodic); nothing else is touched.
        """
        as_of = evaluation_date()
        try:
            listing = self.spec.periodic_listing(client_factory, valid_rule_parameters, as_of)
        except botocore.exceptions.ClientError as error:
            raise RuleInvocationError(client_error_message(error)) from error
        except ExemptionPassError as error:
            raise RuleInvocationError(str(error)) from error
        evaluations, seen = [], set()
        for item in listing.items:
            verdict = self.spec.evaluate(item, valid_rule_parameters, as_of=as_of)
            key = (item["resourceType"], item["resourceId"])
            if key in seen:
                raise RuleInvocationError(f"the periodic listing holds {key[0]} {key[1]} twice")
            seen.add(key)
            evaluations.append(Evaluation(verdict.compliance, key[1], key[0], verdict.annotation))
        if listing.complete:
            for resource_type, resource_id in reported_resources(client_factory, event, self.spec.resource_types):
                if (resource_type, resource_id) not in seen:
                    evaluations.append(Evaluation(NOT_APPLICABLE, resource_id, resource_type, GONE_ANNOTATION))
        log_json(rule=self.spec.rule_id, configRuleName=event.get("configRuleName"), periodic=True,
                 evaluated=len(seen), gone=len(evaluations) - len(seen), complete=listing.complete)
        return evaluations

    # --- role: the Lambda's own, or ExecutionRoleName in the evaluated account -------------------
    def get_execution_role_arn(self, event):
        role_name = json.loads(event["ruleParameters"]).get("ExecutionRoleName")
        if role_name is None or (isinstance(role_name, str) and not role_name.strip()):
            return None
        if not isinstance(role_name, str) or not _ROLE_NAME.match(role_name.strip()):
            raise ParameterError(f"parameter ExecutionRoleName: {role_name!r} is not an IAM role name")
        if not isinstance(event.get("accountId"), str) or not _ACCOUNT_ID.match(event["accountId"]):
            raise EventError(
                f"event field accountId {event.get('accountId')!r} is not an account id (needed for ExecutionRoleName)"
            )
        role_name = role_name.strip()
        partition = "aws"
        for arn in (event.get("executionRoleArn"), event.get("configRuleArn")):
            if isinstance(arn, str) and arn.startswith("arn:"):
                partition = arn.split(":")[1]
                break
        return f"arn:{partition}:iam::{event['accountId']}:role/{role_name}"

    def get_assume_role_mode(self, event):
        return self.get_execution_role_arn(event) is not None

    def get_assume_role_region(self, event):
        return None  # the Lambda's region (AWS_REGION): Config invokes rules in their own region


class PackClientFactory:
    """Replacement for rdklib's ClientFactory, which rdklib's Evaluator builds once per invocation.

    Without a role ARN: clients with the Lambda's own credentials. With one (ExecutionRoleName): the role
    is assumed once, on first use, through the regional STS endpoint botocore resolves for the Lambda's
    region and partition; every client of the invocation shares those credentials. A failure raises
    RuleInvocationError saying what the role needs, with the service's own error code and message.
    """

    def __init__(self, role_arn=None, region=None, assume_role_mode=True):
        self.role_arn = role_arn if assume_role_mode else None
        self.region = region or os.environ.get("AWS_REGION") or None  # None: botocore's own lookup
        self._credentials = None

    def build_client(self, service, region=None, assume_role_mode=True):
        region = region or self.region
        if not (assume_role_mode and self.role_arn):
            return boto3.client(service, region_name=region)
        credentials = self.assumed_credentials()
        return boto3.client(
            service,
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def assumed_credentials(self) -> dict:
        if self._credentials is None:
            sts = boto3.client("sts", region_name=self.region)
            try:
                response = sts.assume_role(
                    RoleArn=self.role_arn, RoleSessionName=ROLE_SESSION_NAME, DurationSeconds=ROLE_SESSION_SECONDS
                )
            except botocore.exceptions.ClientError as error:
                raise RuleInvocationError(assume_role_message(self.role_arn, error)) from error
            self._credentials = response["Credentials"]
        return self._credentials


def reported_resources(client_factory, event, resource_types) -> list[tuple[str, str]]:
    """(type, id) of every resource this rule reported COMPLIANT or NON_COMPLIANT, of the rule's types."""
    config_client = client_factory.build_client("config")
    found = []
    pages = config_client.get_paginator("get_compliance_details_by_config_rule").paginate(
        ConfigRuleName=event["configRuleName"], ComplianceTypes=["COMPLIANT", "NON_COMPLIANT"])
    try:
        for page in pages:
            for result in page.get("EvaluationResults") or []:
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                if qualifier["ResourceType"] in resource_types:
                    found.append((qualifier["ResourceType"], qualifier["ResourceId"]))
    except botocore.exceptions.ClientError as error:
        raise RuleInvocationError(f"cannot read this rule's earlier results to retire deleted resources: "
                                  f"{client_error_message(error)}") from error
    return found


def assume_role_message(role_arn: str, error: botocore.exceptions.ClientError) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = f"cannot assume the ExecutionRoleName role {role_arn}: {error}"
    if "AccessDenied" in code:
        account = role_arn.split(":")[4]
        message += (
            f". The role must exist in account {account} with a trust policy that lets this Lambda's role call"
            f" sts:AssumeRole, and this Lambda's role needs sts:AssumeRole on {role_arn}"
        )
    return message


def fetch_oversized_item(config_client, invoking_event: dict) -> dict:
    """Replacement for rdklib's inflate_oversized_notification: the item the summary announces (see
    perimeter.oversized), or RuleInvocationError when Config's history does not hold it."""
    try:
        item = fetch_item(config_client, invoking_event["configurationItemSummary"])
    except HistoryMismatchError as error:
        raise RuleInvocationError(str(error)) from None
    return {
        "configurationItem": item,
        "notificationCreationTime": invoking_event.get("notificationCreationTime"),
        "messageType": invoking_event["messageType"],
        "recordVersion": invoking_event.get("recordVersion"),
    }


def deliver_evaluations(event, client_factory, evaluations):
    """Replacement for rdklib's process_evaluations: batches of 100, failed ones re-sent, no empty call.

    Every batch is sent even when an earlier one had evaluations rejected for good, so nothing that can be
    delivered is lost; the invocation then fails naming the rejected ones. An API error (botocore's
    retries spent) stops the delivery at once and says how many evaluations had been delivered.
    """
    if not evaluations:
        return []
    config_client = client_factory.build_client("config")
    token = event["resultToken"]
    rejected = []
    for start in range(0, len(evaluations), PUT_EVALUATIONS_BATCH):
        pending = evaluations[start : start + PUT_EVALUATIONS_BATCH]
        for _ in range(DELIVERY_ATTEMPTS):
            try:
                response = config_client.put_evaluations(
                    Evaluations=pending, ResultToken=token, TestMode=token == "TESTMODE"
                )
            except botocore.exceptions.ClientError as error:  # throttling and 5xx: botocore's retries are spent
                delivered = start - len(rejected)
                raise RuleInvocationError(
                    f"{client_error_message(error)} ({delivered} of {len(evaluations)} evaluation(s) were delivered)"
                ) from error
            failed = {
                (entry.get("ComplianceResourceType"), entry.get("ComplianceResourceId"))
                for entry in response.get("FailedEvaluations") or []
            }
            pending = [e for e in pending if (e["ComplianceResourceType"], e["ComplianceResourceId"]) in failed]
            if not pending:
                break
        rejected.extend(pending)
    if rejected:
        names = ", ".join(f"{e['ComplianceResourceType']} {e['ComplianceResourceId']}" for e in rejected[:10])
        more = f" (+{len(rejected) - 10} more)" if len(rejected) > 10 else ""
        raise RuleInvocationError(
            f"PutEvaluations kept rejecting {len(rejected)} evaluation(s) (of {len(evaluations)}) after "
            f"{DELIVERY_ATTEMPTS} attempts: {names}{more}"
        )
    return evaluations


rdklib.evaluator.inflate_oversized_notification = fetch_oversized_item
rdklib.util.evaluations.process_evaluations = deliver_evaluations
rdklib.evaluator.ClientFactory = PackClientFactory


def _error_message(rule_id: str, response: dict) -> str:
    code = response.get("customerErrorCode")
    detail = response.get("customerErrorMessage") or response.get("internalErrorDetails")
    summary = response.get("internalErrorMessage")
    parts = [part for part in (code, summary, detail) if part]
    return f"{rule_id}: " + ": ".join(dict.fromkeys(parts))


def client_error_message(error: botocore.exceptions.ClientError) -> str:
    """botocore's text (code, operation, retries spent, message), with a hint for denied calls."""
    code = error.response.get("Error", {}).get("Code", "")
    hint = ""
    if "AccessDenied" in code or "UnauthorizedOperation" in code:
        hint = " (check the Lambda role, or the ExecutionRoleName role and its trust policy in that account)"
    return f"{error}{hint}"


class _EveryResourceType(tuple):
    """rdklib's expected resource types, matching every type: an item of another type reaches
    RuleSpec.evaluate, whose NOT_APPLICABLE carries its reason (rdklib's carries no annotation)."""

    def __contains__(self, resource_type) -> bool:
        return True


def lambda_handler_for(spec: RuleSpec) -> callable:
    """The Lambda handler of one rule (perimeter.entry picks the rule from the function's environment)."""

    def lambda_handler(event, context):
        try:
            event = normalise_event(event)
        except EventError as error:
            raise RuleInvocationError(f"{spec.rule_id}: malformed invoking event: {error}") from None
        # is_applicable_status=True and every resource type: deleted items, eventLeftScope and other
        # types reach our evaluation, which gives NOT_APPLICABLE *with* its reason.
        evaluator = Evaluator(PackRule(spec), _EveryResourceType(spec.resource_types), is_applicable_status=True)
        try:
            result = evaluator.handle(event, context)
        except RuleInvocationError as error:  # ours, raised through rdklib: name the rule
            raise RuleInvocationError(f"{spec.rule_id}: {error}") from error.__cause__
        except botocore.exceptions.ClientError as error:  # rdklib lets the oversized fetch escape
            raise RuleInvocationError(f"{spec.rule_id}: {client_error_message(error)}") from error
        except botocore.exceptions.BotoCoreError as error:  # no credentials, no endpoint, a request botocore refuses
            one_line = " ".join(str(error).split())  # ParamValidationError spans lines
            raise RuleInvocationError(f"{spec.rule_id}: {one_line}") from error
        except (EventError, ItemError, ParameterError) as error:  # raised outside rdklib's own try
            raise RuleInvocationError(f"{spec.rule_id}: {error}") from None
        except Exception as error:  # a bug: still a RuleInvocationError, with the original attached
            LOG.exception("unexpected error")
            raise RuleInvocationError(
                f"{spec.rule_id}: unexpected error (a bug in the rule pack): {type(error).__name__}: {error}"
            ) from error
        if isinstance(result, dict):
            raise RuleInvocationError(_error_message(spec.rule_id, result))
        return result

    lambda_handler.spec = spec
    return lambda_handler
