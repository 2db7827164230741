"""Figure 6, remediation: API calls the sg-ingress-port-range-restricted runbook makes on a group with 50
offending inbound rules.

A child process renders the runbook (``perimeter.runbooks.render_runbook``) and runs it with the tests' step
runner (``tests.ssm.runner.run_document``) against moto EC2, counting every API call with the botocore event
hook. The group: 50 tcp ranges open to 0.0.0.0/0, plus two compliant rules; ``ReplacementTcpPorts`` keeps two
ports open that lay inside revoked ranges, so the run authorizes too. A second run on the fixed group shows
what an idempotent re-run costs. The floor: one rule listing, one revoke, one authorize (when replacing), one
verification.

Run as ``python -m bench.remediation`` it is the child; ``measure()`` is the parent's side.
"""
from __future__ import annotations

import sys

from bench import ROOT, VENV_PYTHON, proc
from bench.report import NOT_MEASURED, PASS, Row, verdict

OFFENDING = 50
FLOOR = {"listing": 1, "revoke": 1, "authorize": 1, "verification": 1}
RULE_FOLDER = ROOT / "rules" / "sg_ingress_port_range_restricted"


def available() -> bool:
    return (RULE_FOLDER / "runbook.yaml").exists() and (RULE_FOLDER / "remediation.py").exists()


def measure() -> list[Row]:
    if not available():
        return [Row(f"remediation: API calls, {OFFENDING} offending rules", "runbook not there", "floor 4 calls",
                    NOT_MEASURED, None, {})]
    report = proc.checked(proc.run([str(VENV_PYTHON), "-m", "bench.remediation"], report=True), "remediation").report
    first, second = report["first"], report["second"]
    total = sum(first["calls"].values())
    floor = sum(FLOOR.values())
    calls = ", ".join(f"{n} {name.split(':', 1)[1]}" for name, n in first["calls"].items())
    done = first["status"] == "Success" and first["removed"] == OFFENDING and first["added"] == 2
    status = "failed" if not done else PASS if total <= floor else f"floor +{total - floor}"
    return [
        Row(f"remediation: API calls, {OFFENDING} offending rules", f"{total} calls: {calls}",
            f"report; floor {floor}: 1 listing, 1 revoke, 1 authorize, 1 verification", status, total,
            {**first, "floor": FLOOR}),
        Row("remediation: re-run on the fixed group", f"{sum(second['calls'].values())} calls: "
            + ", ".join(f"{n} {name.split(':', 1)[1]}" for name, n in second["calls"].items()),
            "changes nothing", verdict(second["status"] == "Success" and second["removed"] == 0), sum(second["calls"].values()),
            second),
    ]


# --- child -----------------------------------------------------------------------------------------------


def child() -> None:
    from bench.probe import CallCounter, write_report

    counter = CallCounter().install()
    import boto3
    from moto import mock_aws

    from perimeter.runbooks import render_runbook
    from tests.ssm.runner import run_document

    document = render_runbook(RULE_FOLDER)
    report = {}
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        group_id = ec2.create_security_group(GroupName="wide-open", Description="bench", VpcId=vpc_id)["GroupId"]
        ranges = [{"IpProtocol": "tcp", "FromPort": 1000 + 100 * n, "ToPort": 1050 + 100 * n,
                   "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": f"range {n}"}]} for n in range(OFFENDING)]
        compliant = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                     {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ranges + compliant)
        parameters = {"SecurityGroupId": group_id, "AutomationAssumeRole": "arn:aws:iam::123456789012:role/Remediation",
                      "ReplacementTcpPorts": ["1010", "1110"], "DryRun": "false"}
        for run in ("first", "second"):
            counter.reset()
            result = run_document(document, parameters)
            calls = counter.counts()
            report[run] = {"status": result.status, "failure": result.failure_message, "calls": calls,
                           "removed": len(result.outputs.get("Remediate.Removed") or []),
                           "added": len(result.outputs.get("Remediate.Added") or []),
                           "revoke_calls": calls.get("ec2:RevokeSecurityGroupIngress", 0)}
    write_report(report)


if __name__ == "__main__":
    sys.exit(child())
