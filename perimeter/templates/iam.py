"""IAM: the statements a rule declares (parameters.json ``Perimeter.LambdaActions`` / ``RemediationActions``), the
ones every rule's evaluator needs, the trust policies, and the role resource built from them."""
from __future__ import annotations

import re

from perimeter.registry import RuleSpec
from perimeter.templates.cfn import ref, sub
from perimeter.templates.errors import TemplateError

WILDCARD_ACTION = re.compile(r"^(\*|[a-z0-9-]+:\*)$")
# What every rule's function (or, in an organization, its execution role) calls besides its own actions:
# PutEvaluations, and GetResourceConfigHistory for oversized change notifications. Neither supports
# resource-level permissions (the service authorization reference lists no resource type for them).
BASE_EVALUATION_ACTIONS = ("config:GetResourceConfigHistory", "config:PutEvaluations")


def declared_statements(spec: RuleSpec, key: str) -> list[dict]:
    """The rule's ``Perimeter.<key>`` statements as IAM statements; resources with ``${...}`` become Fn::Sub."""
    where = f"rules/{spec.folder.name}/parameters.json Perimeter.{key}"
    entries = spec.metadata.get("Perimeter", {}).get(key, [])
    if not isinstance(entries, list):
        raise TemplateError(f"{where}: must be a list of {{\"Action\": [...], \"Resource\": [...]}}")
    statements = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - {"Action", "Resource"}:
            raise TemplateError(f"{where}[{index}]: only Action and Resource lists are allowed")
        actions, resources = entry.get("Action"), entry.get("Resource")
        for field, values in (("Action", actions), ("Resource", resources)):
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                raise TemplateError(f"{where}[{index}]: {field} must be a non-empty list of strings")
        wild = [action for action in actions if WILDCARD_ACTION.match(action) or ":" not in action]
        if wild:
            raise TemplateError(f"{where}[{index}]: name each action (service:Action); not {', '.join(wild)}")
        statements.append({
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": [sub(r) if "${" in r else r for r in resources],
        })
    return statements


def policy(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def evaluation_statement() -> dict:
    return {"Sid": "Evaluations", "Effect": "Allow", "Action": list(BASE_EVALUATION_ACTIONS), "Resource": "*"}


def lambda_trust() -> dict:
    return policy([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])


def automation_trust() -> dict:
    """ssm.amazonaws.com only, and only for automations of this account and region (confused-deputy protection; the
    role is the region's own, see perimeter.templates.naming)."""
    return policy([{
        "Effect": "Allow",
        "Principal": {"Service": "ssm.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")},
            "ArnLike": {"aws:SourceArn": sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*")},
        },
    }])


def role(description: str, trust: dict, policy_name: str, statements: list[dict], name: dict | None = None) -> dict:
    """An ``AWS::IAM::Role``, named when ``name`` is given; its inline policy only when it allows anything."""
    properties: dict = {}
    if name is not None:
        properties["RoleName"] = name
    properties["Description"] = description
    properties["AssumeRolePolicyDocument"] = trust
    if statements:
        properties["Policies"] = [{"PolicyName": policy_name, "PolicyDocument": policy(statements)}]
    return {"Type": "AWS::IAM::Role", "Properties": properties}
