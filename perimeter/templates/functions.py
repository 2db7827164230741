"""A rule's Lambda functions and what comes with each: its log group, its role, the alarm on its errors, the stack
output of its ARN; for the evaluation function also Config's permission to invoke it. Every rule has an evaluation
function (Config invokes it); a rule with a runbook also has a remediation function, which its SSM document invokes
(perimeter.runbooks) with the rule's remediation permissions on its own role. The account stack and the
organization's member stack both build these (``function_resources``, ``remediation_function_resources``)."""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.registry import RuleSpec
from perimeter.runbooks import REMEDIATION_FUNCTION_TIMEOUT_SECONDS
from perimeter.templates.cfn import arn_of, if_set, is_set_condition, not_empty, ref, sub
from perimeter.templates.iam import declared_statements, evaluation_statement, lambda_trust, role
from perimeter.templates.naming import ALARM_SUFFIX, REMEDIATION_FUNCTION_SUFFIX, function_name_text
from perimeter.templates.plan import RulePlan
from perimeter.templates.template_parameters import ALARM_TOPIC, LOG_RETENTION

LAMBDA_TIMEOUT_SECONDS = 60
LAMBDA_MEMORY_MB = 256
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# Errors is the count of invocations that raised; alarm on the first one within this period.
ALARM_PERIOD_SECONDS = 300


# Every rule's functions run the pack's entry points; the environment says which rule (perimeter.entry,
# perimeter.remediation_entry).
ENTRY_POINT = "perimeter.entry.lambda_handler"
REMEDIATION_ENTRY_POINT = "perimeter.remediation_entry.lambda_handler"
RULE_ID_VARIABLE = "PERIMETER_RULE_ID"


@dataclass(frozen=True)
class FunctionKind:
    """What differs between a rule's evaluation function and its remediation function."""

    logical: str  # inserted into the logical ids: <Rule><logical>Function, <Rule><logical>LogGroup, ...
    name_suffix: str  # after <NamePrefix><rule id> in the function's name
    handler: str
    timeout: int
    purpose: str  # "AWS Config rule" / "remediation of"
    policy_name: str
    alarm_reason: str


EVALUATION = FunctionKind(
    "", "", ENTRY_POINT, LAMBDA_TIMEOUT_SECONDS, "AWS Config rule", "evaluate",
    "its Lambda function failed an evaluation; Config keeps the previous verdict for that resource until an "
    "evaluation succeeds")
REMEDIATION = FunctionKind(
    "Remediation", REMEDIATION_FUNCTION_SUFFIX, REMEDIATION_ENTRY_POINT, REMEDIATION_FUNCTION_TIMEOUT_SECONDS,
    "Remediation of AWS Config rule", "remediate",
    "its remediation function failed; the automation that called it failed with the same error")


def handler(spec: RuleSpec) -> str:
    """The rule's Lambda handler, ``module.function``: the pack's one entry point, told the rule by the function's
    environment. perimeter.package builds the artifact from the import closure of these modules (and the rules'),
    so what a function runs is what the zip holds."""
    return ENTRY_POINT


def remediation_handler(spec: RuleSpec) -> str:
    """The handler of the rule's remediation function (perimeter.package includes its closure too)."""
    return REMEDIATION_ENTRY_POINT


def function_arn(plan: RulePlan, kind: FunctionKind = EVALUATION) -> dict:
    return arn_of(f"{plan.logical}{kind.logical}Function")


def log_group(plan: RulePlan, kind: FunctionKind = EVALUATION) -> dict:
    return {
        "Type": "AWS::Logs::LogGroup",
        # Explicit: the group goes with the stack; a retained group would block re-creating the named one.
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": sub(f"/aws/lambda/{function_name_text(plan.spec, kind.name_suffix)}"),
            "RetentionInDays": ref(LOG_RETENTION),
        },
    }


def log_statement(plan: RulePlan, kind: FunctionKind = EVALUATION) -> dict:
    return {"Sid": "Logs", "Effect": "Allow", "Action": list(LOG_ACTIONS),
            "Resource": arn_of(f"{plan.logical}{kind.logical}LogGroup")}


def function(plan: RulePlan, code, kind: FunctionKind = EVALUATION) -> dict:
    """The function; ``code`` is a local path (for `aws cloudformation package`) or an S3Bucket/S3Key mapping."""
    parameters = plan.spec.metadata["Parameters"]
    title = plan.spec.metadata.get("Perimeter", {}).get("Title", plan.rule_id)
    built: dict = {
        "Type": "AWS::Lambda::Function",
        "DependsOn": f"{plan.logical}{kind.logical}LogGroup",  # it logs into the group we manage, with its retention
    }
    # checkov's secret heuristic (CKV_AWS_45) flags the environment of the S3-code functions; the one variable is
    # the public rule id (perimeter.entry), never a secret.
    built["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_45", "comment": (
        f"The only environment variable is {RULE_ID_VARIABLE}, the public id of the function's rule.")}]}}
    if isinstance(code, str):
        built["Metadata"].update({"cfn-lint": {"config": {"ignore_checks": ["W3002"]}},
                                  "Comment": "Code is a local path on purpose: `aws cloudformation package` uploads "
                                             "it (W3002)."})
    built["Properties"] = {
        "FunctionName": sub(function_name_text(plan.spec, kind.name_suffix)),
        "Description": f"{kind.purpose} {plan.rule_id}: {title}"[:256],
        "Runtime": parameters["SourceRuntime"],
        "Handler": kind.handler,
        "Environment": {"Variables": {RULE_ID_VARIABLE: plan.rule_id}},
        "Code": code,
        "Role": arn_of(f"{plan.logical}{kind.logical}FunctionRole"),
        "Timeout": kind.timeout,
        "MemorySize": LAMBDA_MEMORY_MB,
    }
    return built


