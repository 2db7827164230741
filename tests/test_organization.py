"""Scanning an organization (issue 12, items 3, 4 and 7): a Config aggregator of three accounts and two regions,
scanned with the pack's code (`scan --aggregator`) and reported from the deployed rules' results (`report
--aggregator`), and Config's delivery bucket read in place (`scan s3://...`). The aggregator is
tests/fakes/configaggregator.py (botocore-validated; moto serves none of these APIs); S3 is moto."""
from __future__ import annotations

import gzip
import json
from collections import Counter

import boto3
import pytest
from moto import mock_aws

import configquery
from example_report import EXAMPLE
from perimeter.cli import main
from perimeter.inputs.aggregator import PAGE_SIZE, aggregator_items, aggregator_query
from perimeter.registry import all_rules
from perimeter.reports.deployed import pack_rule_of
from test_reports import parse
from tests.fakes.configaggregator import FakeAggregator

AGGREGATOR = "organization"
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
REGIONS = ("eu-west-1", "us-east-1")
ROWS = [json.loads(row) for row in json.loads(EXAMPLE.read_text())["Results"]]
ALL_TYPES = sorted({kind for spec in all_rules() for kind in spec.resource_types})


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_example_organization_is_three_accounts_in_two_regions():
    assert {(row["accountId"], row["awsRegion"]) for row in ROWS} == {(a, r) for a in ACCOUNTS for r in REGIONS}


# --- scan --aggregator -------------------------------------------------------------------------------------


def test_aggregator_scan_judges_every_resource_as_the_exported_query_result_is_judged(capsys):
    with FakeAggregator(AGGREGATOR, ROWS, page_cap=10) as aggregator:
        status, out, err = run(capsys, "scan", "--aggregator", AGGREGATOR, "--format", "json")
    _, exported, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    assert (status, err) == (1, "")
    assert json.loads(out) == json.loads(exported)
    assert {(row["accountId"], row["awsRegion"]) for row in json.loads(out)} == {(a, r) for a in ACCOUNTS for r in REGIONS}
    calls = aggregator.calls_to("SelectAggregateResourceConfig")
    assert len(calls) == 5  # 42 resources, 10 a page
    assert all(call["Limit"] == PAGE_SIZE for call in calls)
    assert [("NextToken" in call) for call in calls] == [False, True, True, True, True]


def test_aggregator_query_is_valid_in_configs_documented_grammar():
    query = configquery.parse(aggregator_query(ALL_TYPES, ["111122223333"], ["us-east-1"]))

    assert configquery.resource_types(query) == set(ALL_TYPES)
    assert "configuration" in query.select


def test_aggregator_pages_are_asked_for_one_at_a_time():
    with FakeAggregator(AGGREGATOR, ROWS, page_cap=10) as aggregator:
        items = aggregator_items(AGGREGATOR, ALL_TYPES)
        first = [next(items) for _ in range(10)]
        assert len(aggregator.calls_to("SelectAggregateResourceConfig")) == 1
        next(items)
        assert len(aggregator.calls_to("SelectAggregateResourceConfig")) == 2
        items.close()

    assert all(item["resourceId"] for item in first)


def test_account_and_region_filters_narrow_the_query_itself(capsys):
    with FakeAggregator(AGGREGATOR, ROWS) as aggregator:
        _, out, _ = run(capsys, "scan", "--aggregator", AGGREGATOR, "--account", "444455556666", "--region", "eu-west-1",
                        "--format", "json")

    assert {(row["accountId"], row["awsRegion"]) for row in json.loads(out)} == {("444455556666", "eu-west-1")}
    expression = aggregator.calls_to("SelectAggregateResourceConfig")[0]["Expression"]
    assert "accountId IN ('444455556666')" in expression and "awsRegion IN ('eu-west-1')" in expression


def test_only_the_selected_rules_resource_types_are_queried(capsys):
    with FakeAggregator(AGGREGATOR, ROWS) as aggregator:
        _, out, _ = run(capsys, "scan", "--aggregator", AGGREGATOR, "--rule", "netfw-rule-group-not-empty",
                        "--format", "json")

    assert {row["resourceType"] for row in json.loads(out)} == {"AWS::NetworkFirewall::RuleGroup"}
    assert "resourceType IN ('AWS::NetworkFirewall::RuleGroup')" in \
        aggregator.calls_to("SelectAggregateResourceConfig")[0]["Expression"]


