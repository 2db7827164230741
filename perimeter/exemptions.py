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
applies this once, in RuleSpec.evaluate, so the Lambda, the scans and the periodic pass cannot differ.

Tags are read from every place an item carries them: Config's ``tags`` map, and the configuration's own tags in
the shapes the pack reads (camelCase ``tags: [{key, value}]`` as Config records security groups and network ACLs,
PascalCase ``Tags: [{Key, Value}]`` from the APIs, and the same inside the configuration's members, e.g.
``firewallPolicyResponse.tags`` of a Network Firewall policy).

Trusted sources (``trustedSources``, rules that judge sources): a comma list of IPv4/IPv6 CIDRs, prefix list ids and
security group ids. A source is trusted when it is one of the listed ids, or a CIDR inside a listed CIDR.

Pure: standard library only (bundled into runbook scripts too).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from perimeter.cidrs import parse_cidr
from perimeter.items import ItemError, describe
from perimeter.parameters import ParameterError
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, MAX_ANNOTATION, Verdict, fit

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
        "description": ("Days ahead an exemption tag perimeter:exempt:<rule id> may expire (1-3650); an expiry "
                        "further ahead makes the tag invalid."),
    },
}
# The periodic pass that lets an exemption expire without a configuration change: what it calls and how often.
# Neither action supports resource-level permissions (Service Authorization Reference, AWS Config).
EXEMPTION_PASS_ACTIONS = ("config:BatchGetResourceConfig", "config:SelectResourceConfig")
EXEMPTION_PASS_FREQUENCY = "TwentyFour_Hours"

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

    def as_json(self) -> dict:
        """The scan's ``exemption`` object."""
        record = {"expires": self.expires.isoformat() if self.expires else None, "reason": self.reason,
                  "state": self.state}
        if self.problem:
            record["problem"] = self.problem
        return record


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


def exemption_of(item: dict, rule_id: str, as_of: date, max_days: int) -> Exemption | None:
    """The item's exemption from ``rule_id`` at ``as_of``, or None when it carries no such tag."""
    value = tags_of(item).get(tag_key(rule_id))
    return None if value is None else read_exemption(value, as_of, max_days)


def apply_exemption(verdict: Verdict, exemption: Exemption | None) -> Verdict:
    """The verdict with the exemption applied, the annotation fitted to Config's limit."""
    if exemption is None or verdict.compliance == NOT_APPLICABLE:
        return verdict
    if exemption.state == ACTIVE:
        until = f"Exempt until {exemption.expires.isoformat()} ({exemption.reason})"
        if verdict.compliance == NON_COMPLIANT:
            return Verdict(COMPLIANT, fit(f"{until}: would be NON_COMPLIANT: {verdict.annotation}"))
        return Verdict(COMPLIANT, _with_note(verdict.annotation, f"{until[0].lower()}{until[1:]}, not needed"))
    if exemption.state == EXPIRED:
        return Verdict(verdict.compliance, _with_note(verdict.annotation,
                                                      f"exemption expired {exemption.expires.isoformat()}"))
    return Verdict(verdict.compliance, _with_note(verdict.annotation, f"exemption tag ignored: {exemption.problem}"))


def _with_note(annotation: str, note: str) -> str:
    """``annotation; note``, cutting the annotation (not the note) to fit."""
    note = fit(note, MAX_ANNOTATION // 2)
    room = MAX_ANNOTATION - len(note) - 2
    return f"{fit(annotation, room)}; {note}"


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
    if isinstance(tags, Mapping):
        entries: Iterable = ({"key": key, "value": value} for key, value in tags.items())
    elif isinstance(tags, list):
        entries = tags
    else:
        raise ItemError(f"{describe(item)}: {where} must be a map or a list of key/value pairs, "
                        f"not {type(tags).__name__}")
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ItemError(f"{describe(item)}: {where} holds {entry!r}, not a key/value pair")
        key = entry.get("key", entry.get("Key"))
        value = entry.get("value", entry.get("Value"))
        if not isinstance(key, str):
            raise ItemError(f"{describe(item)}: {where} holds a tag without a text key: {entry!r}")
        if key.startswith(TAG_PREFIX) and not isinstance(value, str):
            raise ItemError(f"{describe(item)}: {where}: tag {key} has value {value!r}, not text")
        yield key, value


# --- trusted sources --------------------------------------------------------------------------------------------
_PREFIX_LIST = re.compile(r"^pl-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")


class TrustedSources(NamedTuple):
    networks: tuple = ()  # ipaddress networks
    ids: frozenset = frozenset()  # prefix list and security group ids

    def covers(self, source: str) -> bool:
        """True when ``source`` (a CIDR, a pl- or an sg- id) is trusted: listed, or a CIDR inside a listed one."""
        if source in self.ids:
            return True
        if not self.networks or source.startswith(("pl-", "sg-")):
            return False
        try:
            network = parse_cidr(source)
        except ValueError:
            return False
        return any(network.version == trusted.version and network.subnet_of(trusted) for trusted in self.networks)


def parse_trusted_sources(entries: Iterable[str], name: str = "trustedSources") -> TrustedSources:
    """The parameter's comma-list entries; ParameterError names the first invalid one. Blank entries are skipped."""
    networks, ids = [], set()
    for entry in (entry.strip() for entry in entries):
        if not entry:
            continue
        if _PREFIX_LIST.match(entry) or _SECURITY_GROUP.match(entry):
            ids.add(entry)
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False) if "/" in entry else None)
        except ValueError:
            networks.append(None)
        if networks[-1] is None:
            raise ParameterError(f"parameter {name}: '{entry}' is not an IPv4/IPv6 CIDR, a prefix list id (pl-...) "
                                 f"or a security group id (sg-...)")
    return TrustedSources(tuple(networks), frozenset(ids))
