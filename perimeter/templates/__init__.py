"""Render the pack's CloudFormation templates and conformance packs from the rules' metadata.

``python -m perimeter.templates --write templates/`` (``make templates``) writes every template;
``python -m perimeter.templates --check templates/`` exits 1 naming the files that differ from what the metadata
renders today (tests/test_templates.py fails the same way).

Everything comes from each rule folder: ``parameters.json`` (RDK schema: rule id, resource types, triggers,
parameters and their defaults; our ``Perimeter`` section: parameter descriptions, and ``LambdaActions`` /
``RemediationActions``, the IAM statements the rule's Lambda and runbook need beyond the base ones) and, where
present, ``runbook.yaml`` + ``remediation.py`` (rendered by perimeter.runbooks). A new rule folder needs no
template editing.

Templates (each module's docstring says more):
- ``perimeter.yaml`` (account): one account and region, functions and their error alarms, Config rules and
  remediations; deployable in several regions of one account.
- ``conformance-pack.yaml`` and ``organization/conformance-pack.yaml`` (packs): the pack bodies, rules and
  remediation configurations only, pointing by name at what the stacks created in the same account and region;
  every parameter but a few written in (``perimeter pack --parameters FILE`` writes the user's values in instead).
- ``organization/artifacts.yaml`` and ``organization/member.yaml`` (organization): the regional buckets the
  organization reads the Lambda artifact from; per account and region the functions, alarms, documents and
  automation roles.

Built from: plan (each rule's metadata and runbook, checked), remediation_parameters (how runbook parameters get
their values: ``map_remediation_parameters``), config_rules, functions, automation, iam, template_parameters,
naming and cfn; specialise writes known parameter values into a template; limits holds AWS's limits and each
template's route (inline or S3); render writes the YAML, cli is the command. This module re-exports what other code uses.
"""
from perimeter.templates.cli import main
from perimeter.templates.config_rules import References, config_rule, source_details
from perimeter.templates.errors import TemplateError
from perimeter.templates.iam import declared_statements
from perimeter.templates.layout import ACCOUNT_PACK, ACCOUNT_STACK, ORG_ARTIFACTS, ORG_MEMBER, ORG_PACK, PACK_FILES
from perimeter.templates.naming import MAX_REGION_LENGTH, ROLE_SUFFIX_LENGTH, logical_id, max_prefix_length
from perimeter.templates.limits import MAX_INLINE_BODY_BYTES as MAX_PACK_BODY_BYTES
from perimeter.templates.limits import MAX_PACK_PARAMETERS
from perimeter.templates.plan import RulePlan, plan_pack
from perimeter.templates.remediation_parameters import (
    AUTOMATION_ROLE, RESOURCE_ID, RULE_VALUE, TEMPLATE_VALUE, RemediationParameter, map_remediation_parameters,
)
from perimeter.templates.render import BUILDERS, drifted, render_all, write
from perimeter.templates.template_parameters import REMEDIATION_SETTINGS

__all__ = [
    "ACCOUNT_PACK", "ACCOUNT_STACK", "AUTOMATION_ROLE", "BUILDERS", "MAX_PACK_BODY_BYTES", "MAX_PACK_PARAMETERS",
    "MAX_REGION_LENGTH", "ORG_ARTIFACTS", "ORG_MEMBER", "ORG_PACK", "PACK_FILES", "REMEDIATION_SETTINGS",
    "RESOURCE_ID", "ROLE_SUFFIX_LENGTH",
    "RULE_VALUE", "TEMPLATE_VALUE", "References", "RemediationParameter", "RulePlan", "TemplateError",
    "config_rule", "declared_statements", "drifted", "logical_id", "main", "map_remediation_parameters",
    "max_prefix_length", "plan_pack", "render_all", "source_details", "write",
]
