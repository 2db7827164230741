"""Exemptions every rule of the pack honours alike: resource exemptions by tag, and trusted sources.

Resource exemptions (issue 15). A resource is exempt from rule ``R`` while it carries the tag
``perimeter:exempt:R`` whose value is ``YYYY-MM-DD reason``: the last exempt day (UTC), a space, and a non-empty
reason written with the characters tag values allow everywhere (letters, digits, spaces and ``+ - = . _ : / @``).
At the evaluation date (the Lambda's today in UTC, the scan's ``--as-of``) an exemption is

- ``active``: the date is today or later, and no further ahead than the rule parameter ``maxExemptionDays``;
- ``expired``: the date is before today;
- ``invalid``: no date, an impossible date, no reason, characters a tag value does not allow, or too far ahead.

Only an active exemption changes a verdict: NON_COMPLIANT becomes COMPLIANT, and the annotation says what the rule
would have said. Expired and invalid ones are reported after the rule's annotation and change nothing. The registry
applies this once, in RuleSpec.evaluate (perimeter.registry.apply_exemption), so the Lambda, the scans and the
periodic pass cannot differ; this module is only the grammar and the reading of tags, which the runbooks bundle.

Tags are read from every place an item carries them: Config's ``tags`` map, and the configuration's own tags in
the shapes the pack reads (camelCase ``tags: [{key, value}]`` as Config records security groups and network ACLs,
PascalCase ``Tags: [{Key, Value}]`` from the APIs, and the same inside the configuration's members, e.g.
``firewallPolicyResponse.tags`` of a Network Firewall policy).

Trusted sources (``trustedSources``, the rules that judge sources) are address semantics: perimeter.cidrs.

Pure: standard library only (the remediation functions run it too).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterator, Mapping

from perimeter.items import ItemError, describe

TAG_PREFIX = "perimeter:exempt:"
ACTIVE, EXPIRED, INVALID = "active", "expired", "invalid"

# The pack-wide parameter every rule takes (the registry adds it; no declaration repeats it).
MAX_EXEMPTION_DAYS = "maxExemptionDays"
PACK_WIDE_PARAMETERS = {
    MAX_EXEMPTION_DAYS: {
        "type": "integer",
        "minimum": 1,
        "maximum": 3650,
        "default": "365",
        "description": "Days ahead an exemption tag may expire (1-3650); further is invalid.",
    },
}

_VALUE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:\s+(.*))?", re.DOTALL)
_REASON_CHARACTERS = frozenset(" +-=._:/@")


def tag_key(rule_id: str) -> str:
    return f"{TAG_PREFIX}{rule_id}"


def evaluation_date() -> date:
    """Today in UTC: the date the Lambda evaluates exemptions at."""
    return datetime.now(timezone.utc).date()


@dataclass(frozen=True)
class Exemption:
    """The state of one exemption tag at one date."""

    state: str  # ACTIVE, EXPIRED or INVALID
    expires: date | None  # the last exempt day; None when the value has no (possible) date
    reason: str | None
    problem: str | None = None  # why an INVALID tag is ignored


def read_exemption(value: str, as_of: date, max_days: int) -> Exemption:
    """The state of the tag value ``value`` at ``as_of``; ``max_days`` is maxExemptionDays."""
    text = value.strip()
    match = _VALUE.fullmatch(text)
    if not match:
        return Exemption(INVALID, None, None, f"no date given (expected 'YYYY-MM-DD reason', got '{text}')")
    try:
        expires = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return Exemption(INVALID, None, None, f"impossible date {text[:10]}")
    reason = (match[4] or "").strip()
    if not reason:
        return Exemption(INVALID, expires, None, "no reason given")
    unusual = sorted({c for c in reason if not (c.isalnum() or c in _REASON_CHARACTERS)})
    if unusual:
        shown = " ".join(repr(c) for c in unusual)
        return Exemption(INVALID, expires, reason, f"reason has characters tag values do not allow: {shown}")
    if expires < as_of:
        return Exemption(EXPIRED, expires, reason)
    if (expires - as_of).days > max_days:
        return Exemption(INVALID, expires, reason, f"expiry {expires.isoformat()} is more than {max_days} days "
                                                   f"ahead (maxExemptionDays)")
    return Exemption(ACTIVE, expires, reason)


# --- tags, wherever the item carries them -----------------------------------------------------------------------
def tags_of(item: dict) -> dict[str, str]:
    """Every tag the item carries, as key -> value; where two places disagree, Config's ``tags`` map wins."""
    found: dict[str, str] = {}
    configuration = item.get("configuration")
    places = [("tags", item.get("tags"))]
    if isinstance(configuration, dict):
        places += list(_configuration_tags(configuration))
    for where, tags in places:
        for key, value in _pairs(tags, item, where):
            found.setdefault(key, value)
    return found


def carries_tags(item: dict) -> bool:
    """Whether the item records its tags anywhere (even none): ``tags``, or a tags field of its configuration."""
    configuration = item.get("configuration")
    return item.get("tags") is not None or (
        isinstance(configuration, dict) and any(True for _ in _configuration_tags(configuration)))


def _configuration_tags(configuration: dict) -> Iterator[tuple[str, Any]]:
    """The configuration's own tags and those of its members (FirewallPolicyResponse.Tags, ...), either spelling."""
    for name in ("tags", "Tags"):
        if name in configuration:
            yield f"configuration.{name}", configuration[name]
    for member, inner in configuration.items():
        if isinstance(inner, dict):
            for name in ("tags", "Tags"):
                if name in inner:
                    yield f"configuration.{member}.{name}", inner[name]


def _pairs(tags: Any, item: dict, where: str) -> Iterator[tuple[str, str]]:
    if tags is None:
        return
    mapping = type(tags) is dict or (type(tags) is not list and isinstance(tags, Mapping))  # typing's check is slow
    entries = [{"key": k, "value": v} for k, v in tags.items()] if mapping else tags
    for entry in entries if isinstance(entries, list) else [entries]:
        key = entry.get("key", entry.get("Key")) if isinstance(entry, Mapping) else None
        value = entry.get("value", entry.get("Value")) if isinstance(entry, Mapping) else None
        if not isinstance(key, str) or (key.startswith(TAG_PREFIX) and not isinstance(value, str)):
            raise ItemError(f"{describe(item)}: {where} must be a map or a list of key/value pairs of text, "
                            f"not holding {entry!r}")
        yield key, value