def invoke_permission(plan: RulePlan) -> dict:
    """config.amazonaws.com may invoke the function on behalf of this account's Config only.

    AWS Config's guide (evaluate-config_develop-rules_nodejs.html, "restricted-lambda-policy") restricts its invoke
    permission by SourceAccount / SourceArn; the IAM reference (reference_policies_condition-keys.html) says
    aws:SourceAccount is in the request context exactly when an AWS service principal calls the resource directly,
    as Config does here, whereas aws:PrincipalOrgID is a key of IAM principals that a service request does not carry.
    Every account therefore runs its own functions (organization/member.yaml). SourceArn would name the Config rule,
    which Config creates only after it has checked this permission (PutConfigRule), so SourceAccount it is.
    """
    return {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction",
        "FunctionName": function_arn(plan),
        "Principal": "config.amazonaws.com",
        "SourceAccount": ref("AWS::AccountId"),
    }}


def errors_alarm(plan: RulePlan, kind: FunctionKind = EVALUATION) -> dict:
    """An alarm on the first failed invocation. Config invokes the function asynchronously: an evaluation that raises
    leaves the previous verdict in place and shows nowhere in Config, only in the log and the Errors metric. A failed
    remediation fails its automation too, but an automatic remediation has no one watching it."""
    topic = if_set(ALARM_TOPIC, [ref(ALARM_TOPIC)])
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": sub(function_name_text(plan.spec, kind.name_suffix) + ALARM_SUFFIX),
        "AlarmDescription": sub(
            f"{plan.rule_id}: {kind.alarm_reason}. The reason is in the log group "
            f"/aws/lambda/{function_name_text(plan.spec, kind.name_suffix)}."),
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": ref(f"{plan.logical}{kind.logical}Function")}],
        "Statistic": "Sum",
        "Period": ALARM_PERIOD_SECONDS,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",  # no invocations is no failure
        "AlarmActions": topic,
        "OKActions": topic,
    }}


def alarm_conditions() -> dict[str, dict]:
    """The condition the alarms' actions use: AlarmTopicArn is given."""
    return {is_set_condition(ALARM_TOPIC): not_empty(ALARM_TOPIC)}


def function_role(plan: RulePlan) -> dict:
    """The function's own role (unnamed: nothing outside the stack names it, and a name would collide across
    regions): its log group, the evaluation calls, and the rule's declared actions."""
    statements = [log_statement(plan), evaluation_statement()] + declared_statements(plan.spec, "LambdaActions")
    return role(f"Lambda role of the {plan.rule_id} Config rule", lambda_trust(), "evaluate", statements)


def remediation_function_role(plan: RulePlan) -> dict:
    """The remediation function's own role (unnamed, as the evaluation function's): its log group and the actions
    the rule declares for its remediation, nothing else. Only the rule's automation role may invoke the function."""
    statements = [log_statement(plan, REMEDIATION)] + declared_statements(plan.spec, "RemediationActions")
    return role(f"Lambda role of the {plan.rule_id} remediation", lambda_trust(), REMEDIATION.policy_name, statements)


def function_resources(plan: RulePlan, code) -> dict[str, dict]:
    """The rule's log group, function role, function, invoke permission and error alarm, by logical id."""
    return {
        f"{plan.logical}LogGroup": log_group(plan),
        f"{plan.logical}FunctionRole": function_role(plan),
        f"{plan.logical}Function": function(plan, code),
        f"{plan.logical}InvokePermission": invoke_permission(plan),
        f"{plan.logical}ErrorsAlarm": errors_alarm(plan),
    }


def remediation_function_resources(plan: RulePlan, code) -> dict[str, dict]:
    """The remediation function's log group, role, function and error alarm; nothing for a rule without a runbook.
    No resource policy: the automation role of the same account is allowed by its own identity policy."""
    if plan.document is None:
        return {}
    prefix = f"{plan.logical}{REMEDIATION.logical}"
    return {
        f"{prefix}LogGroup": log_group(plan, REMEDIATION),
        f"{prefix}FunctionRole": remediation_function_role(plan),
        f"{prefix}Function": function(plan, code, REMEDIATION),
        f"{prefix}ErrorsAlarm": errors_alarm(plan, REMEDIATION),
    }


def function_output(plan: RulePlan) -> dict[str, dict]:
    outputs = {f"{plan.logical}FunctionArn": {"Description": f"Lambda function of {plan.rule_id}",
                                              "Value": function_arn(plan)}}
    if plan.document is not None:
        outputs[f"{plan.logical}RemediationFunctionArn"] = {
            "Description": f"Remediation function of {plan.rule_id}", "Value": function_arn(plan, REMEDIATION)}
    return outputs
