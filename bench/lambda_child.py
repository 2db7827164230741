"""Child side of figure 1: the deployed Lambda, as its runtime runs it, from the unpacked zip.

Run by the runtime's Python (build/bench-runtime-venv) as ``python -S -c <this file's text> MODE ...`` with the
task folder first on PYTHONPATH and the runtime's packages (boto3) after it, as Lambda lays out sys.path: not as
``-m bench...``, so that nothing of the bench or the checkout is imported into what is measured.

- ``first-invocation EVENT_FILE RULE_ID``: a cold start and its first event: import the entry point, resolve the
  rule, handle one change event (its PutEvaluations answered on loopback, bench.config_endpoint). Measured whole
  (callgrind, or CPU time by the parent).
- ``warm EVENT_FILE RULE_ID ITEM_FILE ROUNDS REPEAT``: after a first invocation, the evaluation of one recorded
  item (``normalise_item`` and the rule's verdict, what the handler does per item besides I/O), timed REPEAT times
  per round, and the whole warm invocation (event to PutEvaluations), in CPU microseconds; JSON on stdout.
"""
import json
import os
import statistics
import sys
import time


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def first_invocation(event_path, rule_id):
    event = _read(event_path)
    os.environ["PERIMETER_RULE_ID"] = rule_id
    import perimeter.entry

    evaluations = perimeter.entry.lambda_handler(event, None)
    return perimeter.entry, event, evaluations


def warm(event_path, rule_id, item_path, rounds, repeat):
    entry, event, _ = first_invocation(event_path, rule_id)
    from perimeter.items import normalise_item

    handler = entry.handler_for_environment()
    spec = handler.spec
    item = _read(item_path)
    parameters = spec.parse_parameters({})
    verdict = spec.evaluate(normalise_item(item), parameters)
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItem"] = item
    warm_event = dict(event, invokingEvent=json.dumps(invoking))
    evaluation, invocation = [], []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(repeat):
            spec.evaluate(normalise_item(item), parameters)
        evaluation.append((time.process_time() - started) / repeat * 1e6)
        started = time.process_time()
        for _ in range(max(1, repeat // 20)):
            handler(warm_event, None)
        invocation.append((time.process_time() - started) / max(1, repeat // 20) * 1e6)
    return {"evaluation_us": [round(value, 2) for value in evaluation],
            "invocation_us": [round(value, 1) for value in invocation],
            "median_evaluation_us": round(statistics.median(evaluation), 2),
            "median_invocation_us": round(statistics.median(invocation), 1),
            "compliance": verdict.compliance, "annotation": verdict.annotation,
            "permissions": len(item["configuration"]["ipPermissions"])}


def main(argv):
    mode = argv[0]
    if mode == "first-invocation":
        _, _, evaluations = first_invocation(argv[1], argv[2])
        print(json.dumps([evaluation["ComplianceType"] for evaluation in evaluations]))
    elif mode == "warm":
        print(json.dumps(warm(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]))))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
