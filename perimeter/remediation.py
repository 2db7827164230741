"""Helpers for remediation scripts: the ``aws:executeScript`` handlers of the rules' runbooks.

Bundled into runbook scripts (perimeter.runbooks), so only the standard library, boto3 and botocore:
- ``client``: a boto3 client in botocore's standard retry mode (throttling and 5xx retried with backoff);
- ``error_code``: the AWS error code of a ClientError;
- ``boolean_input`` / ``string_list_input``: read SSM parameters as they reach ``events``. SSM hands a typed value
  when the InputPayload value is a whole ``{{ Parameter }}``, text when it is written inside a longer string, and
  a caller starting the automation by hand may pass text; all of these are accepted, anything else is refused
  with a message naming the parameter;
- ``exemption_refusal`` / ``ec2_tags``: a runbook reads the resource's tags first and changes nothing on a resource
  that is exempt from its rule (perimeter.exemptions), ending successfully with outputs that say until when.
"""
from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from perimeter.declarations import parse_value
from perimeter.exemptions import (
    ACTIVE, MAX_EXEMPTION_DAYS, PACK_WIDE_PARAMETERS, evaluation_date, read_exemption, tag_key, tags_of,
)

RETRY_CONFIG = Config(retries={"mode": "standard"})


class InputError(ValueError):
    """A runbook parameter has a value the script cannot use; the message names the parameter."""


def client(service: str):
    """A client for the runtime's region and credentials (the automation's assumed role), retrying as AWS advises."""
    return boto3.client(service, config=RETRY_CONFIG)


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


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


# --- exemptions: runbooks refuse to change an exempt resource (perimeter.exemptions) ---------------------------
def exemption_refusal(rule_id: str, tags, events: dict, today=None) -> dict | None:
    """The runbook's outputs when the resource is exempt from ``rule_id`` today (UTC), else None.

    ``tags`` are the resource's tags as its service returns them (``[{"Key", "Value"}]``); the runbook parameter
    ``MaxExemptionDays`` carries the rule's maxExemptionDays, so an exemption the rule ignores (expired, invalid,
    too far ahead) does not stop the runbook either.
    """
    value = tags_of({"resourceType": "", "resourceId": rule_id, "tags": tags or []}).get(tag_key(rule_id))
    if value is None:
        return None
    text = str(events.get("MaxExemptionDays") or "").strip() or PACK_WIDE_PARAMETERS[MAX_EXEMPTION_DAYS]["default"]
    try:
        max_days = parse_value(MAX_EXEMPTION_DAYS, PACK_WIDE_PARAMETERS[MAX_EXEMPTION_DAYS], text)
    except ValueError as error:
        raise InputError(str(error).replace(f"parameter {MAX_EXEMPTION_DAYS}:",
                                            f"parameter MaxExemptionDays (rule parameter {MAX_EXEMPTION_DAYS}):")) from None
    exemption = read_exemption(value, today or evaluation_date(), max_days)
    if exemption.state != ACTIVE:
        return None
    until = exemption.expires.isoformat()
    return {"Exempt": True, "ExemptUntil": until,
            "Message": f"Exempt from {rule_id} until {until} ({exemption.reason}): nothing changed"}


def ec2_tags(ec2, resource_id: str) -> list[dict]:
    """The tags of an EC2 resource (security group, network ACL, ...), from DescribeTags."""
    pages = ec2.get_paginator("describe_tags").paginate(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
    return [{"Key": tag["Key"], "Value": tag.get("Value", "")} for page in pages for tag in page.get("Tags") or []]
