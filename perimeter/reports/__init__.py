"""What a scan or a report writes: JSON, CSV, the AWS Security Finding Format, the HTML dashboard.

Every writer takes the findings as an iterable (perimeter.scan.Finding rows, consumed once), a text stream and a
ReportContext, writes as it goes, and returns True when any finding is NON_COMPLIANT.
"""
from __future__ import annotations

from perimeter.reports.asff import write_asff
from perimeter.reports.base import ReportContext, ReportError
from perimeter.reports.dashboard import write_html
from perimeter.reports.tabular import write_csv, write_json

WRITERS = {"json": write_json, "csv": write_csv, "asff": write_asff, "html": write_html}
__all__ = ["WRITERS", "ReportContext", "ReportError", "write_json"]
