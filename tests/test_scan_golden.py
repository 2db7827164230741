"""The scan writes byte for byte what it wrote before its hot path was rewritten (issue 16).

The references were made from main before the change: the example snapshot's JSON report, a bench snapshot's
digest, and the answers to a corpus drawn from the fuzz suite's strategies (tests/scan_golden.py).
"""
from __future__ import annotations

import hashlib
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import scan_golden
from perimeter.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
CASES = scan_golden.read()
# The bench's 2,000-item snapshot (bench.generate, seed 7: every resource type the pack judges), scanned at
# 2026-12-01 with --format json, before the change: 3,208,455 bytes with this SHA-256.
BENCH_2000_SHA256 = "2b81aed95e93fc77284570d101e08efbea04562509d5db22c230e8967d067250"


def scan_json(path: Path) -> bytes:
    out = io.StringIO()
    with redirect_stdout(out):
        main(["scan", str(path), "--format", "json", "--as-of", "2026-12-01"])
    return out.getvalue().encode("utf-8")


def test_the_example_snapshot_report_is_byte_identical():
    assert scan_json(ROOT / "examples" / "config-snapshot.json") == (GOLDEN / "config-snapshot.scan.json").read_bytes()


def test_a_bench_snapshot_report_is_byte_identical(tmp_path):
    from bench.generate import write_snapshot

    snapshot = write_snapshot(tmp_path / "snapshot-2000.json", 2000)
    assert hashlib.sha256(scan_json(snapshot)).hexdigest() == BENCH_2000_SHA256


@pytest.mark.parametrize("rule_id", sorted({case["rule"] for case in CASES}))
def test_the_fuzz_corpus_gets_the_same_answers(rule_id):
    cases = [case for case in CASES if case["rule"] == rule_id]
    assert len(cases) == scan_golden.PER_RULE
    for case in cases:
        assert scan_golden.answer(rule_id, case["parameters"], case["item"]) == case["answer"], json.dumps(case)
