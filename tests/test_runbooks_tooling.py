"""The runbook tooling: rendering documents that call the remediation functions, validating documents, running them
against moto (Lambda functions run from their code, tests/ssm/lambdas.py)."""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

import perimeter
from perimeter.runbooks import (
    CHECK_SCRIPT, INVOKE_TIMEOUT_SECONDS, MAX_DOCUMENT_BYTES, RunbookError, default_function_name, dump_runbook,
    render_runbook,
)
from tests.ssm import validator
from tests.ssm.lambdas import LambdaFunction, deployed_functions
from tests.ssm.runner import FAILED, MISSING, SUCCESS, ParameterError, run_document, select
from tests.ssm.validator import SchemaMissing, validate_document

FIXTURES = Path(__file__).parent / "fixtures" / "runbooks"
CORE = FIXTURES / "core"  # a stand-in core package with a known import graph
SAMPLE_RULE = FIXTURES / "sample_rule"
ROLE = "arn:aws:iam::123456789012:role/Remediation"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def schema_path() -> Path:
    if not validator.SCHEMA_PATH.is_file():
        pytest.fail(f"{validator.SCHEMA_PATH} is missing: run `make test`, which installs the npm package "
                    f"{validator.SCHEMA_PACKAGE} into build/npm")
    return validator.SCHEMA_PATH


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def group(aws) -> str:
    """A security group with SSH open to the world and to 10.0.0.0/8."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="web", Description="fixture", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}],
    }])
    return group_id


def ingress_sources(group_id: str) -> list[str]:
    rules = boto3.client("ec2", region_name=REGION).describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return sorted(rule["CidrIpv4"] for rule in rules if not rule["IsEgress"])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def sample_document(**options) -> dict:
    return render_runbook(SAMPLE_RULE, **options)


FUNCTION = "perimeter-sample-rule-remediation"  # default_function_name("sample-rule")


# --- renderer -----------------------------------------------------------------------------------------------

def test_the_script_step_becomes_a_call_of_the_remediation_function_and_a_check_of_its_answer():
    rendered = sample_document()
    source = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    invoke, check = rendered["mainSteps"][1:3]
    original = source["mainSteps"][1]

    assert [step["name"] for step in rendered["mainSteps"]] == ["CheckGroup", "RemediateInvoke", "Remediate",
                                                                 "StopOnDryRun", "Verify"]
    assert invoke == {"name": "RemediateInvoke", "action": "aws:invokeLambdaFunction",
                      "timeoutSeconds": INVOKE_TIMEOUT_SECONDS, "nextStep": "Remediate", "inputs": {
                          "FunctionName": FUNCTION, "InvocationType": "RequestResponse",
                          "InputPayload": {**original["inputs"]["InputPayload"],
                                           "automation:EXECUTION_ID": "{{ automation:EXECUTION_ID }}"}}}
    assert check["name"] == "Remediate" and check["action"] == "aws:executeScript"
    assert check["outputs"] == original["outputs"]  # $.Payload.X selects from what the check step returns
    assert check["inputs"]["Script"] == CHECK_SCRIPT
    assert check["inputs"]["InputPayload"] == {"RuleId": "sample-rule", "Function": FUNCTION,
                                               "Payload": "{{ RemediateInvoke.Payload }}"}
    del rendered["mainSteps"][1:3], source["mainSteps"][1]
    assert rendered == source  # nothing else changed
    assert default_function_name("sample-rule") == FUNCTION


def test_the_function_name_may_be_a_cloudformation_expression():
    arn = {"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:x-remediation"}
    rendered = sample_document(function_name=arn)
    assert rendered["mainSteps"][1]["inputs"]["FunctionName"] == arn
    assert rendered["mainSteps"][2]["inputs"]["InputPayload"]["Function"] == arn


def test_the_remediation_steps_flow_options_go_to_the_call_and_the_check(tmp_path):
    runbook = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    runbook["mainSteps"][1].update(maxAttempts=2, onFailure="step:Verify", isCritical=False, nextStep="Verify",
                                   timeoutSeconds=600, description="Revoke.")
    # Every jump to the script step must reach its call first.
    runbook["mainSteps"][0].update(nextStep="Remediate", onCancel="step:Remediate")
    runbook["mainSteps"][2]["inputs"]["Default"] = "Remediate"
    runbook["mainSteps"][2]["inputs"]["Choices"].append(
        {"NextStep": "Remediate", "Variable": "{{ DryRun }}", "BooleanEquals": True})
    rule = copy_rule(tmp_path, runbook)

    steps = {step["name"]: step for step in render_runbook(rule)["mainSteps"]}

    invoke, check = steps["RemediateInvoke"], steps["Remediate"]
    assert (invoke["maxAttempts"], invoke["onFailure"], invoke["isCritical"], invoke["nextStep"]) == (
        2, "step:Verify", False, "Remediate")
    assert (invoke["timeoutSeconds"], invoke["description"]) == (300, "Revoke.")  # the action's maximum
    assert (check["onFailure"], check["isCritical"], check["nextStep"]) == ("step:Verify", False, "Verify")
    assert "maxAttempts" not in check  # a retry of the check would read the same answer
    assert (steps["CheckGroup"]["nextStep"], steps["CheckGroup"]["onCancel"]) == (
        "RemediateInvoke", "step:RemediateInvoke")
    assert steps["StopOnDryRun"]["inputs"]["Default"] == "RemediateInvoke"
    assert steps["StopOnDryRun"]["inputs"]["Choices"][1]["NextStep"] == "RemediateInvoke"


def copy_rule(tmp_path: Path, runbook: dict, name: str = "sample_rule") -> Path:
    rule = tmp_path / name
    write(rule / "remediation.py", (SAMPLE_RULE / "remediation.py").read_text())
    (rule / "runbook.yaml").write_text(yaml.safe_dump(runbook, sort_keys=False), encoding="utf-8")
    return rule


def test_other_script_files_are_inlined_and_may_use_only_what_the_script_runtime_has(tmp_path):
    runbook = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    runbook["mainSteps"].append({"name": "Fail", "action": "aws:executeScript", "isEnd": True, "inputs": {
        "Runtime": "python3.11", "Handler": "handler", "InputPayload": {"Failure": "x"}, "ScriptFile": "fail.py"}})
    rule = copy_rule(tmp_path, runbook)
    fail = "import json\n\n\ndef handler(events, context):\n    raise RuntimeError(json.dumps(events))\n"
    write(rule / "fail.py", fail)

    last = render_runbook(rule)["mainSteps"][-1]

    assert last["inputs"] == {"Runtime": "python3.11", "Handler": "handler", "InputPayload": {"Failure": "x"},
                              "Script": fail}
    write(rule / "fail.py", "from perimeter.ports import parse_port\n\n\ndef handler(events, context):\n    pass\n")
    with pytest.raises(RunbookError, match="imports perimeter.ports, which an inlined aws:executeScript script cannot"):
        render_runbook(rule)


def with_step(**changes):
    def change(runbook):
        runbook["mainSteps"][1].update(changes)
    return change


def with_input(**changes):
    def change(runbook):
        runbook["mainSteps"][1]["inputs"].update(changes)
    return change


REFUSED_RUNBOOKS = {
    "handler name": (with_input(Handler="main"), "Handler must be 'handler'"),
    "script and file": (with_input(Script="x = 1"), "either ScriptFile or Script/Attachment"),
    "file outside": (with_input(ScriptFile="../elsewhere.py"), "must name a file in"),
    "reserved key": (with_input(InputPayload={"automation:EXECUTION_ID": "x"}), "is reserved"),
    "name taken": (lambda runbook: runbook["mainSteps"][0].update(name="RemediateInvoke"),
                   r"step names \['RemediateInvoke'\] are needed"),
    "payload not a map": (with_input(InputPayload="{}"), "InputPayload must be a mapping"),
    "no name": (with_step(name=""), "has no name"),
}


@pytest.mark.parametrize("change, message", REFUSED_RUNBOOKS.values(), ids=REFUSED_RUNBOOKS.keys())
def test_script_steps_the_remediation_function_cannot_run_are_refused(tmp_path, change, message):
    runbook = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    change(runbook)
    with pytest.raises(RunbookError, match=message):
        render_runbook(copy_rule(tmp_path, runbook))


def test_a_remediation_module_without_its_handler_is_refused(tmp_path):
    rule = copy_rule(tmp_path, yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text()))
    write(rule / "remediation.py", "def main(events, context):\n    return {}\n")
    with pytest.raises(RunbookError, match=r"needs a top-level handler\(events, context\)"):
        render_runbook(rule)


def test_documents_over_the_packs_budget_are_refused(tmp_path):
    runbook = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    runbook["description"] = "x" * MAX_DOCUMENT_BYTES
    with pytest.raises(RunbookError, match=f"the pack allows at most {MAX_DOCUMENT_BYTES} bytes"):
        render_runbook(copy_rule(tmp_path, runbook))
    assert MAX_DOCUMENT_BYTES == 24 * 1024


def test_dumped_text_loads_back_and_shows_the_check_script_as_a_block():
    document = sample_document()
    text = dump_runbook(document, "yaml")
    assert "    Script: |\n      import json\n" in text
    assert yaml.safe_load(text) == document
    assert json.loads(dump_runbook(document, "json")) == document
    assert dump_runbook(sample_document()) == text  # deterministic


# --- validator ----------------------------------------------------------------------------------------------

def valid_document() -> dict:
    return yaml.safe_load((FIXTURES / "documents" / "valid.yaml").read_text())


def step(document: dict, name: str) -> dict:
    return next(item for item in validator.walk_steps(document["mainSteps"]) if item[1]["name"] == name)[1]


def test_valid_documents_have_no_findings(schema_path):
    assert validate_document(valid_document(), schema_path) == []
    assert validate_document(sample_document(), schema_path) == []


def test_an_unrendered_document_is_reported(schema_path):
    document = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    findings = validate_document(document, schema_path)
    assert {finding.kind for finding in findings} == {validator.SCHEMA, validator.HANDLER}
    assert any("render the runbook first" in finding.message for finding in findings)


def replace(name: str, key: str, value):
    def change(document):
        step(document, name)[key] = value
    return change


def rename_key(mapping: dict, old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def set_input(name: str, key: str, value):
    def change(document):
        step(document, name)["inputs"][key] = value
    return change


BAD_DOCUMENTS = {
    "outdated runtime": (set_input("Revoke", "Runtime", "python3.8"), validator.SCHEMA, "'python3.8' is not one of"),
    "no handler": (lambda d: step(d, "Revoke")["inputs"].pop("Handler"), validator.SCHEMA, "'Handler' is a required"),
    "two operators": (lambda d: step(d, "Decide")["inputs"]["Choices"][1]["Or"][0].update(StringEquals="x"),
                      validator.SCHEMA, "too many properties|Additional properties"),
    "operator typo": (lambda d: rename_key(step(d, "Decide")["inputs"]["Choices"][0]["And"][0], "BooleanEquals",
                                           "BoolEquals"), validator.SCHEMA, "'BoolEquals' was unexpected"),
    "too many iterations": (set_input("EachPort", "MaxIterations", 101), validator.SCHEMA, "101 is greater than"),
    "output without type": (lambda d: step(d, "Report")["outputs"][0].pop("Type"), validator.SCHEMA, "'Type'"),
    "unknown action": (replace("Check", "action", "aws:assertResource"), validator.SCHEMA, "aws:assertResource"),
    "service casing": (set_input("Describe", "Service", "EC2"), validator.AWS_API, "unknown Service 'EC2'"),
    "snake-case api": (set_input("ReadPolicy", "Api", "describe_firewall_policy"), validator.AWS_API,
                       "PascalCase: 'DescribeFirewallPolicy'"),
    "unknown parameter": (set_input("Check", "Group", "x"), validator.AWS_API, "unknown parameter 'Group'"),
    "missing parameter": (lambda d: step(d, "TagPort")["inputs"].pop("Resources"), validator.AWS_API,
                          "missing required parameter 'Resources'"),
    "nested unknown": (set_input("Describe", "Filters", [{"Name": "group-id", "Value": ["x"]}]), validator.AWS_API,
                       r"inputs.Filters\[0\].Value: .*unknown parameter 'Value'"),
    "literal type": (set_input("Describe", "MaxResults", "many"), validator.AWS_API, "expects integer, got str"),
    "handler missing": (set_input("Report", "Handler", "main"), validator.HANDLER, "no top-level function 'main'"),
    "handler arity": (set_input("Report", "Script", "def report(events):\n    return {}\n"), validator.HANDLER,
                      r"two parameters \(events, context\)"),
    "script syntax": (set_input("Report", "Script", "def report(events, context)\n"), validator.HANDLER,
                      "does not parse"),
    "unknown parameter reference": (set_input("Check", "GroupIds", ["{{ SecurityGroupId }}"]), validator.REFERENCE,
                                    "SecurityGroupId }} is not a declared parameter"),
    "later step output": (set_input("Describe", "MaxResults", "{{ Revoke.Count }}"), validator.REFERENCE,
                          "no earlier step named 'Revoke'"),
    "undeclared output": (set_input("Check", "DesiredValues", ["{{ Describe.GroupId }}"]), validator.REFERENCE,
                          "step 'Describe' declares no output 'GroupId'"),
    "unknown variable": (set_input("Report", "InputPayload", {"Id": "{{ automation:RUN_ID }}"}), validator.REFERENCE,
                         "is not an automation variable"),
    "document output": (lambda d: d["outputs"].append("Revoke.Total"), validator.REFERENCE,
                        "'Revoke.Total' is not a declared step output"),
    "next step": (replace("Revoke", "nextStep", "Verify"), validator.STEP_TARGET, "no step named 'Verify'"),
    "choice target": (lambda d: step(d, "Decide")["inputs"]["Choices"][0].update(NextStep="Stop"),
                      validator.STEP_TARGET, "Choices\\[0\\].NextStep: no step named 'Stop'"),
    "default target": (set_input("Decide", "Default", "Finish"), validator.STEP_TARGET, "no step named 'Finish'"),
    "failure target": (replace("Revoke", "onFailure", "step:Rollback"), validator.STEP_TARGET, "'Rollback'"),
    "loop step target": (lambda d: step(d, "TagPort").update(nextStep="Tag"), validator.STEP_TARGET,
                         r"Steps\[0\]\(TagPort\).nextStep: no step named 'Tag'"),
    "duplicate name": (replace("Check", "name", "Describe"), validator.STEP_TARGET, "used twice"),
    "invoke over 300 seconds": (replace("Notify", "timeoutSeconds", 600), validator.SCHEMA, "600 is greater than"),
    "invoke input typo": (set_input("Notify", "Function", "x"), validator.SCHEMA, "'Function' was unexpected"),
    "invocation type": (set_input("Notify", "InvocationType", "Sync"), validator.SCHEMA, "'Sync'"),
    "input payload not a map": (set_input("Notify", "InputPayload", "{}"), validator.SCHEMA, "is not of type 'object'"),
    "function name pattern": (set_input("Notify", "FunctionName", "my function"), validator.AWS_API,
                              r"lambda.Invoke: 'my function' does not match the pattern"),
    "function name length": (set_input("Notify", "FunctionName", "f" * 257), validator.AWS_API,
                             "outside 1-256"),
    "invoke output": (set_input("Report", "InputPayload", {"Answer": "{{ Notify.Result }}"}), validator.REFERENCE,
                      "step 'Notify' declares no output 'Result'"),
}


@pytest.mark.parametrize("change, kind, message", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_each_kind_of_problem_is_found(schema_path, change, kind, message):
    document = valid_document()
    change(document)
    findings = validate_document(document, schema_path)
    assert findings, "the broken document passed"
    assert any(finding.kind == kind and re.search(message, str(finding))
               for finding in findings), "\n".join(map(str, findings))


def test_the_schema_overlay_never_changes_the_package_file(schema_path):
    before = schema_path.read_bytes()
    schema = validator.load_schema(schema_path)
    assert "aws:loop" in schema["properties"]["mainSteps"]["items"]["properties"]["action"]["enum"]
    assert schema_path.read_bytes() == before
    assert "aws:loop" not in json.loads(before)["properties"]["mainSteps"]["items"]["properties"]["action"]["enum"]


def test_a_missing_schema_says_how_to_get_it(tmp_path):
    with pytest.raises(SchemaMissing, match="run `make test`"):
        validate_document(valid_document(), tmp_path / "schema.json")


# --- runner -------------------------------------------------------------------------------------------------

def document(*steps: dict, parameters: dict | None = None, outputs: list | None = None) -> dict:
    return {"schemaVersion": "0.3", "parameters": parameters or {}, "mainSteps": list(steps),
            "outputs": outputs or []}


def script_step(name: str, body: str, payload: dict | None = None, outputs: list | None = None, **options) -> dict:
    source = "def handler(events, context):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return {"name": name, "action": "aws:executeScript", **options,
            "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": source,
                       "InputPayload": payload or {}},
            "outputs": outputs or []}


def output(name: str, selector: str, kind: str) -> dict:
    return {"Name": name, "Selector": selector, "Type": kind}


# The sample rule's remediation function: its code is the stand-in core, the rule's remediation.py and an entry
# point answering as perimeter.remediation_entry does (the real one runs in tests/test_runbook_*.py).
SAMPLE_ENTRY = """\
import os

