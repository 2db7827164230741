"""The conformance pack bodies: the Config rules and remediation configurations only, pointing by name at the
functions, documents and roles the stacks created in the same account and region. ``conformance-pack.yaml`` goes
with ``perimeter.yaml`` (deployed with ``CreateConfigRules=false``); ``organization/conformance-pack.yaml`` with
``organization/member.yaml``. Names are predictable: a pack cannot read a stack's outputs, and an organization pack
gets one set of parameters for every account and region, so functions are ``<prefix><rule id>`` in the pack's own
account and region and automation roles ``<prefix><rule id>-<region>`` (perimeter.templates.naming).

Input parameters. Config takes at most 60 per pack, so a pack exposes only what is changed while operating it
(``pack_inputs``): ``NamePrefix`` (it must equal the stacks'), ``RemediationAutomatic`` and, per rule with a runbook,
its ``<Rule>RemediationDryRun`` (the rollout switches of README "Turning on automatic remediation safely"): two plus
one per rule with a runbook, 32 at 30 rules. Everything set once, the rule parameters, the runbooks' other
parameters and the remediation rate settings, is written into the body (perimeter.templates.specialise): the
declared defaults in templates/, the user's values with ``perimeter pack --parameters FILE`` (``PackValues``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.parameters import ParameterError
from perimeter.templates.cfn import prune_conditions, sub
from perimeter.templates.config_rules import References, rules_and_remediations
from perimeter.templates.errors import TemplateError
from perimeter.templates.limits import MAX_PACK_PARAMETERS
from perimeter.templates.naming import (
    DOCUMENT_SUFFIX, NAME_PREFIX, THIS_ACCOUNT, remediation_role_text, function_arn_text, named, named_text,
    remediation_parameter_name, role_arn_text, rule_parameter_name,
)
from perimeter.templates.specialise import specialise
from perimeter.templates.template_parameters import (
    AUTOMATIC, check_value, for_pack, name_prefix_parameter, rule_and_remediation_parameters,
)

# The pack's input parameters: pack-wide, and the runbook parameters every rule with a runbook keeps as one.
PACK_WIDE_INPUTS = (NAME_PREFIX, AUTOMATIC)
PER_RULE_INPUTS = ("DryRun",)

ACCOUNT_PREFIX_DESCRIPTION = "The NamePrefix the perimeter.yaml stack of this account and region was deployed with."
ORG_PREFIX_DESCRIPTION = "The NamePrefix the organization/member.yaml StackSet was deployed with."


class PackValuesError(ValueError):
    """A value for the pack that its rule, runbook or template parameter would refuse; the message names it."""


@dataclass(frozen=True)
class PackValues:
    """The user's values: per rule id its rule parameters (``maxPorts``) and runbook parameters (``DryRun``) by their
    own names, and pack-wide parameters by their template names (``RemediationErrorPercentage``); all strings."""

    rules: dict[str, dict[str, str]] = field(default_factory=dict)
    pack: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document) -> "PackValues":
        """From the JSON of a ``--parameters`` file: ``{rule id: {name: "value"}, pack-wide name: "value"}``."""
        if not isinstance(document, dict):
            raise PackValuesError('expected a JSON object {"rule-id": {"name": "value"}, "PackWideName": "value"}')
        rules = {key: value for key, value in document.items() if isinstance(value, dict)}
        pack = {key: value for key, value in document.items() if not isinstance(value, dict)}
        return cls(rules, pack)


def generic_pack(plans, prefix_description: str) -> dict:
    """A pack whose rules run the functions of the account and region it is deployed in, and whose remediations run
    that account's documents with its automation roles of that region; every parameter a template parameter."""
    refs = References(
        function_arn=lambda plan: sub(function_arn_text(THIS_ACCOUNT, named_text(plan.spec))),
        document=lambda plan: named(plan.spec, DOCUMENT_SUFFIX),
        automation_role_arn=lambda plan: sub(
            role_arn_text(THIS_ACCOUNT, remediation_role_text(plan.spec))),
        extra_inputs=lambda plan: {},
        rule_condition=None,
        rule_depends_on=lambda plan: [],
        rule_name_in_remediation=lambda plan: named(plan.spec),
        remediation_depends_on=lambda plan: [plan.logical],
    )
    conditions, resources = rules_and_remediations(plans, refs)
    prefix = for_pack({NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans])})[NAME_PREFIX]
    prefix["Description"] = prefix_description
    parameters = {NAME_PREFIX: prefix, **for_pack(rule_and_remediation_parameters(plans))}
    return prune_conditions({"Parameters": parameters, "Conditions": conditions, "Resources": resources})


