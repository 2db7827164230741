"""CloudFormation building blocks every template uses: intrinsic functions, conditions, and dropping the
conditions nothing refers to."""
from __future__ import annotations

from typing import Any

FORMAT_VERSION = "2010-09-09"
NO_VALUE = {"Ref": "AWS::NoValue"}


def ref(name: str) -> dict:
    return {"Ref": name}


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def arn_of(logical: str) -> dict:
    """The ARN of the template's own resource ``logical``."""
    return {"Fn::GetAtt": [logical, "Arn"]}


def is_set_condition(parameter: str) -> str:
    return f"{parameter}IsSet"


def not_empty(parameter: str) -> dict:
    return {"Fn::Not": [{"Fn::Equals": [ref(parameter), ""]}]}


def is_true(parameter: str) -> dict:
    return {"Fn::Equals": [ref(parameter), "true"]}


def if_set(parameter: str, value: Any) -> dict:
    """``value`` when the optional template parameter is given; otherwise the property is left out altogether."""
    return {"Fn::If": [is_set_condition(parameter), value, NO_VALUE]}


def resource(kind: str, properties: dict, condition: str | None = None, depends_on: list[str] | None = None) -> dict:
    """A resource with its optional Condition and DependsOn, keys in the order the templates show them."""
    built: dict[str, Any] = {"Type": kind}
    if condition:
        built["Condition"] = condition
    if depends_on:
        built["DependsOn"] = depends_on
    built["Properties"] = properties
    return built


def condition_references(node) -> set[str]:
    """Condition names used in ``node``: resource ``Condition`` keys, ``Fn::If`` and ``{"Condition": name}``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Condition" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::If" and isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
                found |= condition_references(value[1:])
            else:
                found |= condition_references(value)
    elif isinstance(node, list):
        for item in node:
            found |= condition_references(item)
    return found


def prune_conditions(template: dict) -> dict:
    """Drop conditions nothing uses (a pack without runbooks has no use for RemediationIsAutomatic)."""
    conditions = template.get("Conditions", {})
    used: set[str] = set()
    pending = list(condition_references({k: v for k, v in template.items() if k != "Conditions"}))
    while pending:
        name = pending.pop()
        if name in conditions and name not in used:
            used.add(name)
            pending += condition_references(conditions[name])
    pruned = {name: value for name, value in conditions.items() if name in used}
    if pruned:
        template["Conditions"] = pruned
    else:
        template.pop("Conditions", None)
    return template
