"""How each runbook parameter gets its value in a rule's remediation configuration (see
``map_remediation_parameters``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perimeter.registry import RuleSpec
from perimeter.templates.errors import TemplateError
from perimeter.templates.naming import capitalised

# Remediation parameters with a value given by the pack itself.
AUTOMATION_ROLE_PARAMETER = "AutomationAssumeRole"
# Runbook parameters whose deployed default differs from the runbook's own: a safe rollout changes nothing
# until the operator turns it off.
DEPLOYED_DEFAULTS = {"DryRun": "true"}
SUPPORTED_RUNBOOK_TYPES = ("String", "Boolean", "Integer", "StringList")

RESOURCE_ID = "resource-id"  # ResourceValue RESOURCE_ID: the non-compliant resource
AUTOMATION_ROLE = "automation-role"  # StaticValue: the automation role's ARN
RULE_VALUE = "rule-parameter"  # StaticValue: the value the rule is deployed with (its twin)
TEMPLATE_VALUE = "template-parameter"  # StaticValue: a template parameter of its own


@dataclass(frozen=True)
class RemediationParameter:
    """How one runbook parameter gets its value in the remediation configuration."""

    name: str
    source: str  # one of RESOURCE_ID, AUTOMATION_ROLE, RULE_VALUE, TEMPLATE_VALUE
    type: str  # the runbook's type: String, Boolean, Integer, StringList
    required: bool  # the runbook has no default
    default: str | None = None  # the deployed default, as template text (TEMPLATE_VALUE only)
    rule_parameter: str | None = None  # the rule parameter (RULE_VALUE only)
    description: str = ""


def map_remediation_parameters(spec: RuleSpec, document: dict) -> tuple[RemediationParameter, ...]:
    """Map every runbook parameter to its value source, in the runbook's order; TemplateError when one can't be.

    - ``AutomationAssumeRole`` gets the automation role's ARN (it must exist and be the document's assumeRole);
    - a parameter named like a rule parameter, capitalised (``maxPorts`` -> ``MaxPorts``), gets the rule's value;
    - the parameter the declaration names (``remediation.resourceIdParameter``, e.g. ``SecurityGroupId``) gets the
      resource id (``RESOURCE_ID``), wherever it stands in the runbook;
    - every further parameter becomes a template parameter, defaulting to the runbook's default, except
      ``DryRun``, which is deployed as ``true`` (see DEPLOYED_DEFAULTS); one the runbook requires (no default)
      defaults to empty, and the rule's remediation is configured only once it is given.
    """
    where = f"rules/{spec.folder.name}/runbook.yaml"
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise TemplateError(f"{where}: parameters must be a mapping of name -> definition")
    if AUTOMATION_ROLE_PARAMETER not in parameters:
        raise TemplateError(f"{where}: has no {AUTOMATION_ROLE_PARAMETER} parameter; Config remediation runs the "
                            f"document with the automation role it passes there")
    if document.get("assumeRole") != f"{{{{ {AUTOMATION_ROLE_PARAMETER} }}}}":
        raise TemplateError(f"{where}: assumeRole must be '{{{{ {AUTOMATION_ROLE_PARAMETER} }}}}'")
    twins = {capitalised(name): name for name in spec.parameter_names}
    resource_id = spec.remediation_resource_parameter
    if resource_id is None:
        raise TemplateError(f"rules/{spec.folder.name}/declaration.py: remediation: the folder has runbook.yaml but "
                            f"the declaration has no remediation (with its resourceIdParameter)")
    if resource_id not in parameters:
        raise TemplateError(f"{where}: has no parameter {resource_id}, which the declaration's "
                            f"remediation.resourceIdParameter names to receive the resource id")
    mapped: list[RemediationParameter] = []
    for name, definition in parameters.items():
        if not isinstance(definition, dict):
            raise TemplateError(f"{where}: parameter {name} has no definition mapping")
        kind = definition.get("type", "String")
        required = "default" not in definition
        description = str(definition.get("description", "")).strip()
        if kind not in SUPPORTED_RUNBOOK_TYPES:
            raise TemplateError(f"{where}: parameter {name} has type {kind}, which a remediation configuration cannot "
                                f"pass (supported: {', '.join(SUPPORTED_RUNBOOK_TYPES)}); give it a default and "
                                f"leave it out, or change its type")
        if name == AUTOMATION_ROLE_PARAMETER:
            mapped.append(RemediationParameter(name, AUTOMATION_ROLE, kind, required, description=description))
        elif name in twins:
            if kind == "StringList":
                raise TemplateError(f"{where}: parameter {name} carries rule parameter {twins[name]}, a string, but "
                                    f"has type StringList; make it a String")
            mapped.append(RemediationParameter(name, RULE_VALUE, kind, required, rule_parameter=twins[name],
                                               description=description))
        elif name == resource_id:
            if kind != "String":
                raise TemplateError(f"{where}: parameter {name} receives the resource id (the declaration's "
                                    f"remediation.resourceIdParameter) but has type {kind}; make it a String")
            mapped.append(RemediationParameter(name, RESOURCE_ID, kind, required, description=description))
        else:
            default = DEPLOYED_DEFAULTS.get(name)
            if default is None:
                default = "" if required else _default_text(definition["default"], kind, f"{where}: {name}")
            mapped.append(RemediationParameter(name, TEMPLATE_VALUE, kind, required, default=default,
                                               description=description))
    return tuple(mapped)


def _default_text(value: Any, kind: str, where: str) -> str:
    if kind == "StringList":
        if not isinstance(value, list) or not all(isinstance(item, (str, int)) for item in value):
            raise TemplateError(f"{where}: a StringList default must be a list of strings")
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"{where}: default {value!r} is not a {kind}")
    return str(value)

