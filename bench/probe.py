"""Child side: what a benchmark child process reports about itself.

Only the standard library at import time, so that importing this module costs a child nothing it measures.
"""
from __future__ import annotations

import json
import os
from collections import Counter


def peak_rss_kb() -> int:
    """This process's peak resident set size (VmHWM), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def current_rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def write_report(report: dict) -> None:
    """Write the child's findings where the parent asked (BENCH_REPORT), or print them."""
    text = json.dumps(report, indent=2, sort_keys=True)
    path = os.environ.get("BENCH_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        print(text)


def pin_to_one_core() -> int:
    """Run on one core only (the last one this process may use); returns its number."""
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


class CallCounter:
    """Counts every AWS API call made through any botocore client created after ``install()``.

    A botocore event hook: ``before-parameter-build`` fires once per API call (not per HTTP retry), for
    every service, before moto, the Network Firewall fake or a Stubber answers. Installed through
    ``botocore.handlers.BUILTIN_HANDLERS`` (as moto does), so it reaches the sessions the code under test
    creates itself (rdklib, boto3's default session, ``boto3.Session()``).
    """

    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def install(self) -> "CallCounter":
        import boto3
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", self._record))
        boto3.DEFAULT_SESSION = None  # a default session made before install would not carry the hook
        return self

    def _record(self, model, **_):
        self.calls.append((model.service_model.service_name, model.name))

    def counts(self) -> dict[str, int]:
        """``{"service:Operation": n}`` in first-call order."""
        return dict(Counter(f"{service}:{operation}" for service, operation in self.calls))

    def reset(self) -> None:
        self.calls.clear()
