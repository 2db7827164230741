"""Figure 3, live scan at scale: ``perimeter scan --live`` over 10,000 security groups.

moto runs as a server in a process of its own (bench.moto_server, in the benchmark's venv), holding the
groups; the scan runs in another process, the CLI's own ``main`` against that endpoint (AWS_ENDPOINT_URL),
so the scan process holds only what a real scan holds: the interpreter, boto3, the pack, and the pages in
flight. Its peak RSS (VmHWM) is the figure, with no moto or seeded data in it. moto does not page
DescribeSecurityGroups; the server pages it as AWS does (MaxResults, NextToken).

Only the security-group rule is selected: the moto server serves no Network Firewall policies or rule groups.

Run as ``python -m bench.live_scan OUTPUT`` it is the scan child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

from bench import BENCH_VENV_PYTHON, BUILD, VENV_PYTHON, proc
from bench.report import INFO, Row, verdict

GROUPS = 10_000
PAGE = 1000
RSS_TARGET_MB = 128
RULE = "sg-ingress-port-range-restricted"


def measure(groups: int = GROUPS) -> list[Row]:
    BUILD.mkdir(parents=True, exist_ok=True)
    ready = BUILD / "moto-server.json"
    ready.unlink(missing_ok=True)
    server = subprocess.Popen([str(BENCH_VENV_PYTHON), "-m", "bench.moto_server", str(groups), str(ready)],
                              cwd=proc.ROOT, env=proc.aws_environment(), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = _wait_ready(server, ready)
        output = BUILD / "live-scan.json"
        env = proc.aws_environment()
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{state['port']}"
        child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.live_scan", str(output)], env=env, report=True),
                             "live scan", ok_codes=(0, 1))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    state = json.loads(ready.read_text(encoding="utf-8"))
    findings = json.loads(output.read_text(encoding="utf-8"))
    report = child.report
    describe = report["calls"].get("ec2:DescribeSecurityGroups", 0)
    expected = math.ceil(state["groups"] / PAGE)
    peak_mb = report["peak_rss_kb"] / 1024
    detail = {"groups": state["groups"], "findings": len(findings), "calls": report["calls"],
              "server_describe_requests": state["describe_requests"], "exit": report["exit"],
              "peak_rss_kb": report["peak_rss_kb"], "rss_before_scan_kb": report["rss_before_scan_kb"],
              "scan_seconds": report["seconds"], "seed_seconds": state["seed_seconds"]}
    ok_calls = describe == expected == state["describe_requests"] and len(findings) == state["groups"]
    return [
        Row(f"live scan {state['groups']:,} SGs: DescribeSecurityGroups calls", f"{describe} calls",
            f"= ceil(N/{PAGE}) = {expected}", verdict(ok_calls), describe, detail),
        Row(f"live scan {state['groups']:,} SGs: peak RSS of the scan process", f"{peak_mb:.0f} MB",
            f"<= {RSS_TARGET_MB} MB", verdict(peak_mb <= RSS_TARGET_MB), round(peak_mb, 1),
            {"rss_before_scan_mb": round(report["rss_before_scan_kb"] / 1024, 1), "method": "VmHWM of the scan process"}),
        Row(f"live scan {state['groups']:,} SGs: other calls", ", ".join(f"{n} {k}" for k, n in report["calls"].items()
                                                                      if k != "ec2:DescribeSecurityGroups"),
            "1 GetCallerIdentity", INFO, None, {}),
    ]


def _wait_ready(server: subprocess.Popen, ready, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if server.poll() is not None:
            raise proc.ChildFailed(f"moto server exited with {server.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError("moto server not ready")
        time.sleep(0.2)
    return json.loads(ready.read_text(encoding="utf-8"))


# --- child -----------------------------------------------------------------------------------------------


def child(output: str) -> None:
    from contextlib import redirect_stdout

    from bench.probe import CallCounter, current_rss_kb, peak_rss_kb, write_report

    counter = CallCounter().install()
    import perimeter.cli
    import perimeter.live  # noqa: F401  (imported by --live anyway; here so the baseline below includes boto3)

    before = current_rss_kb()
    started = time.perf_counter()
    with open(output, "w", encoding="utf-8") as out, redirect_stdout(out):
        code = perimeter.cli.main(["scan", "--live", "--rule", RULE, "--format", "json"])
    write_report({"exit": code, "peak_rss_kb": peak_rss_kb(), "rss_before_scan_kb": before,
                  "seconds": round(time.perf_counter() - started, 2), "calls": counter.counts()})


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.exit(child(sys.argv[1]))
