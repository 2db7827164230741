"""Prowler's side of figure 5 (see bench.peer), run by the benchmark's own venv: Prowler, no perimeter.

    build/bench-venv/bin/python -m bench.peer_prowler GROUPS_FILE

Prowler's check ``ec2_securitygroup_allow_ingress_from_internet_to_all_ports`` judges each group by calling its
library function ``check_security_group(ingress_rule, "-1", any_address=True)`` on each entry of the group's
``IpPermissions`` (DescribeSecurityGroups' own dicts) until one answers True: "all ports open to the Internet"
(0.0.0.0/0 or ::/0, all traffic or a range of all 65,536 ports). This child makes the same calls on the same
entries; the rest of the check (Prowler's service clients, report objects) needs AWS and is left out. Prowler is
installed from PyPI with ``--no-deps`` into build/bench-venv (the Makefile's bench target): its security-group
library imports only the standard library.
"""
from __future__ import annotations

import importlib.metadata
import json
import sys
import time

from bench.probe import write_report

PROTOCOL = "-1"  # every protocol, as the check asks


def main(path: str) -> None:
    from prowler.providers.aws.services.ec2.lib.security_groups import check_security_group

    with open(path, encoding="utf-8") as handle:
        groups = json.load(handle)
    wall, cpu = time.perf_counter(), time.process_time()
    flagged = [group["GroupId"] for group in groups
               if any(check_security_group(entry, PROTOCOL, any_address=True) for entry in group["IpPermissions"])]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    write_report({"cpu_seconds": round(cpu, 4), "wall_seconds": round(wall, 4), "flagged": flagged,
                  "version": importlib.metadata.version("prowler")})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
