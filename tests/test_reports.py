"""Report formats (issue 12, items 5-6): CSV, ASFF for Security Hub, and the HTML dashboard's content."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import botocore.session
import pytest
from botocore.validate import ParamValidator

from conftest import FIXTURES
from perimeter.cli import main
from perimeter.registry import all_rules
from perimeter.reports import ReportContext
from perimeter.reports.asff import write_asff
from perimeter.reports.dashboard import write_html
from perimeter.scan import Finding
from tests.fakes.networkfirewall import _constraint_violations

EXAMPLE = FIXTURES.parent.parent / "examples" / "config-snapshot.json"
IMPORT_BATCH = 100  # BatchImportFindings takes at most 100 findings a call


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def json_rows(capsys, *argv):
    return json.loads(run(capsys, "scan", *argv, "--format", "json")[1])


def finding(**overrides) -> Finding:
    values = dict(rule="sg-ingress-port-range-restricted", severity="Low", accountId="111122223333",
                  awsRegion="eu-west-1", resourceType="AWS::EC2::SecurityGroup", resourceId="sg-1",
                  resourceName="web", arn="arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1",
                  complianceType="NON_COMPLIANT", annotation="Inbound port ranges open: tcp 1-2 from 0.0.0.0/0")
    values.update(overrides)
    return Finding(**values)


# --- CSV ----------------------------------------------------------------------------------------------------


def test_csv_has_a_header_and_the_json_rows(capsys):
    status, out, _ = run(capsys, "scan", EXAMPLE, "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert status == 1
    # No item of the example carries an exemption tag: the JSON rows have no `exemption`, the CSV cell is empty.
    assert all(row.pop("exemption") == "" for row in rows)
    assert [dict(row, **{k: row[k] or None for k in ("resourceName", "arn")}) for row in rows] == json_rows(capsys, EXAMPLE)
    assert out.startswith("rule,severity,accountId,awsRegion,resourceType,resourceId,resourceName,arn,complianceType,"
                          "annotation,exemption\r\n")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_made_inert():
    stream = io.StringIO(newline="")
    from perimeter.reports.tabular import write_csv

    write_csv([finding(resourceName="=HYPERLINK(\"http://x\")", annotation="@SUM(A1)")], stream)

    row = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))[1]
    assert row[6] == "'=HYPERLINK(\"http://x\")" and row[9] == "'@SUM(A1)"


# --- ASFF ---------------------------------------------------------------------------------------------------


def _securityhub_model():
    return botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings")


def asff(capsys, *argv) -> list[dict]:
    status, out, err = run(capsys, "scan", *argv, "--format", "asff")
    assert status in (0, 1), err
    return json.loads(out)


def test_asff_findings_are_valid_batch_import_findings_requests(capsys):
    findings = asff(capsys, EXAMPLE)

    assert len(findings) == sum(row["complianceType"] == "NON_COMPLIANT" for row in json_rows(capsys, EXAMPLE)) > 0
    shape = _securityhub_model().input_shape
    for start in range(0, len(findings), IMPORT_BATCH):
        request = {"Findings": findings[start:start + IMPORT_BATCH]}
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
        assert list(_constraint_violations(request, shape)) == []


def test_asff_severity_title_and_requirements_come_from_the_rule_declaration(capsys):
    declarations = {spec.rule_id: spec.declaration for spec in all_rules()}
    for found in asff(capsys, EXAMPLE):
        declaration = declarations[found["ProductFields"]["perimeter/RuleId"]]
        assert found["Severity"] == {"Label": declaration["severity"].upper()}
        assert found["Title"] == declaration["title"]
        assert found["Compliance"] == {"Status": "FAILED", "RelatedRequirements": declaration["controls"]}
        assert found["ProductArn"] == f"arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"


def test_asff_ids_are_stable_across_runs_and_unique_per_rule_and_resource():
    def ids(now):
        stream = io.StringIO()
        context = ReportContext(list(all_rules()), "test", now)
        write_asff([finding(resourceId="sg-1"), finding(resourceId="sg-2"),
                    finding(rule="netfw-rule-group-not-empty", severity="Medium", resourceId="sg-1")], stream, context)
        return [(f["Id"], f["UpdatedAt"]) for f in json.loads(stream.getvalue())]

    first = ids(datetime(2025, 1, 1, tzinfo=timezone.utc))
    second = ids(datetime(2025, 2, 1, tzinfo=timezone.utc))

    assert [id_ for id_, _ in first] == [id_ for id_, _ in second]
    assert len({id_ for id_, _ in first}) == 3
    assert first[0] == ("perimeter/sg-ingress-port-range-restricted/111122223333/eu-west-1/AWS::EC2::SecurityGroup/sg-1",
                        "2025-01-01T00:00:00.000Z")
    assert second[0][1] == "2025-02-01T00:00:00.000Z"


def test_asff_refuses_a_row_without_account_or_region(capsys, tmp_path):
    document = json.loads((FIXTURES / "exports" / "ec2-describe-security-groups.json").read_text())
    del document["SecurityGroups"][0]["SecurityGroupArn"]  # the open group; without it no region is known
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(document))

    status, out, err = run(capsys, "scan", path, "--format", "asff")

    assert (status, out) == (2, "")
    assert err.startswith("perimeter: error: AWS::EC2::SecurityGroup sg-0a11b22c33d44e55f: ASFF needs the resource's "
                          "account and region") and err.count("\n") == 1


def test_asff_refuses_a_non_compliant_row_that_does_not_say_its_region():
    with pytest.raises(ValueError, match="sg-1: ASFF needs the resource's account and region"):
        write_asff([finding(awsRegion=None)], io.StringIO(), ReportContext(list(all_rules()), "test"))


def test_asff_of_a_clean_scan_is_an_empty_array(capsys, fixture_item, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(fixture_item("sg-compliant.notification")))

    assert asff(capsys, path) == []


# --- HTML, without a browser (tests/test_dashboard_browser.py renders it) -----------------------------------


class _Cells(HTMLParser):
    """Text of every table cell by table id, and every element's attributes."""

    def __init__(self):
        super().__init__()
        self.tables, self.elements, self._table, self._cell = {}, [], None, None

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "br" and self._cell is not None:
            self._cell.append(" ")
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables[self._table]:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> _Cells:
    cells = _Cells()
    cells.feed(page)
    return cells


def test_html_is_self_contained(capsys):
    _, page, _ = run(capsys, "scan", EXAMPLE, "--format", "html")

    cells = parse(page)
    assert not [attrs for tag, attrs in cells.elements if "src" in attrs or (tag == "link")]
    assert not re.search(r"https?://", page)


def test_html_escapes_what_the_accounts_named(capsys):
    stream = io.StringIO()
    hostile = "<script>alert(1)</script>"
    write_html([finding(resourceName=hostile, annotation=hostile, resourceId='sg-"><img>')], stream,
               ReportContext(list(all_rules()), "test"))

    page = stream.getvalue()
    assert hostile not in page and "<img>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
