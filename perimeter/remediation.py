"""Helpers for remediation scripts: the ``handler(events, context)`` of each rule's ``remediation.py``.

They run in the rule's remediation function (perimeter.remediation_entry), which its runbook invokes; only the
standard library, boto3, botocore and pure core modules:
- ``client``: a boto3 client in botocore's standard retry mode (throttling and 5xx retried with backoff);
- ``error_code``: the AWS error code of a ClientError;
- ``boolean_input`` / ``string_list_input`` / ``int_input``: read SSM parameters as they reach ``events``. SSM hands a typed value
  when the InputPayload value is a whole ``{{ Parameter }}``, text when it is written inside a longer string, and
  a caller starting the automation by hand may pass text; all of these are accepted, anything else is refused
  with a message naming the parameter;
- ``rule_parameters``: the rule's own parameters from the runbook parameters named after them, parsed by the rule.
- ``outcome``: the payload of a script that reports its own failure, so that its outputs exist on failure too.
- ``network_firewall_key``: the identifying argument of a Network Firewall Describe call for what a runbook was
  given (an ARN, a name, or the resource id Config passes), with the service's error codes the runbooks test;
  ``unless_gone`` turns its "no such resource" answer into the runbook's own error;
- ``exemption_refusal`` / ``ec2_tags``: a runbook reads the resource's tags first and changes nothing on a resource
  that is exempt from its rule (perimeter.exemptions), ending successfully with outputs that say until when;
  ``unless_exempt`` is a whole handler doing that around a remediation.
"""
from __future__ import annotations

import json
import re
import traceback
from typing import Any, Callable, Iterable, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from perimeter.exemptions import (
    ACTIVE, MAX_EXEMPTION_DAYS, PACK_WIDE_PARAMETERS, evaluation_date, read_exemption, tag_key, tags_of,
)
from perimeter.parameters import ParameterError, int_value

RETRY_CONFIG = Config(retries={"mode": "standard"})


class InputError(ValueError):
    """A runbook parameter has a value the script cannot use; the message names the parameter."""


class RemediationError(RuntimeError):
    """The remediation cannot be done or completed; the message says why and what to do."""


def client(service: str):
    """A client for the runtime's region and credentials (the automation's assumed role), retrying as AWS advises."""
    return boto3.client(service, config=RETRY_CONFIG)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


# Network Firewall (API reference, Common Errors and each Update* action): a stale UpdateToken, a resource gone.
NFW_STALE_TOKEN, NFW_NOT_FOUND = "InvalidTokenException", "ResourceNotFoundException"
# Config's resource id of a Network Firewall firewall, policy or rule group: the resource's id, a UUID.
NFW_RESOURCE_ID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")


def network_firewall_key(given: str, arn_name: str, name_name: str, listed_arns: Callable[[], Iterable[str]],
                         id_of: Callable[[str], str | None]) -> dict:
    """``{arn_name: ...}`` or ``{name_name: ...}`` for a Describe call: an ARN as given; a resource id (the Describe
    calls take none) found among ``listed_arns()`` by describing each, ``id_of(arn)``, a resource deleted since it
    was listed being skipped; anything else, or an id no listed resource has, as a name (a name may look like an
    id too). The callers write the List and Describe calls, so each runbook's module names the actions it needs."""
    if given.startswith("arn:"):
        return {arn_name: given}
    if NFW_RESOURCE_ID.match(given):
        for arn in listed_arns():
            try:
                found = id_of(arn)
            except ClientError as error:
                if error_code(error) == NFW_NOT_FOUND:
                    continue  # deleted since listed: not the one
                raise
            if found == given:
                return {arn_name: arn}
    return {name_name: given}


def unless_gone(call: Callable[[], Any], gone: Callable[[], Exception]) -> Any:
    """``call()``; where Network Firewall answers NFW_NOT_FOUND (no such resource, or no longer), ``gone()`` is raised
    instead, without the ClientError as its context. The caller writes the call, as for network_firewall_key."""
    try:
        return call()
    except ClientError as error:
        if error_code(error) == NFW_NOT_FOUND:
            raise gone() from None
        raise


def boolean_input(value: Any, name: str) -> bool:
    """A Boolean parameter: True/False, or the text true/false in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InputError(f"parameter {name}: {value!r} is not a Boolean (true or false)")


def string_list_input(value: Any, name: str) -> list[str]:
    """A StringList parameter: a list, its JSON text, or comma-separated text; blank items are dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InputError(f"parameter {name}: {value!r} is not a list of strings") from None
        else:
            value = text.split(",")
    if not isinstance(value, list) or not all(isinstance(item, (str, int)) and not isinstance(item, bool)
                                              for item in value):
        raise InputError(f"parameter {name}: {value!r} is not a list of strings")
    return [str(item).strip() for item in value if str(item).strip()]


