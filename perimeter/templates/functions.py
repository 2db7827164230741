"""A rule's Lambda function and what comes with it: its log group, its role, Config's permission to invoke it, the
alarm on its errors, and the stack output of its ARN. The account stack and the organization's member stack both
build these (``evaluation_resources``)."""
from __future__ import annotations

from perimeter.registry import RuleSpec
from perimeter.templates.cfn import arn_of, if_set, is_set_condition, not_empty, ref, sub
from perimeter.templates.iam import declared_statements, evaluation_statement, lambda_trust, role
from perimeter.templates.naming import ALARM_SUFFIX, named, named_text
from perimeter.templates.plan import RulePlan
from perimeter.templates.template_parameters import ALARM_TOPIC, LOG_RETENTION

LAMBDA_TIMEOUT_SECONDS = 60
LAMBDA_MEMORY_MB = 256
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# Errors is the count of invocations that raised; alarm on the first one within this period.
ALARM_PERIOD_SECONDS = 300


# Every rule's function runs the pack's one entry point; the environment says which rule (perimeter.entry).
ENTRY_POINT = "perimeter.entry.lambda_handler"
RULE_ID_VARIABLE = "PERIMETER_RULE_ID"


def handler(spec: RuleSpec) -> str:
    """The rule's Lambda handler, ``module.function``: the pack's one entry point, told the rule by the function's
    environment. perimeter.package builds the artifact from the import closure of these modules (and the rules'),
    so what a function runs is what the zip holds."""
    return ENTRY_POINT


def function_arn(plan: RulePlan) -> dict:
    return arn_of(f"{plan.logical}Function")


def log_group(plan: RulePlan) -> dict:
    return {
        "Type": "AWS::Logs::LogGroup",
        # Explicit: the group goes with the stack; a retained group would block re-creating the named one.
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": sub(f"/aws/lambda/{named_text(plan.spec)}"),
            "RetentionInDays": ref(LOG_RETENTION),
        },
    }


def log_statement(plan: RulePlan) -> dict:
    return {"Sid": "Logs", "Effect": "Allow", "Action": list(LOG_ACTIONS),
            "Resource": arn_of(f"{plan.logical}LogGroup")}


def function(plan: RulePlan, code) -> dict:
    """The function; ``code`` is a local path (for `aws cloudformation package`) or an S3Bucket/S3Key mapping."""
    parameters = plan.spec.metadata["Parameters"]
    title = plan.spec.metadata.get("Perimeter", {}).get("Title", plan.rule_id)
    built: dict = {
        "Type": "AWS::Lambda::Function",
        "DependsOn": f"{plan.logical}LogGroup",  # the function logs into the group we manage, with its retention
    }
    # checkov's secret heuristic (CKV_AWS_45) flags the environment of the S3-code functions; the one variable is
    # the public rule id (perimeter.entry), never a secret.
    built["Metadata"] = {"checkov": {"skip": [{"id": "CKV_AWS_45", "comment": (
        f"The only environment variable is {RULE_ID_VARIABLE}, the public id of the rule the function evaluates.")}]}}
    if isinstance(code, str):
        built["Metadata"].update({"cfn-lint": {"config": {"ignore_checks": ["W3002"]}},
                                  "Comment": "Code is a local path on purpose: `aws cloudformation package` uploads "
                                             "it (W3002)."})
    built["Properties"] = {
        "FunctionName": named(plan.spec),
        "Description": f"AWS Config rule {plan.rule_id}: {title}"[:256],
        "Runtime": parameters["SourceRuntime"],
        "Handler": handler(plan.spec),
        "Environment": {"Variables": {RULE_ID_VARIABLE: plan.rule_id}},
        "Code": code,
        "Role": arn_of(f"{plan.logical}FunctionRole"),
        "Timeout": LAMBDA_TIMEOUT_SECONDS,
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


def errors_alarm(plan: RulePlan) -> dict:
    """An alarm on the first failed invocation. Config invokes the function asynchronously: an evaluation that raises
    leaves the previous verdict in place and shows nowhere in Config, only in the log and the Errors metric."""
    topic = if_set(ALARM_TOPIC, [ref(ALARM_TOPIC)])
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": named(plan.spec, ALARM_SUFFIX),
        "AlarmDescription": sub(
            f"{plan.rule_id}: its Lambda function failed an evaluation; Config keeps the previous verdict for that "
            f"resource until an evaluation succeeds. The reason is in the log group /aws/lambda/{named_text(plan.spec)}."),
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": ref(f"{plan.logical}Function")}],
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


def function_resources(plan: RulePlan, code) -> dict[str, dict]:
    """The rule's log group, function role, function, invoke permission and error alarm, by logical id."""
    return {
        f"{plan.logical}LogGroup": log_group(plan),
        f"{plan.logical}FunctionRole": function_role(plan),
        f"{plan.logical}Function": function(plan, code),
        f"{plan.logical}InvokePermission": invoke_permission(plan),
        f"{plan.logical}ErrorsAlarm": errors_alarm(plan),
    }


def function_output(plan: RulePlan) -> dict[str, dict]:
    return {f"{plan.logical}FunctionArn": {"Description": f"Lambda function of {plan.rule_id}",
                                           "Value": function_arn(plan)}}
