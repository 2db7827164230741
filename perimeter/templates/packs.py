"""The conformance pack bodies: the Config rules and remediation configurations only, pointing by name at the
functions, documents and roles the stacks created. ``conformance-pack.yaml`` goes with ``perimeter.yaml``
(deployed with ``CreateConfigRules=false``); ``organization/conformance-pack.yaml`` with the organization stacks,
whose central functions it names by ARN pattern."""
from __future__ import annotations

from perimeter.templates.cfn import prune_conditions, sub
from perimeter.templates.config_rules import References, rules_and_remediations
from perimeter.templates.errors import TemplateError
from perimeter.templates.naming import (
    DOCUMENT_SUFFIX, EXECUTION_ROLE_SUFFIX, NAME_PREFIX, REMEDIATION_ROLE_SUFFIX, THIS_ACCOUNT, function_arn_text,
    named, named_text, role_arn_text,
)
from perimeter.templates.template_parameters import (
    CENTRAL_ACCOUNT, CENTRAL_ACCOUNT_ID, for_pack, name_prefix_parameter, rule_and_remediation_parameters,
)

MAX_PACK_BODY_BYTES = 51_200  # PutConformancePack TemplateBody; larger bodies must go through S3 (300 KB)
MAX_PACK_PARAMETERS = 60  # ConformancePackInputParameters


def pack_parameters(plans, *leading: tuple[str, dict]) -> dict:
    parameters = dict(leading)
    parameters.update(for_pack(rule_and_remediation_parameters(plans)))
    if len(parameters) > MAX_PACK_PARAMETERS:
        raise TemplateError(f"the conformance pack needs {len(parameters)} parameters; Config accepts at most "
                            f"{MAX_PACK_PARAMETERS}")
    return parameters


def pack_body(plans, function_account: str, extra_inputs, prefix_description: str, *leading: tuple[str, dict]) -> dict:
    """A pack whose rules run the functions of ``function_account`` (Fn::Sub text) and whose remediations run the
    deploying account's documents with its automation roles; ``leading`` parameters follow NamePrefix."""
    refs = References(
        function_arn=lambda plan: sub(function_arn_text(function_account, named_text(plan.spec))),
        document=lambda plan: named(plan.spec, DOCUMENT_SUFFIX),
        automation_role_arn=lambda plan: sub(
            role_arn_text(THIS_ACCOUNT, named_text(plan.spec, REMEDIATION_ROLE_SUFFIX))),
        extra_inputs=extra_inputs,
        rule_condition=None,
        rule_depends_on=lambda plan: [],
        rule_name_in_remediation=lambda plan: named(plan.spec),
        remediation_depends_on=lambda plan: [plan.logical],
    )
    conditions, resources = rules_and_remediations(plans, refs)
    prefix = for_pack({NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans])})[NAME_PREFIX]
    prefix["Description"] = prefix_description
    template = {"Parameters": pack_parameters(plans, (NAME_PREFIX, prefix), *leading), "Conditions": conditions,
                "Resources": resources}
    return prune_conditions(template)


def account_pack(plans) -> dict:
    return pack_body(plans, THIS_ACCOUNT, lambda plan: {},
                     "The NamePrefix the perimeter.yaml stack of this account and region was deployed with.")


def org_pack(plans) -> dict:
    central = {"Type": "String", "Default": "",
               "Description": "The account holding organization/central.yaml's functions (12 digits)."}
    return pack_body(plans, CENTRAL_ACCOUNT,
                     lambda plan: {"ExecutionRoleName": named(plan.spec, EXECUTION_ROLE_SUFFIX)},
                     "The NamePrefix organization/central.yaml and organization/member.yaml were deployed with.",
                     (CENTRAL_ACCOUNT_ID, central))


def check_body_size(path: str, text: str) -> None:
    """A pack body must fit PutConformancePack's TemplateBody."""
    size = len(text.encode("utf-8"))
    if size > MAX_PACK_BODY_BYTES:
        raise TemplateError(f"{path} is {size} bytes; a conformance pack TemplateBody holds at most "
                            f"{MAX_PACK_BODY_BYTES} bytes (larger packs go through TemplateS3Uri)")
