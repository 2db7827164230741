"""Figure 5, evaluation vs a peer: the same 10,000 security groups through our rule and Cloud Custodian's.

Input: 10,000 DescribeSecurityGroups entries (bench.generate, seed fixed) in one JSON file, given as they are
to both sides, no AWS calls. Ours: the scan pipeline (``perimeter.scan.scan``: item normalisation, the
registry's checks, the rule's model and verdict) with ``sourceScope`` ``world``, each group wrapped in the
envelope of a configuration item (the model reads the API's PascalCase spelling as it is). Theirs: c7n's
``aws.security-group`` resource, ``filter_resources`` with the ``ingress`` filter in the closest form c7n
has for "an inbound rule opening more than one port to 0.0.0.0/0 or ::/0": four ``ingress`` filters under
``or`` (IPv4 / IPv6 source, each with ``ToPort`` > ``FromPort`` or protocol ``-1``), since ``Ports`` and
``OnlyPorts`` test given ports, not the width of a range. c7n runs in the benchmark's own venv
(build/bench-venv, ``make bench-venv``), in bench.peer_c7n.

Each side runs in its own process, alternating ours / theirs, several rounds; the figure is the ratio of
the median CPU seconds of the evaluation alone (loading the file and importing are outside the timing).
Where the two disagree on a group, the reason is semantic and counted: c7n reads an ICMP rule's type/code
fields as a port range (``FromPort`` 3, ``ToPort`` 4).

Run as ``python -m bench.peer FILE`` it is our child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from bench import BENCH_VENV_PYTHON, BUILD, VENV_PYTHON, proc
from bench.report import Row, verdict

GROUPS = 10_000
ROUNDS = 5
TARGET = 3.0
RULE = "sg-ingress-port-range-restricted"


def measure(groups: int = GROUPS, rounds: int = ROUNDS) -> list[Row]:
    from bench.generate import write_security_groups

    data = write_security_groups(BUILD / f"security-groups-{groups}.json", groups)
    sides = {"ours": [str(VENV_PYTHON), "-m", "bench.peer", str(data)],
             "c7n": [str(BENCH_VENV_PYTHON), "-m", "bench.peer_c7n", str(data)]}
    reports: dict[str, list[dict]] = {"ours": [], "c7n": []}
    for round_number in range(rounds):
        order = ("ours", "c7n") if round_number % 2 == 0 else ("c7n", "ours")
        for side in order:
            reports[side].append(proc.checked(proc.run(sides[side], report=True), f"peer: {side}").report)
    cpu = {side: statistics.median(r["cpu_seconds"] for r in runs) for side, runs in reports.items()}
    wall = {side: statistics.median(r["wall_seconds"] for r in runs) for side, runs in reports.items()}
    ours, theirs = set(reports["ours"][0]["flagged"]), set(reports["c7n"][0]["flagged"])
    ratio = cpu["c7n"] / cpu["ours"]
    detail = {"groups": groups, "rounds": rounds, "c7n_version": reports["c7n"][0]["version"],
              "median_cpu_seconds": cpu, "median_wall_seconds": wall, "wall_ratio": round(wall["c7n"] / wall["ours"], 3),
              "cpu_seconds": {side: [r["cpu_seconds"] for r in runs] for side, runs in reports.items()},
              "flagged": {"ours": len(ours), "c7n": len(theirs), "both": len(ours & theirs),
                          "only_ours": sorted(ours - theirs)[:20], "only_c7n_count": len(theirs - ours),
                          "only_c7n_icmp_ranges": len(reports["c7n"][0]["icmp_only"])},
              "c7n_policy": reports["c7n"][0]["policy"]}
    explained = set(reports["c7n"][0]["icmp_only"])
    agree = ours == theirs - explained
    return [
        Row(f"evaluation vs c7n ingress filter ({groups:,} SGs)", f"{ratio:.1f}x faster (wall {detail['wall_ratio']:.1f}x)",
            f"report; aim >= {TARGET:.0f}x", verdict(ratio >= TARGET), round(ratio, 3), detail),
        Row("evaluation vs c7n: same groups flagged", f"{len(ours & theirs):,} both; {len(ours - theirs)} only ours; "
            f"{len(theirs - ours)} only c7n (ICMP type/code read as ports: {len(explained)})",
            "equal but for ICMP", verdict(agree), len(ours & theirs), {}),
    ]


def icmp_ranges(group: dict) -> bool:
    """Does c7n's reading flag this group only through ICMP type/code fields (FromPort < ToPort)?"""
    return any(entry["IpProtocol"] in ("icmp", "icmpv6") and entry.get("FromPort", 0) < entry.get("ToPort", 0)
               for entry in group["IpPermissions"])


# --- our child -------------------------------------------------------------------------------------------


def child(path: str) -> None:
    from bench.probe import write_report
    from perimeter.registry import rule_by_id
    from perimeter.scan import scan

    with open(path, encoding="utf-8") as handle:
        groups = json.load(handle)
    items = [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": group["GroupId"],
              "configurationItemStatus": "OK", "configuration": group} for group in groups]
    spec = rule_by_id(RULE)
    wall, cpu = time.perf_counter(), time.process_time()
    findings = list(scan(items, [spec], {RULE: {"sourceScope": "world"}}))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    flagged = [finding.resourceId for finding in findings if finding.complianceType == "NON_COMPLIANT"]
    write_report({"cpu_seconds": round(cpu, 4), "wall_seconds": round(wall, 4), "flagged": flagged})


if __name__ == "__main__":
    sys.exit(child(sys.argv[1]))
