"""A rule's declaration: everything about a rule that is not its evaluation, written once and validated.

Each rule folder holds ``declaration.py`` with one dict, ``DECLARATION``. It is a Python module rather than a data
file so that the same facts reach every place the rule runs — the Lambda, the offline scan, and the runbook
scripts, which the SSM runtime runs with the standard library only (perimeter.runbooks bundles it like any module).
Pure: standard library only.

The keys (``validate`` rejects anything else, naming the file and the field):

- ``id``: kebab-case rule id; the folder is the id with underscores.
- ``title``, ``description`` (at most 256 characters: Config's limit for a rule description).
- ``severity``: one of SEVERITIES (Security Hub's labels, title-cased).
- ``frameworks``, ``controls``: lists of text (e.g. ``"Security Hub EC2.19"``).
- ``resourceTypes``: the Config resource types the rule reports on.
- ``trigger``: ``{"change": bool, "periodic": None or a Config MaximumExecutionFrequency}``; at least one.
- ``runtime``: the Lambda runtime, ``python3.N``.
- ``parameters``: name -> parameter (below); Config passes every value as a string.
- ``lambdaPermissions``: ``[{"actions": [...], "resources": [...]}]`` the rule's own API calls need. A resource ARN
  may hold the placeholders ``{partition}``, ``{region}`` and ``{account}``: the deployment's own, filled in by the
  templates (the declaration stays free of any one deployment tool's syntax).
- ``remediation``: None, or ``{"resourceIdParameter": name, "permissions": [...]}`` for the folder's runbook.yaml:
  which runbook parameter receives the non-compliant resource's id, and what the runbook's role may do.

A parameter: ``type`` (declaration_schema.PARAMETER_TYPES), ``description``, ``default`` (text, parsed like any value), and per
type ``values`` (choice, list), ``minimum``/``maximum`` (integer), ``pattern`` (string, list entries). A blank
value means the default; for ``ports`` the word ``none`` means no ports.

This module parses values (the Lambda, the scans and the runbook scripts import it); the schema itself is
perimeter/declaration_schema.py, which only the registry needs.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from perimeter.parameters import ParameterError, check_known
from perimeter.ports import parse_port_list

NO_PORTS = "none"


# --- parsing values (the Lambda, the scan and the runbooks all parse through here) --------------------------------
def parse_value(name: str, parameter: Mapping[str, Any], text: str) -> Any:
    """The typed value of one parameter's (stripped, non-blank) text; ParameterError names the parameter."""
    kind = parameter["type"]
    if kind == "integer":
        minimum, maximum = parameter.get("minimum"), parameter.get("maximum")
        bounds = " and ".join(f"{word} {bound}" for word, bound in ((">=", minimum), ("<=", maximum)) if bound is not None)
        if not (text.isascii() and text.isdigit()) or (minimum is not None and int(text) < minimum) \
                or (maximum is not None and int(text) > maximum):
            raise ParameterError(f"parameter {name}: '{text}' is not an integer" + (f" {bounds}" if bounds else ""))
        return int(text)
    if kind == "ports":
        if text.lower() == NO_PORTS:
            return ()
        try:
            return parse_port_list(text)
        except ValueError as error:
            raise ParameterError(f"parameter {name}: '{text}' is invalid: {error}") from None
    if kind == "choice":
        if text.lower() not in parameter["values"]:
            raise ParameterError(f"parameter {name}: '{text}' is not one of {', '.join(parameter['values'])}")
        return text.lower()
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise ParameterError(f"parameter {name}: '{text}' is not true or false")
        return text.lower() == "true"
    if kind == "list":
        entries = tuple(entry.strip() for entry in text.split(","))
        for entry in entries:
            if parameter.get("values") is not None and entry not in parameter["values"]:
                raise ParameterError(f"parameter {name}: '{entry}' is not one of {', '.join(parameter['values'])}")
            if parameter.get("pattern") is not None and not re.fullmatch(parameter["pattern"], entry):
                raise ParameterError(f"parameter {name}: '{entry}' does not match {parameter['pattern']}")
        return tuple(dict.fromkeys(entries))
    if parameter.get("pattern") is not None and not re.fullmatch(parameter["pattern"], text):
        raise ParameterError(f"parameter {name}: '{text}' does not match {parameter['pattern']}")
    return text


def declared_values(declaration: Mapping[str, Any], raw: Mapping[str, object]) -> dict[str, Any]:
    """Every declared parameter's typed value from Config's strings: unknown names refused, blanks the default."""
    if not isinstance(raw, Mapping):
        raise ParameterError("rule parameters must be a JSON object of name -> string")
    parameters = declaration["parameters"]
    check_known(raw, parameters)
    values = {}
    for name, parameter in parameters.items():
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"parameter {name}: value {value!r} must be a string")
        text = (value or "").strip() or parameter["default"].strip()
        values[name] = parse_value(name, parameter, text) if text else _empty(parameter)
    return values


def _empty(parameter: Mapping[str, Any]) -> Any:
    """The value of a blank parameter whose default is blank too."""
    return () if parameter["type"] in ("ports", "list") else None