def int_input(value: Any, name: str, default: int, minimum: int) -> int:
    """An integer parameter given as text (blank: ``default``), at least ``minimum``; InputError names it."""
    try:
        return int_value({name: "" if value is None else str(value)}, name, default=default, minimum=minimum)
    except ParameterError as error:
        raise InputError(str(error)) from None


def rule_parameters(events: dict, twins: Mapping[str, str], parse_parameters: Callable[[dict], Any]) -> Any:
    """The rule's parsed parameters from the runbook parameters that carry them (``twins``: runbook name -> rule name,
    e.g. ``MaxPorts`` -> ``maxPorts``), parsed by the rule's own ``parse_parameters``: the runbook judges with exactly
    the rule's settings and semantics. An invalid value fails with the rule's message, naming both parameters."""
    raw = {rule: str(events[name]) for name, rule in twins.items() if events.get(name) is not None}
    try:
        return parse_parameters(raw)
    except ParameterError as error:
        message = str(error)
        for name, rule in twins.items():
            message = message.replace(f"parameter {rule}:", f"parameter {name} (rule parameter {rule}):")
        raise InputError(message) from None
def outcome(outputs: dict, error: BaseException | None) -> dict:
    """The payload of a script step whose failure a later step of the document raises: ``outputs``, always, plus
    ``Failed`` and ``Failure`` (empty on success; else why, followed by ``outputs`` as JSON: what the run changed).

    An aws:executeScript step's outputs come from the handler's return value only (the action's Payload output,
    Systems Manager User Guide, "aws:executeScript - Run a script"): a handler that raises leaves them unset, and
    nothing would record what it changed before it failed. So the handler returns, and the document fails after.
    """
    if error is None:
        return {**outputs, "Failed": False, "Failure": ""}
    changes = json.dumps(outputs, sort_keys=True, separators=(",", ":"))
    return {**outputs, "Failed": True, "Failure": f"{_describe(error)}\nWhat this run changed: {changes}"}


def _describe(error: BaseException) -> str:
    """Our own errors and AWS's by their message; anything else (a fault in the script) with its traceback."""
    if isinstance(error, (InputError, RemediationError, ClientError)):
        text = str(error)
    else:
        text = "".join(traceback.format_exception(error)).strip()
    if error.__context__ is not None and not error.__suppress_context__:
        text += f" (raised while handling: {_describe(error.__context__)})"
    return text


# --- exemptions: runbooks refuse to change an exempt resource (perimeter.exemptions) ---------------------------
def exemption_refusal(rule_id: str, tags) -> dict | None:
    """The runbook's outputs when the resource is exempt from ``rule_id`` today (UTC), else None.

    ``tags`` are the resource's tags as its service returns them (``[{"Key", "Value"}]``). A runbook does not know
    the rule's maxExemptionDays: it honours every well-formed, unexpired exemption that any maxExemptionDays could
    allow (up to the parameter's maximum), so automation never overrides an exemption someone wrote; the rule still
    reports one that runs longer than its maxExemptionDays allows (NON_COMPLIANT, "exemption tag ignored").
    """
    value = tags_of({"resourceId": rule_id, "tags": tags}).get(tag_key(rule_id))
    longest = PACK_WIDE_PARAMETERS[MAX_EXEMPTION_DAYS]["maximum"]
    exemption = value and read_exemption(value, evaluation_date(), longest)
    if not exemption or exemption.state != ACTIVE:
        return None
    until = exemption.expires.isoformat()
    return {"ExemptUntil": until, "Message": f"Exempt from {rule_id} until {until} ({exemption.reason}): nothing changed"}


def unless_exempt(rule_id: str, service: str, tags: Callable[[Any], list], remediate: Callable[[Any], None],
                  outputs: Callable[[], dict]) -> dict:
    """A remediation handler's payload: with a ``service`` client, read the resource's tags (``tags(client)``) and
    refuse when it is exempt from ``rule_id``; else ``remediate(client)``. Any failure is returned with
    ``outputs()`` (``outcome``), never raised: the outputs must exist on failure too."""
    try:
        api = client(service)
        exempt = exemption_refusal(rule_id, tags(api))
        if exempt:
            return outcome({**outputs(), **exempt}, None)
        remediate(api)
    except Exception as error:
        return outcome(outputs(), error)
    return outcome(outputs(), None)


def ec2_tags(ec2, resource_id: str) -> list[dict]:
    """The tags of an EC2 resource (security group, network ACL, ...): at most 50, one DescribeTags page."""
    return ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
