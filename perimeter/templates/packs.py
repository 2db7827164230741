"""The conformance pack bodies: the Config rules and remediation configurations only, pointing by name at the
functions, documents and roles the stacks created in the same account and region. ``conformance-pack.yaml`` goes
with ``perimeter.yaml`` (deployed with ``CreateConfigRules=false``); ``organization/conformance-pack.yaml`` with
``organization/member.yaml``. Names are predictable: a pack cannot read a stack's outputs, and an organization pack
gets one set of parameters for every account and region, so functions are ``<prefix><rule id>`` in the pack's own
account and region and automation roles ``<prefix><rule id>-<region>`` (perimeter.templates.naming)."""
from __future__ import annotations

from perimeter.templates.cfn import prune_conditions, sub
from perimeter.templates.config_rules import References, rules_and_remediations
from perimeter.templates.errors import TemplateError
from perimeter.templates.naming import (
    DOCUMENT_SUFFIX, NAME_PREFIX, REMEDIATION_ROLE_SUFFIX, THIS_ACCOUNT, function_arn_text, named, named_text,
    role_arn_text,
)
from perimeter.templates.template_parameters import for_pack, name_prefix_parameter, rule_and_remediation_parameters

MAX_PACK_BODY_BYTES = 51_200  # PutConformancePack TemplateBody; larger bodies must go through S3 (300 KB)
MAX_PACK_PARAMETERS = 60  # ConformancePackInputParameters


def pack_parameters(plans, prefix: dict) -> dict:
    parameters = {NAME_PREFIX: prefix}
    parameters.update(for_pack(rule_and_remediation_parameters(plans)))
    if len(parameters) > MAX_PACK_PARAMETERS:
        raise TemplateError(f"the conformance pack needs {len(parameters)} parameters; Config accepts at most "
                            f"{MAX_PACK_PARAMETERS}")
    return parameters


def pack_body(plans, prefix_description: str) -> dict:
    """A pack whose rules run the functions of the account and region it is deployed in, and whose remediations run
    that account's documents with its automation roles of that region."""
    refs = References(
        function_arn=lambda plan: sub(function_arn_text(THIS_ACCOUNT, named_text(plan.spec))),
        document=lambda plan: named(plan.spec, DOCUMENT_SUFFIX),
        automation_role_arn=lambda plan: sub(
            role_arn_text(THIS_ACCOUNT, named_text(plan.spec, REMEDIATION_ROLE_SUFFIX))),
        extra_inputs=lambda plan: {},
        rule_condition=None,
        rule_depends_on=lambda plan: [],
        rule_name_in_remediation=lambda plan: named(plan.spec),
        remediation_depends_on=lambda plan: [plan.logical],
    )
    conditions, resources = rules_and_remediations(plans, refs)
    prefix = for_pack({NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans])})[NAME_PREFIX]
    prefix["Description"] = prefix_description
    template = {"Parameters": pack_parameters(plans, prefix), "Conditions": conditions,
                "Resources": resources}
    return prune_conditions(template)


def account_pack(plans) -> dict:
    return pack_body(plans, "The NamePrefix the perimeter.yaml stack of this account and region was deployed with.")


def org_pack(plans) -> dict:
    return pack_body(plans, "The NamePrefix the organization/member.yaml StackSet was deployed with.")


def check_body_size(path: str, text: str) -> None:
    """A pack body must fit PutConformancePack's TemplateBody."""
    size = len(text.encode("utf-8"))
    if size > MAX_PACK_BODY_BYTES:
        raise TemplateError(f"{path} is {size} bytes; a conformance pack TemplateBody holds at most "
                            f"{MAX_PACK_BODY_BYTES} bytes (larger packs go through TemplateS3Uri)")
