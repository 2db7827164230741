"""Issue 16 target 1, scan cost within 2x of decoding: ``perimeter scan --format json`` of the 100,000-item
snapshot against decoding the same items one by one with the standard library's ``json``, side by side in one run.

- CPU: three rounds, each a decode child then a scan child (fresh processes pinned to one core, ``process_time``
  around the work only); the figure is the ratio of the medians.
- Instructions (valgrind's callgrind, repeatable on a busy machine): both sides over the 2,000-item snapshot and
  over an empty one; per item is the difference divided by 2,000, so the interpreter's start and the imports cancel.
  Without valgrind the row says "not measured".
- Memory: the scan's peak RSS (VmHWM) at 100,000 items (median of the three rounds) and at 1,000,000 items (one
  run): flat means at most 1.2x the 100k figure, and at most 64 MB.

The snapshots are bench.generate's; the 1M one (about 2.4 GB, written once) repeats the 100k snapshot's items ten
times, which costs a copy rather than ten times the generator's CPU and is the same load for the memory question.
The decode child is ``python -m bench.scan_cost SNAPSHOT``; the scan child is bench.snapshot_scan's.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench import BUILD, VENV_PYTHON, proc
from bench.report import NOT_MEASURED, Row, verdict

RATIO_TARGET = 2.0
RSS_GROWTH_TARGET = 1.2
RSS_TARGET_MB = 64
ROUNDS = 3
CPU_ITEMS, INSTRUCTION_ITEMS, MEMORY_ITEMS = 100_000, 2_000, 1_000_000
CHUNK = 1 << 20


def measure(memory_items: int = MEMORY_ITEMS) -> list[Row]:
    from bench.generate import write_snapshot

    snapshot = write_snapshot(BUILD / f"snapshot-{CPU_ITEMS}.json", CPU_ITEMS)
    decode, scan = [], []
    for _ in range(ROUNDS):  # alternating, so a change in the machine's load falls on both sides alike
        decode.append(_decode(snapshot))
        scan.append(_scan(snapshot))
    decode_cpu = statistics.median(run["cpu_seconds"] for run in decode)
    scan_cpu = statistics.median(run["cpu_seconds"] for run in scan)
    ratio = scan_cpu / decode_cpu
    rows = [Row(f"target 1: scan CPU / stdlib json decode, {CPU_ITEMS:,} items (median of {ROUNDS})",
                f"{ratio:.2f}x ({scan_cpu:.1f} s / {decode_cpu:.1f} s; {CPU_ITEMS / scan_cpu:,.0f} items/s)",
                f"<= {RATIO_TARGET}x", verdict(ratio <= RATIO_TARGET), round(ratio, 3),
                {"scan_cpu_seconds": [run["cpu_seconds"] for run in scan],
                 "decode_cpu_seconds": [run["cpu_seconds"] for run in decode],
                 "scan_items_per_second": round(CPU_ITEMS / scan_cpu),
                 "decode_items_per_second": round(CPU_ITEMS / decode_cpu)})]
    rows.append(_instructions_row())
    small_mb = statistics.median(run["peak_rss_kb"] for run in scan) / 1024
    big = repeated_snapshot(snapshot, memory_items // CPU_ITEMS)
    big_run = _scan(big)
    big_mb = big_run["peak_rss_kb"] / 1024
    growth = big_mb / small_mb
    rows.append(Row(f"target 1: scan peak RSS at {memory_items:,} / {CPU_ITEMS:,} items",
                    f"{big_mb:.0f} MB / {small_mb:.0f} MB = {growth:.2f}x",
                    f"<= {RSS_GROWTH_TARGET}x and <= {RSS_TARGET_MB} MB",
                    verdict(growth <= RSS_GROWTH_TARGET and big_mb <= RSS_TARGET_MB), round(growth, 3),
                    {"peak_rss_mb": {CPU_ITEMS: round(small_mb, 1), memory_items: round(big_mb, 1)},
                     f"cpu_seconds_{memory_items}": big_run["cpu_seconds"]}))
    return rows


def repeated_snapshot(snapshot, times: int):
    """A snapshot holding ``snapshot``'s items ``times`` over (kept while the source is unchanged)."""
    path = snapshot.with_name(f"{snapshot.stem}-x{times}.json")
    stamp = path.with_name(path.name + ".stamp")
    key = f"{snapshot.stat().st_size}:{snapshot.stat().st_mtime_ns}:{times}"
    if path.exists() and stamp.exists() and stamp.read_text() == key:
        return path
    text = snapshot.read_text(encoding="utf-8")
    start = text.index("[", text.index('"configurationItems"')) + 1
    end = text.rindex("]")
    head, items = text[:start], text[start:end]
    with open(path, "w", encoding="utf-8") as out:
        out.write(head)
        for copy in range(times):
            out.write(("," if copy else "") + items)
        out.write(text[end:])
    stamp.write_text(key)
    return path


