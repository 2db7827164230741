"""Offline scan: evaluate configuration items from a file with exactly the code the Lambdas run."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from perimeter.items import ItemError, describe, normalise_item
from perimeter.jsoninput import MAX_DEPTH, JSONInputError, JSONReader, nesting_exceeds, open_json_text
from perimeter.registry import RuleSpec


class ScanInputError(ValueError):
    """The input cannot be scanned; the message is one line saying what to fix."""


class Finding(NamedTuple):
    rule: str
    resourceType: str
    resourceId: str
    complianceType: str
    annotation: str


def read_items(path: Path) -> Iterator[Any]:
    """Items from a Config snapshot (``{"configurationItems": [...]}``), a JSON array, or one item.

    Snapshots and arrays are streamed item by item, so memory does not grow with the file; gzip is read
    whatever the file is called. Every failure is a ScanInputError naming the file. Values beside the items
    are refused when nested deeper than MAX_DEPTH; items are checked by ``scan`` once normalised.
    """
    try:
        with open_json_text(path) as reader:
            yield from _items(reader)
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


def scan(
    raw_items: Iterable[Any], rules: Iterable[RuleSpec], raw_parameters: dict[str, dict]
) -> Iterator[Finding]:
    """One finding per (rule, item of a resource type the rule evaluates), in input order.

    Parameters are validated before any item is read, so a bad parameter fails fast. An item nested deeper
    than MAX_DEPTH levels (counting the item itself, its configuration parsed) is malformed.
    """
    rules = tuple(rules)
    parsed = {spec.rule_id: spec.parse_parameters(raw_parameters.get(spec.rule_id, {})) for spec in rules}
    for index, raw in enumerate(raw_items):
        try:
            item = _normalised_within_depth(raw)
        except ItemError as error:
            raise ItemError(f"item #{index + 1}: {error}") from None
        for spec in rules:
            if item["resourceType"] not in spec.resource_types:
                continue
            verdict = spec.evaluate(item, parsed[spec.rule_id])
            yield Finding(spec.rule_id, item["resourceType"], item["resourceId"], verdict.compliance, verdict.annotation)


def _normalised_within_depth(raw: Any) -> dict:
    try:
        item = normalise_item(raw)
        too_deep = nesting_exceeds(item)
    except RecursionError:  # json's decoder on configuration text some thousand levels deep
        too_deep = True
    if too_deep:
        raise ItemError(f"{describe(raw)}: nested deeper than {MAX_DEPTH} levels")
    return item
