"""The HTML dashboard in a real browser (issue 12, item 5): Debian's Chromium, headless, loads the page; what it
displays is checked against the scan's own findings; filters work from the page's address; and a screenshot
must show a page, not a blank one. Chromium is required: .ci/run installs it when missing."""
from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

import browser
from example_report import example_findings, render_example_report
from perimeter.registry import rule_by_id
from perimeter.reports import ReportContext, write_json
from perimeter.reports.dashboard import write_html
from perimeter.scan import read_items, scan
from test_exemptions_scan import RULE, exempt_groups, group
from test_reports import parse



@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if browser.chromium() is None:
        pytest.fail(browser.MISSING)
    return render_example_report(tmp_path_factory.mktemp("dashboard") / "report.html")


@pytest.fixture(scope="module")
def rendered(page):
    return parse(browser.dump_dom(page.as_uri()))


def _visible_offenders(cells_and_elements):
    rows = [attrs for tag, attrs in cells_and_elements.elements if tag == "tr" and "data-severity" in attrs]
    return rows


def test_the_browser_shows_the_counts_per_rule_of_the_scan(rendered):
    rules, findings = example_findings()
    expected = Counter((f.rule, f.complianceType) for f in findings)

    shown = {row[0].split()[0]: row[2:5] for row in rendered.tables["rules"][1:]}

    assert shown == {spec.rule_id: [str(expected[spec.rule_id, kind]) for kind in
                                    ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")] for spec in rules}


def test_the_browser_shows_each_account_and_region_with_its_counts(rendered):
    _, findings = example_findings()
    expected = Counter((f.accountId, f.awsRegion, f.complianceType) for f in findings)

    shown = {(row[0], row[1]): row[2:5] for row in rendered.tables["places"][1:]}

    assert len(shown) == 6  # three accounts, two regions
    assert shown == {(account, region): [str(expected[account, region, kind]) for kind in
                                         ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")]
                     for account, region, _ in expected}


def test_the_browser_lists_every_non_compliant_resource_with_its_annotation(rendered):
    _, findings = example_findings()
    offenders = [f for f in findings if f.complianceType == "NON_COMPLIANT"]

    rows = rendered.tables["offenders"][1:]

    assert sorted((row[1], row[2], row[3], row[5]) for row in rows) == sorted(
        (f.rule, f.accountId, f.awsRegion, f.annotation) for f in offenders)
    assert all(f.resourceId in " ".join(row[4] for row in rows) for f in offenders)


def test_the_filters_apply_from_the_address(page):
    _, findings = example_findings()
    rule, account = "sg-ingress-port-range-restricted", "444455556666"
    expected = [f for f in findings if f.complianceType == "NON_COMPLIANT" and f.rule == rule and f.accountId == account]

    dom = browser.dump_dom(f"{page.as_uri()}#rule={rule}&account={account}")

    parsed = parse(dom)
    rows = [attrs for tag, attrs in parsed.elements if tag == "tr" and "data-severity" in attrs]
    shown = [attrs for attrs in rows if "hidden" not in attrs]
    assert 0 < len(shown) == len(expected) < len(rows)
    assert all(attrs["data-rule"] == rule and attrs["data-account"] == account for attrs in shown)
    total = sum(f.complianceType == "NON_COMPLIANT" for f in findings)
    assert f'{len(expected)} of {total} shown' in dom


def _looks_blank(census: dict) -> bool:
    """A page that shows nothing is one colour or nearly: the dashboard has a dark header, tinted tiles, red and
    green bars and text, so many colours, none of them covering nearly everything."""
    total = sum(census.values())
    return len(census) < 50 or max(census.values()) > 0.9 * total


def test_the_screenshot_shows_the_dashboard_not_a_blank_page(page, tmp_path):
    shot = browser.screenshot(page.as_uri(), tmp_path / "dashboard.png")

    census = browser.colour_census(shot)

    assert not _looks_blank(census)
    header, compliant, non_compliant = (16, 42, 67), (46, 125, 50), (198, 40, 40)  # the page's own colours
    assert all(census.get(colour, 0) > 20 for colour in (header, compliant, non_compliant)), \
        sorted(census.items(), key=lambda item: -item[1])[:8]


def test_the_blank_check_catches_a_blank_page(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    if browser.chromium() is None:
        pytest.fail(browser.MISSING)

    shot = browser.screenshot(blank.as_uri(), tmp_path / "blank.png")

    assert _looks_blank(browser.colour_census(shot))


# --- exemptions: the page lists the active ones ending within 30 days, read from the scan's `exemption` object ----

AS_OF = date(2026, 12, 1)  # the date tests/test_exemptions_scan.py's groups are written for


@pytest.fixture(scope="module")
def exemptions_page(tmp_path_factory):
    if browser.chromium() is None:
        pytest.fail(browser.MISSING)
    folder = tmp_path_factory.mktemp("exemptions")
    snapshot = folder / "snapshot.json"
    snapshot.write_text(json.dumps({"fileVersion": "1.0", "configurationItems": [
        *exempt_groups(), group("sg-0000000000000last", "2026-12-31 last day of the window")]}), encoding="utf-8")
    rules = [rule_by_id(RULE)]
    findings = list(scan(read_items(snapshot), rules, {}, as_of=AS_OF))
    scanned = io.StringIO()
    write_json(findings, scanned)
    page = folder / "report.html"
    with open(page, "w", encoding="utf-8") as stream:  # generated a year before: the horizon is the scan's date
        write_html(findings, stream, ReportContext(rules, "exemptions", datetime(2025, 12, 1, tzinfo=timezone.utc),
                                                   as_of=AS_OF))
    return json.loads(scanned.getvalue()), parse(browser.dump_dom(page.as_uri()))


def test_the_browser_lists_the_active_exemptions_ending_within_30_days_as_the_json_has_them(exemptions_page):
    rows, shown = exemptions_page
    last = (AS_OF + timedelta(days=30)).isoformat()
    expected = sorted(((row["exemption"]["expires"], row["rule"], row["resourceId"], row["exemption"]["reason"])
                       for row in rows if row.get("exemption", {}).get("state") == "active"
                       and row["exemption"]["expires"] <= last))

    listed = [(cells[0], cells[1], cells[4].split()[1], cells[5]) for cells in shown.tables["expiring"][1:]]

    assert expected == [("2026-12-10", RULE, "sg-0000000000000soon", "vendor appliance"),
                        ("2026-12-31", RULE, "sg-0000000000000last", "last day of the window")]
    assert listed == expected  # neither the far one, nor the expired or invalid ones, nor the untagged group
    assert shown.tables["expiring"][0] == ["Expires", "Rule", "Account", "Region", "Resource", "Reason"]


def test_without_active_exemptions_ending_soon_there_is_no_such_section(rendered):
    assert "expiring" not in rendered.tables  # examples/organization-query.json carries no exemption tag