import remediation


def lambda_handler(event, context):
    events = dict(event)
    execution = {"automation:EXECUTION_ID": events.pop("automation:EXECUTION_ID")}
    return {"RuleId": os.environ["PERIMETER_RULE_ID"], "Result": remediation.handler(events, execution)}
"""


def function_code(folder: Path, **modules: str) -> Path:
    """A function's code folder: the stand-in core package and the given top-level modules."""
    shutil.copytree(CORE / "perimeter", folder / "perimeter")
    for name, text in modules.items():
        write(folder / f"{name}.py", text)
    return folder


@pytest.fixture
def sample_functions(tmp_path) -> dict[str, LambdaFunction]:
    code = function_code(tmp_path / "task", remediation=(SAMPLE_RULE / "remediation.py").read_text(),
                         sample_entry=SAMPLE_ENTRY)
    return {FUNCTION: LambdaFunction(FUNCTION, "sample_entry.lambda_handler", {"PERIMETER_RULE_ID": "sample-rule"},
                                     code, timeout=60)}


def test_sample_rule_remediates_then_changes_nothing(group, sample_functions):
    rendered = sample_document()
    parameters = {"AutomationAssumeRole": ROLE, "GroupId": group, "Port": 22}
    first = run_document(rendered, parameters, functions=sample_functions)
    assert (first.status, first.executed) == (
        SUCCESS, ["CheckGroup", "RemediateInvoke", "Remediate", "StopOnDryRun", "Verify"]), first.failure_message
    assert first.outputs == {"Remediate.Revoked": ["tcp 22-22 from 0.0.0.0/0"], "Remediate.RevokedCount": 1}
    assert first.assume_role == ROLE
    assert ingress_sources(group) == ["10.0.0.0/8"]
    again = run_document(rendered, parameters, functions=sample_functions)
    assert (again.status, again.outputs["Remediate.RevokedCount"]) == (SUCCESS, 0)
    assert sys.modules["perimeter"] is perimeter  # the test process gets its real package back


