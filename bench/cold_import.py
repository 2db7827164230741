"""Figure 1, cold import: a fresh interpreter importing each rule's Lambda handler vs one importing rdklib.

Each run is ``python -c "import MODULE"`` in a new process (bytecode already compiled, as in a deployed
package). The runs alternate, rdklib then every handler, round after round, so that a busy moment on the shared
machine hits both sides alike; the figure is the ratio of medians (wall time, which is what a cold start
costs), with the ratio of CPU-time medians beside it.
"""
from __future__ import annotations

import statistics

from bench import ROOT, VENV_PYTHON, proc
from bench.report import INFO, Row, verdict

TARGET = 1.10
REFERENCE = "rdklib"


def handler_modules() -> list[str]:
    """One entry per rule: the deployed entry point, resolved for that rule as its function's cold start does."""
    return [f"perimeter.entry:{path.parent.name.replace('_', '-')}"
            for path in sorted((ROOT / "rules").glob("*/__init__.py"))]


def _code(module: str) -> str:
    if ":" not in module:
        return f"import {module}"
    entry, _, rule_id = module.partition(":")
    return f"import os; os.environ['PERIMETER_RULE_ID'] = {rule_id!r}; import {entry} as e; e.handler_for_environment()"


def _once(module: str) -> proc.Child:
    return proc.checked(proc.run([str(VENV_PYTHON), "-c", _code(module)]), f"import {module}")


def measure(rounds: int = 9) -> list[Row]:
    modules = [REFERENCE] + handler_modules()
    for module in modules:  # warm-up: bytecode compiled, files in the page cache; not counted
        _once(module)
    wall: dict[str, list[float]] = {module: [] for module in modules}
    cpu: dict[str, list[float]] = {module: [] for module in modules}
    for round_number in range(rounds):
        # rdklib first in even rounds, last in odd ones: neither side always runs right after the other
        order = modules if round_number % 2 == 0 else modules[1:] + modules[:1]
        for module in order:
            child = _once(module)
            wall[module].append(child.wall)
            cpu[module].append(child.cpu)
    base_wall, base_cpu = statistics.median(wall[REFERENCE]), statistics.median(cpu[REFERENCE])
    rows = [Row(
        "cold import: rdklib (reference)", f"{base_wall * 1000:.0f} ms", f"median of {rounds}", INFO, round(base_wall, 4),
        {"median_wall_s": round(base_wall, 4), "median_cpu_s": round(base_cpu, 4),
         "wall_s": [round(v, 4) for v in wall[REFERENCE]]},
    )]
    for module in modules[1:]:
        ratio = statistics.median(wall[module]) / base_wall
        cpu_ratio = statistics.median(cpu[module]) / base_cpu
        rule = module.partition(":")[2]
        rows.append(Row(
            f"cold import: {rule}", f"{ratio:.3f}x rdklib (cpu {cpu_ratio:.3f}x)", f"<= {TARGET:.2f}x rdklib",
            verdict(ratio <= TARGET), round(ratio, 4),
            {"module": module, "median_wall_s": round(statistics.median(wall[module]), 4),
             "median_cpu_s": round(statistics.median(cpu[module]), 4), "cpu_ratio": round(cpu_ratio, 4),
             "wall_s": [round(v, 4) for v in wall[module]], "rounds": rounds},
        ))
    return rows