def pack_inputs(plans) -> list[str]:
    """The template names of the pack's input parameters, in the order the pack lists them."""
    names = list(PACK_WIDE_INPUTS)
    for plan in plans:
        names += [remediation_parameter_name(plan.logical, p.name) for p in plan.template_parameters()
                  if p.name in PER_RULE_INPUTS]
    return names


def pack(plans, values: PackValues | None = None, *, organization: bool = False) -> dict:
    """The pack with every parameter but ``pack_inputs`` written in: the user's value where ``values`` gives one,
    the declared default otherwise. An input parameter given in ``values`` keeps the value as its default."""
    template = generic_pack(plans, ORG_PREFIX_DESCRIPTION if organization else ACCOUNT_PREFIX_DESCRIPTION)
    given = template_values(plans, values or PackValues())
    definitions = template.get("Parameters", {})
    numbers = {name for name, definition in rule_and_remediation_parameters(plans).items()
               if definition["Type"] == "Number"}
    inputs = [name for name in pack_inputs(plans) if name in definitions]
    written: dict = {}
    for name, definition in definitions.items():
        text = given.get(name, definition["Default"])
        if name in inputs:
            definition["Default"] = text
        else:
            written[name] = int(text) if name in numbers else text
    template = specialise(template, written)
    # An input nothing refers to any more (the DryRun of a remediation its values left out) is dropped.
    used = referenced_parameters(template)
    template["Parameters"] = {name: template["Parameters"][name] for name in inputs if name in used}
    if len(template["Parameters"]) > MAX_PACK_PARAMETERS:
        raise TemplateError(f"the conformance pack needs {len(template['Parameters'])} input parameters; Config "
                            f"accepts at most {MAX_PACK_PARAMETERS}")
    return template


def referenced_parameters(node) -> set[str]:
    """Names the template refers to by ``Ref`` or as ``${Name}`` in ``Fn::Sub`` text (outside its Parameters)."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "Parameters" and "Resources" in node:
                continue
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::Sub" and isinstance(value, str):
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)\}", value))
            else:
                found |= referenced_parameters(value)
        return found
    if isinstance(node, list):
        return set().union(*(referenced_parameters(item) for item in node))
    return set()


def template_values(plans, values: PackValues) -> dict[str, str]:
    """The user's values by template parameter name, each checked as its rule, runbook or template would."""
    definitions = {NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans]),
                   **rule_and_remediation_parameters(plans)}
    names = {plan.rule_id: _template_names(plan) for plan in plans}
    given: dict[str, str] = {}
    for rule_id, entries in values.rules.items():
        if rule_id not in names:
            raise PackValuesError(f"unknown rule '{rule_id}'; known rules: {', '.join(names)}")
        given.update(_rule_values(next(p for p in plans if p.rule_id == rule_id), entries, names[rule_id],
                                  definitions))
    per_rule = {name for rule_names in names.values() for name in rule_names.values()}
    pack_wide = [name for name in definitions if name not in per_rule]
    for name, value in values.pack.items():
        if name not in pack_wide:
            raise PackValuesError(f"unknown pack-wide parameter {name!r} (a rule's values go in an object under its "
                                  f"id); pack-wide parameters: {', '.join(pack_wide)}")
        _check(definitions[name], name, value)
        given[name] = value
    return given


def _template_names(plan) -> dict[str, str]:
    """The rule's parameters and its runbook's template parameters, by their own names -> template names. A parameter
    every rule has (maxExemptionDays) is pack-wide: its value is given once, as ``MaxExemptionDays``."""
    names = {name: rule_parameter_name(plan.logical, name) for name in plan.spec.parameter_names
             if name not in PACK_WIDE_PARAMETERS}
    names.update({p.name: remediation_parameter_name(plan.logical, p.name) for p in plan.template_parameters()})
    return names


def _rule_values(plan, entries: dict, names: dict[str, str], definitions: dict) -> dict[str, str]:
    unknown = sorted(set(entries) - set(names))
    if unknown:
        raise PackValuesError(f"{plan.rule_id}: unknown parameter(s) {', '.join(unknown)}; its parameters: "
                              f"{', '.join(names) or 'none'}")
    rule_entries = {name: value for name, value in entries.items() if name in plan.spec.parameter_names}
    try:
        plan.spec.parse_parameters(rule_entries)  # exactly as the rule's Lambda and the scan parse them
    except ParameterError as error:
        raise PackValuesError(f"{plan.rule_id}: {error}") from None
    given = {}
    for name, value in entries.items():
        if name not in rule_entries:
            _check(definitions[names[name]], f"{plan.rule_id}: runbook parameter {name}", value)
        given[names[name]] = value
    return given


def _check(definition: dict, name: str, value) -> None:
    problem = check_value(name, definition, value)
    if problem:
        raise PackValuesError(problem)


def account_pack(plans) -> dict:
    return pack(plans)


def org_pack(plans) -> dict:
    return pack(plans, organization=True)
