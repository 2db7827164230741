"""The Config rules and remediation configurations, with the conditions they use. The account stack and both
conformance packs render them alike and differ only in how they point at functions, documents and roles
(``References``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from perimeter.events import CHANGE, OVERSIZED, SCHEDULED
from perimeter.registry import RuleSpec
from perimeter.templates.cfn import if_set, is_set_condition, is_true, not_empty, ref, resource
from perimeter.templates.errors import TemplateError
from perimeter.templates.naming import (
    frequency_parameter_name, input_parameter_name, named, remediation_parameter_name, rule_parameter_name,
)
from perimeter.templates.plan import RulePlan
from perimeter.templates.remediation_parameters import AUTOMATION_ROLE, DEPLOYED_DEFAULTS, RESOURCE_ID, RULE_VALUE
from perimeter.templates.template_parameters import AUTOMATIC

AUTOMATIC_CONDITION = "RemediationIsAutomatic"
# The value Config substitutes with the non-compliant resource's id.
RESOURCE_ID_VALUE = "RESOURCE_ID"


@dataclass(frozen=True)
class References:
    """How a template points at a rule's function, document and automation role, and at the rule itself."""

    function_arn: Callable[[RulePlan], Any]
    document: Callable[[RulePlan], Any]
    automation_role_arn: Callable[[RulePlan], Any]
    extra_inputs: Callable[[RulePlan], dict]
    rule_condition: str | None
    rule_depends_on: Callable[[RulePlan], list[str]]
    rule_name_in_remediation: Callable[[RulePlan], Any]
    remediation_depends_on: Callable[[RulePlan], list[str]]


def source_details(spec: RuleSpec, frequency_ref: Any = None) -> tuple[list[dict], Any]:
    """(the SourceDetails, the MaximumExecutionFrequency or None) from the RDK SourceEvents / SourcePeriodic; a
    periodic rule's frequency is ``frequency_ref`` (its template parameter) when given."""
    parameters = spec.metadata["Parameters"]
    details = []
    if parameters.get("SourceEvents", "").strip():
        details += [{"EventSource": "aws.config", "MessageType": CHANGE},
                    {"EventSource": "aws.config", "MessageType": OVERSIZED}]
    frequency = parameters.get("SourcePeriodic", "").strip() or None
    if frequency and frequency_ref is not None:
        frequency = frequency_ref
    if frequency:
        details.append({"EventSource": "aws.config", "MessageType": SCHEDULED, "MaximumExecutionFrequency": frequency})
    if not details:
        raise TemplateError(f"rules/{spec.folder.name}/parameters.json: neither SourceEvents nor SourcePeriodic")
    return details, frequency


def config_rule(plan: RulePlan, refs: References) -> dict:
    spec = plan.spec
    # A declared periodic rule's frequency is a template parameter; the others run the daily exemption pass.
    declared = spec.declaration["trigger"]["periodic"]
    details, frequency = source_details(spec, ref(frequency_parameter_name(plan.logical)) if declared else None)
    required = set(plan.required_inputs)
    inputs: dict[str, Any] = {}
    for name in spec.parameter_defaults:
        parameter = input_parameter_name(plan.logical, name)
        inputs[name] = ref(parameter) if name in required else if_set(parameter, ref(parameter))
    inputs.update(refs.extra_inputs(plan))
    properties: dict[str, Any] = {
        "ConfigRuleName": named(spec),
        "Description": spec.metadata["Parameters"]["Description"][:256],
    }
    if spec.resource_types:
        properties["Scope"] = {"ComplianceResourceTypes": list(spec.resource_types)}
    if inputs:
        properties["InputParameters"] = inputs
    properties["Source"] = {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": refs.function_arn(plan),
                            "SourceDetails": details}
    if frequency:
        properties["MaximumExecutionFrequency"] = frequency
    return resource("AWS::Config::ConfigRule", properties, refs.rule_condition, refs.rule_depends_on(plan))


