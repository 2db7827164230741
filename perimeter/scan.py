"""Offline scan: evaluate configuration items with exactly the code the Lambdas run.

Where items come from is ``perimeter.inputs``; what a document may look like is ``perimeter.inputs.documents``.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from perimeter.exemptions import Exemption, evaluation_date
from perimeter.inputs.documents import document_items
from perimeter.items import ItemError, describe, normalised, not_applicable_reason, share_readings
from perimeter.jsoninput import MAX_DEPTH, JSONInputError, nesting_exceeds, open_json_text
from perimeter.registry import RuleSpec


class ScanInputError(ValueError):
    """The input cannot be scanned; the message is one line saying what to fix."""


class Finding(NamedTuple):
    """One row of a scan: what was judged (where it lives, what it is), by which rule, and the verdict."""

    rule: str
    severity: str  # the rule's declared severity: Informational, Low, Medium, High, Critical
    accountId: str | None
    awsRegion: str | None
    resourceType: str
    resourceId: str
    resourceName: str | None
    arn: str | None
    complianceType: str
    annotation: str
    exemption: dict | None = None  # {"expires", "reason", "state"} when the item carries the rule's exemption tag


def read_items(path: Path, warn: Callable[[str], None] = lambda message: None) -> Iterator[Any]:
    """The raw items of one file, whatever shape perimeter.inputs.documents recognises in it.

    Arrays of items are streamed item by item, so memory does not grow with the file; gzip is read
    whatever the file is called. Every failure is a ScanInputError naming the file. Values beside the items
    are refused when nested deeper than MAX_DEPTH; items are checked by ``scan`` once normalised.
    """
    try:
        with open_json_text(path) as reader:
            yield from document_items(reader, lambda message: warn(f"{path}: {message}"))
    except JSONInputError as error:
        raise ScanInputError(f"{path}: {error}") from None
    except FileNotFoundError:
        raise ScanInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScanInputError(f"{path}: is a directory, not a file") from None
    except OSError as error:
        raise ScanInputError(f"{path}: cannot be read: {error.strerror or error}") from None


def _items(reader: JSONReader) -> Iterator[Any]:
    """One pass: an array's members; a snapshot's ``configurationItems`` (other keys read past); or the object
    itself when it has no ``configurationItems`` (one item, held whole as it is read)."""
    first = reader.peek()
    if first == "[":
        yield from reader.array()
        reader.end()
        return
    if first != "{":
        reader.value()  # invalid JSON says so first, as below
        raise JSONInputError("expected a Config snapshot, an array of items or one item")
    item: dict | None = {}
    for key in reader.keys():
        if key == "configurationItems":
            if reader.peek() != "[":
                reader.value()
                raise JSONInputError("configurationItems must be a JSON array")
            item = None  # a snapshot: the keys read so far were its own
            yield from reader.array()
        elif item is not None:
            item[key] = reader.value(checked=True)
        else:
            reader.value(checked=True)
    reader.end()
    if item is not None:
        yield item


def related_resource_types(spec: RuleSpec) -> tuple[str, ...]:
    """The types of the other items of the input a rule reads (``RELATED_RESOURCE_TYPES`` and ``relate(item,
    related)`` in its rule.py), e.g. a firewall's AWS::EC2::Subnet items for their zones; () for most rules."""
    if not callable(getattr(spec.module, "relate", None)):
        return ()
    return tuple(getattr(spec.module, "RELATED_RESOURCE_TYPES", ()))


