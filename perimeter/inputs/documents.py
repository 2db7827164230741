"""Every JSON document the scan reads, recognised from its content, as a stream of raw configuration items.

| Shape (what produces it) | Recognised by | Items |
|---|---|---|
| Config snapshot (delivered to S3) | ``fileVersion``, then ``configurationItems`` | each member |
| ``get-resource-config-history`` | ``configurationItems`` | of consecutive versions of one resource, the latest |
| ``batch-get-resource-config`` | ``baseConfigurationItems`` | each member |
| ``select-resource-config``, ``select-aggregate-resource-config`` | ``Results`` (JSON strings) | each row |
| ``ec2 describe-security-groups`` | ``SecurityGroups`` | one ``AWS::EC2::SecurityGroup`` per group |
| ``ec2 describe-network-acls`` | ``NetworkAcls`` | one ``AWS::EC2::NetworkAcl`` per ACL |
| ``network-firewall describe-firewall`` / ``-firewall-policy`` / ``-rule-group`` | ``Firewall`` / ``FirewallPolicyResponse`` / ``RuleGroupResponse`` | the one resource |
| a JSON array of items | ``[`` | each member |
| one configuration item | ``resourceType`` | the item |

Arrays of items are streamed member by member, so memory holds one item at a time; the other members of the
document are read whole. Items come in whichever shape AWS gives them (notification or API);
``perimeter.items.normalise_item`` reads both.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from perimeter.inputs import apishapes
from perimeter.jsoninput import JSONInputError, JSONReader

ACCEPTED = (
    "a Config snapshot or get-resource-config-history output (configurationItems), batch-get-resource-config "
    "(baseConfigurationItems), select-resource-config or select-aggregate-resource-config (Results), "
    "ec2 describe-security-groups (SecurityGroups) or describe-network-acls (NetworkAcls), network-firewall "
    "describe-firewall, describe-firewall-policy or describe-rule-group, a JSON array of configuration items, "
    "or one configuration item"
)
# What an advanced query must select for the scan to judge its rows.
QUERY_FIELDS = ("resourceId", "resourceType", "configuration")


def select_row(row: Any) -> Any:
    """One advanced-query result: a JSON string of the selected properties (an object is taken as it is)."""
    if isinstance(row, str):
        try:
            row = json.loads(row)
        except (json.JSONDecodeError, RecursionError) as error:
            raise JSONInputError(f"an advanced-query result is not valid JSON text ({error})") from None
    if isinstance(row, dict):
        missing = [name for name in QUERY_FIELDS if name not in row]
        if missing:
            raise JSONInputError(
                f"advanced-query results lack {', '.join(missing)}: the query must select at least "
                f"{', '.join(QUERY_FIELDS)} (see README 'Scanning an organization')")
    return row


def _each(convert: Callable[[dict], dict], what: str) -> Callable[[Any], Any]:
    def converted(entry: Any) -> Any:
        if not isinstance(entry, dict):
            raise JSONInputError(f"each member of {what} must be a JSON object, not {type(entry).__name__}")
        try:
            return convert(entry)
        except KeyError as error:
            raise JSONInputError(f"a member of {what} has no {error.args[0]}") from None
    return converted


# Key of a document's item array -> how one member becomes a raw item.
STREAMED: dict[str, Callable[[Any], Any]] = {
    "configurationItems": lambda item: item,
    "baseConfigurationItems": lambda item: item,
    "Results": select_row,
    "SecurityGroups": _each(apishapes.security_group_item, "SecurityGroups"),
    "NetworkAcls": _each(apishapes.network_acl_item, "NetworkAcls"),
}
# A Describe* response of one resource: the member that marks it -> its operation.
DESCRIBED = {"Firewall": "DescribeFirewall", "FirewallPolicyResponse": "DescribeFirewallPolicy",
             "RuleGroupResponse": "DescribeRuleGroup"}


def document_items(reader: JSONReader, warn: Callable[[str], None] = lambda message: None) -> Iterator[Any]:
    """The raw items of the one document ``reader`` holds; JSONInputError for anything else.

    ``warn`` hears what is read but incomplete (a batch-get-resource-config answer with unprocessed keys).
    """
    first = reader.peek()
    if first == "[":
        yield from reader.array()
        reader.end()
        return
    if first != "{":
        reader.value()  # invalid JSON says so first
        raise JSONInputError(f"not a document the scan reads; it reads {ACCEPTED}")
    others: dict = {}
    streamed = None
    for key in reader.keys():
        if key in STREAMED and streamed is None:
            if reader.peek() != "[":
                reader.value()
                raise JSONInputError(f"{key} must be a JSON array")
            streamed = key
            members = (STREAMED[key](member) for member in reader.array())
            # A file Config delivers (fileVersion first) holds each resource once and streams unheld.
            history = key == "configurationItems" and "fileVersion" not in others
            yield from latest_of_each_run(members) if history else members
        else:
            others[key] = reader.value(checked=True)
    reader.end()
    if streamed:
        unprocessed = others.get("unprocessedResourceKeys") if streamed == "baseConfigurationItems" else None
        if unprocessed:
            warn(f"{len(unprocessed)} resource key(s) were not processed by batch-get-resource-config and are "
                 "not scanned: request them again")
        return
    yield _single(others)


def _single(document: dict) -> dict:
    described = [member for member in DESCRIBED if isinstance(document.get(member), dict)]
    if described:
        return apishapes.firewall_item(DESCRIBED[described[0]], document)
    if "resourceType" in document or "resourceId" in document:
        return document
    raise JSONInputError(f"not a document the scan reads; it reads {ACCEPTED}")


def _capture_time(item: dict) -> float | None:
    """The capture time as seconds: ISO 8601 text (the CLI's v2 default and snapshots) or epoch seconds (v1)."""
    value = item.get("configurationItemCaptureTime")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    return None


def _resource_key(item: Any) -> tuple | None:
    if not isinstance(item, dict) or not isinstance(item.get("resourceId"), str):
        return None
    return (item.get("accountId", item.get("awsAccountId")), item.get("awsRegion"), item.get("resourceType"),
            item["resourceId"])


_NOTHING = object()


def latest_of_each_run(items) -> Iterator[Any]:
    """Each item, except that of consecutive items of one resource only the latest is kept.

    get-resource-config-history answers with one resource's versions, newest first unless asked
    ``--chronological-order Forward``; judging an old version would report what is no longer there. Among
    versions without a readable capture time the first is kept (the API's default order puts the newest first).
    Each item is held until the next one is read.
    """
    held, held_key = _NOTHING, None
    for item in items:
        key = _resource_key(item)
        if key is not None and key == held_key:
            newer, older = _capture_time(item), _capture_time(held)
            if newer is not None and older is not None and newer > older:
                held = item
            continue
        if held is not _NOTHING:
            yield held
        held, held_key = (item, key) if key is not None else (_NOTHING, None)
        if key is None:
            yield item
    if held is not _NOTHING:
        yield held
