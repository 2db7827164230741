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
                 "bench.snapshot_scan", "bench.peer", "bench.remediation", "bench.__main__"]


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