@pytest.mark.parametrize("options", [[], ["--account", "444455556666", "--region", "eu-west-1"]])
def test_aggregator_pages_spread_over_two_jobs_give_the_same_rows(capsys, options):
    with FakeAggregator(AGGREGATOR, ROWS, page_cap=10) as aggregator:
        one = run(capsys, "scan", "--aggregator", AGGREGATOR, "--format", "json", "--jobs", "1", *options)
        two = run(capsys, "scan", "--aggregator", AGGREGATOR, "--format", "json", "--jobs", "2", *options)

    assert two == one and one[0] == 1
    expressions = {call["Expression"] for call in aggregator.calls_to("SelectAggregateResourceConfig")}
    assert len(expressions) == 1  # the filters narrow the query the same way whatever the jobs


def test_an_unknown_aggregator_is_one_line_and_exit_two(capsys):
    with FakeAggregator(AGGREGATOR, ROWS):
        status, out, err = run(capsys, "scan", "--aggregator", "no-such-aggregator")

    assert (status, out) == (2, "")
    assert err.startswith("perimeter: error: AWS error: config:SelectAggregateResourceConfig failed: "
                          "NoSuchConfigurationAggregatorException") and err.count("\n") == 1


def test_aggregator_with_a_path_is_a_usage_error(capsys):
    status, _, err = run(capsys, "scan", "--aggregator", AGGREGATOR, "snapshot.json")

    assert status == 2 and "PATH is not allowed with --aggregator" in err


# --- report --aggregator -----------------------------------------------------------------------------------


def deployed_evaluations() -> dict[str, list[tuple]]:
    """What the deployed rules reported: the pack's verdicts on the example, under the templates' rule names
    (one rule deployed by a conformance pack), and a rule of someone else's that the report must leave out."""
    from example_report import example_findings

    _, findings = example_findings()
    names = {spec.rule_id: f"perimeter-{spec.rule_id}" for spec in all_rules()}  # deployed by the account stack
    names["netfw-policy-rule-group-associated"] = "perimeter-netfw-policy-rule-group-associated-conformance-pack-x1y2z3"
    evaluations: dict[str, list[tuple]] = {
        "required-tags": [(ACCOUNTS[0], REGIONS[0], "AWS::S3::Bucket", "logs", "NON_COMPLIANT", "tag owner missing")],
        # AWS's managed rule of the same name as a pack rule, deployed under its identifier
        "netfw-logging-enabled": [(ACCOUNTS[0], REGIONS[0], "AWS::NetworkFirewall::Firewall", "managed-fw",
                                   "NON_COMPLIANT", "managed rule's annotation")]}
    for f in findings:
        evaluations.setdefault(names[f.rule], []).append(
            (f.accountId, f.awsRegion, f.resourceType, f.resourceId, f.complianceType, f.annotation))
    return evaluations


@pytest.fixture
def deployed():
    with FakeAggregator(AGGREGATOR, ROWS, deployed_evaluations(), page_cap=3) as aggregator:
        yield aggregator


