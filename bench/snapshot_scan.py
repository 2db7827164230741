"""Figure 4, snapshot scan throughput and memory: ``perimeter scan FILE --format json`` on generated snapshots.

Snapshots of 10,000 and 100,000 items (bench.generate: about 90% security groups with 1-50 inbound rules, 5%
firewall policies, 5% rule groups; seed fixed) are written to build/bench once and reused while the generator is
unchanged. Each scan runs in a fresh process pinned to one core: the CLI's own ``main`` with stdout going to a
file. items/s is items per CPU second of the scan itself (``time.process_time`` around ``main``: neither the
interpreter's start nor the imports, and not slowed by other processes sharing the machine); peak RSS is
the process's VmHWM. The 10,000-item run shows whether memory grows with the file.

Run as ``python -m bench.snapshot_scan SNAPSHOT OUTPUT`` it is the scan child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import sys
import time

from bench import BUILD, VENV_PYTHON, proc
from bench.report import INFO, Row, verdict

RATE_TARGET = 20_000
RSS_TARGET_MB = 256
SIZES = ((100_000, ".json"), (100_000, ".json.gz"), (10_000, ".json"))


def measure(sizes=SIZES) -> list[Row]:
    from bench.generate import write_snapshot

    rows, peaks = [], {}
    for count, suffix in sizes:
        snapshot = write_snapshot(BUILD / f"snapshot-{count}{suffix}", count)
        output = BUILD / f"scan-{count}{suffix}.out.json"
        child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.snapshot_scan", str(snapshot), str(output)],
                                      report=True), f"scan {snapshot.name}", ok_codes=(0, 1))
        report = child.report
        findings = _count_findings(output)
        rate = count / report["cpu_seconds"]
        peak_mb = report["peak_rss_kb"] / 1024
        peaks[(count, suffix)] = peak_mb
        label = f"snapshot scan {count:,} items{' (gzip)' if suffix.endswith('.gz') else ''}"
        detail = {"file": snapshot.name, "bytes": snapshot.stat().st_size, "findings": findings,
                  "cpu_seconds": report["cpu_seconds"], "wall_seconds": report["wall_seconds"],
                  "items_per_wall_second": round(count / report["wall_seconds"]), "core": report["core"],
                  "peak_rss_kb": report["peak_rss_kb"], "rss_before_scan_kb": report["rss_before_scan_kb"],
                  "exit": report["exit"]}
        expected = expected_findings(count)
        if findings != expected:
            raise proc.ChildFailed(f"{label}: {findings} findings for {count} items, not {expected}")
        rows.append(Row(f"{label}: items/s (one core, CPU time)", f"{rate:,.0f} items/s", f">= {RATE_TARGET:,}",
                        verdict(rate >= RATE_TARGET), round(rate), detail))
        rss_target = f"<= {RSS_TARGET_MB} MB" if count >= 100_000 else "flat: about the 100k figure"
        rows.append(Row(f"{label}: peak RSS", f"{peak_mb:.0f} MB", rss_target,
                        verdict(peak_mb <= RSS_TARGET_MB) if count >= 100_000 else INFO, round(peak_mb, 1),
                        {"rss_before_scan_mb": round(report["rss_before_scan_kb"] / 1024, 1)}))
    big, small = peaks.get((100_000, ".json")), peaks.get((10_000, ".json"))
    if big and small:
        rows.append(Row("snapshot scan: peak RSS 100k / 10k", f"{big / small:.2f}x", "~1.0x (streams the file)",
                        verdict(big / small <= 1.25), round(big / small, 3), {}))
    return rows


def expected_findings(count: int) -> int:
    """One finding per item and rule of its type."""
    from collections import Counter

    from bench.generate import snapshot_type
    from perimeter.registry import all_rules

    rules = Counter(resource_type for spec in all_rules() for resource_type in spec.resource_types)
    return sum(rules[snapshot_type(index)] for index in range(count))


def _count_findings(output) -> int:
    """The rows of the scan's JSON array, read with the pack's own streaming reader (ijson is no longer installed)."""
    from perimeter.jsoninput import open_json_text

    with open_json_text(output) as reader:
        count = sum(1 for _ in reader.array())
        reader.end()
    return count


# --- child -----------------------------------------------------------------------------------------------


def child(snapshot: str, output: str) -> None:
    from contextlib import redirect_stdout

    from bench.probe import current_rss_kb, peak_rss_kb, pin_to_one_core, write_report

    core = pin_to_one_core()
    import perimeter.cli

    before = current_rss_kb()
    wall, cpu = time.perf_counter(), time.process_time()
    with open(output, "w", encoding="utf-8") as out, redirect_stdout(out):
        code = perimeter.cli.main(["scan", snapshot, "--format", "json"])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    write_report({"exit": code, "cpu_seconds": round(cpu, 3), "wall_seconds": round(wall, 3), "core": core,
                  "peak_rss_kb": peak_rss_kb(), "rss_before_scan_kb": before})


if __name__ == "__main__":
    sys.exit(child(sys.argv[1], sys.argv[2]))
