"""Offline scan: evaluate configuration items with exactly the code the Lambdas run.

Where items come from is ``perimeter.inputs``; what a document may look like is ``perimeter.inputs.documents``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from perimeter.inputs.documents import document_items
from perimeter.items import ItemError, describe, normalise_item
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
            account, region, name, arn = (_text(item, field) for field in _LOCATION_FIELDS)
        except ItemError as error:
            raise ItemError(f"item #{index + 1}: {error}") from None
        for spec in rules:
            if item["resourceType"] not in spec.resource_types:
                continue
            verdict = spec.evaluate(item, parsed[spec.rule_id])
            yield Finding(
                spec.rule_id, spec.declaration["severity"], account, region, item["resourceType"],
                item["resourceId"], name, arn, verdict.compliance, verdict.annotation,
            )


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
        item = normalise_item(raw)
        too_deep = nesting_exceeds(item)
    except RecursionError:  # json's decoder on configuration text some thousand levels deep
        too_deep = True
    if too_deep:
        raise ItemError(f"{describe(raw)}: nested deeper than {MAX_DEPTH} levels")
    return item
