"""`perimeter scan` reads what AWS's own tools export (issue 12, items 1-2): each shape is recognised from its
content, and every row says where the resource lives. The fixtures in tests/fixtures/exports are the documented
outputs of the AWS CLI commands (botocore's output shapes, which the CLI prints), checked against those shapes."""
from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from conftest import FIXTURES
from perimeter.cli import main
from perimeter.inputs.documents import document_items
from perimeter.jsoninput import open_json_text

EXPORTS = FIXTURES / "exports"
SNAPSHOT = FIXTURES / "items" / "snapshot.json"
SG_RULE = "sg-ingress-port-range-restricted"
# fixture -> (service, operation) whose output it is
OUTPUTS = {
    "ec2-describe-security-groups.json": ("ec2", "DescribeSecurityGroups"),
    "ec2-describe-network-acls.json": ("ec2", "DescribeNetworkAcls"),
    "network-firewall-describe-firewall.json": ("network-firewall", "DescribeFirewall"),
    "network-firewall-describe-firewall-policy.json": ("network-firewall", "DescribeFirewallPolicy"),
    "network-firewall-describe-rule-group.json": ("network-firewall", "DescribeRuleGroup"),
    "configservice-batch-get-resource-config.json": ("config", "BatchGetResourceConfig"),
    "configservice-get-resource-config-history.json": ("config", "GetResourceConfigHistory"),
    "configservice-select-resource-config.json": ("config", "SelectResourceConfig"),
    "configservice-select-aggregate-resource-config.json": ("config", "SelectAggregateResourceConfig"),
}


def run(capsys, *argv):
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


# The input shapes are the subject here, not the rules: judge with one rule per resource type, so the expected rows
# stay the same as the pack grows.
SHAPE_RULES = ("sg-ingress-port-range-restricted", "netfw-policy-rule-group-associated", "netfw-rule-group-not-empty")
RULE_ARGUMENTS = [argument for rule in SHAPE_RULES for argument in ("--rule", rule)]


def scan_rows(capsys, *argv):
    status, out, err = run(capsys, "scan", *argv, *RULE_ARGUMENTS, "--format", "json")
    assert status in (0, 1), err
    return status, json.loads(out), err


def items_of(name: str) -> list[dict]:
    with open_json_text(EXPORTS / name) as reader:
        return list(document_items(reader))


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_export_fixture_is_the_documented_output_of_its_command(name):
    service, operation = OUTPUTS[name]
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).output_shape
    report = ParamValidator().validate(json.loads((EXPORTS / name).read_text()), shape)
    assert not report.has_errors(), report.generate_report()


def test_every_export_shape_has_its_fixture():
    assert sorted(path.name for path in EXPORTS.glob("*.json")) == sorted(OUTPUTS)


def test_describe_security_groups_output_is_judged_with_account_region_name_and_arn(capsys):
    status, rows, _ = scan_rows(capsys, EXPORTS / "ec2-describe-security-groups.json", "--rule", SG_RULE)

    assert status == 1
    assert rows[0] == {
        "rule": SG_RULE, "severity": "Low", "accountId": "111122223333", "awsRegion": "eu-west-1",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-0a11b22c33d44e55f", "resourceName": "bastion",
        "arn": "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a11b22c33d44e55f",
        "complianceType": "NON_COMPLIANT", "annotation": "Inbound port ranges open: tcp 22-3389 from 0.0.0.0/0"}
    # Without SecurityGroupArn the output does not say the region: the row says so by leaving it empty.
    assert (rows[1]["accountId"], rows[1]["awsRegion"], rows[1]["arn"], rows[1]["complianceType"]) == (
        "111122223333", None, None, "COMPLIANT")


def test_describe_security_groups_item_is_spelled_as_config_records_it():
    item = items_of("ec2-describe-security-groups.json")[0]

    permission = item["configuration"]["ipPermissions"][0]
    assert permission["ipv4Ranges"] == [{"cidrIp": "0.0.0.0/0", "description": "admin"}]
    assert permission["ipRanges"] == ["0.0.0.0/0"] and permission["fromPort"] == 22
    assert item["tags"] == {"team": "ops"} and item["relationships"][0]["resourceId"] == "vpc-0abc1234def567890"


def test_describe_network_acls_output_becomes_network_acl_items():
    (item,) = items_of("ec2-describe-network-acls.json")

    assert (item["resourceType"], item["resourceId"], item["awsAccountId"]) == (
        "AWS::EC2::NetworkAcl", "acl-0a1b2c3d4e5f60718", "111122223333")
    entry = item["configuration"]["entries"][0]
    assert entry == {"cidrBlock": "0.0.0.0/0", "egress": False, "portRange": {"from": 22, "to": 22},
                     "protocol": "6", "ruleAction": "allow", "ruleNumber": 100}
    assert item["configuration"]["entries"][2]["icmpTypeCode"] == {"code": -1, "type": -1}


