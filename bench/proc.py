"""Parent side: run one child process and take its wall time, CPU time and report.

CPU time comes from ``os.wait4`` (this child only). Peak RSS is read by the child itself from
``/proc/self/status`` (VmHWM) and written to its report: a child's ``ru_maxrss`` can include the parent's
resident set at fork time, its own high-water mark cannot.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import BUILD, ROOT


class ChildFailed(RuntimeError):
    pass


@dataclass
class Child:
    returncode: int
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    stderr: str
    report: dict = field(default_factory=dict)


def aws_environment() -> dict:
    """Fake credentials and a region, no profile or config files: no child can reach AWS or read real keys."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=str(ROOT),
    )
    return env


def run(argv: list[str], *, env: dict | None = None, timeout: float = 900, report: bool = False,
        stdout=subprocess.DEVNULL, cwd: Path = ROOT) -> Child:
    """Run ``argv``; with ``report``, the child gets BENCH_REPORT (a file path) and must write JSON there."""
    env = dict(env if env is not None else aws_environment())
    report_path = None
    if report:
        BUILD.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="report-", suffix=".json", dir=BUILD)
        os.close(handle)
        report_path = Path(name)
        env["BENCH_REPORT"] = str(report_path)
    with tempfile.TemporaryFile(mode="w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        try:
            _, status, usage = _wait(process, timeout)
        except BaseException:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - start
        stderr.seek(0)
        error_text = stderr.read()
    child = Child(os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, error_text)
    if report_path is not None:
        text = report_path.read_text(encoding="utf-8")
        report_path.unlink()
        child.report = json.loads(text) if text.strip() else {}
    return child


def _wait(process: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
            return pid, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError(f"{' '.join(map(str, process.args))} ran over {timeout:.0f} s")
        time.sleep(0.002)


def checked(child: Child, what: str, ok_codes=(0,)) -> Child:
    if child.returncode not in ok_codes:
        tail = "\n".join(child.stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"{what}: exit {child.returncode}\n{tail}")
    return child


def instructions(argv: list[str], *, env: dict, cwd: Path = ROOT, timeout: float = 1800) -> tuple[int, Child]:
    """The instructions ``argv`` executes, counted by valgrind's callgrind (its own children not followed): the
    same count whatever else the machine is doing. Returns the count and the child (its stdout is not kept)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise ChildFailed("valgrind is not installed (Debian: apt-get install valgrind); instruction counts need it")
    BUILD.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="callgrind-", dir=BUILD) as folder:
        output = Path(folder) / "callgrind.out"
        child = run([valgrind, "--tool=callgrind", f"--callgrind-out-file={output}", *argv], env=env, cwd=cwd,
                    timeout=timeout)
        checked(child, f"callgrind {' '.join(argv[-3:])}")
        totals = re.search(r"^(?:totals|summary):\s*(\d+)", output.read_text(encoding="utf-8"), re.MULTILINE)
    if not totals:
        raise ChildFailed(f"callgrind wrote no totals for {' '.join(argv)}")
    return int(totals.group(1)), child
