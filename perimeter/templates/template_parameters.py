"""Template parameters: the name prefix, log retention, each rule's parameters, each runbook's own parameters and
the remediation settings; their plainer conformance pack form; and ``check_value``, which holds a value to a
parameter's constraints as CloudFormation would."""
from __future__ import annotations

import re

from perimeter.declaration_schema import FREQUENCIES
from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.templates.naming import (
    ALARM_SUFFIX, DEFAULT_NAME_PREFIX, DOCUMENT_SUFFIX, frequency_parameter_name, input_parameter_name,
    max_prefix_length, remediation_parameter_name, rule_parameter_name,
)

AUTOMATIC = "RemediationAutomatic"
LOG_RETENTION = "LogRetentionInDays"
ALARM_TOPIC = "AlarmTopicArn"

LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
# Remediation settings shared by every rule: (name, default, min, max, description).
REMEDIATION_SETTINGS = (
    ("RemediationMaximumAutomaticAttempts", 5, 1, 25,
     "Automatic remediation: attempts per non-compliant resource within RemediationRetryAttemptSeconds (1-25)."),
    ("RemediationRetryAttemptSeconds", 60, 1, 2678000,
     "Automatic remediation: the window, in seconds, for RemediationMaximumAutomaticAttempts."),
    ("RemediationConcurrentExecutionRatePercentage", 10, 1, 100,
     "Percentage of non-compliant resources remediated at the same time (SSM rate control, 1-100)."),
    ("RemediationErrorPercentage", 10, 1, 100,
     "Percentage of failed remediations at which SSM stops remediating this rule's resources (1-100)."),
)


def name_prefix_parameter(specs) -> dict:
    limit = max_prefix_length(specs)
    return {
        "Type": "String",
        "Default": DEFAULT_NAME_PREFIX,
        "AllowedPattern": f"^[A-Za-z0-9-]{{0,{limit}}}$",
        "ConstraintDescription": f"letters, digits and hyphens, at most {limit} characters",
        "Description": ("Prefix of every named resource: Config rules and Lambda functions are named <prefix><rule id>, "
                        f"log groups /aws/lambda/<prefix><rule id>, error alarms <prefix><rule id>{ALARM_SUFFIX}, "
                        f"documents <prefix><rule id>{DOCUMENT_SUFFIX}, automation roles <prefix><rule id>-<region>. "
                        f"Must not start with aws or amazon (SSM document names). At most {limit} characters."),
    }


def alarm_topic_parameter() -> dict:
    return {"Type": "String", "Default": "", "AllowedPattern": "^(arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+)?$",
            "ConstraintDescription": "an SNS topic ARN, or empty",
            "Description": ("Optional SNS topic (ARN, in this region) that each function's error alarm notifies when "
                            "an evaluation fails and when it recovers. Empty: the alarms only change state.")}


def log_retention_parameter() -> dict:
    return {"Type": "Number", "Default": 90, "AllowedValues": list(LOG_RETENTION_DAYS),
            "Description": "Days the functions' CloudWatch log groups keep their events."}


def rule_parameters(plans) -> dict[str, dict]:
    """Each rule's own parameters, then once for the pack those every rule has (see input_parameter_name)."""
    parameters = {}
    for plan in plans:
        descriptions = plan.spec.metadata.get("Perimeter", {}).get("ParameterDescriptions", {})
        for name, default in plan.spec.parameter_defaults.items():
            if name not in PACK_WIDE_PARAMETERS:
                parameters[input_parameter_name(plan.logical, name)] = {
                    "Type": "String",
                    "Default": default,
                    "Description": f"{plan.rule_id} rule parameter {name}: {descriptions.get(name, '')}".strip()[:4000],
                }
        if plan.spec.declaration["trigger"]["periodic"]:
            parameters[frequency_parameter_name(plan.logical)] = {
                "Type": "String",
                "Default": plan.spec.periodic_frequency,
                "AllowedValues": list(FREQUENCIES),
                "Description": f"{plan.rule_id}: how often Config runs this periodic rule (MaximumExecutionFrequency).",
            }
    if plans:
        for name, parameter in PACK_WIDE_PARAMETERS.items():
            parameters[input_parameter_name("", name)] = {
                "Type": "String",
                "Default": parameter["default"],
                "AllowedPattern": "^[0-9]{0,4}$",  # blank (the default) or the integer every rule parses
                "Description": f"Every rule's parameter {name}: {parameter['description']}"[:4000],
            }
    return parameters


def remediation_template_parameters(plans) -> dict[str, dict]:
    parameters = {}
    for plan in plans:
        for parameter in plan.template_parameters():
            text = f"{plan.rule_id} runbook parameter {parameter.name}. {parameter.description}".strip()
            if parameter.required:
                text += " Empty: this rule gets no remediation configuration."
            if parameter.type == "StringList":
                text += " Comma-separated, no spaces."
            definition = {"Type": "String", "Default": parameter.default, "Description": text[:4000]}
            if parameter.type == "Boolean":
                definition["AllowedValues"] = ["true", "false"]
            parameters[remediation_parameter_name(plan.logical, parameter.name)] = definition
    return parameters


def remediation_settings_parameters() -> dict[str, dict]:
    parameters = {
        AUTOMATIC: {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": ("true: Config runs each rule's remediation on every NON_COMPLIANT resource by itself. "
                            "false (default): remediation runs only when started from the Config console or API. "
                            "Runbooks run in dry run until each rule's RemediationDryRun parameter is false."),
        },
    }
    for name, default, low, high, description in REMEDIATION_SETTINGS:
        parameters[name] = {"Type": "Number", "Default": default, "MinValue": low, "MaxValue": high,
                            "Description": description}
    return parameters


def rule_and_remediation_parameters(plans) -> dict[str, dict]:
    """Every rule's parameters; with any runbook in the pack, also the runbooks' and the remediation settings."""
    parameters = rule_parameters(plans)
    if any(plan.document is not None for plan in plans):
        parameters.update(remediation_template_parameters(plans))
        parameters.update(remediation_settings_parameters())
    return parameters


def for_pack(parameters: dict[str, dict]) -> dict[str, dict]:
    """Conformance pack parameters: String, a default and a description, as the pack documentation shows them."""
    return {name: {"Type": "String", "Default": str(definition["Default"]),
                   "Description": definition["Description"]}
            for name, definition in parameters.items()}


def check_value(name: str, definition: dict, value: str) -> str | None:
    """Why CloudFormation would refuse ``value`` for the parameter ``definition``, or None when it takes it."""
    if not isinstance(value, str):
        return f"{name}: value {value!r} must be a string"
    allowed = definition.get("AllowedValues")
    if allowed is not None and value not in [str(choice) for choice in allowed]:
        return f"{name}: {value!r} is not one of {', '.join(str(choice) for choice in allowed)}"
    pattern = definition.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        return f"{name}: {value!r} is not {definition.get('ConstraintDescription', 'of pattern ' + pattern)}"
    if definition.get("Type") == "Number":
        low, high = definition.get("MinValue"), definition.get("MaxValue")
        if not (value.isascii() and value.isdigit()) or (low is not None and int(value) < low) \
                or (high is not None and int(value) > high):
            return f"{name}: {value!r} is not a whole number from {low} to {high}"
    return None
