"""The scan's golden outputs: what ``perimeter.scan`` wrote before the hot path was rewritten (issue 16).

The corpus is drawn once from the fuzz suite's strategies (tests/test_fuzz.py: items in every shape, malformed
ones included, and random parameters), with exemption tags added to some items, and kept in
tests/fixtures/golden/fuzz-corpus.json.gz together with the scan's answer for each case: its JSON rows as
``perimeter.reports.write_json`` writes them, or the one-line error. tests/test_scan_golden.py replays it.

``python tests/scan_golden.py [--draw]`` rewrites the answers (``--draw``: and draws a new corpus) from the code as
it is: run it only on code whose output is
the reference (it was made from main before issue 16's change).
"""
from __future__ import annotations

import gzip
import io
import json
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
CORPUS = HERE / "fixtures" / "golden" / "fuzz-corpus.json.gz"
AS_OF = date(2026, 12, 1)
PER_RULE = 80
EXEMPTION_VALUES = ("2027-01-15 change 42", "2026-11-01 old ticket", "soon", "2031-01-01 far ahead", "2026-12-01 a$b")


def answer(rule_id: str, raw_parameters: dict, item) -> str:
    """What the scan of this one item by this one rule writes as JSON, or ``error: <message>``."""
    from perimeter.items import ItemError
    from perimeter.parameters import ParameterError
    from perimeter.registry import rule_by_id
    from perimeter.reports import write_json
    from perimeter.scan import ScanInputError, scan

    spec = rule_by_id(rule_id)
    prefix = ""
    try:
        spec.parse_parameters(raw_parameters)
    except ParameterError as error:  # as the fuzz suite does: the item is still judged, with the defaults
        prefix, raw_parameters = f"parameters refused: {error}\n", {}
    out = io.StringIO()
    try:
        write_json(scan([item], [spec], {rule_id: raw_parameters}, AS_OF), out)
    except (ItemError, ParameterError, ScanInputError) as error:
        return f"{prefix}error: {type(error).__name__}: {error}"
    return prefix + out.getvalue()


def draw_corpus() -> list[dict]:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    import test_fuzz

    cases: list[dict] = []
    for spec in test_fuzz.RULES:
        drawn: list[dict] = []

        @settings(max_examples=PER_RULE, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(parameters=test_fuzz.parameters_for(spec), item=test_fuzz.items(spec),
               tag=st.sampled_from((None,) * 5 + EXEMPTION_VALUES))
        def collect(parameters, item, tag):
            if tag is not None and isinstance(item, dict):
                item = {**item, "tags": {f"perimeter:exempt:{spec.rule_id}": tag, "team": "x"}}
            drawn.append({"rule": spec.rule_id, "parameters": parameters, "item": item})

        collect()
        cases.extend(drawn[:PER_RULE])
    return cases


def write(cases: list[dict]) -> None:
    for case in cases:
        case["answer"] = answer(case["rule"], case["parameters"], case["item"])
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(CORPUS, "wb", mtime=0) as out:
        out.write(json.dumps(cases, sort_keys=True).encode("utf-8"))


def read() -> list[dict]:
    with gzip.open(CORPUS, "rb") as stream:
        return json.loads(stream.read())


if __name__ == "__main__":  # --draw: a new corpus; otherwise the answers of the kept corpus again
    write(draw_corpus() if "--draw" in sys.argv else read())
    print(f"{CORPUS}: {len(read())} cases")