def remediation_values(plan: RulePlan, refs: References) -> dict:
    values: dict[str, Any] = {}
    required_inputs = set(plan.required_inputs)
    for parameter in plan.remediation:
        if parameter.source == RESOURCE_ID:
            values[parameter.name] = {"ResourceValue": {"Value": RESOURCE_ID_VALUE}}
        elif parameter.source == AUTOMATION_ROLE:
            values[parameter.name] = {"StaticValue": {"Values": [refs.automation_role_arn(plan)]}}
        elif parameter.source == RULE_VALUE:
            template_name = input_parameter_name(plan.logical, parameter.rule_parameter)
            value = {"StaticValue": {"Values": [ref(template_name)]}}
            if parameter.rule_parameter not in required_inputs:
                # An empty rule parameter means "the rule's default": leave the runbook's own default in force.
                if parameter.required:
                    raise TemplateError(
                        f"rules/{plan.spec.folder.name}/runbook.yaml: parameter {parameter.name} has no default but "
                        f"its rule parameter {parameter.rule_parameter} is optional; give it the rule's default")
                value = if_set(template_name, value)
            values[parameter.name] = value
        else:
            template_name = remediation_parameter_name(plan.logical, parameter.name)
            listed = {"Fn::Split": [",", ref(template_name)]} if parameter.type == "StringList" else [ref(template_name)]
            value = {"StaticValue": {"Values": listed}}
            # Empty means "the runbook's default", except for a deployed default (DryRun): always passed, so an
            # empty value fails the run instead of silently falling back to the runbook's (unsafe) default.
            if not parameter.required and parameter.name not in DEPLOYED_DEFAULTS:
                value = if_set(template_name, value)
            values[parameter.name] = value
    return values


def remediation_configuration(plan: RulePlan, refs: References, condition: str | None) -> dict:
    properties: dict[str, Any] = {
        "ConfigRuleName": refs.rule_name_in_remediation(plan),
        "TargetType": "SSM_DOCUMENT",
        "TargetId": refs.document(plan),
    }
    if len(plan.spec.resource_types) == 1:
        properties["ResourceType"] = plan.spec.resource_types[0]
    properties.update({
        "Parameters": remediation_values(plan, refs),
        "Automatic": {"Fn::If": [AUTOMATIC_CONDITION, True, False]},
        "MaximumAutomaticAttempts": ref("RemediationMaximumAutomaticAttempts"),
        "RetryAttemptSeconds": ref("RemediationRetryAttemptSeconds"),
        "ExecutionControls": {"SsmControls": {
            "ConcurrentExecutionRatePercentage": ref("RemediationConcurrentExecutionRatePercentage"),
            "ErrorPercentage": ref("RemediationErrorPercentage"),
        }},
    })
    return resource("AWS::Config::RemediationConfiguration", properties, condition, refs.remediation_depends_on(plan))


def optional_conditions(plans) -> dict[str, dict]:
    """An ``<Parameter>IsSet`` condition for each optional rule parameter and each remediation template parameter."""
    conditions = {}
    for plan in plans:
        required = set(plan.required_inputs)
        for name in plan.spec.parameter_defaults:
            if name not in required:
                parameter = input_parameter_name(plan.logical, name)
                conditions[is_set_condition(parameter)] = not_empty(parameter)
        for parameter in plan.template_parameters():
            if parameter.name not in DEPLOYED_DEFAULTS:
                name = remediation_parameter_name(plan.logical, parameter.name)
                conditions[is_set_condition(name)] = not_empty(name)
    return conditions


def remediation_condition(plan: RulePlan, base: str | None) -> tuple[str | None, dict | None]:
    """(the condition name the remediation configuration uses, its definition if a new one is needed)."""
    needed = ([base] if base else []) + [
        is_set_condition(remediation_parameter_name(plan.logical, p.name))
        for p in plan.template_parameters() if p.required
    ]
    if not needed:
        return None, None
    if len(needed) == 1:
        return needed[0], None
    return f"{plan.logical}RemediationEnabled", {"Fn::And": [{"Condition": name} for name in needed]}


def rules_and_remediations(plans, refs: References) -> tuple[dict, dict]:
    """(conditions, resources) for the Config rules and remediation configurations of ``plans``."""
    conditions = {AUTOMATIC_CONDITION: is_true(AUTOMATIC)}
    conditions.update(optional_conditions(plans))
    resources = {}
    for plan in plans:
        resources[plan.logical] = config_rule(plan, refs)
        if plan.document is not None:
            condition, definition = remediation_condition(plan, refs.rule_condition)
            if definition is not None:
                conditions[condition] = definition
            resources[f"{plan.logical}Remediation"] = remediation_configuration(plan, refs, condition)
    return conditions, resources
