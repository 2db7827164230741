"""`perimeter scan --jobs N` (issue 16, target 3): the same output as one process, same rows, same order, whatever
the number of workers; rules that read related items across files see them all; errors are the same one line."""
from __future__ import annotations

import copy
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, load_fixture
from netfw_items import SUBNETS, firewall_body, firewall_item, subnet_item
from perimeter.exemptions import tag_key
from perimeter.parallel import start_method, usable_cores
from test_cli_scan import EXAMPLE, run

ITEMS = FIXTURES / "items"
MULTI_AZ = "netfw-firewall-multi-az"


def _group(group_id: str, account: str = "123456789012", region: str = "us-east-1", tag: str | None = None) -> dict:
    item = copy.deepcopy(load_fixture("items/sg-open-range.notification.json"))
    item["resourceId"] = item["configuration"]["groupId"] = group_id
    item["awsAccountId"], item["awsRegion"] = account, region
    if tag is not None:
        item["tags"] = {**item["tags"], tag_key("sg-ingress-port-range-restricted"): tag}
    return item


def _write(path: Path, document, compress: bool = False) -> None:
    text = json.dumps(document)
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def directory(tmp_path) -> Path:
    """Eight files: groups of two accounts and regions (one exempt until a date), firewalls in one file and the
    subnets that give their zones in others, before and after them, the recorded fixtures, a gzip snapshot."""
    root = tmp_path / "input"
    root.mkdir()
    subnets = [subnet_item(subnet, zone) for subnet, zone in SUBNETS.items()]
    second = firewall_item(firewall_body(firewall_id="9a9a9a9a-0000-4000-8000-000000000002", name="edge-fw-2",
                                         arn="arn:aws:network-firewall:us-east-1:123456789012:firewall/edge-fw-2",
                                         subnets=("subnet-0c3c3c3c3c3c3c3c3", "subnet-0d4d4d4d4d4d4d4d4")))
    _write(root / "a-subnet.json", subnets[0])
    _write(root / "b-groups.json", [_group(f"sg-{n:017x}", tag="2026-12-20 vendor" if n == 3 else None)
                                    for n in range(12)])
    _write(root / "c-firewalls.json", {"fileVersion": "1.0", "configurationItems": [firewall_item(), second]})
    _write(root / "d-groups-elsewhere.json", {"fileVersion": "1.0", "configurationItems": [
        _group(f"sg-{n:017x}", account="444455556666", region="eu-west-1") for n in range(12, 20)]}, compress=False)
    _write(root / "e-subnets.json", [subnets[1], subnet_item("subnet-0c3c3c3c3c3c3c3c3", "us-east-1a"),
                                     subnet_item("subnet-0d4d4d4d4d4d4d4d4", "us-east-1a")])
    for name in ("nacl-ssh-open.notification.json", "netfw-policy-both.notification.json",
                 "sg-default-open.notification.json"):
        shutil.copy(ITEMS / name, root / f"f-{name}")
    _write(root / "g-example.json.gz", json.loads(EXAMPLE.read_text()), compress=True)
    return root


def _same_whatever_the_jobs(capsys, *argv):
    """The scan with --jobs 1, 2 and the default: returns the one-process result after comparing."""
    one = run(capsys, "scan", *argv, "--jobs", "1")
    assert run(capsys, "scan", *argv, "--jobs", "2") == one
    assert run(capsys, "scan", *argv) == one
    return one


@pytest.mark.parametrize("output_format", ["json", "csv", "table", "html"])
def test_a_directory_gives_the_same_output_whatever_the_jobs(capsys, directory, output_format):
    status, out, err = _same_whatever_the_jobs(capsys, directory, "--format", output_format, "--as-of", "2026-12-02")

    assert status == 1 and err == ""
    if output_format == "json":
        rows = json.loads(out)
        ours = ("7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6", "9a9a9a9a-0000-4000-8000-000000000002")
        multi_az = [(row["resourceId"], row["complianceType"]) for row in rows
                    if row["rule"] == MULTI_AZ and row["resourceId"] in ours]
        # Each firewall's zones come from subnets in other files: two zones, then one zone.
        assert multi_az == [("7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6", "COMPLIANT"),
                            ("9a9a9a9a-0000-4000-8000-000000000002", "NON_COMPLIANT")]
        # Rules reading related items are judged once the whole input is read, as ever: their rows come last.
        assert rows[-1]["rule"] in ("netfw-logging-enabled", MULTI_AZ)
        assert any(row.get("exemption", {}).get("state") == "active" for row in rows)


