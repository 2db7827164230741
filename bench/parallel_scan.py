"""Issue 16, target 3: ``perimeter scan DIR --format json`` of a 20-file directory with ``--jobs 2`` against
``--jobs 1``, in wall time; the two outputs must be byte for byte the same.

The directory holds 20 generated snapshots (bench.generate, seeds 1601-1620) of FILE_ITEMS items each. Each scan is
the CLI's own ``main`` in a fresh child process, stdout to a file; wall time is ``time.perf_counter`` around
``main`` (so the figure is the scan's: the interpreter's start and the imports, the same on both sides, are left
out; the workers' start is in it). The machine is shared and noisy: three rounds, the order of the two sides
alternating, and the ratio of the medians.

Run as ``python -m bench.parallel_scan DIR OUTPUT JOBS`` it is the scan child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import statistics
import sys
import time

from bench import BUILD, VENV_PYTHON, proc
from bench.report import Row, verdict

FILES = 20
FILE_ITEMS = 1_000
ROUNDS = 3
TARGET = 1.8


def measure() -> list[Row]:
    from bench.generate import write_snapshot

    directory = BUILD / f"directory-{FILES}x{FILE_ITEMS}"
    for index in range(FILES):
        write_snapshot(directory / f"snapshot-{index + 1:02d}.json", FILE_ITEMS, seed=1601 + index)
    walls: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    outputs = {}
    for round_number in range(ROUNDS):
        for jobs in ((1, 2) if round_number % 2 == 0 else (2, 1)):
            output = BUILD / f"directory-scan-jobs{jobs}.out.json"
            child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.parallel_scan", str(directory), str(output),
                                           str(jobs)], report=True), f"scan --jobs {jobs}", ok_codes=(0, 1))
            walls[jobs].append(child.report["wall_seconds"])
            cpus[jobs].append(child.cpu)
            outputs[jobs] = output.read_bytes()
    if outputs[1] != outputs[2]:
        raise proc.ChildFailed("--jobs 2 wrote another output than --jobs 1")
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    ratio = one / two
    items = FILES * FILE_ITEMS
    detail = {"files": FILES, "items": items, "wall_seconds_jobs1": walls[1], "wall_seconds_jobs2": walls[2],
              "process_cpu_seconds_jobs1": cpus[1], "output_bytes": len(outputs[1]), "identical_output": True}
    return [Row(f"directory scan, {FILES} files x {FILE_ITEMS:,} items: --jobs 2 vs --jobs 1 (wall, median of "
                f"{ROUNDS})", f"{ratio:.2f}x ({one:.1f} s -> {two:.1f} s; {items / two:,.0f} items/s)",
                f">= {TARGET}x, same output", verdict(ratio >= TARGET), round(ratio, 3), detail)]


# --- child -----------------------------------------------------------------------------------------------


def child(directory: str, output: str, jobs: str) -> None:
    from contextlib import redirect_stdout

    from bench.probe import write_report

    import perimeter.cli

    wall = time.perf_counter()
    with open(output, "w", encoding="utf-8") as out, redirect_stdout(out):
        code = perimeter.cli.main(["scan", directory, "--format", "json", "--jobs", jobs])
    write_report({"exit": code, "wall_seconds": round(time.perf_counter() - wall, 3)})


if __name__ == "__main__":
    sys.exit(child(*sys.argv[1:4]))
