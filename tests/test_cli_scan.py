"""`perimeter scan`: output formats, exit codes and every bad-input path."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perimeter.cli import main
from perimeter.registry import all_rules
from conftest import FIXTURES

SNAPSHOT = FIXTURES / "items" / "snapshot.json"
EXAMPLE = Path(__file__).parent.parent / "examples" / "config-snapshot.json"
RULE_ID = "sg-ingress-port-range-restricted"


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _row(resource_id, name, compliance, annotation):
    return {"rule": RULE_ID, "severity": "Low", "accountId": "123456789012", "awsRegion": "us-east-1",
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": resource_id, "resourceName": name,
            "arn": f"arn:aws:ec2:us-east-1:123456789012:security-group/{resource_id}",
            "complianceType": compliance, "annotation": annotation}


def test_json_output_has_one_object_per_rule_and_item_with_where_it_lives(capsys):
    status, out, err = run(capsys, "scan", SNAPSHOT, "--format", "json")

    assert status == 1 and err == ""
    findings = json.loads(out)
    # Every rule judging security groups reports on each of the four; the seed rule's verdicts in order:
    assert len(findings) == 4 * sum("AWS::EC2::SecurityGroup" in spec.resource_types for spec in all_rules())
    assert [finding for finding in findings if finding["rule"] == RULE_ID] == [
        _row("sg-0e1f2a3b4c5d6e7f8", "build-agents", "NON_COMPLIANT", "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"),
        _row("sg-0c1d2e3f4a5b6c7d8", "web", "COMPLIANT", "No inbound port range over 1 port(s) open to any source"),
        _row("sg-01234567", "legacy-admin", "NON_COMPLIANT", "Inbound port ranges open: tcp 22-3389 from 0.0.0.0/0"),
        _row("sg-0a9b8c7d6e5f4a3b2", "mixed-sources", "NON_COMPLIANT",
             "Inbound port ranges open: all traffic from sg-0abc1234def567890; tcp 1000-2000 from 203.0.113.0/24; "
             "tcp 1000-2000 from 2600:1f18::/36; tcp 1000-2000 from pl-0123abcd; tcp 1000-2000 from sg-0abc1234def567890"),
    ]


def test_table_output_counts_per_rule_then_lists_offenders(capsys):
    status, out, _ = run(capsys, "scan", SNAPSHOT)

    lines = out.splitlines()
    assert status == 1
    assert lines[0].split() == ["Rule", "Compliant", "Non-compliant", "Not", "applicable", "Exempt"]
    rule_ids = [spec.rule_id for spec in all_rules()]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:2 + len(rule_ids)]}
    judged = {RULE_ID: ["1", "3", "0", "0"], "sg-default-closed": ["0", "0", "4", "0"],  # the snapshot's four groups
              "sg-ingress-authorized-ports-only": ["2", "2", "0", "0"],
              "sg-ingress-restricted-ports": ["2", "2", "0", "0"]}
    assert rows == {rule_id: judged.get(rule_id, ["0", "0", "0", "0"]) for rule_id in rule_ids}
    assert "Non-compliant resources (7):" in lines
    offender = lines.index(f"  {RULE_ID}  AWS::EC2::SecurityGroup  sg-01234567")
    assert lines[offender + 1] == "      in 123456789012 us-east-1 name legacy-admin"
    assert "      Inbound port ranges open: tcp 22-3389 from 0.0.0.0/0" in lines


def test_clean_scan_exits_zero(capsys, tmp_path, fixture_item):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(fixture_item("sg-compliant.notification")))

    status, out, _ = run(capsys, "scan", path)

    assert status == 0
    assert "No non-compliant resources." in out


def test_array_of_api_shaped_items_and_gzip(capsys, tmp_path, fixture_item):
    path = tmp_path / "items.json.gz"
    with gzip.open(path, "wt") as stream:
        json.dump([fixture_item("sg-open-range.api"), fixture_item("sg-deleted.notification")], stream)

    status, out, _ = run(capsys, "scan", path, "--format", "json", "--rule", RULE_ID)

    assert status == 1
    assert [(f["resourceId"], f["complianceType"]) for f in json.loads(out)] == [
        ("sg-0e1f2a3b4c5d6e7f8", "NON_COMPLIANT"),
        ("sg-0dead0000beef0000", "NOT_APPLICABLE"),
    ]


def test_parameters_file_changes_the_verdicts(capsys, tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({RULE_ID: {"sourceScope": "world", "authorizedTcpPorts": "0-65535"}}))

    status, out, _ = run(capsys, "scan", SNAPSHOT, "--parameters", parameters, "--format", "json", "--rule", RULE_ID)

    assert status == 0
    assert {f["complianceType"] for f in json.loads(out)} == {"COMPLIANT"}


def test_items_of_other_types_are_skipped(capsys, tmp_path):
    path = tmp_path / "bucket.json"
    path.write_text(json.dumps({"configurationItems": [
        {"resourceType": "AWS::S3::Bucket", "resourceId": "my-bucket", "configurationItemStatus": "OK", "configuration": {}}
    ]}))

    status, out, _ = run(capsys, "scan", path, "--format", "json")

    assert (status, json.loads(out)) == (0, [])


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("{not json", "invalid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
        ('"a string"', "not a document the scan reads; it reads a Config snapshot"),
        ('{"fileVersion": "1.0"}', "not a document the scan reads; it reads a Config snapshot"),
        ('{"configurationItems": {}}', "configurationItems must be a JSON array"),
        ('[42]', "item #1: a configuration item must be a JSON object, not int"),
        ('[{"resourceType": "AWS::EC2::SecurityGroup"}]', "item #1: configuration item without resourceId"),
        ('[{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configuration": "{x"}]',
         "AWS::EC2::SecurityGroup sg-1: configuration is not valid JSON"),
        ('[{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "configuration": {"groupId": "sg-1", "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 9, "toPort": 1, "ipRanges": ["0.0.0.0/0"]}]}}]',
         "AWS::EC2::SecurityGroup sg-1: ipPermissions: tcp fromPort 9 is above toPort 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(capsys, tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)

    status, out, err = run(capsys, "scan", path)

    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("perimeter: error: ")
    assert message in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["scan", SNAPSHOT, "--rule", "no-such-rule"], "unknown rule 'no-such-rule'; known rules: "
         + ", ".join(spec.rule_id for spec in all_rules())),
        (["scan", SNAPSHOT, "--format", "xml"], "invalid choice: 'xml'"),
        (["scan"], "the following arguments are required: path"),
        ([], "the following arguments are required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_two(capsys, argv, message):
    status, _, err = run(capsys, *argv)

    assert status == 2
    assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    "parameters, message",
    [
        ('{"sg-ingress-port-range-restricted": {"maxPorts": "0"}}', "parameter maxPorts: '0' is not an integer >= 1"),
        ('{"sg-ingress-port-range-restricted": {"sourceScope": "galaxy"}}', "parameter sourceScope: 'galaxy' is not one of any, public, world"),
        ('{"sg-ingress-port-range-restricted": {"ports": "1"}}', "unknown parameter(s) ports (value '1'); known parameters:"),
        ('{"not-a-rule": {}}', "unknown rule 'not-a-rule'"),
        ('{"sg-ingress-port-range-restricted": "maxPorts=2"}', "expected a JSON object"),
        ("{oops", "invalid JSON"),
        (None, "no such parameters file"),
    ],
)
def test_bad_parameters_exit_two(capsys, tmp_path, parameters, message):
    path = tmp_path / "parameters.json"
    if parameters is not None:
        path.write_text(parameters)

    status, out, err = run(capsys, "scan", SNAPSHOT, "--parameters", path)

    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and message in err


def test_example_snapshot_has_findings_and_compliant_groups(capsys):
    status, out, _ = run(capsys, "scan", EXAMPLE, "--format", "json")

    findings = json.loads(out)
    assert status == 1
    assert len([f for f in findings if f["resourceType"] == "AWS::EC2::SecurityGroup"]) >= 10
    assert {f["complianceType"] for f in findings} >= {"COMPLIANT", "NON_COMPLIANT"}


def test_installed_console_script_runs_without_traceback(tmp_path):
    script = shutil.which("perimeter", path=str(Path(sys.executable).parent))
    assert script, "the perimeter console script is installed by `make`"

    result = subprocess.run([script, "scan", str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert result.stderr == f"perimeter: error: {tmp_path / 'missing.json'}: no such file\n"
