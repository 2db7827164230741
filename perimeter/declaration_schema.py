"""The schema of a rule's declaration (the keys are described in perimeter/declarations.py): ``validate`` refuses
anything outside it, naming the file and the field. Pure: standard library only; the registry runs it when it
loads a rule.
"""
from __future__ import annotations

import re
from typing import Any

from perimeter.declarations import parse_value
from perimeter.parameters import ParameterError

SEVERITIES = ("Informational", "Low", "Medium", "High", "Critical")
# Config's MaximumExecutionFrequency values.
FREQUENCIES = ("One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours")
PARAMETER_TYPES = ("integer", "ports", "choice", "boolean", "list", "string")
MAX_DESCRIPTION = 256  # Config rule descriptions

_RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_PARAMETER_NAME = re.compile(r"^[a-z][A-Za-z0-9]{0,63}$")
_RUNBOOK_PARAMETER = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")
_RUNTIME = re.compile(r"^python3\.\d+$")
_RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
ARN_PLACEHOLDERS = ("partition", "region", "account")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

_TOP_KEYS = {
    "id": str, "title": str, "description": str, "severity": str, "frameworks": list, "controls": list,
    "resourceTypes": list, "trigger": dict, "runtime": str, "parameters": dict, "lambdaPermissions": list,
    "remediation": (dict, type(None)),
}
_TYPE_KEYS = {
    "integer": {"minimum", "maximum"},
    "ports": set(),
    "choice": {"values"},
    "boolean": set(),
    "list": {"values", "pattern"},
    "string": {"pattern"},
}
_COMMON_KEYS = {"type", "description", "default"}


class DeclarationError(ValueError):
    """A declaration that does not follow the schema; the message names the file and the field."""


# --- validating a declaration --------------------------------------------------------------------------------------
def validate(declaration: Any, where: str) -> None:
    """DeclarationError naming ``where`` (the file) and the field, for anything outside the schema."""
    def fail(field: str, problem: str) -> None:
        raise DeclarationError(f"{where}: {field}: {problem}")

    if not isinstance(declaration, dict):
        fail("DECLARATION", "must be a dict")
    _check_keys(declaration, _TOP_KEYS, set(_TOP_KEYS), "DECLARATION", fail)
    if not _RULE_ID.match(declaration["id"]):
        fail("id", f"{declaration['id']!r} is not a kebab-case rule id")
    for key in ("title", "description"):
        if not declaration[key].strip():
            fail(key, "must not be empty")
    if len(declaration["description"]) > MAX_DESCRIPTION:
        fail("description", f"is {len(declaration['description'])} characters; Config allows {MAX_DESCRIPTION}")
    if declaration["severity"] not in SEVERITIES:
        fail("severity", f"{declaration['severity']!r} is not one of {', '.join(SEVERITIES)}")
    for key in ("frameworks", "controls"):
        _check_texts(declaration[key], key, fail)
    _check_texts(declaration["resourceTypes"], "resourceTypes", fail, pattern=_RESOURCE_TYPE)
    if not declaration["resourceTypes"]:
        fail("resourceTypes", "must name at least one resource type")
    _check_trigger(declaration["trigger"], fail)
    if not _RUNTIME.match(declaration["runtime"]):
        fail("runtime", f"{declaration['runtime']!r} is not a python3.N Lambda runtime")
    for name, parameter in declaration["parameters"].items():
        _check_parameter(name, parameter, f"parameters.{name}", fail)
    _check_permissions(declaration["lambdaPermissions"], "lambdaPermissions", fail)
    remediation = declaration["remediation"]
    if remediation is not None:
        _check_keys(remediation, {"resourceIdParameter": str, "permissions": list},
                    {"resourceIdParameter", "permissions"}, "remediation", fail)
        if not _RUNBOOK_PARAMETER.match(remediation["resourceIdParameter"]):
            fail("remediation.resourceIdParameter", f"{remediation['resourceIdParameter']!r} is not a runbook "
                 "parameter name (PascalCase)")
        _check_permissions(remediation["permissions"], "remediation.permissions", fail)


