"""Offline scan: evaluate configuration items from a file with exactly the code the Lambdas run."""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from perimeter.items import ItemError, normalise_item
from perimeter.registry import RuleSpec


class ScanInputError(ValueError):
    """The input cannot be scanned; the message is one line saying what to fix."""


class Finding(NamedTuple):
    rule: str
    resourceType: str
    resourceId: str
    complianceType: str
    annotation: str


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def read_items(path: Path) -> list[dict]:
    """Items from a Config snapshot (``{"configurationItems": [...]}``), a JSON array, or one item."""
    try:
        with _open_text(path) as stream:
            document = json.load(stream)
    except FileNotFoundError:
        raise ScanInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScanInputError(f"{path}: is a directory, not a file") from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ScanInputError(f"{path}: cannot be read: {error}") from None
    except json.JSONDecodeError as error:
        raise ScanInputError(f"{path}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    return _items_of(document, path)


def _items_of(document: Any, path: Path) -> list[dict]:
    if isinstance(document, dict) and "configurationItems" in document:
        document = document["configurationItems"]
        if not isinstance(document, list):
            raise ScanInputError(f"{path}: configurationItems must be a JSON array")
    elif isinstance(document, dict):
        document = [document]
    elif not isinstance(document, list):
        raise ScanInputError(f"{path}: expected a Config snapshot, an array of items or one item")
    return document


def scan(
    raw_items: Iterable[Any], rules: Iterable[RuleSpec], raw_parameters: dict[str, dict]
) -> Iterator[Finding]:
    """One finding per (rule, item of a resource type the rule evaluates), in input order.

    Parameters are validated before any item is read, so a bad parameter fails fast.
    """
    rules = tuple(rules)
    parsed = {spec.rule_id: spec.parse_parameters(raw_parameters.get(spec.rule_id, {})) for spec in rules}
    for index, raw in enumerate(raw_items):
        try:
            item = normalise_item(raw)
        except ItemError as error:
            raise ItemError(f"item #{index + 1}: {error}") from None
        for spec in rules:
            if item["resourceType"] not in spec.resource_types:
                continue
            verdict = spec.evaluate(item, parsed[spec.rule_id])
            yield Finding(spec.rule_id, item["resourceType"], item["resourceId"], verdict.compliance, verdict.annotation)
