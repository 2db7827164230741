"""Every rule's runbook renders, validates with no findings, stays within 24 KB, and follows the pack's conventions."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from perimeter.runbooks import MAX_DOCUMENT_BYTES, default_function_name, dump_runbook, render_runbook
from perimeter.templates import ACCOUNT_STACK, ORG_MEMBER
from tests.ssm import validator

RULES = Path(__file__).resolve().parents[1] / "rules"
RUNBOOKS = sorted(RULES.glob("*/runbook.yaml"))
ASSUME_ROLE = "{{ AutomationAssumeRole }}"
RUNTIME = "python3.11"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
DOCUMENT_LIMIT = 24 * 1024  # issue 11: every rendered document, whatever the number of rules


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


def test_every_document_stays_within_24_kb_as_rendered_and_as_deployed(document):
    assert MAX_DOCUMENT_BYTES == DOCUMENT_LIMIT
    for text in (json.dumps(document, separators=(",", ":")), dump_runbook(document, "json"),
                 dump_runbook(document, "yaml")):
        assert len(text.encode("utf-8")) <= DOCUMENT_LIMIT, f"{len(text.encode('utf-8'))} bytes"


@pytest.mark.parametrize("relative", (ACCOUNT_STACK, ORG_MEMBER))
def test_every_deployed_document_stays_within_24_kb(relative):
    template = yaml.safe_load((TEMPLATES / relative).read_text(encoding="utf-8"))
    contents = [resource["Properties"]["Content"] for resource in template["Resources"].values()
                if resource["Type"] == "AWS::SSM::Document"]
    assert len(contents) == len(RUNBOOKS)
    for content in contents:
        # CloudFormation sends the Content as JSON, the Fn::Sub of the function's ARN resolved to at most 140 bytes.
        size = len(json.dumps(content, separators=(",", ":")).encode("utf-8"))
        assert size <= DOCUMENT_LIMIT, f"{relative}: a document of {size} bytes"


def test_the_remediation_runs_in_the_rules_remediation_function(document):
    """No script step carries the rule's code: each remediation step invokes the rule's function, and the step of
    the original name checks its answer with a few lines of the standard library."""
    steps = {step["name"]: step for _, step in validator.walk_steps(document["mainSteps"])}
    invokes = [step for step in steps.values() if step["action"] == "aws:invokeLambdaFunction"]
    assert invokes
    for invoke in invokes:
        check = steps[invoke["nextStep"]]
        assert invoke["name"] == check["name"] + "Invoke"
        rule_id = check["inputs"]["InputPayload"]["RuleId"]
        assert invoke["inputs"]["FunctionName"] == default_function_name(rule_id)
        assert invoke["timeoutSeconds"] <= 300
        assert len(check["inputs"]["Script"]) < 2000
    for step in steps.values():
        if step["action"] == "aws:executeScript":
            script = step["inputs"]["Script"]
            assert "import perimeter" not in script and "from perimeter" not in script, step["name"]
