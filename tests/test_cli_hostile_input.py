"""`perimeter scan` as an attack surface (issue 10, items 14-17): whatever the files hold, and wherever the output
goes, the command ends in bounded memory and time with one line and exit 2, or with the findings' status;
and nothing it prints can drive the terminal.

The memory bounds are proven on the real command: a child process under RLIMIT_AS and a timeout.
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import perimeter.cli as cli
import perimeter.jsoninput as jsoninput
from conftest import FIXTURES

SNAPSHOT = FIXTURES / "items" / "snapshot.json"
RULE_ID = "sg-ingress-port-range-restricted"
ADDRESS_SPACE = 512 << 20  # the command reads the sample in ~150 MB of address space; the old code needed 10 GB+
DEEP = 100_000  # levels: a 200 KB file


def run_command(*argv, stdout=subprocess.PIPE, timeout=60) -> subprocess.CompletedProcess:
    """The command in a child limited to ADDRESS_SPACE bytes of memory."""

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    return subprocess.run([sys.executable, "-m", "perimeter.cli", *map(str, argv)], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, preexec_fn=limit_memory, timeout=timeout)


def run(capsys, *argv):
    status = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, fragment):
    assert status == 2
    assert err.startswith("perimeter: error: ") and err.count("\n") == 1 and err.endswith("\n")
    assert fragment in err
    assert "b'" not in err and 'b"' not in err  # never a bytes repr


def item(resource_id="sg-1", configuration=None, resource_type="AWS::S3::Bucket") -> dict:
    return {"resourceType": resource_type, "resourceId": resource_id, "configurationItemStatus": "OK",
            "configuration": configuration if configuration is not None else {}}


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- 14: nesting -------------------------------------------------------------------------------------------


def test_hundred_thousand_levels_at_the_top_are_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(nested(DEEP))

    result = run_command("scan", path)

    assert_one_line_error(result.returncode, result.stderr, "nested deeper than 64 levels")
    assert result.stdout == ""


@pytest.mark.parametrize("shape", ["one item", "snapshot", "array"])
def test_deep_array_inside_one_items_configuration_is_refused_in_bounded_memory(tmp_path, shape):
    """As one item, the old first-key probe kept a path string per level: memory grew with depth squared."""
    text = json.dumps(item(configuration={"a": "@"})).replace('"@"', nested(DEEP))
    document = {"one item": text, "snapshot": f'{{"configurationItems": [{text}]}}', "array": f"[{text}]"}[shape]
    path = tmp_path / "item.json"
    path.write_text(document)

    result = run_command("scan", path)

    assert_one_line_error(result.returncode, result.stderr, "nested deeper than 64 levels")


def test_gzip_bomb_of_nesting_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.json.gz"
    with gzip.open(path, "wb", compresslevel=9) as stream:
        for _ in range(50):
            stream.write(b'{"a":' * 400_000)  # 100 MB of nesting from a file of some 100 KB
    assert path.stat().st_size < 200_000

    result = run_command("scan", path)

    assert_one_line_error(result.returncode, result.stderr, "nested deeper than 64 levels")


def test_deep_parameters_file_is_refused_in_bounded_memory(tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(nested(DEEP))

    result = run_command("scan", SNAPSHOT, "--parameters", parameters)

    assert_one_line_error(result.returncode, result.stderr, "nested deeper than 64 levels")


def _item_nested(levels: int) -> dict:
    """An item whose deepest value is ``levels`` levels down, the item itself level 1, its configuration 2."""
    configuration: list | dict = {}
    for _ in range(levels - 2):
        configuration = [configuration]
    return item("my-bucket", configuration)


def test_nesting_limit_is_64_levels_counting_the_item(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([_item_nested(64)]))
    assert run(capsys, "scan", path, "--format", "json")[:2] == (0, "[]\n")

    path.write_text(json.dumps([_item_nested(65)]))
    status, out, err = run(capsys, "scan", path)

    assert out == ""
    assert_one_line_error(status, err, "item #1: AWS::S3::Bucket my-bucket: nested deeper than 64 levels")


@pytest.mark.parametrize("levels", [65, DEEP])
def test_configuration_as_json_text_nested_too_deep_is_a_malformed_item(capsys, tmp_path, levels):
    """The API shape carries the configuration as JSON text: its depth counts once it is read."""
    path = tmp_path / "items.json"
    path.write_text(json.dumps([{"resourceType": "AWS::S3::Bucket", "resourceId": "my-bucket",
                                 "configuration": nested(levels)}]))

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, "item #1: AWS::S3::Bucket my-bucket: nested deeper than 64 levels")


def test_values_beside_the_items_are_held_to_the_nesting_limit(capsys, tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text(f'{{"fileVersion": "1.0", "configurationItems": [], "trailer": {nested(65)}}}')

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, "nested deeper than 64 levels, in the value at line 1 column 61")


# --- 15: every failure one line, exit 2 -------------------------------------------------------------------


def test_parameters_naming_a_directory(capsys, tmp_path):
    status, out, err = run(capsys, "scan", SNAPSHOT, "--parameters", tmp_path)

    assert out == ""
    assert_one_line_error(status, err, f"{tmp_path}: is a directory, not a parameters file")


@pytest.mark.parametrize("option", ["path", "--parameters"])
def test_binary_file_is_not_utf8_text_at_its_first_bad_byte(capsys, tmp_path, option):
    binary = tmp_path / "program"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    argv = ["scan", binary] if option == "path" else ["scan", SNAPSHOT, "--parameters", binary]

    status, _, err = run(capsys, *argv)

    assert_one_line_error(status, err, f"{binary}: not UTF-8 text at byte 137")  # 8 + 128 bytes are ASCII


@pytest.mark.parametrize("chunk", [1, 2, 5, 1 << 20])
def test_invalid_utf8_is_reported_at_its_byte_whatever_the_reading_window(capsys, tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(jsoninput, "CHUNK", chunk)
    text = json.dumps([item("bucket-é-日本")], ensure_ascii=False).encode()
    character = text.index("日".encode())  # three bytes; the second is broken, so this one is not UTF-8
    path = tmp_path / "items.json"
    path.write_bytes(text[: character + 1] + b"\xff" + text[character + 2 :])

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, f"not UTF-8 text at byte {character + 1}")  # counted from 1


def test_utf8_cut_at_the_end_of_the_file(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_bytes(b'["\xe6\x97')

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, "not UTF-8 text at byte 3")


def test_gzip_is_recognised_by_its_magic_bytes_whatever_the_name(capsys, tmp_path):
    path = tmp_path / "snapshot.json"  # no .gz
    path.write_bytes(gzip.compress(SNAPSHOT.read_bytes()))

    assert run(capsys, "scan", path, "--format", "json") == run(capsys, "scan", SNAPSHOT, "--format", "json")


def test_plain_json_named_gz_is_read_as_text(capsys, tmp_path):
    path = tmp_path / "snapshot.json.gz"
    path.write_bytes(SNAPSHOT.read_bytes())

    assert run(capsys, "scan", path, "--format", "json") == run(capsys, "scan", SNAPSHOT, "--format", "json")


@pytest.mark.parametrize("compress", [False, True])
def test_utf8_byte_order_mark_is_accepted(capsys, tmp_path, compress):
    content = b"\xef\xbb\xbf" + SNAPSHOT.read_bytes()
    path = tmp_path / "snapshot.json"
    path.write_bytes(gzip.compress(content) if compress else content)
    parameters = tmp_path / "parameters.json"
    parameters.write_bytes(b"\xef\xbb\xbf" + json.dumps({RULE_ID: {"maxPorts": "1"}}).encode())

    plain = tmp_path / "plain-parameters.json"
    plain.write_text(json.dumps({RULE_ID: {"maxPorts": "1"}}))

    status, out, err = run(capsys, "scan", path, "--parameters", parameters, "--format", "json")

    assert (status, err) == (1, "")
    assert (status, out, err) == run(capsys, "scan", SNAPSHOT, "--parameters", plain, "--format", "json")


def test_utf16_text_says_so(capsys, tmp_path):
    path = tmp_path / "snapshot.json"
    path.write_text(SNAPSHOT.read_text(), encoding="utf-16")

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, "starts with a UTF-16 byte order mark: the scan reads UTF-8 text")


def _damaged_gzip(kind: str) -> bytes:
    whole = gzip.compress(SNAPSHOT.read_bytes())
    if kind == "cut short":
        return whole[: len(whole) // 2]
    if kind == "followed by other bytes":
        return whole + b"trailing garbage"
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(SNAPSHOT.read_bytes()) + deflate.flush()
    return whole[:10] + bytes([body[0] | 0x06]) + body[1:] + whole[-8:]  # block type 3 is reserved


@pytest.mark.parametrize("kind, message", [
    ("cut short", "gzip data cut short: the file ends inside the compressed stream"),
    ("followed by other bytes", "the gzip data is followed by bytes that are not gzip"),
    ("damaged", "damaged gzip data (Error -3 while decompressing data: invalid block type)"),
])
def test_damaged_gzip_is_named_in_words(capsys, tmp_path, kind, message):
    path = tmp_path / "snapshot.json.gz"
    path.write_bytes(_damaged_gzip(kind))

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, f"{path}: {message}")


def test_parameters_file_larger_than_any_real_one(capsys, tmp_path):
    parameters = tmp_path / "parameters.json"
    parameters.write_text(" " * (2 << 20) + "{}")

    status, _, err = run(capsys, "scan", SNAPSHOT, "--parameters", parameters)

    assert_one_line_error(status, err, f"{parameters}: larger than 1,048,576 bytes")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("output_format", ["table", "json"])
def test_output_to_a_full_disk_is_one_line_and_exit_two(output_format):
    with open("/dev/full", "w") as full:
        result = run_command("scan", SNAPSHOT, "--format", output_format, stdout=full)

    assert (result.returncode, result.stderr) == (2, "perimeter: error: cannot write the output: No space left on device\n")


def test_a_fault_of_ours_is_one_line_and_exit_two_never_the_findings_status(capsys, monkeypatch):
    def broken_scan(*_):
        raise TypeError("'NoneType' object is not subscriptable")

    monkeypatch.setattr(cli, "scan", broken_scan)

    status, out, err = run(capsys, "scan", SNAPSHOT)

    assert out == ""
    assert_one_line_error(status, err, "unexpected TypeError: 'NoneType' object is not subscriptable (a bug in perimeter")


# --- 16: exit status under a closed pipe ------------------------------------------------------------------


def _scan_into_closed_pipe(*argv) -> subprocess.CompletedProcess:
    """Like `perimeter scan ... | head -1` where head has already gone: every write fails with EPIPE."""
    reading, writing = os.pipe()
    os.close(reading)
    try:
        return run_command("scan", *argv, stdout=writing)
    finally:
        os.close(writing)


def test_closed_pipe_keeps_the_findings_exit_status_of_the_table():
    result = _scan_into_closed_pipe(SNAPSHOT)

    assert (result.returncode, result.stderr) == (1, "")  # no "Exception ignored" at shutdown either


def test_closed_pipe_under_json_rows_ends_the_scan_with_the_sigpipe_status():
    """Rows leave as they are judged, so the reader is found gone mid-scan: the scan stops, and what it would
    have found is unknown (tests/test_cli_rows_stream.py has the pipelines)."""
    result = _scan_into_closed_pipe(SNAPSHOT, "--format", "json")

    assert (result.returncode, result.stderr) == (141, "")


def test_closed_pipe_keeps_the_clean_exit_status(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(item()))

    result = _scan_into_closed_pipe(path)

    assert (result.returncode, result.stderr) == (0, "")


def test_head_of_a_large_table_exits_with_the_findings_status(tmp_path):
    """The real pipeline: the table outgrows the pipe, so the writer meets the closed end midway."""
    group = json.loads((FIXTURES / "items" / "sg-open-range.notification.json").read_text())
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{**group, "resourceId": f"sg-{index:017x}"} for index in range(3000)]))

    pipeline = subprocess.run(
        ["bash", "-c", '"$0" -m perimeter.cli scan "$1" | head -1; exit "${PIPESTATUS[0]}"', sys.executable, str(path)],
        capture_output=True, text=True, timeout=120,
    )

    assert (pipeline.returncode, pipeline.stderr) == (1, "")
    assert pipeline.stdout.split() == ["Rule", "Compliant", "Non-compliant", "Not", "applicable", "Exempt"]


# --- 17: terminal escapes ---------------------------------------------------------------------------------

HOSTILE_ID = "sg-\x1b[2J\x1b[HNo non-compliant resources.\x9b31m\u202egnp.exe\x07\n"
VISIBLE_ID = r"sg-\x1b[2J\x1b[HNo non-compliant resources.\x9b31m\u202egnp.exe\x07\x0a"


def _open_group(resource_id: str, source_group: str) -> dict:
    return item(resource_id, {
        "groupId": resource_id, "groupName": "bucket-é-日本 🚀",
        "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535, "userIdGroupPairs": [{"groupId": source_group}]}],
        "ipPermissionsEgress": [],
    }, resource_type="AWS::EC2::SecurityGroup")


def test_table_renders_control_characters_visibly(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([_open_group(HOSTILE_ID, "sg-\x1b]0;owned\x07")]))

    status, out, _ = run(capsys, "scan", path, "--rule", RULE_ID)

    assert status == 1
    assert all(char.isprintable() for char in out.replace("\n", ""))
    assert f"  {RULE_ID}  AWS::EC2::SecurityGroup  {VISIBLE_ID}" in out.splitlines()
    assert r"from sg-\x1b]0;owned\x07" in out


def test_normal_unicode_stays_readable(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([_open_group("sg-é-日本-🚀", "sg-0abc")]))

    _, out, _ = run(capsys, "scan", path, "--rule", RULE_ID)

    assert f"  {RULE_ID}  AWS::EC2::SecurityGroup  sg-é-日本-🚀" in out.splitlines()


def test_error_lines_render_control_characters_visibly(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": HOSTILE_ID,
                                 "configuration": "{x"}]))

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, f"AWS::EC2::SecurityGroup {VISIBLE_ID}: configuration is not valid JSON")
    assert all(char.isprintable() for char in err.rstrip("\n"))


def test_file_name_with_control_characters_in_an_error_line(capsys, tmp_path):
    path = tmp_path / "evil\x1b[2J.json"

    status, _, err = run(capsys, "scan", path)

    assert_one_line_error(status, err, r"evil\x1b[2J.json: no such file")


def test_json_output_keeps_the_exact_text_escaped_by_json(capsys, tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([_open_group(HOSTILE_ID, "sg-0abc")]))

    _, out, _ = run(capsys, "scan", path, "--rule", RULE_ID, "--format", "json")

    assert "\x1b" not in out and "\x9b" not in out
    assert json.loads(out)[0]["resourceId"] == HOSTILE_ID
