"""Offline scan: evaluate configuration items from a file with exactly the code the Lambdas run."""
from __future__ import annotations

import gzip
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

import ijson

from perimeter.exemptions import evaluation_date
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
    exemption: dict | None = None  # {"expires", "reason", "state"} when the item carries the rule's exemption tag


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _snapshot_prefix(path: Path) -> str | None:
    """``configurationItems.item`` for a snapshot, ``item`` for an array, None for a single item.

    Reads only as far as the answer: the opening bracket, or the top-level keys up to
    ``configurationItems`` (a snapshot's first keys are small).
    """
    with _open_binary(path) as stream:
        events = ijson.parse(stream)
        for prefix, event, value in events:
            if prefix == "" and event == "start_array":
                return "item"
            if prefix == "" and event == "map_key" and value == "configurationItems":
                if next(events, (None, None, None))[1] != "start_array":
                    raise ScanInputError(f"{path}: configurationItems must be a JSON array")
                return "configurationItems.item"
            if prefix == "" and event in ("end_map", "string", "number", "boolean", "null"):
                return None
    return None


def _json_error(path: Path, error: Exception) -> ScanInputError:
    """One line saying where the JSON is broken: json's own message where it finds the fault."""
    try:
        with _open_binary(path) as stream:
            json.load(stream)
    except json.JSONDecodeError as precise:
        return ScanInputError(f"{path}: invalid JSON: {precise.msg} at line {precise.lineno} column {precise.colno}")
    except (OSError, EOFError, UnicodeDecodeError):
        pass
    return ScanInputError(f"{path}: invalid JSON: {str(error).splitlines()[0]}")


def read_items(path: Path) -> Iterator[Any]:
    """Items from a Config snapshot (``{"configurationItems": [...]}``), a JSON array, or one item.

    Snapshots and arrays are streamed item by item, so memory does not grow with the file.
    Every failure is a ScanInputError naming the file.
    """
    try:
        prefix = _snapshot_prefix(path)
        if prefix is None:
            yield _single_item(path)
            return
        with _open_binary(path) as stream:
            yield from _stream_items(stream, snapshot=prefix != "item")
    except FileNotFoundError:
        raise ScanInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScanInputError(f"{path}: is a directory, not a file") from None
    except (ijson.JSONError, json.JSONDecodeError) as error:
        raise _json_error(path, error) from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ScanInputError(f"{path}: cannot be read: {error}") from None


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 20  # characters read at a time; a value that does not fit reads more, doubling


class _Reader:
    """A window on a JSON text, decoded one value at a time by json's own C decoder (``raw_decode``).

    Two to three times faster than ijson's per-event item builder (the snapshot scan's largest cost), and
    the window stays about one chunk plus the item being read, so memory does not grow with the file.
    """

    def __init__(self, binary):
        self._text = io.TextIOWrapper(binary, encoding="utf-8", newline="")  # JSON text: no newline translation
        self.buffer, self.pos, self.eof = "", 0, False

    def _more(self, size: int = _CHUNK) -> bool:
        chunk = self._text.read(size)
        if not chunk:
            self.eof = True
            return False
        self.buffer, self.pos = self.buffer[self.pos:] + chunk, 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace, "" at the end of the text."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer) or not self._more():
                return self.buffer[self.pos : self.pos + 1]

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise json.JSONDecodeError(f"Expecting {what}", self.buffer, self.pos)
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        size = _CHUNK
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
                if end < len(self.buffer) or self.eof:  # a number at the window's edge may go on
                    self.pos = end
                    return value
            except json.JSONDecodeError as error:  # at the window's edge: the value may just be cut
                cut = error.pos >= len(self.buffer) - 32 or error.msg.startswith("Unterminated string")
                if self.eof or not cut:
                    raise
            size *= 2
            self._more(size)

    def array(self) -> Iterator[Any]:
        self.expect("[", "'['")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if not self.another(closing="]"):
                return

    def another(self, closing: str) -> bool:
        """Past the ',' before another member (True) or the closing bracket (False)."""
        following = self.peek()
        self.pos += 1
        if following == closing:
            return False
        if following != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", self.buffer, self.pos - 1)
        return True

    def end(self) -> None:
        if self.peek():
            raise json.JSONDecodeError("Extra data", self.buffer, self.pos)


def _stream_items(binary, snapshot: bool) -> Iterator[Any]:
    """The items of a top-level array, or of a snapshot's ``configurationItems`` (other keys are read past)."""
    reader = _Reader(binary)
    if not snapshot:
        yield from reader.array()
        reader.end()
        return
    reader.expect("{", "'{'")
    while True:
        if reader.peek() != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", reader.buffer, reader.pos)
        key = reader.value()
        reader.expect(":", "':' delimiter")
        if key == "configurationItems":
            yield from reader.array()
        else:
            reader.value()
        if not reader.another(closing="}"):
            break
    reader.end()


def _single_item(path: Path) -> Any:
    with _open_binary(path) as stream:
        document = json.load(stream)
    if not isinstance(document, dict):
        raise ScanInputError(f"{path}: expected a Config snapshot, an array of items or one item")
    return document


def scan(
    raw_items: Iterable[Any], rules: Iterable[RuleSpec], raw_parameters: dict[str, dict], as_of: date | None = None
) -> Iterator[Finding]:
    """One finding per (rule, item of a resource type the rule evaluates), in input order.

    Parameters are validated before any item is read, so a bad parameter fails fast. Exemptions are judged at
    ``as_of`` (default today in UTC, as the Lambda judges them).
    """
    rules = tuple(rules)
    as_of = as_of or evaluation_date()
    parsed = {spec.rule_id: spec.parse_parameters(raw_parameters.get(spec.rule_id, {})) for spec in rules}
    for index, raw in enumerate(raw_items):
        try:
            item = normalise_item(raw)
        except ItemError as error:
            raise ItemError(f"item #{index + 1}: {error}") from None
        for spec in rules:
            if item["resourceType"] not in spec.resource_types:
                continue
            verdict, exemption = spec.assess(item, parsed[spec.rule_id], as_of=as_of)
            yield Finding(spec.rule_id, item["resourceType"], item["resourceId"], verdict.compliance, verdict.annotation,
                          exemption.as_json() if exemption else None)
