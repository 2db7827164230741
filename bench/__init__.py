"""`make bench`: the figures of issue 7, each measured side by side in one run (see README, "Benchmarks").

Every figure runs in child processes of its own (fresh interpreters, moto never in the parent), and reports rows
of ``bench.report.Row``: what was measured, against what reference or target, and whether it passes.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"  # generated inputs and outputs; never committed
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
BENCH_VENV_PYTHON = ROOT / "build" / "bench-venv" / "bin" / "python"  # c7n and moto[server]: `make bench-venv`
# The Lambda runtime's Python (the rules' declared runtime, python3.12) with boto3: `make bench-runtime-venv`
RUNTIME_VENV_PYTHON = ROOT / "build" / "bench-runtime-venv" / "bin" / "python"
