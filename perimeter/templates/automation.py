"""A rule's remediation runbook as an SSM Automation document, and the role its automations run with."""
from __future__ import annotations

from perimeter.templates.iam import automation_trust, declared_statements, role
from perimeter.templates.cfn import sub
from perimeter.templates.naming import DOCUMENT_SUFFIX, named, remediation_role_text
from perimeter.templates.plan import RulePlan


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
    return role(f"SSM Automation role of the {plan.rule_id} remediation runbook", automation_trust(), "remediation",
                declared_statements(plan.spec, "RemediationActions"), sub(remediation_role_text(plan.spec)))


def automation_resources(plan: RulePlan) -> dict[str, dict]:
    """The document and its automation role by logical id; nothing for a rule without a runbook."""
    if plan.document is None:
        return {}
    return {f"{plan.logical}RemediationDocument": document_resource(plan),
            f"{plan.logical}RemediationRole": remediation_role(plan)}
