"""The plain formats: JSON and CSV, one row per finding, written as the findings come.

Each is a ``RowFormat``: the text of one row, and what goes before, between and after the rows. The writers
here and the parallel scan (perimeter.parallel, whose workers format rows and whose parent copies them out in
input order) share it, so a row is spelled by one function whichever way the scan runs.
"""
from __future__ import annotations

import csv
import json
import shutil
from typing import Callable, Iterable, NamedTuple, TextIO

from perimeter.reports.base import ReportContext
from perimeter.scan import Finding
from perimeter.verdicts import NON_COMPLIANT


# '"rule": ' ... : json.dumps's key spelling and default separators, which the rows keep.
_KEYS = tuple(json.dumps(name) + ": " for name in Finding._fields)
_quote = json.encoder.encode_basestring_ascii  # json.dumps's own (C) quoting of text, ensure_ascii as by default


def _value(value) -> str:
    return _quote(value) if type(value) is str else "null" if value is None else json.dumps(value)


def _members(keys: tuple, values: tuple) -> str:
    return ", ".join(key + _value(value) for key, value in zip(keys, values))


_RULE_KEYS, _LOCATION_KEYS, (_COMPLIANCE_KEY, _ANNOTATION_KEY, _EXEMPTION_KEY) = _KEYS[:2], _KEYS[2:8], _KEYS[8:]
_rule_text: dict = {}  # (rule, severity) -> their members' text: a few dozen at most
_location = ((), "")  # the last row's location fields and their members' text: an item's rows follow each other


def json_row(finding: Finding) -> str:
    """``json.dumps(finding._asdict())`` without ``exemption`` when it is None (only items carrying the rule's
    exemption tag have one), byte for byte, at a fraction of the cost: the scan writes one per rule and item, and
    the rows of one item (its rules one after the other) spell its location once."""
    global _location
    rule = finding[:2]
    rule_text = _rule_text.get(rule)
    if rule_text is None:
        rule_text = _members(_RULE_KEYS, rule)
        if len(_rule_text) < 1024:  # a report may name any number of rules
            _rule_text[rule] = rule_text
    location = finding[2:8]
    known, location_text = _location
    if location != known:
        location_text = _members(_LOCATION_KEYS, location)
        _location = (location, location_text)
    compliance, annotation, exemption = finding[8:]
    return ("{" + rule_text + ", " + location_text + ", " + _COMPLIANCE_KEY
            + (_quote(compliance) if type(compliance) is str else _value(compliance)) + ", " + _ANNOTATION_KEY
            + (_quote(annotation) if type(annotation) is str else _value(annotation))
            + ("" if exemption is None else ", " + _EXEMPTION_KEY + _value(exemption)) + "}")


class _LastLine:
    """csv.writer's target: writerow hands it the whole line in one write."""

    text = ""

    def write(self, text: str) -> None:
        self.text = text


_CSV_LINE = _LastLine()
_CSV_WRITER = csv.writer(_CSV_LINE)


def _csv_line(cells: Iterable[str]) -> str:
    _CSV_WRITER.writerow(cells)
    return _CSV_LINE.text


def csv_row(finding: Finding) -> str:
    """RFC 4180 (``\\r\\n`` line end, quotes where needed). A cell that a spreadsheet would run as a formula
    (text starting with = + - @, tab or carriage return) gets a leading apostrophe, as OWASP's "CSV Injection"
    guidance advises: resource names and annotations come from the scanned accounts."""
    return _csv_line(["" if value is None else _inert(json.dumps(value) if isinstance(value, dict) else str(value))
                      for value in finding])


def _inert(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class RowFormat(NamedTuple):
    """A report of rows: ``head`` + (``first`` row (``between`` row)* ``tail`` | ``empty``)."""

    row: Callable[[Finding], str]
    head: str = ""
    first: str = ""
    between: str = ""
    tail: str = ""
    empty: str = ""


# A JSON array, one finding a line: a reader that stops early holds whole rows.
JSON_ROWS = RowFormat(json_row, first="[\n  ", between=",\n  ", tail="\n]\n", empty="[]\n")
CSV_ROWS = RowFormat(csv_row, head=_csv_line(Finding._fields))
ROW_FORMATS = {"json": JSON_ROWS, "csv": CSV_ROWS}


class RowWriter:
    """Writes a RowFormat to a stream: rows one at a time, or chunks of rows already formatted (``between``
    joined), then the end. Knows whether any row was NON_COMPLIANT only of the rows it formatted itself."""

    def __init__(self, form: RowFormat, stream: TextIO):
        self.form, self.stream, self.rows = form, stream, 0
        if form.head:
            stream.write(form.head)

    def finding(self, finding: Finding) -> bool:
        self.chunk(self.form.row(finding), 1)
        return finding.complianceType == NON_COMPLIANT

    def chunk(self, text: str, rows: int) -> None:
        if rows:
            self.stream.write((self.form.between if self.rows else self.form.first) + text)
            self.rows += rows

    def copy(self, text: TextIO, rows: int) -> None:
        """``rows`` rows already formatted and ``between`` joined, read from ``text``."""
        if rows:
            self.stream.write(self.form.between if self.rows else self.form.first)
            shutil.copyfileobj(text, self.stream)
            self.rows += rows

    def close(self) -> None:
        self.stream.write(self.form.tail if self.rows else self.form.empty)


def write_rows(form: RowFormat, findings: Iterable[Finding], stream: TextIO) -> bool:
    writer = RowWriter(form, stream)
    non_compliant = False
    for finding in findings:
        non_compliant = writer.finding(finding) or non_compliant
    writer.close()
    return non_compliant


def write_json(findings: Iterable[Finding], stream: TextIO, context: ReportContext | None = None) -> bool:
    """A JSON array of findings, one per line, written as they come."""
    return write_rows(JSON_ROWS, findings, stream)


def write_csv(findings: Iterable[Finding], stream: TextIO, context: ReportContext | None = None) -> bool:
    """CSV (see ``csv_row``), a header row of Finding's field names, then a row per finding as it comes."""
    return write_rows(CSV_ROWS, findings, stream)