def _check_keys(mapping: dict, types: dict, required: set, field: str, fail) -> None:
    unknown = sorted(set(mapping) - set(types))
    if unknown:
        fail(f"{field}.{unknown[0]}", f"unknown key; known keys: {', '.join(sorted(types))}")
    missing = sorted(required - set(mapping))
    if missing:
        fail(f"{field}.{missing[0]}", "is required")
    for key, value in mapping.items():
        expected = types[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            fail(f"{field}.{key}" if field != "DECLARATION" else key,
                 f"must be {names.replace('NoneType', 'None')}, not {type(value).__name__}")


def _check_texts(values: list, field: str, fail, pattern: re.Pattern | None = None) -> None:
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            fail(f"{field}[{index}]", "must be non-empty text")
        if pattern is not None and not pattern.match(value):
            fail(f"{field}[{index}]", f"{value!r} does not match {pattern.pattern}")


def _check_trigger(trigger: dict, fail) -> None:
    _check_keys(trigger, {"change": bool, "periodic": (str, type(None))}, {"change", "periodic"}, "trigger", fail)
    if trigger["periodic"] is not None and trigger["periodic"] not in FREQUENCIES:
        fail("trigger.periodic", f"{trigger['periodic']!r} is not one of {', '.join(FREQUENCIES)}")
    if not trigger["change"] and trigger["periodic"] is None:
        fail("trigger", "a rule is change-triggered, periodic, or both")


def _check_parameter(name: str, parameter: Any, field: str, fail) -> None:
    if not _PARAMETER_NAME.match(name):
        fail(field, "a parameter name is camelCase letters and digits")
    if not isinstance(parameter, dict):
        fail(field, "must be a dict")
    kind = parameter.get("type")
    if kind not in PARAMETER_TYPES:
        fail(f"{field}.type", f"{kind!r} is not one of {', '.join(PARAMETER_TYPES)}")
    types = {"type": str, "description": str, "default": str, "values": list, "minimum": int, "maximum": int,
             "pattern": str}
    allowed = {key: types[key] for key in _COMMON_KEYS | _TYPE_KEYS[kind]}
    _check_keys(parameter, allowed, _COMMON_KEYS | ({"values"} if kind == "choice" else set()), field, fail)
    if not parameter["description"].strip():
        fail(f"{field}.description", "must not be empty")
    if "values" in parameter:
        _check_texts(parameter["values"], f"{field}.values", fail)
        if kind == "choice" and any(value != value.lower() for value in parameter["values"]):
            fail(f"{field}.values", "choices are lower-case (values are matched case-insensitively)")
    if "pattern" in parameter:
        try:
            re.compile(parameter["pattern"])
        except re.error as error:
            fail(f"{field}.pattern", f"is not a regular expression: {error}")
    default = parameter["default"].strip()
    if default:
        try:
            parse_value(name, parameter, default)
        except ParameterError as error:
            fail(f"{field}.default", f"fails its own rule: {error}")


def _check_permissions(statements: list, field: str, fail) -> None:
    for index, statement in enumerate(statements):
        where = f"{field}[{index}]"
        if not isinstance(statement, dict):
            fail(where, "must be a dict with actions and resources")
        _check_keys(statement, {"actions": list, "resources": list}, {"actions", "resources"}, where, fail)
        _check_texts(statement["actions"], f"{where}.actions", fail, pattern=_ACTION)
        _check_texts(statement["resources"], f"{where}.resources", fail)
        for index, resource in enumerate(statement["resources"]):
            unknown = [name for name in _PLACEHOLDER.findall(resource) if name not in ARN_PLACEHOLDERS]
            if unknown or "$" in resource:
                fail(f"{where}.resources[{index}]", f"{resource!r}: the only placeholders are "
                     + ", ".join(f"{{{name}}}" for name in ARN_PLACEHOLDERS))
        if not statement["actions"] or not statement["resources"]:
            fail(where, "needs at least one action and one resource")
