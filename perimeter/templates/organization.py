"""The organization's stacks. ``organization/central.yaml``: the functions in one central account; Config may
invoke them from the organization's accounts, and each function assumes its rule's execution role in the evaluated
account. ``organization/member.yaml``, for a service-managed StackSet: per rule the execution role the central
function assumes (rule parameter ``ExecutionRoleName``), the SSM documents and the automation roles."""
from __future__ import annotations

from perimeter.templates.automation import automation_resources
from perimeter.templates.cfn import FORMAT_VERSION, ref, sub
from perimeter.templates.functions import (
    function_output, function_resources, function_role, invoke_permission, log_statement,
)
from perimeter.templates.iam import declared_statements, evaluation_statement, policy, role
from perimeter.templates.layout import CODE_PATHS, ORG_CENTRAL
from perimeter.templates.naming import (
    EXECUTION_ROLE_SUFFIX, LAMBDA_ROLE_SUFFIX, NAME_PREFIX, named, named_text, role_arn_text,
)
from perimeter.templates.template_parameters import (
    CENTRAL_ACCOUNT, CENTRAL_ACCOUNT_ID, LOG_RETENTION, log_retention_parameter, name_prefix_parameter,
)

ORGANIZATION_ID = "OrganizationId"


def organization_invoke_permission(plan) -> dict:
    """Config may invoke the function from the organization's accounts."""
    # SourceAccount cannot name every account of an organization; PrincipalOrgID limits the
    # permission to requests from the organization's accounts.
    return invoke_permission(plan, {"PrincipalOrgID": ref(ORGANIZATION_ID)}, {"checkov": {"skip": [{
        "id": "CKV_AWS_364",
        "comment": ("Limited by PrincipalOrgID (the organization), which this check does not recognise; "
                    "SourceAccount would allow one account only"),
    }]}})


def org_central(plans) -> dict:
    resources: dict[str, dict] = {}
    outputs: dict[str, dict] = {}
    for plan in plans:
        assume = {
            "Sid": "AssumeExecutionRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": sub(role_arn_text("*", named_text(plan.spec, EXECUTION_ROLE_SUFFIX))),
            "Condition": {"StringEquals": {"aws:ResourceOrgID": ref(ORGANIZATION_ID)}},
        }
        function_role_resource = function_role(
            (f"Lambda role of the {plan.rule_id} Config rule: it only assumes the rule's "
             "execution role in the evaluated account of the organization"),
            [log_statement(plan), assume], named(plan.spec, LAMBDA_ROLE_SUFFIX))
        permission = organization_invoke_permission(plan)
        resources.update(function_resources(plan, function_role_resource, permission, CODE_PATHS[ORG_CENTRAL]))
        outputs.update(function_output(plan))
    return {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter, organization: the rules' Lambda functions in the central account (deploy "
                        "first, in every region the organization conformance pack covers)"),
        "Parameters": {
            NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans]),
            ORGANIZATION_ID: {"Type": "String", "AllowedPattern": "^o-[a-z0-9]{10,32}$",
                              "Description": "The organization's id (o-...): only its accounts may have Config "
                                             "invoke the functions, and the functions assume roles only there."},
            LOG_RETENTION: log_retention_parameter(),
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def execution_role(plan) -> dict:
    """The role the central function assumes in this account; only that function's role may assume it."""
    lambda_role = sub(role_arn_text(CENTRAL_ACCOUNT, named_text(plan.spec, LAMBDA_ROLE_SUFFIX)))
    trust = policy([{
        "Effect": "Allow",
        "Principal": {"AWS": sub(f"arn:${{AWS::Partition}}:iam::{CENTRAL_ACCOUNT}:root")},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": lambda_role}},
    }])
    statements = [evaluation_statement()] + declared_statements(plan.spec, "LambdaActions")
    return role((f"Assumed by the central {plan.rule_id} Lambda function to evaluate this account "
                 "(rule parameter ExecutionRoleName)"), trust, "evaluate", statements,
                named(plan.spec, EXECUTION_ROLE_SUFFIX))


def org_member(plans) -> dict:
    resources: dict[str, dict] = {}
    for plan in plans:
        resources[f"{plan.logical}ExecutionRole"] = execution_role(plan)
        resources.update(automation_resources(plan))
    return {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter, organization: per member account (service-managed StackSet) the execution roles "
                        "the central functions assume, the SSM remediation documents and their automation roles"),
        "Parameters": {
            NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans]),
            CENTRAL_ACCOUNT_ID: {"Type": "String", "AllowedPattern": "^\\d{12}$",
                                 "Description": "The account holding organization/central.yaml's functions."},
        },
        "Resources": resources,
    }
