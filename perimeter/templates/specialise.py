"""Writing known parameter values into a template, as CloudFormation would resolve them.

``specialise(template, values)`` replaces each ``Ref`` to a parameter in ``values`` by its value, evaluates the
conditions whose every input is then known (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``), picks the branch
of each ``Fn::If`` on such a condition, splits a known ``Fn::Split`` text, drops a property or list entry that became
``AWS::NoValue`` and a resource whose condition is false. What depends on a parameter not in ``values`` stays as it
was. The conformance packs use it to write the rarely changed parameters in (perimeter.templates.packs), so that
they cost no pack input parameter.
"""
from __future__ import annotations

from typing import Any

from perimeter.templates.cfn import NO_VALUE, prune_conditions
from perimeter.templates.errors import TemplateError

_UNKNOWN = object()  # a condition that depends on a parameter still in the template


def specialise(template: dict, values: dict[str, Any]) -> dict:
    """The template with ``values`` (parameter name -> value) written in and those parameters removed."""
    parameters = template.get("Parameters", {})
    unknown = sorted(set(values) - set(parameters))
    if unknown:
        raise TemplateError(f"no such template parameter(s): {', '.join(unknown)}")
    conditions = template.get("Conditions", {})
    truth: dict[str, Any] = {}

    def condition(name: str) -> Any:
        if name not in truth:
            if name not in conditions:
                raise TemplateError(f"condition {name} is used but not defined")
            truth[name] = _evaluate(conditions[name], values, condition)
        return truth[name]

    result: dict[str, Any] = {}
    for key, section in template.items():
        if key == "Parameters":
            result[key] = {name: definition for name, definition in section.items() if name not in values}
        elif key == "Conditions":
            result[key] = {name: _kept_condition(name, definition, values, condition)
                           for name, definition in section.items() if condition(name) is _UNKNOWN}
        elif key == "Resources":
            result[key] = {}
            for logical, resource in section.items():
                known = condition(resource["Condition"]) if "Condition" in resource else True
                if known is False:
                    continue
                resolved = _resolve(resource, values, condition)
                if known is True:
                    resolved.pop("Condition", None)
                result[key][logical] = resolved
        else:
            result[key] = _resolve(section, values, condition)
    if not result.get("Parameters"):
        result.pop("Parameters", None)
    return prune_conditions(result)


def _evaluate(node: Any, values: dict, condition) -> Any:
    """A condition's truth, or _UNKNOWN."""
    if isinstance(node, dict) and len(node) == 1:
        (function, argument), = node.items()
        if function == "Condition":
            return condition(argument)
        if function == "Fn::Equals":
            left, right = (_resolve(side, values, condition) for side in argument)
            if _is_literal(left) and _is_literal(right):
                return str(left) == str(right)
            return _UNKNOWN
        if function == "Fn::Not":
            inner = _evaluate(argument[0], values, condition)
            return _UNKNOWN if inner is _UNKNOWN else not inner
        if function in ("Fn::And", "Fn::Or"):
            parts = [_evaluate(part, values, condition) for part in argument]
            decisive = function == "Fn::Or"  # the value that settles the result whatever the others are
            if decisive in parts:
                return decisive
            return _UNKNOWN if _UNKNOWN in parts else not decisive
    raise TemplateError(f"cannot evaluate condition {node!r}")


def _kept_condition(name: str, definition: Any, values: dict, condition) -> Any:
    """A condition that still depends on a template parameter, with the known values written into it. It may not
    lean on a condition that was settled (and so removed): CloudFormation has no literal true or false to put there."""
    for settled in sorted(_condition_names(definition)):
        if condition(settled) is not _UNKNOWN:
            raise TemplateError(f"condition {name} depends on {settled}, which the values settle; "
                                f"give both or neither")
    return _resolve(definition, values, condition)


def _condition_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"Condition"}:
            return {node["Condition"]}
        return set().union(*(_condition_names(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_condition_names(item) for item in node))
    return set()


def _is_literal(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _resolve(node: Any, values: dict, condition) -> Any:
    if isinstance(node, list):
        resolved = [_resolve(item, values, condition) for item in node]
        return [item for item in resolved if item != NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (function, argument), = node.items()
        if function == "Ref" and argument in values:
            return values[argument]
        if function == "Fn::If":
            name, when_true, when_false = argument
            truth = condition(name)
            if truth is not _UNKNOWN:
                return _resolve(when_true if truth else when_false, values, condition)
        if function == "Fn::Split":
            delimiter, text = argument[0], _resolve(argument[1], values, condition)
            if isinstance(text, str):
                return text.split(delimiter)
            return {function: [delimiter, text]}
    resolved = {key: _resolve(value, values, condition) for key, value in node.items()}
    return {key: value for key, value in resolved.items() if value != NO_VALUE}
