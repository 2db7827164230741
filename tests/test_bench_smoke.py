"""`make bench` is not part of the tests (it times things); this only checks that its modules import and that
its generator makes items the pack reads, deterministically. Fast, and measures nothing."""
from __future__ import annotations

import gzip
import importlib
import json

import pytest

from bench.generate import FIREWALL_POLICY, NETWORK_ACL, RULE_GROUP, SECURITY_GROUP, Generator, write_snapshot
from perimeter.registry import all_rules
from perimeter.scan import read_items, scan

BENCH_MODULES = ["bench.report", "bench.proc", "bench.probe", "bench.cold_import", "bench.api_calls", "bench.live_scan",
                 "bench.snapshot_scan", "bench.parallel_scan", "bench.peer", "bench.peer_prowler", "bench.remediation",
                 "bench.config_endpoint", "bench.lambda_child", "bench.__main__"]


@pytest.mark.parametrize("name", BENCH_MODULES)
def test_bench_modules_import(name):
    importlib.import_module(name)


def test_generated_snapshot_is_deterministic_valid_and_mixed(tmp_path):
    first = write_snapshot(tmp_path / "a.json.gz", 200, seed=5)
    second = write_snapshot(tmp_path / "b.json.gz", 200, seed=5)
    assert gzip.decompress(first.read_bytes()) == gzip.decompress(second.read_bytes())

    items = list(read_items(first))
    assert {item["resourceType"] for item in items} == {SECURITY_GROUP, FIREWALL_POLICY, RULE_GROUP, NETWORK_ACL}
    findings = list(scan(items, all_rules(), {}))  # every item reads without error
    assert len(findings) == sum(item["resourceType"] in spec.resource_types for item in items for spec in all_rules())
    assert {f.complianceType for f in findings} >= {"COMPLIANT", "NON_COMPLIANT"}


def test_security_groups_hold_one_to_fifty_inbound_rules():
    generator = Generator(seed=1)
    counts = []
    for index in range(300):
        group = generator.api_security_group(index)
        counts.append(sum(len(entry[kind]) for entry in group["IpPermissions"]
                          for kind in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")))
        item = generator.security_group_item(index)  # the recorded shape of the same group
        assert item["configuration"]["groupId"] == group["GroupId"]
        assert json.loads(json.dumps(item)) == item
    assert min(counts) >= 1 and max(counts) <= 50


def test_config_endpoint_answers_put_evaluations_and_refuses_any_other_call():
    import boto3
    import botocore.exceptions

    from bench.config_endpoint import ConfigEndpoint

    evaluation = {"ComplianceResourceType": "AWS::EC2::SecurityGroup", "ComplianceResourceId": "sg-1",
                  "ComplianceType": "COMPLIANT", "OrderingTimestamp": 0}
    with ConfigEndpoint() as endpoint:
        client = boto3.client("config", region_name="us-east-1", endpoint_url=endpoint.url, aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        answer = client.put_evaluations(Evaluations=[evaluation], ResultToken="token")
        with pytest.raises(botocore.exceptions.ClientError, match="UnknownOperationException"):
            client.describe_config_rules()

    assert answer["FailedEvaluations"] == []
    assert endpoint.calls == [1]


def test_generator_makes_items_of_every_declared_resource_type_that_every_rule_judges():
    # The bench's Lambda figures send each rule a generated item of its type: a new type needs a maker here.
    generator = Generator(seed=3)
    for spec in all_rules():
        for resource_type in spec.resource_types:
            items = [generator.recorded_item(resource_type, index) for index in range(20)]
            findings = list(scan(items, [spec], {}))
            assert {item["resourceType"] for item in items} == {resource_type}
            verdicts = {f.complianceType for f in findings}
            assert len(findings) == 20 and verdicts <= {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}, spec.rule_id