def test_sample_rule_dry_run_reports_and_stops(group, sample_functions):
    result = run_document(sample_document(), {"AutomationAssumeRole": ROLE, "GroupId": group, "Port": "22",
                                              "DryRun": "true"}, functions=sample_functions)
    assert result.executed == ["CheckGroup", "RemediateInvoke", "Remediate", "StopOnDryRun"]
    assert result.outputs["Remediate.RevokedCount"] == 1
    assert ingress_sources(group) == ["0.0.0.0/0", "10.0.0.0/8"]


ANSWERS = {
    "raised": ("raise ValueError('group sg-1 is gone')", FAILED,
               "failed: ValueError: group sg-1 is gone (its log group has the traceback)"),
    "another rule": ("return {'RuleId': 'other-rule', 'Result': {}}", FAILED,
                     "did not answer as the remediation function of sample-rule"),
    "not an object": ("return {'RuleId': 'sample-rule', 'Result': [1]}", FAILED,
                      "the remediation of sample-rule returned [1], not an object"),
    "not JSON": ("return {'RuleId': 'sample-rule', 'Result': {1, 2}}", FAILED, "Runtime.MarshalError"),
    "a result": ("return {'RuleId': 'sample-rule', 'Result': {'Revoked': [], 'RevokedCount': 0}}", SUCCESS, None),
}


