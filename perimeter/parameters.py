"""Rule-parameter parsing shared by every rule. Config passes every value as a string.

Errors are ParameterError (a ValueError); the Lambda edge turns them into rdklib's
InvalidParametersError, the scan into a one-line usage error.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from perimeter.ports import parse_port_list, PortRange

# Parameters our Lambda edge consumes itself rather than the rule (central-account mode).
PACK_PARAMETERS = ("ExecutionRoleName",)


class ParameterError(ValueError):
    """A rule parameter is unknown or has an invalid value; the message names both."""


def check_known(raw: Mapping[str, object], known: Iterable[str]) -> None:
    known = tuple(known)
    unknown = sorted(set(raw) - set(known) - set(PACK_PARAMETERS))
    if unknown:
        names = ", ".join(sorted(known + PACK_PARAMETERS))
        given = ", ".join(f"{name} (value {raw[name]!r})" for name in unknown)
        raise ParameterError(f"unknown parameter(s) {given}; known parameters: {names}")


def text_value(raw: Mapping[str, object], name: str) -> str | None:
    """The parameter as stripped text, or None when absent or blank (Config's 'not set')."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParameterError(f"parameter {name}: value {value!r} must be a string")
    value = value.strip()
    return value or None


def int_value(raw: Mapping[str, object], name: str, default: int, minimum: int) -> int:
    text = text_value(raw, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise ParameterError(f"parameter {name}: '{text}' is not an integer >= {minimum}")
    return int(text)


def choice_value(raw: Mapping[str, object], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (case-insensitive); the first is the default."""
    text = text_value(raw, name)
    if text is None:
        return choices[0]
    if text.lower() not in choices:
        raise ParameterError(f"parameter {name}: '{text}' is not one of {', '.join(choices)}")
    return text.lower()


def port_list_value(raw: Mapping[str, object], name: str) -> tuple[PortRange, ...]:
    text = text_value(raw, name)
    if text is None:
        return ()
    try:
        return parse_port_list(text)
    except ValueError as error:
        raise ParameterError(f"parameter {name}: '{text}' is invalid: {error}") from None
