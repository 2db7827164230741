"""``python -m bench [--only FIGURE ...]`` (``make bench``): measure every figure, print the table, write
build/bench.json. A missed target is reported, not an error: the exit status is 1 only when a figure could not
be measured at all."""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import traceback

from bench import ROOT, report
from bench import api_calls, cold_import, live_scan, parallel_scan, peer, remediation, scan_cost, snapshot_scan

FIGURES = {
    "cold-import": cold_import.measure,
    "api-calls": api_calls.measure,
    "live-scan": live_scan.measure,
    "snapshot-scan": snapshot_scan.measure,
    "scan-cost": scan_cost.measure,
    "parallel-scan": parallel_scan.measure,
    "peer": peer.measure,
    "remediation": remediation.measure,
}
OUTPUT = ROOT / "build" / "bench.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), help="only this figure (repeatable)")
    arguments = parser.parse_args(argv)
    chosen = arguments.only or list(FIGURES)
    environment = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                   "load_average_start": [round(v, 2) for v in os.getloadavg()], "commit": _commit(),
                   "figures": chosen}
    rows: list[report.Row] = []
    failed = False
    started = time.perf_counter()
    for name in chosen:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(FIGURES[name]())
        except Exception as error:  # one broken figure must not hide the others
            failed = True
            traceback.print_exc()
            rows.append(report.Row(name, f"error: {str(error).splitlines()[0]}", "-", report.NOT_MEASURED))
    environment["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    environment["seconds"] = round(time.perf_counter() - started)
    print(report.table(rows))
    report.write_json(rows, OUTPUT, environment)
    print(f"\nwritten to {OUTPUT.relative_to(ROOT)} ({environment['seconds']} s; load average "
          f"{environment['load_average_start'][0]} -> {environment['load_average_end'][0]} on {os.cpu_count()} cpus)")
    return 1 if failed else 0


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
