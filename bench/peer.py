"""Figure 5, evaluation vs peers: the same 10,000 security groups through our rule, Cloud Custodian's and Prowler's.

Input: 10,000 DescribeSecurityGroups entries (bench.generate, seed fixed) in one JSON file, given as they are
to every side, no AWS calls. Ours: the scan pipeline (``perimeter.scan.scan``: item normalisation, the
registry's checks, the rule's model and verdict), each group wrapped in the envelope of a configuration item
(the model reads the API's PascalCase spelling as it is), with the parameters that ask the peer's question.

- c7n (bench.peer_c7n), ours with ``sourceScope`` ``world``: c7n's ``aws.security-group`` resource,
  ``filter_resources`` with the ``ingress`` filter in the closest form c7n has for "an inbound rule opening more
  than one port to 0.0.0.0/0 or ::/0": four ``ingress`` filters under ``or`` (IPv4 / IPv6 source, each with
  ``ToPort`` > ``FromPort`` or protocol ``-1``), since ``Ports`` and ``OnlyPorts`` test given ports, not the
  width of a range. Where the two disagree on a group, the reason is semantic and counted: c7n reads an ICMP
  rule's type/code fields as a port range (``FromPort`` 3, ``ToPort`` 4).
- Prowler (bench.peer_prowler), ours with ``maxPorts`` 65535 and ``sourceScope`` ``world``: the calls Prowler's
  "all ports open to the Internet" check makes, ``check_security_group(entry, "-1", any_address=True)`` on each
  inbound entry. The same groups must be flagged.

The peers run in the benchmark's own venv (build/bench-venv, ``make bench-venv``). Each side runs in its own
process, alternating ours / theirs, several rounds; the figure is the ratio of the median CPU seconds of the
evaluation alone (loading the file and importing are outside the timing), shown per group too.

Run as ``python -m bench.peer FILE PARAMETERS_JSON`` it is our child; ``measure()`` is the parent's side.
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
# Prowler's check flags a permission open to 0.0.0.0/0 or ::/0 on every port: ours at maxPorts 65535 (a range of
# more than 65,535 ports is all 65,536) with sourceScope world asks the same question.
PROWLER_PARAMETERS = {"sourceScope": "world", "maxPorts": "65535"}


def measure(groups: int = GROUPS, rounds: int = ROUNDS) -> list[Row]:
    from bench.generate import write_security_groups

    data = write_security_groups(BUILD / f"security-groups-{groups}.json", groups)
    return c7n_rows(data, groups, rounds) + prowler_rows(data, groups, rounds)


def compare(peer: str, theirs: list[str], parameters: dict, data, rounds: int) -> dict[str, list[dict]]:
    """Each side in its own process, alternating ours / theirs (theirs first in odd rounds): their reports."""
    sides = {"ours": [str(VENV_PYTHON), "-m", "bench.peer", str(data), json.dumps(parameters)], peer: theirs}
    reports: dict[str, list[dict]] = {"ours": [], peer: []}
    for round_number in range(rounds):
        order = ("ours", peer) if round_number % 2 == 0 else (peer, "ours")
        for side in order:
            reports[side].append(proc.checked(proc.run(sides[side], report=True), f"peer: {side}").report)
    return reports


def timing(reports: dict[str, list[dict]], peer: str, groups: int) -> dict:
    """Median CPU and wall seconds per side, CPU microseconds per group, and the ratios theirs / ours."""
    cpu = {side: statistics.median(r["cpu_seconds"] for r in runs) for side, runs in reports.items()}
    wall = {side: statistics.median(r["wall_seconds"] for r in runs) for side, runs in reports.items()}
    return {"groups": groups, "rounds": len(reports["ours"]), "median_cpu_seconds": cpu, "median_wall_seconds": wall,
            "cpu_us_per_group": {side: round(value / groups * 1e6, 2) for side, value in cpu.items()},
            "ratio": round(cpu[peer] / cpu["ours"], 3), "wall_ratio": round(wall[peer] / wall["ours"], 3),
            "cpu_seconds": {side: [r["cpu_seconds"] for r in runs] for side, runs in reports.items()}}


def _faster(detail: dict, peer: str) -> str:
    per_group = detail["cpu_us_per_group"]
    return (f"{detail['ratio']:.1f}x faster: {per_group['ours']:,.0f} vs {per_group[peer]:,.0f} µs CPU per group "
            f"(wall {detail['wall_ratio']:.1f}x)")


def c7n_rows(data, groups: int, rounds: int) -> list[Row]:
    reports = compare("c7n", [str(BENCH_VENV_PYTHON), "-m", "bench.peer_c7n", str(data)], {"sourceScope": "world"},
                      data, rounds)
    detail = timing(reports, "c7n", groups)
    ours, theirs = set(reports["ours"][0]["flagged"]), set(reports["c7n"][0]["flagged"])
    detail.update({"c7n_version": reports["c7n"][0]["version"], "c7n_policy": reports["c7n"][0]["policy"],
                   "flagged": {"ours": len(ours), "c7n": len(theirs), "both": len(ours & theirs),
                               "only_ours": sorted(ours - theirs)[:20], "only_c7n_count": len(theirs - ours),
                               "only_c7n_icmp_ranges": len(reports["c7n"][0]["icmp_only"])}})
    explained = set(reports["c7n"][0]["icmp_only"])
    agree = ours == theirs - explained
    return [
        Row(f"evaluation vs c7n {detail['c7n_version']} ingress filter ({groups:,} SGs)", _faster(detail, "c7n"),
            f"report; aim >= {TARGET:.0f}x", verdict(detail["ratio"] >= TARGET), detail["ratio"], detail),
        Row("evaluation vs c7n: same groups flagged", f"{len(ours & theirs):,} both; {len(ours - theirs)} only ours; "
            f"{len(theirs - ours)} only c7n (ICMP type/code read as ports: {len(explained)})",
            "equal but for ICMP", verdict(agree), len(ours & theirs), {}),
    ]


def prowler_rows(data, groups: int, rounds: int) -> list[Row]:
    reports = compare("prowler", [str(BENCH_VENV_PYTHON), "-m", "bench.peer_prowler", str(data)], PROWLER_PARAMETERS,
                      data, rounds)
    detail = timing(reports, "prowler", groups)
    ours, theirs = set(reports["ours"][0]["flagged"]), set(reports["prowler"][0]["flagged"])
    detail.update({"prowler_version": reports["prowler"][0]["version"], "our_parameters": PROWLER_PARAMETERS,
                   "flagged": {"ours": len(ours), "prowler": len(theirs), "both": len(ours & theirs),
                               "only_ours": sorted(ours - theirs)[:20], "only_prowler": sorted(theirs - ours)[:20]}})
    return [
        Row(f"evaluation vs Prowler {detail['prowler_version']} check_security_group ({groups:,} SGs)",
            _faster(detail, "prowler"), f"report; aim >= {TARGET:.0f}x", verdict(detail["ratio"] >= TARGET),
            detail["ratio"], detail),
        Row("evaluation vs Prowler: same groups flagged (maxPorts 65535)",
            f"{len(ours & theirs):,} both; {len(ours - theirs)} only ours; {len(theirs - ours)} only Prowler",
            "equal", verdict(ours == theirs), len(ours & theirs), {}),
    ]


def icmp_ranges(group: dict) -> bool:
    """Does c7n's reading flag this group only through ICMP type/code fields (FromPort < ToPort)?"""
    return any(entry["IpProtocol"] in ("icmp", "icmpv6") and entry.get("FromPort", 0) < entry.get("ToPort", 0)
               for entry in group["IpPermissions"])


# --- our child -------------------------------------------------------------------------------------------


def child(path: str, parameters: str) -> None:
    from bench.probe import write_report
    from perimeter.registry import rule_by_id
    from perimeter.scan import scan

    with open(path, encoding="utf-8") as handle:
        groups = json.load(handle)
    items = [{"resourceType": "AWS::EC2::SecurityGroup", "resourceId": group["GroupId"],
              "configurationItemStatus": "OK", "configuration": group} for group in groups]
    spec = rule_by_id(RULE)
    wall, cpu = time.perf_counter(), time.process_time()
    findings = list(scan(items, [spec], {RULE: json.loads(parameters)}))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    flagged = [finding.resourceId for finding in findings if finding.complianceType == "NON_COMPLIANT"]
    write_report({"cpu_seconds": round(cpu, 4), "wall_seconds": round(wall, 4), "flagged": flagged})


if __name__ == "__main__":
    sys.exit(child(sys.argv[1], sys.argv[2]))
