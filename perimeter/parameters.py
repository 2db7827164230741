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


def restricted_port_lists(values: Mapping[str, object], tcp_name: str, udp_name: str) -> dict:
    """``{"tcp": ..., "udp": ...}`` from two parsed port-list parameters, refusing both empty: a rule restricting no
    port would check nothing and report everything compliant."""
    if not values[tcp_name] and not values[udp_name]:
        raise ParameterError(f"parameters {tcp_name} and {udp_name}: both are empty; the rule would check nothing "
                             "(give at least one port)")
    return {"tcp": values[tcp_name], "udp": values[udp_name]}
