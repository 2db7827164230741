"""Cloud Custodian's side of figure 5 (see bench.peer), run by the benchmark's own venv: c7n, no perimeter.

    build/bench-venv/bin/python -m bench.peer_c7n GROUPS_FILE
"""
from __future__ import annotations

import json
import sys
import time

from bench.peer import icmp_ranges
from bench.probe import write_report

WIDER_THAN_ONE_PORT = {"op": "gt", "value_type": "expr", "value": "FromPort"}  # ToPort > FromPort, per rule
POLICY = {
    "name": "sg-ingress-port-ranges",
    "resource": "aws.security-group",
    "filters": [{"or": [
        {"type": "ingress", "Cidr": {"value": "0.0.0.0/0"}, "ToPort": WIDER_THAN_ONE_PORT},
        {"type": "ingress", "CidrV6": {"value": "::/0"}, "ToPort": WIDER_THAN_ONE_PORT},
        {"type": "ingress", "Cidr": {"value": "0.0.0.0/0"}, "IpProtocol": "-1"},
        {"type": "ingress", "CidrV6": {"value": "::/0"}, "IpProtocol": "-1"},
    ]}],
}


def main(path: str) -> None:
    import c7n.version
    from c7n.config import Config
    from c7n.policy import Policy
    from c7n.resources import load_resources

    with open(path, encoding="utf-8") as handle:
        groups = json.load(handle)
    load_resources(("aws.security-group",))
    policy = Policy(json.loads(json.dumps(POLICY)), Config.empty(region="us-east-1", account_id="123456789012"))
    policy.validate()
    manager = policy.resource_manager
    by_id = {group["GroupId"]: group for group in groups}
    icmp_only_candidates = {group_id for group_id, group in by_id.items() if icmp_ranges(group)}
    wall, cpu = time.perf_counter(), time.process_time()
    matched = manager.filter_resources(groups)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    flagged = [group["GroupId"] for group in matched]
    # Flagged by c7n only through an ICMP entry: every matched permission is ICMP.
    icmp_only = [group["GroupId"] for group in matched if group["GroupId"] in icmp_only_candidates
                 and all(p["IpProtocol"] in ("icmp", "icmpv6") for p in group.get("MatchedIpPermissions", []))]
    write_report({"cpu_seconds": round(cpu, 4), "wall_seconds": round(wall, 4), "flagged": flagged,
                  "icmp_only": icmp_only, "version": c7n.version.version, "policy": POLICY})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