def test_report_renders_what_the_deployed_rules_reported(capsys, deployed):
    status, page, err = run(capsys, "report", "--aggregator", AGGREGATOR)
    _, scanned, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    assert (status, err) == (1, "")
    expected = Counter((row["rule"], row["complianceType"]) for row in json.loads(scanned))
    shown = {row[0].split()[0]: row[2:5] for row in parse(page).tables["rules"][1:]}
    assert shown == {spec.rule_id: [str(expected[spec.rule_id, kind]) for kind in
                                    ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE")] for spec in all_rules()}
    assert len(parse(page).tables["places"]) == 1 + 6
    assert "required-tags" not in page and "logs" not in page and "managed-fw" not in page


def test_report_pages_through_summaries_and_details(capsys, deployed):
    run(capsys, "report", "--aggregator", AGGREGATOR, "--format", "json")

    summaries = deployed.calls_to("DescribeAggregateComplianceByConfigRules")
    details = deployed.calls_to("GetAggregateComplianceDetailsByConfigRule")
    assert len(summaries) > 1 and "NextToken" in summaries[-1]
    pack_rules = [name for name in deployed_evaluations() if name.startswith("perimeter-")]  # with evaluations
    pack_places = len(pack_rules) * 6  # six account-regions
    assert len({(d["ConfigRuleName"], d["AccountId"], d["AwsRegion"]) for d in details}) == pack_places
    assert any("NextToken" in d for d in details)
    assert not [d for d in details if d["ConfigRuleName"] in ("required-tags", "netfw-logging-enabled")]


def test_report_json_rows_carry_rule_severity_account_region_and_annotation(capsys, deployed):
    _, out, _ = run(capsys, "report", "--aggregator", AGGREGATOR, "--format", "json")
    _, scanned, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    def key(row):
        return row["rule"], row["accountId"], row["awsRegion"], row["resourceId"]

    reported = sorted((key(row), row["severity"], row["complianceType"], row["annotation"]) for row in json.loads(out))
    assert reported == sorted((key(row), row["severity"], row["complianceType"], row["annotation"])
                              for row in json.loads(scanned))


@pytest.mark.parametrize("name, prefix, rule", [
    ("perimeter-sg-ingress-port-range-restricted", None, "sg-ingress-port-range-restricted"),
    ("perimeter-netfw-rule-group-not-empty-conformance-pack-abcd1234", None, "netfw-rule-group-not-empty"),
    ("acme-netfw-policy-rule-group-associated", "acme-", "netfw-policy-rule-group-associated"),
    ("acme-netfw-policy-rule-group-associated", None, None),
    ("netfw-logging-enabled", None, None),  # AWS's managed rule of that name
    ("netfw-logging-enabled-conformance-pack-abcd1234", None, None),
    ("netfw-logging-enabled", "", "netfw-logging-enabled"),  # a pack deployed without a prefix: indistinguishable
    ("required-tags", None, None),
    ("perimeter-sg-ingress-port-range-restricted2", None, None),
])
def test_deployed_config_rules_are_matched_to_pack_rules_by_name(name, prefix, rule):
    ids = [spec.rule_id for spec in all_rules()]
    assert (pack_rule_of(name, ids) if prefix is None else pack_rule_of(name, ids, prefix)) == rule


def test_the_reports_default_prefix_is_the_templates():
    from perimeter.reports.deployed import DEFAULT_NAME_PREFIX
    from perimeter.templates.naming import DEFAULT_NAME_PREFIX as TEMPLATES_DEFAULT

    assert DEFAULT_NAME_PREFIX == TEMPLATES_DEFAULT


def test_report_takes_the_prefix_the_pack_was_deployed_with(capsys):
    evaluations = {("acme-" + name.removeprefix("perimeter-")) if name.startswith("perimeter-") else name: rows
                   for name, rows in deployed_evaluations().items()}  # the pack deployed with NamePrefix acme-
    with FakeAggregator(AGGREGATOR, ROWS, evaluations, page_cap=3):
        _, default, _ = run(capsys, "report", "--aggregator", AGGREGATOR, "--format", "json")
        _, acme, _ = run(capsys, "report", "--aggregator", AGGREGATOR, "--format", "json", "--name-prefix", "acme-")
        _, scanned, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    assert json.loads(default) == []
    assert len(json.loads(acme)) == len(json.loads(scanned))


# --- scan s3://bucket/prefix --------------------------------------------------------------------------------


def _snapshot_key(prefix, account, region, stamp):
    day = f"{stamp[:4]}/{int(stamp[4:6])}/{int(stamp[6:8])}"
    return (f"{prefix}AWSLogs/{account}/Config/{region}/{day}/ConfigSnapshot/"
            f"{account}_Config_{region}_ConfigSnapshot_{stamp}_16da64e4-cb65-4846-b061-e6c3ba43cb96.json.gz")


def _snapshot(rows):
    items = [{**{k: v for k, v in row.items() if k not in ("accountId", "arn")}, "awsAccountId": row["accountId"],
              "ARN": row["arn"]} for row in rows]
    return gzip.compress(json.dumps({"fileVersion": "1.0", "configSnapshotId": "x", "configurationItems": items}).encode())


@pytest.fixture
def delivery_bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="org-config")
        for account in ACCOUNTS:
            for region in REGIONS:
                rows = [row for row in ROWS if (row["accountId"], row["awsRegion"]) == (account, region)]
                s3.put_object(Bucket="org-config", Key=_snapshot_key("o-abc/", account, region, "20250601T000000Z"),
                              Body=_snapshot(rows))
                # an older snapshot that would open everything, and a history file: neither may be read
                s3.put_object(Bucket="org-config", Key=_snapshot_key("o-abc/", account, region, "20250501T000000Z"),
                              Body=b"not even JSON")
                s3.put_object(Bucket="org-config", Key=_snapshot_key("o-abc/", account, region, "20250601T060000Z")
                              .replace("ConfigSnapshot", "ConfigHistory"), Body=b"not even JSON")
        yield s3


def test_s3_prefix_streams_the_newest_snapshot_of_each_account_and_region(capsys, delivery_bucket):
    status, out, err = run(capsys, "scan", "s3://org-config/o-abc/", "--format", "json")
    _, exported, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    assert status == 1
    key = lambda row: (row["rule"], row["accountId"], row["awsRegion"], row["resourceId"], row["complianceType"])
    assert sorted(map(key, json.loads(out))) == sorted(map(key, json.loads(exported)))
    assert err == ("perimeter: warning: s3://org-config/o-abc/: read the newest Config snapshot of each account and "
                   "region; passed over 12 older snapshot or history file(s)\n")


@pytest.mark.parametrize("options", [[], ["--account", ACCOUNTS[1]]])
def test_s3_objects_spread_over_two_jobs_give_the_same_rows_and_warning(capsys, delivery_bucket, options):
    """The main process reads S3 (workers have neither credentials nor moto) and hands each object on."""
    one = run(capsys, "scan", "s3://org-config/o-abc/", "--format", "csv", "--jobs", "1", *options)
    two = run(capsys, "scan", "s3://org-config/o-abc/", "--format", "csv", "--jobs", "2", *options)

    assert two == one and one[0] == 1 and one[2].startswith("perimeter: warning: ")


def test_s3_account_and_region_filters_skip_other_objects_unread(capsys, delivery_bucket):
    delivery_bucket.put_object(Bucket="org-config", Body=b"unreadable",
                               Key=_snapshot_key("o-abc/", ACCOUNTS[0], REGIONS[0], "20250602T000000Z"))

    status, out, _ = run(capsys, "scan", "s3://org-config/o-abc/", "--account", ACCOUNTS[1], "--region", REGIONS[1],
                         "--format", "json")

    assert status in (0, 1)
    assert {(row["accountId"], row["awsRegion"]) for row in json.loads(out)} == {(ACCOUNTS[1], REGIONS[1])}


def test_s3_object_that_is_not_json_is_named(capsys, delivery_bucket):
    key = _snapshot_key("o-abc/", ACCOUNTS[0], REGIONS[0], "20250602T000000Z")
    delivery_bucket.put_object(Bucket="org-config", Key=key, Body=b"{oops")

    status, _, err = run(capsys, "scan", "s3://org-config/o-abc/")

    assert status == 2 and err.splitlines()[-1].startswith(f"perimeter: error: s3://org-config/{key}: invalid JSON")


def test_s3_missing_bucket_is_one_line(capsys, delivery_bucket):
    status, _, err = run(capsys, "scan", "s3://no-such-bucket/")

    assert status == 2 and err.count("\n") == 1 and "NoSuchBucket" in err


def test_s3_empty_prefix_says_so(capsys, delivery_bucket):
    status, _, err = run(capsys, "scan", "s3://org-config/elsewhere/")

    assert status == 2 and err == "perimeter: error: s3://org-config/elsewhere/: no .json or .json.gz object under this prefix\n"


# --- progress: long reads draw a line on a terminal, as the live scan does ----------------------------------


@pytest.mark.parametrize("source", ["aggregator", "s3"])
def test_long_reads_show_progress_on_a_terminal_and_clear_it(capsys, monkeypatch, delivery_bucket, source):
    from test_live_scan import Terminal

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    argv = ["--aggregator", AGGREGATOR] if source == "aggregator" else ["s3://org-config/o-abc/"]
    with FakeAggregator(AGGREGATOR, ROWS, page_cap=10):
        status = main(["scan", *argv, "--rule", "sg-default-closed"])

    out = capsys.readouterr().out
    drawn = terminal.getvalue()
    assert status in (0, 1) and out.startswith("Rule") and "scanning" not in out
    assert "\r\033[Kscanning: " in drawn and " SecurityGroup " in drawn
    assert "\r\033[K" in drawn.split("scanning: ")[-1]  # the line is cleared before the results


def test_report_shows_the_exemptions_the_deployed_rules_reported_and_those_ending_soon(capsys):
    from datetime import datetime, timedelta, timezone

    soon = (datetime.now(timezone.utc).date() + timedelta(days=10)).isoformat()
    rows = [(ACCOUNTS[0], REGIONS[0], "AWS::EC2::SecurityGroup", "sg-0000000000000soon", "COMPLIANT",
             f"Exempt until {soon} (vendor appliance CHG-7): would be NON_COMPLIANT: Inbound port ranges open: "
             "tcp 0-65535 from 0.0.0.0/0"),
            (ACCOUNTS[0], REGIONS[0], "AWS::EC2::SecurityGroup", "sg-000000000000000old", "NON_COMPLIANT",
             "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0; exemption expired 2026-11-01")]
    with FakeAggregator(AGGREGATOR, ROWS, {"perimeter-sg-ingress-port-range-restricted": rows}):
        _, out, _ = run(capsys, "report", "--aggregator", AGGREGATOR, "--format", "json")
        _, page, _ = run(capsys, "report", "--aggregator", AGGREGATOR)

    assert {row["resourceId"]: row.get("exemption") for row in json.loads(out)} == {
        "sg-0000000000000soon": {"expires": soon, "reason": "vendor appliance CHG-7", "state": "active"},
        "sg-000000000000000old": None}
    (listed,) = parse(page).tables["expiring"][1:]
    assert listed[0] == soon and "sg-0000000000000soon" in listed[4] and listed[5] == "vendor appliance CHG-7"