@pytest.mark.parametrize("body, status, message", ANSWERS.values(), ids=ANSWERS.keys())
def test_the_check_step_passes_only_the_remediation_functions_result(aws, tmp_path, body, status, message):
    entry = f"def lambda_handler(event, context):\n    {body}\n"
    functions = {FUNCTION: LambdaFunction(FUNCTION, "entry.lambda_handler", {}, function_code(tmp_path, entry=entry))}
    steps = sample_document()["mainSteps"][1:3]
    steps[1].pop("isEnd", None)

    result = run_document(document(*steps, parameters={name: {"type": "String", "default": "1"}
                                                       for name in ("GroupId", "Port", "DryRun")}),
                          functions=functions)

    assert result.status == status, result.failure_message
    assert result.step("RemediateInvoke").status == SUCCESS  # Lambda answered; FunctionError is an output
    if message:
        assert message in result.failure_message and result.failure_message.startswith("Step Remediate failed")
    else:
        assert result.step("Remediate").outputs == {"Revoked": [], "RevokedCount": 0}


def invoke_step(payload: dict | None = None, **inputs) -> dict:
    return {"name": "Call", "action": "aws:invokeLambdaFunction",
            "inputs": {"FunctionName": "probe", **({"InputPayload": payload} if payload is not None else {}),
                       **inputs}}


