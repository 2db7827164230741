"""A rule's remediation runbook as an SSM Automation document, and the role its automations run with.

The document calls the rule's remediation function (perimeter.runbooks), so the automation role may do one thing:
invoke that function. The remediation's own permissions are on the function's role (perimeter.templates.functions).
"""
from __future__ import annotations

from perimeter.templates.cfn import sub
from perimeter.templates.iam import automation_trust, role
from perimeter.templates.naming import DOCUMENT_SUFFIX, named, remediation_role_text
from perimeter.templates.plan import RulePlan

INVOKE_ACTION = "lambda:InvokeFunction"


def document_resource(plan: RulePlan) -> dict:
    return {
        "Type": "AWS::SSM::Document",
        "Properties": {
            "Name": named(plan.spec, DOCUMENT_SUFFIX),
            "DocumentType": "Automation",
            "DocumentFormat": "JSON",
            "UpdateMethod": "NewVersion",
            "Content": plan.document,
        },
    }


def remediation_role(plan: RulePlan) -> dict:
    invoke = {"Sid": "InvokeRemediationFunction", "Effect": "Allow", "Action": [INVOKE_ACTION],
              "Resource": [{"Fn::GetAtt": [f"{plan.logical}RemediationFunction", "Arn"]}]}
    return role(f"SSM Automation role of the {plan.rule_id} remediation runbook", automation_trust(), "remediation",
                [invoke], sub(remediation_role_text(plan.spec)))


def automation_resources(plan: RulePlan) -> dict[str, dict]:
    """The document and its automation role by logical id; nothing for a rule without a runbook."""
    if plan.document is None:
        return {}
    return {f"{plan.logical}RemediationDocument": document_resource(plan),
            f"{plan.logical}RemediationRole": remediation_role(plan)}