@pytest.mark.parametrize("name, resource_type, resource_id, member", [
    ("network-firewall-describe-firewall.json", "AWS::NetworkFirewall::Firewall",
     "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70", "firewall"),
    ("network-firewall-describe-firewall-policy.json", "AWS::NetworkFirewall::FirewallPolicy",
     "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a80", "firewallPolicy"),
    ("network-firewall-describe-rule-group.json", "AWS::NetworkFirewall::RuleGroup",
     "f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b90", "ruleGroup"),
])
def test_network_firewall_describe_outputs_become_one_item_with_the_resource_id(name, resource_type, resource_id, member):
    (item,) = items_of(name)

    assert (item["resourceType"], item["resourceId"], item["awsAccountId"], item["awsRegion"]) == (
        resource_type, resource_id, "111122223333", "eu-west-1")
    assert member in item["configuration"] and "updateToken" in item["configuration"]


def test_network_firewall_describe_outputs_are_judged_by_the_firewall_rules(capsys):
    _, rows, _ = scan_rows(capsys, EXPORTS / "network-firewall-describe-firewall-policy.json",
                           EXPORTS / "network-firewall-describe-rule-group.json")

    assert [(row["rule"], row["resourceName"], row["complianceType"]) for row in rows] == [
        ("netfw-policy-rule-group-associated", "edge-policy", "NON_COMPLIANT"),
        ("netfw-rule-group-not-empty", "placeholder", "NON_COMPLIANT")]
    assert rows[0]["annotation"].startswith("No stateless or stateful rule group associated")


def test_resource_config_history_is_judged_by_its_latest_version_only(capsys):
    _, rows, _ = scan_rows(capsys, EXPORTS / "configservice-get-resource-config-history.json")

    assert [(row["resourceId"], row["complianceType"]) for row in rows] == [("sg-0123aaaa4567bbbb8", "COMPLIANT")]


def test_resource_config_history_in_forward_order_is_judged_by_its_latest_version(capsys, tmp_path):
    document = json.loads((EXPORTS / "configservice-get-resource-config-history.json").read_text())
    document["configurationItems"].reverse()  # --chronological-order Forward
    path = tmp_path / "forward.json"
    path.write_text(json.dumps(document))

    _, rows, _ = scan_rows(capsys, path)

    assert [(row["resourceId"], row["complianceType"]) for row in rows] == [("sg-0123aaaa4567bbbb8", "COMPLIANT")]


def test_batch_get_resource_config_is_judged_and_unprocessed_keys_are_warned_about(capsys):
    status, rows, err = scan_rows(capsys, EXPORTS / "configservice-batch-get-resource-config.json")

    assert status == 1
    assert [(row["accountId"], row["awsRegion"], row["resourceId"], row["complianceType"]) for row in rows] == [
        ("444455556666", "us-west-2", "sg-0456cccc7890dddd1", "NON_COMPLIANT")]
    assert err == (f"perimeter: warning: {EXPORTS / 'configservice-batch-get-resource-config.json'}: 1 resource "
                   "key(s) were not processed by batch-get-resource-config and are not scanned: request them again\n")


@pytest.mark.parametrize("name, expected", [
    ("configservice-select-resource-config.json", [
        ("444455556666", "us-east-1", "sg-0aaa1111bbbb2222c", "COMPLIANT"),
        ("444455556666", "us-east-1", "sg-0ddd3333eeee4444f", "NON_COMPLIANT")]),
    ("configservice-select-aggregate-resource-config.json", [
        ("111122223333", "eu-west-1", "sg-0aaa1111bbbb2222c", "COMPLIANT"),
        ("444455556666", "us-west-2", "sg-0ccc5555dddd6666e", "NON_COMPLIANT")]),
])
def test_advanced_query_results_with_float_ports_are_judged(capsys, name, expected):
    _, rows, _ = scan_rows(capsys, EXPORTS / name)

    assert [(row["accountId"], row["awsRegion"], row["resourceId"], row["complianceType"]) for row in rows] == expected
    assert rows[1]["annotation"].startswith("Inbound port ranges open: tcp ")


def test_advanced_query_results_without_configuration_say_what_to_select(capsys, tmp_path):
    path = tmp_path / "query.json"
    path.write_text(json.dumps({"Results": [json.dumps({"resourceId": "sg-1", "resourceType": "AWS::EC2::SecurityGroup"})],
                                "QueryInfo": {"SelectFields": [{"Name": "resourceId"}, {"Name": "resourceType"}]}}))

    status, out, err = run(capsys, "scan", path)

    assert (status, out) == (2, "")
    assert err == (f"perimeter: error: {path}: advanced-query results lack configuration: the query must select at "
                   "least resourceId, resourceType, configuration (see README 'Scanning an organization')\n")