PROBE = """\
import os

import helper

CALLS = []


def lambda_handler(event, context):
    CALLS.append(event)
    if event.get("Fail"):
        raise KeyError("Fail")
    return {"Event": event, "Calls": len(CALLS), "Variable": os.environ["PROBE"], "Region": os.environ["AWS_REGION"],
            "Function": context.function_name, "Helper": helper.NAME}
"""


@pytest.fixture
def probe(tmp_path) -> dict[str, LambdaFunction]:
    code = function_code(tmp_path / "task", probe=PROBE, helper="NAME = 'from the function code'\n")
    return {"probe": LambdaFunction("probe", "probe.lambda_handler", {"PROBE": "set"}, code)}


def test_invoke_hands_the_typed_input_payload_and_keeps_the_function_warm(aws, probe):
    parameters = {"Ports": {"type": "StringList", "default": ["22"]}, "Apply": {"type": "Boolean", "default": True},
                  "Limit": {"type": "Integer", "default": 3}, "Name": {"type": "String", "default": 'a "b"\\'}}
    payload = {"Ports": "{{ Ports }}", "Apply": "{{ Apply }}", "Limit": "{{ Limit }}", "Name": "{{ Name }}"}
    steps = [invoke_step(payload), {**invoke_step(payload), "name": "Again",
                                    "outputs": [output("Calls", "$.Payload", "String")]}]

    result = run_document(document(*steps, parameters=parameters), functions=probe)

    assert result.status == SUCCESS, result.failure_message
    call = result.step("Call").outputs
    assert (call["StatusCode"], "FunctionError" not in call) == (200, True)
    assert json.loads(call["Payload"]) == {
        "Event": {"Ports": ["22"], "Apply": True, "Limit": 3, "Name": 'a "b"\\'}, "Calls": 1, "Variable": "set",
        "Region": REGION, "Function": "probe", "Helper": "from the function code"}
    assert json.loads(result.step("Again").outputs["Calls"])["Calls"] == 2  # a warm execution environment
    assert "PROBE" not in os.environ and "helper" not in sys.modules


def test_invoke_reports_an_unhandled_error_as_function_error(aws, probe):
    result = run_document(document(invoke_step({"Fail": True})), functions=probe)

    assert result.status == SUCCESS  # the Invoke call succeeded; the function did not
    outputs = result.step("Call").outputs
    error = json.loads(outputs["Payload"])
    assert outputs["FunctionError"] == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'Fail'")
    assert error["requestId"] and error["stackTrace"]


def test_invoke_takes_the_legacy_payload_and_prefers_input_payload(aws, probe):
    legacy = run_document(document(invoke_step(Payload='{"A": 1}')), functions=probe)
    both = run_document(document(invoke_step({"B": 2}, Payload='{"A": 1}')), functions=probe)
    assert json.loads(legacy.step("Call").outputs["Payload"])["Event"] == {"A": 1}
    assert json.loads(both.step("Call").outputs["Payload"])["Event"] == {"B": 2}