def test_several_paths_give_the_same_output_whatever_the_jobs(capsys, directory):
    status, out, _ = _same_whatever_the_jobs(capsys, ITEMS / "snapshot.json", directory, EXAMPLE, "--format", "json")

    assert status == 1 and len(json.loads(out)) > 100


@pytest.mark.parametrize("options", [
    ["--account", "444455556666"],
    ["--region", "us-east-1", "--rule", MULTI_AZ],
    ["--as-of", "2027-01-01"],
    ["--rule", "sg-ingress-port-range-restricted", "--rule", MULTI_AZ],
])
def test_filters_rules_and_dates_act_the_same_whatever_the_jobs(capsys, directory, options):
    _same_whatever_the_jobs(capsys, directory, "--format", "json", *options)


def test_parameters_act_the_same_whatever_the_jobs(capsys, directory, tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({MULTI_AZ: {"minAvailabilityZones": "1"},
                                      "sg-ingress-port-range-restricted": {"maxPorts": "65535"}}))

    _same_whatever_the_jobs(capsys, directory, "--format", "json", "--parameters", parameters)


def test_a_malformed_item_in_a_later_file_is_the_same_one_line_counted_across_files(capsys, directory):
    _write(directory / "c-firewalls.json", [_group("sg-0000000000000aaaa"), {"resourceType": "AWS::EC2::SecurityGroup"}])

    status, out, err = _same_whatever_the_jobs(capsys, directory, "--format", "json")

    assert status == 2 and err.count("\n") == 1
    assert err.startswith("perimeter: error: item #15: configuration item without resourceId")  # 1 + 12 + 2
    assert out.startswith("[\n  {")  # the rows of the files before it were written


def test_an_unreadable_file_among_the_paths_is_the_same_one_line(capsys, directory, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("[" + json.dumps(_group("sg-00000000000000bad")) + ", {x")

    status, _, err = _same_whatever_the_jobs(capsys, directory, broken, EXAMPLE, "--format", "csv")

    assert status == 2
    assert err.startswith(f"perimeter: error: {broken}: invalid JSON: Expecting property name enclosed in double quotes")
    assert err.count("\n") == 1


def test_a_missing_path_after_a_directory_is_the_same_one_line(capsys, directory, tmp_path):
    status, _, err = _same_whatever_the_jobs(capsys, directory, tmp_path / "missing.json", "--format", "table")

    assert (status, err) == (2, f"perimeter: error: {tmp_path / 'missing.json'}: no such file\n")


def test_bad_parameters_fail_before_any_worker_reads(capsys, directory, tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(json.dumps({MULTI_AZ: {"minAvailabilityZones": "zero"}}))

    status, out, err = run(capsys, "scan", directory, "--jobs", "2", "--format", "json", "--parameters", parameters)

    assert (status, out) == (2, "") and err.count("\n") == 1 and "minAvailabilityZones" in err


def test_stdin_among_paths_is_read_once_and_in_its_place(capsys, directory, monkeypatch):
    import io

    def scan_with_stdin(*argv):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(EXAMPLE.read_bytes())))
        return run(capsys, *argv)

    one = scan_with_stdin("scan", directory, "-", "--format", "json", "--jobs", "1")
    assert scan_with_stdin("scan", directory, "-", "--format", "json", "--jobs", "2") == one


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_must_be_a_positive_number(capsys, value):
    status, _, err = run(capsys, "scan", EXAMPLE, "--jobs", value)

    assert status == 2 and f"'{value}' is not a number of jobs (1 or more)" in err


def test_the_default_is_the_usable_cores():
    import os

    assert usable_cores() == len(os.sched_getaffinity(0))


@pytest.mark.skipif(sys.platform != "linux", reason="fork is chosen on Linux only")
def test_workers_are_forked_only_while_the_process_runs_one_thread():
    assert start_method(threads=1) == "fork"
    assert start_method(threads=2) == "forkserver"


def test_beside_another_thread_the_workers_come_from_the_forkserver_with_the_same_output(capsys, directory):
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        assert start_method() == "forkserver"
        _same_whatever_the_jobs(capsys, directory, "--format", "json")
    finally:
        release.set()
        other.join()


def test_the_installed_command_with_two_jobs_matches_one(directory):
    """Through the real entry point (forked workers of a console process, not of pytest)."""
    def scan(jobs):
        return subprocess.run([sys.executable, "-m", "perimeter.cli", "scan", str(directory), "--format", "json",
                               "--jobs", jobs], capture_output=True, text=True, timeout=120)

    one, two = scan("1"), scan("2")
    assert (two.returncode, two.stdout, two.stderr) == (one.returncode, one.stdout, one.stderr) and one.returncode == 1
