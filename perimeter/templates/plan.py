"""What the templates are rendered from: per rule its metadata, logical id, rendered runbook and the mapping of the
runbook's parameters, checked once for the whole pack."""
from __future__ import annotations

import json
from dataclasses import dataclass

from perimeter.registry import RuleSpec, all_rules
from perimeter.runbooks import render_runbook
from perimeter.templates.errors import TemplateError
from perimeter.templates.iam import declared_statements
from perimeter.templates.naming import (
    REMEDIATION_FUNCTION_SUFFIX, THIS_ACCOUNT, function_arn_text, function_name_text, logical_id,
)
from perimeter.templates.remediation_parameters import TEMPLATE_VALUE, RemediationParameter, map_remediation_parameters

MAX_PACK_RULES = 130


@dataclass(frozen=True)
class RulePlan:
    spec: RuleSpec
    logical: str
    document: dict | None  # the rendered runbook, calling the remediation function; None without remediation
    remediation: tuple[RemediationParameter, ...]

    @property
    def rule_id(self) -> str:
        return self.spec.rule_id

    @property
    def required_inputs(self) -> tuple[str, ...]:
        return tuple(json_keys(self.spec.metadata["Parameters"].get("InputParameters")))

    def template_parameters(self) -> list[RemediationParameter]:
        return [p for p in self.remediation if p.source == TEMPLATE_VALUE]


def json_keys(text) -> list[str]:
    value = json.loads(text) if isinstance(text, str) and text.strip() else (text or {})
    return list(value)


def remediation_function_arn(spec: RuleSpec) -> dict:
    """The rule's remediation function in the deploying account and region, as the stacks name it (Fn::Sub): its
    document is deployed next to it, by the same stack."""
    return {"Fn::Sub": function_arn_text(THIS_ACCOUNT, function_name_text(spec, REMEDIATION_FUNCTION_SUFFIX))}


def plan_rule(spec: RuleSpec) -> RulePlan:
    document = None
    mapping: tuple[RemediationParameter, ...] = ()
    if (spec.folder / "runbook.yaml").exists():
        document = render_runbook(spec.folder, remediation_function_arn(spec), spec.rule_id)
        mapping = map_remediation_parameters(spec, document)
    return RulePlan(spec, logical_id(spec.rule_id), document, mapping)


def plan_pack(specs=None) -> tuple[RulePlan, ...]:
    specs = all_rules() if specs is None else specs
    plans = tuple(plan_rule(spec) for spec in specs)
    logicals = [plan.logical for plan in plans]
    if len(set(logicals)) != len(logicals):
        raise TemplateError(f"two rules give the same logical id: {logicals}")
    if len(plans) > MAX_PACK_RULES:
        raise TemplateError(f"{len(plans)} rules; a conformance pack holds at most {MAX_PACK_RULES}")
    for plan in plans:
        for key in ("LambdaActions", "RemediationActions"):
            declared_statements(plan.spec, key)  # validate early, with the rule's name
    return plans