def scan(
    raw_items: Iterable[Any], rules: Iterable[RuleSpec], raw_parameters: dict[str, dict], as_of: date | None = None
) -> Iterator[Finding]:
    """One finding per (rule, item of a resource type the rule evaluates), in input order.

    Parameters are validated before any item is read, so a bad parameter fails fast. An item nested deeper
    than MAX_DEPTH levels (counting the item itself, its configuration parsed) is malformed. Exemptions are judged
    at ``as_of`` (default today in UTC, as the Lambda judges them). A rule that reads related items
    (``related_resource_types``) may find them anywhere in the input, before or after the items it judges: its
    items and the related ones are kept (only those) and judged once the input is read, so their findings come
    last.
    """
    rules = tuple(rules)
    as_of = as_of or evaluation_date()
    parsed = {spec.rule_id: spec.parse_parameters(raw_parameters.get(spec.rule_id, {})) for spec in rules}
    related_types = {spec.rule_id: related_resource_types(spec) for spec in rules}
    kept_types = {kind for kinds in related_types.values() for kind in kinds}
    deferred: list[tuple[RuleSpec, dict]] = []
    related: dict[str, list[dict]] = {}
    # Per resource type, the (rule, its parameters, its severity) that judge it now, in the rules' order, or
    # (with None for parameters) later with the items it relates to: found once per type, not per item.
    judges: dict[str, list[tuple[RuleSpec, Any, str]]] = {}
    try:
        for index, raw in enumerate(raw_items):
            try:
                item = _normalised_within_depth(raw)
                location = tuple(_text(item, field) for field in _LOCATION_FIELDS)  # malformed: names the item
            except ItemError as error:
                raise ItemError(f"item #{index + 1}: {error}") from None
            kind = item["resourceType"]
            if kind in kept_types:
                related.setdefault(kind, []).append(item)
            rules_of_kind = judges.get(kind)
            if rules_of_kind is None:
                rules_of_kind = judges[kind] = [
                    (spec, None if related_types[spec.rule_id] else parsed[spec.rule_id], spec.declaration["severity"])
                    for spec in rules if kind in spec.resource_types]
            share_readings(item)  # the rules below read its permissions and tags once
            for spec, parameters, severity in rules_of_kind:
                if parameters is None:
                    deferred.append((spec, item))
                    continue
                yield _finding(spec, item, parameters, as_of, severity, location)
            share_readings(None)
    finally:
        share_readings(None)
    for spec, item in deferred:
        others = [other for kind in related_types[spec.rule_id] for other in related.get(kind, [])]
        if not_applicable_reason(item, spec.resource_types) is None:
            item = spec.module.relate(item, others)
        location = tuple(_text(item, field) for field in _LOCATION_FIELDS)
        yield _finding(spec, item, parsed[spec.rule_id], as_of, spec.declaration["severity"], location)


def _finding(spec: RuleSpec, item: dict, parameters: Any, as_of, severity: str, location: tuple) -> Finding:
    account, region, name, arn = location
    verdict, exemption = spec.assess(item, parameters, as_of=as_of)
    return _new(Finding, (spec.rule_id, severity, account, region, item["resourceType"], item["resourceId"], name,
                          arn, verdict[0], verdict[1], _exemption_object(exemption) if exemption else None))


_new = tuple.__new__  # a Finding without its generated __new__: the same tuple, cheaper to build


def _exemption_object(exemption: Exemption) -> dict:
    """The JSON output's ``exemption``: expires, reason and state, and for an invalid tag the problem."""
    record = {"expires": exemption.expires.isoformat() if exemption.expires else None, "reason": exemption.reason,
              "state": exemption.state}
    if exemption.problem:
        record["problem"] = exemption.problem
    return record


_LOCATION_FIELDS = ("awsAccountId", "awsRegion", "resourceName", "ARN")  # notification-shape names


def _text(item: dict, field: str) -> str | None:
    """A field the row carries as text: absent, null or empty is None; a whole number (an account id some
    tool wrote unquoted) is its digits; anything else makes the item malformed."""
    value = item.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ItemError(f"{describe(item)}: {field} must be text, not {type(value).__name__}")


def _normalised_within_depth(raw: Any) -> dict:
    try:
        item = normalised(raw)
        too_deep = nesting_exceeds(item)
    except RecursionError:  # json's decoder on configuration text some thousand levels deep
        too_deep = True
    if too_deep:
        raise ItemError(f"{describe(raw)}: nested deeper than {MAX_DEPTH} levels")
    return item
