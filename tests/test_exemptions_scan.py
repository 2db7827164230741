"""Exemptions in `perimeter scan` (file and live): the same judgement as the Lambda, at today's date or --as-of; the
JSON output's ``exemption`` object; the table's per-rule count of exempt resources and its list of exemptions
that end within 30 days."""
from __future__ import annotations

import copy
import json

import boto3
import pytest
from moto import mock_aws

from conftest import load_fixture
from perimeter.cli import main
from perimeter.exemptions import tag_key

RULE = "sg-ingress-port-range-restricted"
KEY = tag_key(RULE)


def group(group_id: str, value: str | None) -> dict:
    item = copy.deepcopy(load_fixture("items/sg-open-range.notification.json"))
    item["resourceId"] = item["configuration"]["groupId"] = group_id
    if value is not None:
        item["tags"] = {**item["tags"], KEY: value}
    return item


def exempt_groups() -> list[dict]:
    """Groups whose exemption, on 2026-12-01, ends soon, ends far ahead, has expired, is invalid, or is absent."""
    return [
        group("sg-0000000000000soon", "2026-12-10 vendor appliance"),
        group("sg-00000000000000far", "2027-06-30 lab"),
        group("sg-000000000000000old", "2026-11-01 done"),
        group("sg-0000000000000wrong", "someday"),
        group("sg-000000000000000none", None),
    ]


@pytest.fixture
def snapshot(tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"fileVersion": "1.0", "configurationItems": exempt_groups()}), encoding="utf-8")
    return path


def run(capsys, *argv):
    status = main([str(argument) for argument in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_gains_an_exemption_object_for_items_that_carry_one(capsys, snapshot):
    status, out, err = run(capsys, "scan", snapshot, "--rule", RULE, "--as-of", "2026-12-01", "--format", "json")

    assert (status, err) == (1, "")
    found = {f["resourceId"]: (f["complianceType"], f.get("exemption")) for f in json.loads(out)}
    assert found == {
        "sg-0000000000000soon": ("COMPLIANT", {"expires": "2026-12-10", "reason": "vendor appliance",
                                               "state": "active"}),
        "sg-00000000000000far": ("COMPLIANT", {"expires": "2027-06-30", "reason": "lab", "state": "active"}),
        "sg-000000000000000old": ("NON_COMPLIANT", {"expires": "2026-11-01", "reason": "done", "state": "expired"}),
        "sg-0000000000000wrong": ("NON_COMPLIANT", {
            "expires": None, "reason": None, "state": "invalid",
            "problem": "no date given (expected 'YYYY-MM-DD reason', got 'someday')"}),
        "sg-000000000000000none": ("NON_COMPLIANT", None),
    }
    assert "exemption" not in json.loads(out)[-1]  # no key at all for an item without the tag


def test_the_table_counts_exempt_resources_and_lists_those_ending_within_30_days(capsys, snapshot):
    status, out, _ = run(capsys, "scan", snapshot, "--as-of", "2026-12-01")

    lines = out.splitlines()
    assert status == 1
    assert lines[0].split()[-1] == "Exempt"
    assert next(line for line in lines if line.startswith(RULE)).split()[1:] == ["2", "3", "0", "2"]
    start = lines.index("Exemptions expiring within 30 days (1):")
    assert lines[start + 1] == f"  {RULE}  AWS::EC2::SecurityGroup  sg-0000000000000soon  until 2026-12-10 " \
                               "(vendor appliance)"
    assert lines[start + 2] == ""


def test_as_of_shows_what_expires_next_month(capsys, snapshot):
    _, out, _ = run(capsys, "scan", snapshot, "--as-of", "2027-06-15")

    lines = out.splitlines()
    assert next(line for line in lines if line.startswith(RULE)).split()[1:] == ["1", "4", "0", "1"]
    assert "Exemptions expiring within 30 days (1):" in lines
    assert any("sg-00000000000000far  until 2027-06-30 (lab)" in line for line in lines)
    assert "      Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0; exemption expired 2026-12-10" in lines


def test_the_html_report_counts_its_expiring_exemptions_from_as_of(capsys, snapshot):
    """On 2027-06-15 the far exemption (2027-06-30) is the one ending within 30 days, whatever today is."""
    status, out, err = run(capsys, "scan", snapshot, "--rule", RULE, "--as-of", "2027-06-15", "--format", "html")

    assert (status, err) == (1, "")
    expiring = out.split('<table id="expiring">', 1)[1].split("</table>", 1)[0]
    assert "2027-06-30" in expiring and "sg-00000000000000far" in expiring
    assert "sg-0000000000000soon" not in expiring  # expired by then


def test_without_as_of_the_scan_judges_at_today(capsys, snapshot):
    _, out, _ = run(capsys, "scan", snapshot, "--rule", RULE, "--format", "json")
    states = {f["resourceId"]: f["exemption"]["state"] for f in json.loads(out) if "exemption" in f}
    assert states["sg-000000000000000old"] == "expired"  # expired before any day this test can run on


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "2026-1-5"])
def test_a_bad_as_of_is_one_clear_line(capsys, snapshot, value):
    status, out, err = run(capsys, "scan", snapshot, "--as-of", value)
    assert (status, out) == (2, "")
    assert err == f"perimeter: error: argument --as-of: '{value}' is not a date YYYY-MM-DD (see 'perimeter scan " \
                  "--help')\n"


def test_the_live_scan_reads_the_tags_and_judges_alike(capsys, monkeypatch):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        group_id = ec2.create_security_group(GroupName="appliance", Description="d", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.create_tags(Resources=[group_id], Tags=[{"Key": KEY, "Value": "2026-12-10 vendor appliance"}])

        _, out, err = run(capsys, "scan", "--live", "--rule", RULE, "--as-of", "2026-12-01", "--format", "json")

    found = {f["resourceId"]: f for f in json.loads(out)}[group_id]
    assert (found["complianceType"], found["exemption"]["state"]) == ("COMPLIANT", "active")
    assert found["annotation"] == ("Exempt until 2026-12-10 (vendor appliance): would be NON_COMPLIANT: "
                                   "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")
