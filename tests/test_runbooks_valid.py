"""Every rule's runbook renders, validates with no findings, and follows the pack's conventions."""
from __future__ import annotations

from pathlib import Path

import pytest

from perimeter.runbooks import render_runbook
from tests.ssm import validator

RULES = Path(__file__).resolve().parents[1] / "rules"
RUNBOOKS = sorted(RULES.glob("*/runbook.yaml"))
ASSUME_ROLE = "{{ AutomationAssumeRole }}"
RUNTIME = "python3.11"


def test_there_are_runbooks():
    assert RUNBOOKS, f"no rules/*/runbook.yaml under {RULES}"


@pytest.fixture(params=RUNBOOKS, ids=[path.parent.name for path in RUNBOOKS])
def document(request) -> dict:
    return render_runbook(request.param.parent)


def test_validates_with_no_findings(document):
    findings = validator.validate_document(document)
    assert findings == [], "\n".join(map(str, findings))


def test_every_parameter_has_an_allowed_pattern(document):
    missing = [name for name, declaration in (document.get("parameters") or {}).items()
               if not declaration.get("allowedPattern")]
    assert missing == []
    assert "AutomationAssumeRole" in document["parameters"]


def test_runs_as_the_automation_assume_role(document):
    assert document["schemaVersion"] == "0.3"
    assert document["assumeRole"] == ASSUME_ROLE


def test_scripts_run_on_python_3_11(document):
    scripts = [step for _, step in validator.walk_steps(document["mainSteps"])
               if step.get("action") == "aws:executeScript"]
    assert scripts, "no aws:executeScript step"
    assert {step["inputs"]["Runtime"] for step in scripts} == {RUNTIME}