@pytest.mark.parametrize("name, message", [
    ("elsewhere", "Function not found: elsewhere"),
    ("arn:aws:lambda:eu-west-1:123456789012:function:probe", "is in eu-west-1, not in the automation's region"),
])
def test_invoking_a_function_that_is_not_there_fails_the_step(aws, probe, name, message):
    result = run_document(document(invoke_step({}, FunctionName=name)), functions=probe)
    assert result.status == FAILED and "ResourceNotFoundException" in result.failure_message
    assert message in result.failure_message


def test_a_function_imports_its_packages_from_its_code_only(aws, tmp_path):
    entry = "def lambda_handler(event, context):\n    import perimeter.ports\n    return {}\n"
    functions = {"probe": LambdaFunction("probe", "entry.lambda_handler", {}, function_code(tmp_path, entry=entry))}
    result = run_document(document(invoke_step({})), functions=functions)
    error = json.loads(result.step("Call").outputs["Payload"])
    assert (error["errorType"], error["errorMessage"]) == (
        "ModuleNotFoundError", "No module named 'perimeter.ports' in the function's code")
    assert sys.modules["perimeter"] is perimeter


def test_by_default_the_account_stacks_functions_run_from_the_artifact():
    functions = deployed_functions()
    remediation = functions["perimeter-sg-ingress-port-range-restricted-remediation"]
    assert remediation.handler == "perimeter.remediation_entry.lambda_handler"
    assert remediation.environment == {"PERIMETER_RULE_ID": "sg-ingress-port-range-restricted"}
    assert (remediation.code / "perimeter" / "remediation_entry.py").is_file()
    assert not (remediation.code / "perimeter" / "runbooks.py").exists()  # build tooling is not in the artifact
    assert functions["perimeter-sg-ingress-port-range-restricted"].handler == "perimeter.entry.lambda_handler"


def describe_group(*outputs: dict) -> dict:
    return document({"name": "Read", "action": "aws:executeAwsApi", "outputs": list(outputs),
                     "inputs": {"Service": "ec2", "Api": "DescribeSecurityGroups", "GroupIds": ["{{ GroupId }}"]}},
                    parameters={"GroupId": {"type": "String"}})


