"""A rule's Lambda function and what comes with it: its log group, its role, Config's permission to invoke it,
and the stack output of its ARN. The account stack and the organization's central stack both build these."""
from __future__ import annotations

from perimeter.registry import RuleSpec
from perimeter.templates.cfn import arn_of, ref, sub
from perimeter.templates.iam import lambda_trust, role
from perimeter.templates.naming import named, named_text
from perimeter.templates.plan import RulePlan
from perimeter.templates.template_parameters import LOG_RETENTION

LAMBDA_TIMEOUT_SECONDS = 60
LAMBDA_MEMORY_MB = 256
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def handler(spec: RuleSpec) -> str:
    """The rule's Lambda handler, ``module.function``. perimeter.package builds the artifact from the import closure
    of these modules, so what a function runs is what the zip holds."""
    return f"rules.{spec.folder.name}.handler.lambda_handler"


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


def function_role(description: str, statements: list[dict], name: dict | None = None) -> dict:
    return role(description, lambda_trust(), "evaluate", statements, name)


def function(plan: RulePlan, code_path: str) -> dict:
    parameters = plan.spec.metadata["Parameters"]
    title = plan.spec.metadata.get("Perimeter", {}).get("Title", plan.rule_id)
    return {
        "Type": "AWS::Lambda::Function",
        "DependsOn": f"{plan.logical}LogGroup",  # the function logs into the group we manage, with its retention
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W3002"]}},
                     "Comment": "Code is a local path on purpose: `aws cloudformation package` uploads it (W3002)."},
        "Properties": {
            "FunctionName": named(plan.spec),
            "Description": f"AWS Config rule {plan.rule_id}: {title}"[:256],
            "Runtime": parameters["SourceRuntime"],
            "Handler": handler(plan.spec),
            "Code": code_path,
            "Role": arn_of(f"{plan.logical}FunctionRole"),
            "Timeout": LAMBDA_TIMEOUT_SECONDS,
            "MemorySize": LAMBDA_MEMORY_MB,
        },
    }


def invoke_permission(plan: RulePlan, callers: dict, metadata: dict | None = None) -> dict:
    """config.amazonaws.com may invoke the function; ``callers`` says on behalf of which accounts."""
    permission: dict = {"Type": "AWS::Lambda::Permission"}
    if metadata:
        permission["Metadata"] = metadata
    permission["Properties"] = {
        "Action": "lambda:InvokeFunction",
        "FunctionName": function_arn(plan),
        "Principal": "config.amazonaws.com",
        **callers,
    }
    return permission


def function_resources(plan: RulePlan, role_resource: dict, permission: dict, code_path: str) -> dict[str, dict]:
    """The rule's log group, function role, function and invoke permission, by logical id."""
    return {
        f"{plan.logical}LogGroup": log_group(plan),
        f"{plan.logical}FunctionRole": role_resource,
        f"{plan.logical}Function": function(plan, code_path),
        f"{plan.logical}InvokePermission": permission,
    }


def function_output(plan: RulePlan) -> dict[str, dict]:
    return {f"{plan.logical}FunctionArn": {"Description": f"Lambda function of {plan.rule_id}",
                                           "Value": function_arn(plan)}}