def test_an_unrecognised_document_names_the_accepted_shapes(capsys, tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"Reservations": []}')

    status, _, err = run(capsys, "scan", path)

    assert status == 2 and err.count("\n") == 1
    assert "not a document the scan reads; it reads a Config snapshot" in err
    assert "ec2 describe-security-groups (SecurityGroups)" in err and "select-aggregate-resource-config" in err


def test_several_paths_are_scanned_in_turn(capsys):
    _, rows, _ = scan_rows(capsys, SNAPSHOT, EXPORTS / "configservice-select-resource-config.json", "--rule", SG_RULE)

    assert len(rows) == 4 + 2
    assert {row["accountId"] for row in rows} == {"123456789012", "444455556666"}


def _config_object(root: Path, account: str, region: str, kind: str, stamp: str, items: list) -> Path:
    day = f"{stamp[:4]}/{int(stamp[4:6])}/{int(stamp[6:8])}"
    path = root / "AWSLogs" / account / "Config" / region / day / kind / \
        f"{account}_Config_{region}_{kind}_{stamp}_0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e.json.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as stream:
        json.dump({"fileVersion": "1.0", "configSnapshotId": "0f1e2d3c", "configurationItems": items}, stream)
    return path


def _snapshot_item(account, region, group_id, open_range):
    permissions = [{"ipProtocol": "tcp", "fromPort": 1000 if open_range else 443, "toPort": 2000 if open_range else 443,
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}]
    return {"awsAccountId": account, "awsRegion": region, "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": group_id, "ARN": f"arn:aws:ec2:{region}:{account}:security-group/{group_id}",
            "configurationItemStatus": "OK", "configuration": {"groupId": group_id, "ipPermissions": permissions}}


@pytest.fixture
def delivery_bucket(tmp_path):
    """A synced Config delivery bucket: two accounts, two regions, an older snapshot and a history file."""
    root = tmp_path / "bucket"
    for account in ("111122223333", "444455556666"):
        for region in ("us-east-1", "eu-west-1"):
            _config_object(root, account, region, "ConfigSnapshot", "20250601T010203Z",
                           [_snapshot_item(account, region, "sg-new", open_range=False)])
            _config_object(root, account, region, "ConfigSnapshot", "20250501T010203Z",
                           [_snapshot_item(account, region, "sg-old", open_range=True)])
            _config_object(root, account, region, "ConfigHistory", "20250601T060000Z",
                           [_snapshot_item(account, region, "sg-history", open_range=True)])
    return root


def test_a_synced_delivery_bucket_is_read_newest_snapshot_per_account_and_region(capsys, delivery_bucket):
    status, rows, err = scan_rows(capsys, delivery_bucket)

    assert status == 0
    assert sorted((row["accountId"], row["awsRegion"], row["resourceId"]) for row in rows) == sorted(
        (account, region, "sg-new") for account in ("111122223333", "444455556666")
        for region in ("us-east-1", "eu-west-1"))
    assert err == (f"perimeter: warning: {delivery_bucket}: read the newest Config snapshot of each account and "
                   "region; passed over 8 older snapshot or history file(s)\n")


def test_account_and_region_filters_keep_only_those_items(capsys, delivery_bucket):
    _, rows, _ = scan_rows(capsys, delivery_bucket, SNAPSHOT, "--account", "444455556666", "--region", "eu-west-1")

    assert [(row["accountId"], row["awsRegion"]) for row in rows] == [("444455556666", "eu-west-1")]


def test_a_directory_of_other_json_files_reads_each_in_name_order(capsys, tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "groups.json").write_text((EXPORTS / "ec2-describe-security-groups.json").read_text())
    (tmp_path / "a.json").write_text(SNAPSHOT.read_text())
    (tmp_path / "notes.txt").write_text("not read")

    _, rows, _ = scan_rows(capsys, tmp_path, "--rule", SG_RULE)

    assert [row["resourceId"] for row in rows][-2:] == ["sg-0a11b22c33d44e55f", "sg-0f66e77d88c99b00a"]
    assert len(rows) == 6


def test_an_empty_directory_is_an_error(capsys, tmp_path):
    status, _, err = run(capsys, "scan", tmp_path)

    assert status == 2 and err == f"perimeter: error: {tmp_path}: no .json or .json.gz file in this directory\n"


@pytest.mark.parametrize("compress", [False, True])
def test_dash_reads_stdin(capsys, monkeypatch, compress):
    data = SNAPSHOT.read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data) if compress else data)))

    _, rows, _ = scan_rows(capsys, "-", "--rule", SG_RULE)

    assert len(rows) == 4 and rows[0]["resourceName"] == "build-agents"


def test_bad_json_on_stdin_is_named_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[{]")))

    status, _, err = run(capsys, "scan", "-")

    assert status == 2 and err.startswith("perimeter: error: stdin: invalid JSON: ")


def test_stdin_given_twice_is_a_usage_error(capsys):
    status, _, err = run(capsys, "scan", "-", "-")

    assert status == 2 and "- (stdin) may be given once" in err
