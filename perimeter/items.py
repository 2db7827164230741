"""Configuration items in the three shapes AWS produces, normalised to the notification shape.

- notification (the change event): ``awsAccountId``, ``ARN``, ``configuration`` an object;
- API (GetResourceConfigHistory, BatchGetResourceConfig): ``accountId``, ``arn``, ``configuration`` a
  JSON string, ``supplementaryConfiguration`` values JSON strings, relationships' ``relationshipName``;
- snapshot file delivered to S3: the notification shape inside ``{"configurationItems": [...]}``.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

EVALUATED_STATUSES = frozenset({"OK", "ResourceDiscovered"})
GONE_STATUSES = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})

# API-shape field -> notification-shape field.
_RENAMED_FIELDS = {
    "accountId": "awsAccountId",
    "arn": "ARN",
    "configurationItemMD5Hash": "configurationStateMd5Hash",
    "version": "configurationItemVersion",
}


class ItemError(ValueError):
    """A configuration item is malformed; the message says which item and what is wrong."""


def describe(item: dict) -> str:
    return f"{item.get('resourceType', '?')} {item.get('resourceId', '?')}"


def _json_object(value: Any, what: str, item: dict) -> Any:
    """API-shape fields hold JSON text; decode it, or say which item carries bad text."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value) if value.strip() else None
    except json.JSONDecodeError as error:
        raise ItemError(f"{describe(item)}: {what} is not valid JSON ({error.msg})") from None


def normalise_item(raw: Any) -> dict:
    """Return the item in notification shape, whatever shape it came in. The input is not changed."""
    if not isinstance(raw, dict):
        raise ItemError(f"a configuration item must be a JSON object, not {type(raw).__name__}")
    for required in ("resourceType", "resourceId"):
        if not isinstance(raw.get(required), str) or not raw[required]:
            raise ItemError(f"configuration item without {required}: {describe(raw)}")
    item = {_RENAMED_FIELDS.get(key, key): value for key, value in raw.items()}
    item["configuration"] = _json_object(item.get("configuration"), "configuration", item)
    supplementary = _json_object(item.get("supplementaryConfiguration") or {}, "supplementaryConfiguration", item)
    if isinstance(supplementary, dict):
        item["supplementaryConfiguration"] = {
            key: _json_object(value, f"supplementaryConfiguration.{key}", item)
            for key, value in supplementary.items()
        }
    relationships = item.get("relationships")
    if isinstance(relationships, list):
        item["relationships"] = [
            {("name" if key == "relationshipName" else key): value for key, value in relation.items()}
            if isinstance(relation, dict)
            else relation
            for relation in relationships
        ]
    return item


def normalised(raw: Any) -> dict:
    """``normalise_item(raw)``, without its copy when ``raw`` is already in notification shape (a snapshot's items
    are): then ``raw`` itself, which the caller must not change. The offline scan reads millions of items so."""
    if type(raw) is not dict or "accountId" in raw or "arn" in raw or "configurationItemMD5Hash" in raw \
            or "version" in raw or type(raw.get("configuration")) is str:
        return normalise_item(raw)
    kind, resource_id = raw.get("resourceType"), raw.get("resourceId")
    supplementary = raw.get("supplementaryConfiguration")
    if type(kind) is not str or not kind or type(resource_id) is not str or not resource_id \
            or type(supplementary) is not dict or str in map(type, supplementary.values()):
        return normalise_item(raw)
    relationships = raw.get("relationships")
    if type(relationships) is list:
        for relation in relationships:
            if type(relation) is not dict or "relationshipName" in relation:
                return normalise_item(raw)
    return raw


def field(entry: dict, camel: str) -> Any:
    """The value under a camelCase name or its PascalCase twin.

    Recorded items spell fields in camelCase; the EC2 and Network Firewall APIs, and exports made
    from CloudFormation, spell the same fields in PascalCase. Readers accept both.
    """
    if camel in entry:
        return entry[camel]
    return entry.get(camel[0].upper() + camel[1:])


def not_applicable_reason(item: dict, resource_types: Iterable[str]) -> str | None:
    """Why Config would not evaluate this item, or None when it should be evaluated."""
    status = item.get("configurationItemStatus", "OK")
    if not isinstance(status, str):  # a list or an object would not even hash
        raise ItemError(f"{describe(item)}: configurationItemStatus {status!r} is not a string")
    if status in GONE_STATUSES:
        return f"Resource status is {status}"
    if status not in EVALUATED_STATUSES:
        raise ItemError(f"{describe(item)}: unknown configurationItemStatus {status!r}")
    if item["resourceType"] not in tuple(resource_types):
        return f"Resource type {item['resourceType']} is not evaluated by this rule"
    return None


def configuration_of(item: dict) -> dict:
    """The item's configuration object; an evaluated item must have one."""
    configuration = item.get("configuration")
    if not isinstance(configuration, dict):
        raise ItemError(f"{describe(item)}: configuration is missing or not an object")
    return configuration


# --- readings of one item shared by the rules that judge it ----------------------------------------------------
# The offline scan judges each item with every rule of its type before it reads the next, and several rules read
# the same thing from it (the four security-group rules its permissions, every rule its tags): while the scan
# says so (share_readings), such a reading is made once per item. Outside a scan nothing is kept.
_sharing: tuple = ()  # the item whose readings are shared now, and its configuration; () when none are
_shared: dict = {}  # reading name -> (the object it was read from, the reading)


def share_readings(item: dict | None) -> None:
    """Until the next call, readings (``shared``) of ``item`` and of its configuration are made once; None: none
    are kept. The caller promises not to change the item meanwhile."""
    global _sharing
    _shared.clear()
    _sharing = () if item is None else (item, item.get("configuration"))


def shared(name: str, source: Any, read: Callable[[Any], Any]) -> Any:
    """``read(source)``, kept for the other rules when ``source`` is the item whose readings are shared or its
    configuration (a reading that raises is not kept, so each rule raises alike)."""
    if not _sharing or (source is not _sharing[0] and source is not _sharing[1]):
        return read(source)
    kept = _shared.get(name)
    if kept is not None and kept[0] is source:
        return kept[1]
    value = read(source)
    _shared[name] = (source, value)
    return value
