"""Rows leave as they are judged (issue 16, target 2): `--format json` and `csv` reach stdout during the scan, a
reader that goes away ends the scan quietly (exit 141, as a shell reports SIGPIPE), and an error found after some
rows comes after them: exit 2, one line on stderr, the JSON array left unterminated."""
from __future__ import annotations

import copy
import json
import os
import select
import subprocess
import sys

import pytest

from conftest import load_fixture
from perimeter.cli import main

ROWS_PER_GROUP = 4  # the four security-group rules each judge every group


def _group(number: int) -> dict:
    item = copy.deepcopy(load_fixture("items/sg-open-range.notification.json"))
    item["resourceId"] = item["configuration"]["groupId"] = f"sg-{number:017x}"
    return item


def _scan(*argv, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "perimeter.cli", "scan", *map(str, argv)], **options)


def _line_within(stream, seconds: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no output within {seconds} s"
    return stream.readline()


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_rows_of_the_items_written_so_far_arrive_before_the_input_ends(output_format):
    """stdin is a pipe the test holds open: rows must come while the scan still waits for the rest."""
    scan = _scan("-", "--format", output_format, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        scan.stdin.write(("[" + ",\n".join(json.dumps(_group(n)) for n in range(3)) + ",\n").encode())
        scan.stdin.flush()
        first, second = _line_within(scan.stdout, 60), _line_within(scan.stdout, 60)
        if output_format == "json":
            assert first == b"[\n"
            row = json.loads(second.decode().strip().rstrip(","))
        else:
            assert first.startswith(b"rule,severity,")
            row = dict(zip(first.decode().strip().split(","), second.decode().split(",")))
        assert row["resourceId"] == "sg-00000000000000000"
        assert scan.poll() is None  # still reading: the array is not closed yet

        scan.stdin.write((",\n".join(json.dumps(_group(n)) for n in range(3, 6)) + "]").encode())
        scan.stdin.close()
        rest = scan.stdout.read()
        assert scan.wait(60) == 1 and scan.stderr.read() == b""
    finally:
        scan.kill()
        scan.wait()
    if output_format == "json":
        assert len(json.loads(first + second + rest)) == 6 * ROWS_PER_GROUP


@pytest.fixture
def many_groups(tmp_path):
    path = tmp_path / "many.json"
    path.write_text(json.dumps([_group(n) for n in range(3000)]))
    return path


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_head_ends_the_scan_quietly_with_the_sigpipe_status(many_groups, output_format):
    pipeline = subprocess.run(
        ["bash", "-c", '"$0" -m perimeter.cli scan "$1" --format "$2" | head -1; exit "${PIPESTATUS[0]}"',
         sys.executable, str(many_groups), output_format],
        capture_output=True, text=True, timeout=120,
    )

    assert (pipeline.returncode, pipeline.stderr) == (141, "")
    assert pipeline.stdout in ("[\n", "rule,severity,accountId,awsRegion,resourceType,resourceId,resourceName,arn,"
                                      "complianceType,annotation,exemption\n")


def test_head_of_a_parallel_scan_ends_it_quietly_too(tmp_path):
    for copy_number in range(4):  # each file's rows (about 500 KB) outgrow the pipe: head leaves mid-scan
        (tmp_path / f"copy-{copy_number}.json").write_text(json.dumps([_group(n) for n in range(300)]))

    pipeline = subprocess.run(
        ["bash", "-c", '"$0" -m perimeter.cli scan "$1" --format json --jobs 2 | head -2; exit "${PIPESTATUS[0]}"',
         sys.executable, str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )

    assert (pipeline.returncode, pipeline.stderr) == (141, "")
    assert json.loads(pipeline.stdout.splitlines()[1].rstrip(","))["resourceId"] == "sg-00000000000000000"


def test_a_reader_gone_before_the_first_row_is_the_sigpipe_status(many_groups):
    reading, writing = os.pipe()
    os.close(reading)
    try:
        result = subprocess.run([sys.executable, "-m", "perimeter.cli", "scan", str(many_groups), "--format", "json"],
                                stdout=writing, capture_output=False, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(writing)

    assert (result.returncode, result.stderr) == (141, b"")


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_an_error_after_some_rows_comes_after_them_with_exit_two(tmp_path, output_format):
    path = tmp_path / "broken-late.json"
    path.write_text("[" + ",".join(json.dumps(_group(n)) for n in range(2)) + ', {"resourceType": "AWS::EC2::SecurityGroup"}]')

    result = subprocess.run([sys.executable, "-m", "perimeter.cli", "scan", str(path), "--format", output_format],
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert result.stderr == "perimeter: error: item #3: configuration item without resourceId: AWS::EC2::SecurityGroup ?\n"
    rows = result.stdout.splitlines()
    if output_format == "json":
        assert rows[0] == "[" and len(rows) == 1 + 2 * ROWS_PER_GROUP and not rows[-1].endswith("]")
        with pytest.raises(json.JSONDecodeError):  # unterminated: a JSON reader knows the report is not whole
            json.loads(result.stdout)
    else:
        assert len(rows) == 1 + 2 * ROWS_PER_GROUP


def test_the_table_still_prints_nothing_but_the_error(capsys, tmp_path):
    path = tmp_path / "broken-late.json"
    path.write_text("[" + json.dumps(_group(0)) + ', {"resourceType": "AWS::EC2::SecurityGroup"}]')

    status = main(["scan", str(path)])
    out, err = capsys.readouterr()

    assert (status, out) == (2, "") and err.startswith("perimeter: error: item #2: ")
