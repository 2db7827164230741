"""One row per figure: printed as a table and written to build/bench.json."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

PASS, MISS, INFO, NOT_MEASURED = "pass", "miss", "info", "not measured"


@dataclass
class Row:
    figure: str
    measured: str  # as printed, e.g. "1.04x rdklib" or "10 calls"
    target: str  # the reference or target, e.g. "<= 1.10x rdklib"
    status: str  # PASS / MISS / INFO / NOT_MEASURED
    value: float | int | None = None  # the number behind ``measured``, for tools reading the JSON
    detail: dict = field(default_factory=dict)  # raw figures: medians, counts, methods


def verdict(ok: bool) -> str:
    return PASS if ok else MISS


def table(rows: list[Row]) -> str:
    header = ("figure", "measured", "reference / target", "result")
    cells = [header] + [(row.figure, row.measured, row.target, row.status) for row in rows]
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_json(rows: list[Row], path: Path, environment: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environment": environment,
        "figures": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
