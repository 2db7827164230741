"""The dashboard of examples/organization-query.json (three accounts, two regions), at a fixed time, so the
README screenshot and the browser tests show the same page on every run."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from perimeter.registry import all_rules
from perimeter.reports import ReportContext
from perimeter.reports.dashboard import write_html
from perimeter.scan import read_items, scan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "organization-query.json"
FIXED_TIME = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)


def example_findings():
    rules = list(all_rules())
    return rules, list(scan(read_items(EXAMPLE), rules, {}))


def render_example_report(output: Path) -> Path:
    rules, findings = example_findings()
    with open(output, "w", encoding="utf-8") as stream:
        write_html(findings, stream, ReportContext(rules, "perimeter scan of examples/organization-query.json",
                                                   FIXED_TIME))
    return output
