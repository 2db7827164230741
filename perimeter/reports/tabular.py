"""The plain formats: JSON and CSV, one row per finding, written as the findings come."""
from __future__ import annotations

import csv
import json
from typing import Iterable, TextIO

from perimeter.reports.base import ReportContext
from perimeter.scan import Finding
from perimeter.verdicts import NON_COMPLIANT


def write_json(findings: Iterable[Finding], stream: TextIO, context: ReportContext | None = None) -> bool:
    """A JSON array of findings, one per line, written as they come."""
    non_compliant = False
    separator = "[\n  "
    for finding in findings:
        stream.write(separator + finding_json(finding))
        separator = ",\n  "
        non_compliant = non_compliant or finding.complianceType == NON_COMPLIANT
    stream.write("[]\n" if separator == "[\n  " else "\n]\n")
    return non_compliant


# '"rule": ' ... : json.dumps's key spelling and default separators, which the rows keep.
_KEYS = tuple(json.dumps(name) + ": " for name in Finding._fields)
_quote = json.encoder.encode_basestring_ascii  # json.dumps's own (C) quoting of text, ensure_ascii as by default


def finding_json(finding: Finding) -> str:
    """``json.dumps(finding._asdict())`` without ``exemption`` when it is None (only items carrying the rule's
    exemption tag have one), byte for byte, at a fraction of the cost: the scan writes one per rule and item."""
    parts = [key + (_quote(value) if type(value) is str else "null" if value is None else json.dumps(value))
             for key, value in zip(_KEYS, finding) if value is not None or key is not _KEYS[-1]]
    return "{" + ", ".join(parts) + "}"


def write_csv(findings: Iterable[Finding], stream: TextIO, context: ReportContext | None = None) -> bool:
    """RFC 4180 CSV (``\\r\\n`` line ends, quotes where needed), a header row of Finding's field names.

    A cell that a spreadsheet would run as a formula (text starting with = + - @, tab or carriage return)
    gets a leading apostrophe, as OWASP's "CSV Injection" guidance advises: resource names and annotations
    come from the scanned accounts.
    """
    writer = csv.writer(stream)
    writer.writerow(Finding._fields)
    non_compliant = False
    for finding in findings:
        writer.writerow(["" if value is None else _inert(json.dumps(value) if isinstance(value, dict) else str(value))
                         for value in finding])
        non_compliant = non_compliant or finding.complianceType == NON_COMPLIANT
    return non_compliant


def _inert(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