def _decode(snapshot) -> dict:
    child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.scan_cost", str(snapshot)], report=True),
                         f"decode {snapshot.name}")
    return child.report


def _scan(snapshot) -> dict:
    output = BUILD / f"{snapshot.stem}.cost.out.json"
    child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.snapshot_scan", str(snapshot), str(output)],
                                  report=True, timeout=7200), f"scan {snapshot.name}", ok_codes=(0, 1))
    output.unlink(missing_ok=True)
    return child.report


def _instructions_row() -> Row:
    from bench.generate import write_snapshot

    figure = f"target 1: scan instructions / stdlib json decode, per item ({INSTRUCTION_ITEMS:,} items)"
    snapshot = write_snapshot(BUILD / f"snapshot-{INSTRUCTION_ITEMS}.json", INSTRUCTION_ITEMS)
    empty = BUILD / "snapshot-0.json"
    empty.write_text('{"fileVersion":"1.0","configurationItems":[]}', encoding="utf-8")
    python = str(VENV_PYTHON)
    jobs = {(side, path.name): argv for path in (snapshot, empty) for side, argv in (
        ("decode", [python, "-m", "bench.scan_cost", str(path)]),
        ("scan", [python, "-m", "bench.snapshot_scan", str(path), str(BUILD / f"{path.stem}.callgrind.out.json")]))}
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {key: pool.submit(_count, argv) for key, argv in jobs.items()}
            counts = {key: future.result() for key, future in futures.items()}
    except proc.ChildFailed as error:
        return Row(figure, f"not measured: {str(error).splitlines()[0]}", f"<= {RATIO_TARGET}x", NOT_MEASURED)
    per_item = {side: (counts[(side, snapshot.name)] - counts[(side, empty.name)]) / INSTRUCTION_ITEMS
                for side in ("decode", "scan")}
    ratio = per_item["scan"] / per_item["decode"]
    return Row(figure, f"{ratio:.2f}x ({per_item['scan'] / 1000:,.0f}k / {per_item['decode'] / 1000:,.0f}k per item)",
               f"<= {RATIO_TARGET}x", verdict(ratio <= RATIO_TARGET), round(ratio, 3),
               {"instructions_per_item": {side: round(value) for side, value in per_item.items()},
                "instructions": {f"{side} {name}": count for (side, name), count in counts.items()}})


def _count(argv: list[str]) -> int:
    env = proc.aws_environment()
    count, _ = proc.instructions(argv, env=env)  # the scan exits 1 when it finds something: ok for callgrind too
    return count


# --- child: decode the snapshot's items one by one -------------------------------------------------------------


def decode_items(path: str) -> int:
    """Decode each member of the snapshot's ``configurationItems`` with json's own decoder, one at a time (the
    file read a chunk at a time, as the scan reads it); returns how many."""
    decoder = json.JSONDecoder()
    count = 0
    with open(path, encoding="utf-8") as stream:
        buffer = stream.read(CHUNK)
        pos = buffer.index("[", buffer.index('"configurationItems"')) + 1
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n,":
                pos += 1
            if pos == len(buffer) or buffer[pos] != "]":
                try:
                    if pos == len(buffer):
                        raise ValueError("at the window's end")
                    _, pos = decoder.raw_decode(buffer, pos)
                    count += 1
                    continue
                except ValueError:  # the item runs past the window: read on
                    more = stream.read(CHUNK)
                    if not more:
                        raise
                    buffer, pos = buffer[pos:] + more, 0
                    continue
            return count


def child(snapshot: str) -> None:
    from bench.probe import peak_rss_kb, pin_to_one_core, write_report

    core = pin_to_one_core()
    cpu = time.process_time()
    count = decode_items(snapshot)
    cpu = time.process_time() - cpu
    write_report({"items": count, "cpu_seconds": round(cpu, 3), "core": core, "peak_rss_kb": peak_rss_kb()})


if __name__ == "__main__":
    sys.exit(child(sys.argv[1]))
