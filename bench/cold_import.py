"""Figure 1, cold start as deployed: each rule's function from the unpacked zip vs ``import rdklib`` from the same zip.

As Lambda runs it: the zip (``perimeter.package``, the bytecode compiled by the runtime's Python) unpacked into a
read-only task folder, the runtime's Python (build/bench-runtime-venv: the rules' declared python3.12 with boto3,
its packages compiled as the runtime's are) run with ``-S``, ``PYTHONDONTWRITEBYTECODE=1`` and
PYTHONPATH = task folder, then the runtime's site-packages. Counted by instructions (valgrind's callgrind,
``PYTHONHASHSEED=0``), which repeat whatever else the shared machine does; the wall clock cannot resolve 10%.

- cold import: ``import perimeter.entry`` and resolving the function's rule (``handler_for_environment()`` with
  ``PERIMETER_RULE_ID``), per rule, vs ``import rdklib``; target <= 1.10x. Beside it the same from a zip built
  without bytecode (``--no-bytecode``, the zip as it was), where every module compiles at each cold start.
- first invocation: the cold start plus the first handler call on a change event (the fixture event around a
  generated item of the rule's type; rules with a change trigger), its PutEvaluations answered on loopback (bench.config_endpoint); in
  instructions, and in CPU milliseconds (median of alternating plain runs).
- warm evaluation: a 60-rule security group (the AWS default quota of inbound rules), evaluated again and again
  after the first invocation; CPU microseconds per evaluation, and per whole warm invocation.

All runs are launched from here side by side; the callgrind runs go two at a time (counts do not depend on load).
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import BUILD, ROOT, RUNTIME_VENV_PYTHON, VENV_PYTHON, proc
from bench.config_endpoint import ConfigEndpoint
from bench.report import INFO, Row, verdict

TARGET = 1.10
REFERENCE = "rdklib"
CPU_ROUNDS = 3
WARM_ROUNDS, WARM_REPEAT = 5, 2000
WARM_RULES = 60
EVENT_TEMPLATE = ROOT / "tests" / "fixtures" / "events" / "change-open-range.json"
CHILD = (Path(__file__).parent / "lambda_child.py").read_text(encoding="utf-8")
VARIANTS = {"bytecode": [], "sources": ["--no-bytecode"]}  # perimeter.package options


def rule_ids(change_triggered_only: bool = False) -> list[str]:
    """Every rule's id; or only those Config invokes on change events (a periodic-only rule has no first change
    event: its first invocation lists resources through APIs the loopback endpoint does not serve)."""
    from perimeter.registry import all_rules

    return [spec.rule_id for spec in all_rules() if spec.is_change_triggered or not change_triggered_only]


def cold_code(rule_id: str | None) -> str:
    """The statement a cold start runs: ``import rdklib`` (the reference), or the entry point resolving a rule."""
    if rule_id is None:
        return "import rdklib"
    return (f"import os; os.environ['PERIMETER_RULE_ID'] = {rule_id!r}; import perimeter.entry as e; "
            "e.handler_for_environment()")


def measure() -> list[Row]:
    if not RUNTIME_VENV_PYTHON.exists():
        raise proc.ChildFailed(f"{RUNTIME_VENV_PYTHON.relative_to(ROOT)} is missing: run `make bench-runtime-venv`")
    site = subprocess.run([str(RUNTIME_VENV_PYTHON), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    tasks = {variant: task_folder(variant, options) for variant, options in VARIANTS.items()}
    rules, changed = rule_ids(), rule_ids(change_triggered_only=True)
    events = write_events(changed)
    python = [str(RUNTIME_VENV_PYTHON), "-S"]
    with ConfigEndpoint() as endpoint:
        def env(task: Path) -> dict:
            values = {key: value for key, value in proc.aws_environment().items() if key != "PYTHONPATH"}
            values.update(endpoint.environment(), PYTHONPATH=f"{task}{os.pathsep}{site}", PYTHONHASHSEED="0",
                          PYTHONDONTWRITEBYTECODE="1")
            return values

        jobs = {}
        for variant, task in tasks.items():
            for rule_id in [None, *rules]:
                jobs[(variant, rule_id)] = ([*python, "-c", cold_code(rule_id)], env(task), task)
        for rule_id in changed:
            jobs[("first", rule_id)] = ([*python, "-c", CHILD, "first-invocation", str(events[rule_id]), rule_id],
                                        env(tasks["bytecode"]), tasks["bytecode"])
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            futures = {key: pool.submit(proc.instructions, argv, env=values, cwd=cwd)
                       for key, (argv, values, cwd) in jobs.items()}
            counts = {key: future.result()[0] for key, future in futures.items()}
        if len(endpoint.calls) != len(changed):
            raise proc.ChildFailed(f"{len(changed)} first invocations made {len(endpoint.calls)} PutEvaluations calls")
        cpu = first_invocation_cpu(python, changed, events, env(tasks["bytecode"]), tasks["bytecode"], endpoint)
        warm = warm_evaluation(python, events, env(tasks["bytecode"]), tasks["bytecode"])
    return rows(rules, changed, counts, cpu, warm)


def task_folder(variant: str, options: list[str]) -> Path:
    """The zip built (bytecode by the runtime venv's Python, or none) and unpacked, read-only, as /var/task."""
    archive = BUILD / f"perimeter-lambda-{variant}.zip"
    proc.checked(proc.run([str(VENV_PYTHON), "-m", "perimeter.package", "--output", str(archive),
                           "--runtime-python", str(RUNTIME_VENV_PYTHON), *options]), f"package ({variant})")
    task = BUILD / f"task-{variant}"
    if task.exists():
        for path in [task, *task.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        shutil.rmtree(task)
    shutil.unpack_archive(archive, task, "zip")
    for path in [task, *task.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    return task


def write_events(rules: list[str]) -> dict[str, Path]:
    """Per rule, a change event around a generated item of its resource type (complete as recorded), and the
    60-rule security group's item (``warm-item.json``)."""
    from bench.generate import Generator, inbound_rules, security_group_item
    from perimeter.registry import rule_by_id

    generator = Generator(seed=11)
    template = json.loads(EVENT_TEMPLATE.read_text(encoding="utf-8"))
    folder = BUILD / "lambda-events"
    folder.mkdir(parents=True, exist_ok=True)
    events = {}
    for rule_id in rules:
        resource_type = rule_by_id(rule_id).resource_types[0]
        items = (generator.recorded_item(resource_type, index) for index in range(100))
        item = next(item for item in items if recorded_whole(item))
        invoking = json.loads(template["invokingEvent"])
        invoking["configurationItem"] = item
        events[rule_id] = folder / f"{rule_id}.json"
        events[rule_id].write_text(json.dumps({**template, "invokingEvent": json.dumps(invoking),
                                               "configRuleName": f"perimeter-{rule_id}"}), encoding="utf-8")
    groups = (generator.api_security_group(index, rules=WARM_RULES) for index in range(100))
    group = next(group for group in groups if inbound_rules(group) == WARM_RULES)
    events["warm-item"] = folder / "warm-item.json"
    events["warm-item"].write_text(json.dumps(security_group_item(group)), encoding="utf-8")
    return events


def recorded_whole(item: dict) -> bool:
    """False for a rule group recorded without its rules, which the rule fetches (an API call more, by design)."""
    group = item["configuration"].get("ruleGroup")
    return group is None or "rulesSource" in group


def first_invocation_cpu(python, rules, events, env, task, endpoint) -> dict:
    """CPU seconds of plain runs, alternating the reference and each rule's first invocation, round after round."""
    runs: dict = {key: [] for key in [None, *rules]}
    for round_number in range(CPU_ROUNDS):
        order = [None, *rules] if round_number % 2 == 0 else [*rules, None]
        for rule_id in order:
            calls = len(endpoint.calls)
            argv = [*python, "-c", cold_code(None)] if rule_id is None else \
                [*python, "-c", CHILD, "first-invocation", str(events[rule_id]), rule_id]
            runs[rule_id].append(proc.checked(proc.run(argv, env=env, cwd=task), f"first invocation {rule_id}").cpu)
            if rule_id is not None and len(endpoint.calls) != calls + 1:
                raise proc.ChildFailed(f"{rule_id}: the first invocation made {len(endpoint.calls) - calls} "
                                       "PutEvaluations calls, not 1")
    return {key: statistics.median(values) for key, values in runs.items()} | {"runs": runs}


def warm_evaluation(python, events, env, task) -> dict:
    from bench.generate import SECURITY_GROUP
    from perimeter.registry import all_rules

    rule_id = next(spec.rule_id for spec in all_rules() if SECURITY_GROUP in spec.resource_types)
    with open(BUILD / "warm.out.json", "w+", encoding="utf-8") as out:
        proc.checked(proc.run([*python, "-c", CHILD, "warm", str(events[rule_id]), rule_id, str(events["warm-item"]),
                               str(WARM_ROUNDS), str(WARM_REPEAT)], env=env, cwd=task, stdout=out), "warm evaluation")
        out.seek(0)
        return {"rule": rule_id, **json.load(out)}


def rows(rules, changed, counts, cpu, warm) -> list[Row]:
    base, base_sources = counts[("bytecode", None)], counts[("sources", None)]
    result = [Row(
        "cold import as deployed: rdklib (reference)", f"{mega(base)} instructions (zip without bytecode: "
        f"{mega(base_sources)})", "runtime python3.12, callgrind", INFO, base,
        {"instructions": base, "instructions_without_bytecode": base_sources},
    )]
    for rule_id in rules:
        count, sources = counts[("bytecode", rule_id)], counts[("sources", rule_id)]
        ratio, ratio_sources = count / base, sources / base_sources
        result.append(Row(
            f"cold import as deployed: {rule_id}", f"{ratio:.3f}x rdklib ({mega(count)}); without bytecode "
            f"{ratio_sources:.3f}x ({mega(sources)})", f"<= {TARGET:.2f}x rdklib", verdict(ratio <= TARGET),
            round(ratio, 4), {"instructions": count, "instructions_without_bytecode": sources,
                              "ratio_without_bytecode": round(ratio_sources, 4), "code": cold_code(rule_id)},
        ))
    for rule_id in changed:
        first = counts[("first", rule_id)]
        result.append(Row(
            f"first invocation: {rule_id}", f"{mega(first)} = {first / base:.2f}x import rdklib (the call: "
            f"{mega(first - counts[('bytecode', rule_id)])}); CPU {cpu[rule_id] * 1000:.0f} ms "
            f"(import rdklib {cpu[None] * 1000:.0f} ms)", "report; 1 PutEvaluations on loopback", INFO, first,
            {"instructions": first, "cpu_s": round(cpu[rule_id], 4), "cpu_runs_s": [round(v, 4) for v in cpu["runs"][rule_id]],
             "reference_cpu_s": round(cpu[None], 4)},
        ))
    result.append(Row(
        f"warm evaluation: {WARM_RULES}-rule security group", f"{warm['median_evaluation_us']:,.0f} µs per evaluation "
        f"(whole warm invocation with PutEvaluations: {warm['median_invocation_us']:,.0f} µs)",
        f"report; CPU, median of {WARM_ROUNDS}x{WARM_REPEAT:,}", INFO, warm["median_evaluation_us"], warm,
    ))
    return result


def mega(count: int) -> str:
    return f"{count / 1e6:,.1f} M"
