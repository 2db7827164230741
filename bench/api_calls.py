"""Figure 2, API calls per change-triggered invocation, same-account mode.

A child process runs each rule's Lambda handler (``perimeter.entry.lambda_handler`` with ``PERIMETER_RULE_ID``) on change events
shaped as Config sends them (tests/fixtures/events/change-open-range.json around generated items of the rule's
resource type, each complete as recorded), under moto (Config in TestMode) and the botocore-validated Network
Firewall fake, and counts every API call with a botocore event hook (bench.probe.CallCounter). The floor and
the target: one PutEvaluations, no STS.

Run as ``python -m bench.api_calls`` it is the child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import json
import sys

from bench import ROOT, VENV_PYTHON, proc
from bench.report import INFO, Row, verdict

EVENT_TEMPLATE = ROOT / "tests" / "fixtures" / "events" / "change-open-range.json"
EVENTS_PER_RULE = 6
EXPECTED = {"config:PutEvaluations": 1}


def measure() -> list[Row]:
    child = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.api_calls"], report=True), "API-call child")
    rows = []
    for rule_id, runs in child.report["rules"].items():
        complete = [run for run in runs if run["complete"]]
        every = sorted({json.dumps(run["calls"], sort_keys=True) for run in complete})
        ok = every == [json.dumps(EXPECTED, sort_keys=True)]
        sts = sum(count for run in complete for name, count in run["calls"].items() if name.startswith("sts:"))
        shown = "; ".join(_short(json.loads(calls)) for calls in every)
        rows.append(Row(
            f"API calls per change event: {rule_id}", f"{shown}; {sts} STS ({len(complete)} events)",
            "exactly 1 (PutEvaluations), 0 STS", verdict(ok), sum(json.loads(every[0]).values()) if len(every) == 1 else None,
            {"runs": runs},
        ))
        incomplete = [run for run in runs if not run["complete"]]
        if incomplete:
            rows.append(Row(
                f"API calls, item recorded without rules: {rule_id}", _short(incomplete[0]["calls"]),
                "by design: DescribeRuleGroup + PutEvaluations", INFO, sum(incomplete[0]["calls"].values()),
                {"runs": incomplete},
            ))
    return rows


def _short(calls: dict) -> str:
    return ", ".join(f"{count} {name.split(':', 1)[1]}" for name, count in calls.items()) or "no calls"


# --- child -----------------------------------------------------------------------------------------------


def _items(generator, resource_type: str):
    """Generated items of one type: ``EVENTS_PER_RULE`` complete ones, then one rule group without rulesSource."""
    from bench.generate import FIREWALL_POLICY, NETWORK_ACL, RULE_GROUP, SECURITY_GROUP

    makers = {SECURITY_GROUP: generator.security_group_item, FIREWALL_POLICY: generator.firewall_policy_item,
              RULE_GROUP: generator.rule_group_item, NETWORK_ACL: generator.network_acl_item}
    complete, incomplete, index = [], [], 0
    while len(complete) < EVENTS_PER_RULE or (resource_type == RULE_GROUP and not incomplete):
        item = makers[resource_type](index)
        index += 1
        if resource_type == RULE_GROUP and "rulesSource" not in item["configuration"]["ruleGroup"]:
            if not incomplete:
                incomplete.append(item)
        elif len(complete) < EVENTS_PER_RULE:
            complete.append(item)
    return [(item, True) for item in complete] + [(item, False) for item in incomplete]


def _live_group(nfw, item: dict) -> None:
    arn = nfw.put_rule_group(item["resourceName"], "STATEFUL",
                             rules='drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:"telnet"; sid:1; rev:1;)\n')
    item["resourceId"] = item["ARN"] = item["configuration"]["ruleGroupResponse"]["ruleGroupArn"] = arn


def child() -> None:
    import importlib
    import os

    from bench.probe import CallCounter, write_report

    counter = CallCounter().install()
    from moto import mock_aws

    from bench.generate import ACCOUNT, REGION, Generator
    from perimeter.registry import all_rules
    from tests.fakes.networkfirewall import FakeNetworkFirewall

    template = json.loads(EVENT_TEMPLATE.read_text(encoding="utf-8"))
    generator = Generator(seed=11)
    report: dict = {"rules": {}}
    with mock_aws(), FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as nfw:
        for spec in all_rules():
            os.environ["PERIMETER_RULE_ID"] = spec.rule_id  # as the templates set it for the rule's function
            handler = importlib.import_module("perimeter.entry").lambda_handler
            runs = []
            for resource_type in spec.resource_types:
                for item, complete in _items(generator, resource_type):
                    if not complete:  # the group exists, with rules: the Lambda reads them with DescribeRuleGroup
                        _live_group(nfw, item)
                    invoking = json.loads(template["invokingEvent"])
                    invoking["configurationItem"] = item
                    event = {**template, "invokingEvent": json.dumps(invoking), "configRuleName": f"perimeter-{spec.rule_id}"}
                    counter.reset()
                    result = handler(event, None)
                    runs.append({"resourceId": item["resourceId"], "complete": complete, "calls": counter.counts(),
                                 "verdict": result[0]["ComplianceType"]})
            report["rules"][spec.rule_id] = runs
    write_report(report)


if __name__ == "__main__":
    sys.exit(child())