def test_execute_aws_api_outputs_come_from_selectors(group):
    result = run_document(describe_group(output("Name", "$.SecurityGroups[0].GroupName", "String"),
                                         output("Protocols", "$.SecurityGroups[0].IpPermissions[*].IpProtocol",
                                                "StringList"),
                                         output("Permissions", "$.SecurityGroups[0].IpPermissions", "MapList"),
                                         output("Absent", "$.SecurityGroups[3].GroupName", "String")),
                          {"GroupId": group})
    assert result.status == SUCCESS
    assert result.step("Read").outputs == {
        "Name": "web", "Protocols": ["tcp"], "Permissions": [{
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [], "Ipv6Ranges": [],
            "PrefixListIds": [], "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "10.0.0.0/8"}]}]}


def test_outputs_of_the_wrong_type_fail_the_step(group):
    result = run_document(describe_group(output("Name", "$.SecurityGroups[0].GroupName", "Integer")),
                          {"GroupId": group})
    assert result.status == FAILED
    assert "output Name: $.SecurityGroups[0].GroupName is web, not a Integer" in result.failure_message


def test_execute_aws_api_errors_fail_the_step(aws):
    call = {"name": "Read", "action": "aws:executeAwsApi",
            "inputs": {"Service": "ec2", "Api": "DescribeSecurityGroups", "GroupIds": ["sg-00000000"]}}
    result = run_document(document(call))
    assert result.status == FAILED
    assert "InvalidGroup.NotFound" in result.failure_message


@pytest.mark.parametrize("desired, status", [(["{{ GroupId }}"], SUCCESS), (["sg-other"], FAILED)])
def test_assert_resource_property(group, desired, status):
    check = {"name": "Check", "action": "aws:assertAwsResourceProperty",
             "inputs": {"Service": "ec2", "Api": "DescribeSecurityGroups", "GroupIds": ["{{ GroupId }}"],
                        "PropertySelector": "$.SecurityGroups[0].GroupId", "DesiredValues": desired}}
    result = run_document(document(check, parameters={"GroupId": {"type": "String"}}), {"GroupId": group})
    assert result.status == status
    if status == FAILED:
        assert f"is {group}, expected one of ['sg-other']" in result.failure_message


def test_script_payload_and_typed_substitution(aws):
    parameters = {"Name": {"type": "String", "default": "web"}, "Ports": {"type": "StringList"},
                  "Apply": {"type": "Boolean", "default": False}, "Limit": {"type": "Integer", "default": 3},
                  "Rules": {"type": "MapList", "default": [{"Port": "22"}]}, "Tags": {"type": "StringMap"}}
    payload = {"Name": "{{ Name }}", "Ports": "{{ Ports }}", "Apply": "{{Apply}}", "Limit": "{{ Limit }}",
               "Rules": "{{ Rules }}", "Tags": "{{ Tags }}", "Text": "{{ Name }}:{{ Apply }}:{{ global:REGION }}",
               "Execution": "{{ automation:EXECUTION_ID }}", "Account": "{{ global:ACCOUNT_ID }}"}
    echo = script_step("Echo", "return events", payload, [output("All", "$.Payload", "StringMap"),
                                                            output("Ports", "$.Payload.Ports", "StringList")])
    result = run_document(document(echo, parameters=parameters, outputs=["Echo.Ports"]),
                          {"Ports": ["22", "443"], "Apply": "true", "Tags": '{"team": "net"}'}, execution_id="e-1")
    assert result.step("Echo").outputs["All"] == {
        "Name": "web", "Ports": ["22", "443"], "Apply": True, "Limit": 3, "Rules": [{"Port": "22"}],
        "Tags": {"team": "net"}, "Text": "web:true:us-east-1", "Execution": "e-1", "Account": "123456789012"}
    assert result.outputs == {"Echo.Ports": ["22", "443"]}


@pytest.mark.parametrize("given, message", [
    ({}, "parameter Ports is required"),
    ({"Ports": ["22"], "Extra": "x"}, r"not declared by the document: \['Extra'\]"),
    ({"Ports": ["22", "ssh"]}, "does not match allowedPattern"),
    ({"Ports": "22"}, "is not a StringList"),
    ({"Ports": ["22"], "Limit": "three"}, "is not a Integer"),
    ({"Ports": ["22"], "Limit": 9}, r"is not one of \[1, 2, 3\]"),
    ({"Ports": []}, "outside minItems/maxItems"),
])
def test_parameters_ssm_would_refuse(given, message):
    parameters = {"Ports": {"type": "StringList", "allowedPattern": r"^\d+$", "minItems": 1},
                  "Limit": {"type": "Integer", "default": 1, "allowedValues": [1, 2, 3]}}
    with pytest.raises(ParameterError, match=message):
        run_document(document(script_step("Noop", "return {}"), parameters=parameters), given)


def test_script_failures_fail_the_step_with_the_traceback(aws):
    result = run_document(document(script_step("Boom", "raise ValueError('no such rule')"),
                                   script_step("After", "return {}")))
    assert (result.status, result.executed) == (FAILED, ["Boom"])
    assert "Traceback" in result.failure_message and "ValueError: no such rule" in result.failure_message
    not_json = run_document(document(script_step("Set", "return {1, 2}")))
    assert "not JSON" in not_json.failure_message


def test_scripts_cannot_import_the_packs_packages(aws):
    result = run_document(document(script_step("Unbundled", "import perimeter.ports\nreturn {}")))
    assert result.status == FAILED and "the aws:executeScript runtime does not have it" in result.failure_message
    assert sys.modules["perimeter"] is perimeter  # the test process gets its real package back


BRANCH_CASES = {
    "string equals": ({"Variable": "{{ Name }}", "StringEquals": "web"}, "Yes"),
    "ignore case": ({"Variable": "{{ Name }}", "EqualsIgnoreCase": "WEB"}, "Yes"),
    "starts with": ({"Variable": "{{ Name }}", "StartsWith": "we"}, "Yes"),
    "ends with": ({"Variable": "{{ Name }}", "EndsWith": "x"}, "No"),
    "contains member": ({"Variable": "{{ Ports }}", "Contains": "443"}, "Yes"),
    "contains not a substring of a member": ({"Variable": "{{ Ports }}", "Contains": "44"}, "No"),
    "contains substring": ({"Variable": "{{ Name }}", "Contains": "e"}, "Yes"),
    "numeric equals": ({"Variable": "{{ Count }}", "NumericEquals": 2}, "Yes"),
    "numeric greater": ({"Variable": "{{ Count }}", "NumericGreater": 2}, "No"),
    "numeric lesser": ({"Variable": "{{ Count }}", "NumericLesser": 3}, "Yes"),
    "numeric greater or equals": ({"Variable": "{{ Count }}", "NumericGreaterOrEquals": 2}, "Yes"),
    "numeric lesser or equals": ({"Variable": "{{ Count }}", "NumericLesserOrEquals": 1}, "No"),
    "boolean equals": ({"Variable": "{{ Apply }}", "BooleanEquals": False}, "Yes"),
    "step output": ({"Variable": "{{ Count.Value }}", "NumericEquals": 2}, "Yes"),
    "and": ({"And": [{"Variable": "{{ Apply }}", "BooleanEquals": False},
                     {"Variable": "{{ Name }}", "StringEquals": "db"}]}, "No"),
    "or": ({"Or": [{"Variable": "{{ Apply }}", "BooleanEquals": True},
                   {"Variable": "{{ Name }}", "StringEquals": "web"}]}, "Yes"),
    "not": ({"Not": {"Variable": "{{ Name }}", "StringEquals": "web"}}, "No"),
}


@pytest.mark.parametrize("condition, chosen", BRANCH_CASES.values(), ids=BRANCH_CASES.keys())
def test_branch_conditions(aws, condition, chosen):
    parameters = {"Name": {"type": "String", "default": "web"}, "Ports": {"type": "StringList",
                  "default": ["22", "443"]}, "Count": {"type": "Integer", "default": 2},
                  "Apply": {"type": "Boolean", "default": False}}
    steps = [script_step("Count", "return 2", outputs=[output("Value", "$.Payload", "Integer")]),
             {"name": "Choose", "action": "aws:branch",
              "inputs": {"Choices": [{"NextStep": "Yes", **condition}], "Default": "No"}},
             script_step("Yes", "return {}", isEnd=True), script_step("No", "return {}")]
    result = run_document(document(*steps, parameters=parameters))
    assert result.executed == ["Count", "Choose", chosen]


def test_branch_without_match_or_default_goes_on_to_the_next_step(aws):
    choose = {"name": "Choose", "action": "aws:branch",
              "inputs": {"Choices": [{"NextStep": "Last", "Variable": "x", "StringEquals": "y"}]}}
    result = run_document(document(choose, script_step("Next", "return {}"), script_step("Last", "return {}")))
    assert result.executed == ["Choose", "Next", "Last"]


FLOW_CASES = {
    "abort stops": ({}, FAILED, ["Fail"]),
    "continue goes on and is not critical": ({"onFailure": "Continue"}, SUCCESS, ["Fail", "Middle", "Last"]),
    "continue of a critical step fails the run": ({"onFailure": "Continue", "isCritical": True}, FAILED,
                                                  ["Fail", "Middle", "Last"]),
    "jump on failure": ({"onFailure": "step:Last"}, FAILED, ["Fail", "Last"]),
    "jump on failure, not critical": ({"onFailure": "step:Last", "isCritical": "false"}, SUCCESS, ["Fail", "Last"]),
    "is end after a failure": ({"onFailure": "Continue", "isEnd": True}, SUCCESS, ["Fail"]),
}


@pytest.mark.parametrize("options, status, executed", FLOW_CASES.values(), ids=FLOW_CASES.keys())
def test_failure_handling(aws, options, status, executed):
    steps = [script_step("Fail", "raise RuntimeError('broken')", **options), script_step("Middle", "return {}"),
             script_step("Last", "return {}")]
    result = run_document(document(*steps))
    assert (result.status, result.executed) == (status, executed)
    assert result.step("Fail").message.endswith("RuntimeError: broken")


def test_next_step_and_is_end(aws):
    steps = [script_step("First", "return {}", nextStep="Third"), script_step("Second", "return {}"),
             script_step("Third", "return {}", isEnd="true"), script_step("Fourth", "return {}")]
    assert run_document(document(*steps)).executed == ["First", "Third"]


def test_max_attempts_retries_the_step(group):
    # The first attempt tags the group and fails; the second sees the tag and succeeds.
    body = """\
        import boto3
        ec2 = boto3.client("ec2", region_name="us-east-1")
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [events["GroupId"]]}])["Tags"]
        if not tags:
            ec2.create_tags(Resources=[events["GroupId"]], Tags=[{"Key": "tried", "Value": "1"}])
            raise RuntimeError("first attempt fails")
        return len(tags)
    """
    retried = script_step("Flaky", body, {"GroupId": "{{ GroupId }}"}, [output("Tags", "$.Payload", "Integer")],
                          maxAttempts=2)
    result = run_document(document(retried, parameters={"GroupId": {"type": "String"}}), {"GroupId": group})
    assert (result.status, result.step("Flaky").attempts, result.step("Flaky").outputs) == (SUCCESS, 2, {"Tags": 1})


def test_unknown_references_fail_the_step(aws):
    result = run_document(document(script_step("Read", "return {}", {"Value": "{{ Later.Value }}"})))
    assert "step Later has not produced output Value" in result.failure_message


def test_actions_the_runner_lacks_are_refused_before_anything_runs(aws):
    with pytest.raises(NotImplementedError, match="aws:sleep"):
        run_document(document({"name": "Wait", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}))


SELECTOR_ROOT = {"A": {"B": [{"C": 1}, {"C": 2}], "D-E": "x"}}


@pytest.mark.parametrize("selector, expected", [
    ("$.A.B[0].C", 1), ("$.A.B[-1].C", 2), ("$.A.B[*].C", [1, 2]), ("$.A.D-E", "x"), ("$.A.Missing", MISSING),
    ("$.A.B[5].C", MISSING), ("$", SELECTOR_ROOT),
])
def test_selectors(selector, expected):
    assert select(SELECTOR_ROOT, selector) == expected


def test_malformed_selectors_are_refused():
    with pytest.raises(ValueError, match="must start with"):
        select(SELECTOR_ROOT, "A.B")
    with pytest.raises(ValueError, match="cannot read"):
        select(SELECTOR_ROOT, "$.A[x]")
