"""`perimeter pack [--parameters FILE] [--organization]`: the conformance pack body with the user's values written in,
so that rarely changed parameters cost no pack input parameter (issue 11, item 5)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from perimeter.cli import main
from perimeter.registry import all_rules
from perimeter.templates import ACCOUNT_PACK, ORG_PACK, logical_id
from perimeter.templates.render import HEADER

ROOT = Path(__file__).resolve().parent.parent
SG = "sg-ingress-port-range-restricted"
SG_LOGICAL = logical_id(SG)


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main(["pack", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def parameters_file(tmp_path, document) -> str:
    path = tmp_path / "pack-parameters.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return str(path)


def body(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


@pytest.mark.parametrize("flags, committed", [((), ACCOUNT_PACK), (("--organization",), ORG_PACK)])
def test_pack_without_parameters_is_the_committed_pack(capsys, flags, committed):
    status, out, err = run(capsys, *flags)

    assert (status, err) == (0, "")
    assert out.startswith("# Rendered by `perimeter pack`")
    assert body(out) == body((ROOT / "templates" / committed).read_text(encoding="utf-8").removeprefix(HEADER))


def test_pack_writes_rule_runbook_and_pack_wide_values_in(capsys, tmp_path):
    path = parameters_file(tmp_path, {
        SG: {"authorizedTcpPorts": "443", "maxPorts": "2", "ReplacementTcpPorts": "80,443", "DryRun": "false"},
        "RemediationErrorPercentage": "5",
        "RemediationAutomatic": "true",
        "MaxExemptionDays": "90",  # every rule's maxExemptionDays, given once (perimeter.exemptions)
    })

    status, out, err = run(capsys, "--parameters", path)
    pack = yaml.safe_load(out)

    assert (status, err) == (0, "")
    assert pack["Resources"][SG_LOGICAL]["Properties"]["InputParameters"] == {
        "maxPorts": "2", "authorizedTcpPorts": "443", "sourceScope": "any", "maxExemptionDays": "90",
        "includeSelfReferences": "false"}
    remediation = pack["Resources"][f"{SG_LOGICAL}Remediation"]["Properties"]
    # The runbook judges with the rule's own values, and gets its own parameters written in.
    assert remediation["Parameters"]["MaxPorts"] == {"StaticValue": {"Values": ["2"]}}
    assert remediation["Parameters"]["AuthorizedTcpPorts"] == {"StaticValue": {"Values": ["443"]}}
    assert remediation["Parameters"]["ReplacementTcpPorts"] == {"StaticValue": {"Values": ["80", "443"]}}
    assert remediation["ExecutionControls"]["SsmControls"]["ErrorPercentage"] == 5
    # Input parameters stay inputs: the file gives their defaults.
    assert pack["Parameters"][f"{SG_LOGICAL}RemediationDryRun"]["Default"] == "false"
    assert pack["Parameters"]["RemediationAutomatic"]["Default"] == "true"
    assert remediation["Parameters"]["DryRun"] == {"StaticValue": {"Values": [{"Ref": f"{SG_LOGICAL}RemediationDryRun"}]}}


def test_pack_configures_a_remediation_once_its_required_runbook_parameter_is_given(capsys, tmp_path):
    for spec in all_rules():
        runbook = spec.folder / "runbook.yaml"
        if not runbook.exists():
            continue
        parameters = yaml.safe_load(runbook.read_text(encoding="utf-8"))["parameters"]
        required = [name for name, definition in parameters.items() if "default" not in definition
                    and name not in ("AutomationAssumeRole", spec.remediation_resource_parameter)]
        if not required:
            continue
        logical = logical_id(spec.rule_id)
        assert f"{logical}Remediation" not in yaml.safe_load(run(capsys)[1])["Resources"]
        path = parameters_file(tmp_path, {spec.rule_id: {name: f"example-{name}" for name in required}})

        pack = yaml.safe_load(run(capsys, "--parameters", path)[1])

        given = pack["Resources"][f"{logical}Remediation"]["Properties"]["Parameters"]
        assert all(given[name] for name in required)
        assert f"{logical}RemediationDryRun" in pack["Parameters"]


@pytest.mark.parametrize("document, message", [
    ("{not json", "pack-parameters.json:"),
    ([], "expected a JSON object"),
    ({"no-such-rule": {}}, "unknown rule 'no-such-rule'"),
    ({SG: {"maxPort": "2"}}, f"{SG}: unknown parameter(s) maxPort"),
    ({SG: {"maxPorts": "0"}}, "parameter maxPorts: '0' is not an integer >= 1"),
    ({SG: {"maxPorts": 2}}, "parameter maxPorts: value 2 must be a string"),
    ({SG: {"sourceScope": "galaxy"}}, "sourceScope"),
    ({SG: {"DryRun": "maybe"}}, "runbook parameter DryRun: 'maybe' is not one of true, false"),
    ({"RemediationErrorPercentage": "500"}, "RemediationErrorPercentage: '500' is not a whole number from 1 to 100"),
    ({"NamePrefix": "bad prefix!"}, "NamePrefix: 'bad prefix!' is not letters, digits and hyphens"),
    ({"LogRetentionInDays": "7"}, "unknown pack-wide parameter 'LogRetentionInDays'"),
    ({SG: "443"}, f"unknown pack-wide parameter '{SG}' (a rule's values go in an object under its id)"),
])
def test_bad_parameters_file_is_one_line_and_exit_2(capsys, tmp_path, document, message):
    path = parameters_file(tmp_path, document)

    status, out, err = run(capsys, "--parameters", path)

    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("perimeter: error: ") and message in err, err


def test_missing_parameters_file_is_one_line_and_exit_2(capsys, tmp_path):
    status, out, err = run(capsys, "--parameters", str(tmp_path / "absent.json"))

    assert (status, out) == (2, "")
    assert err == f"perimeter: error: {tmp_path / 'absent.json'}: no such parameters file\n"
