"""The runbook tooling: bundling scripts into documents, validating documents, running them against moto."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

import perimeter
from perimeter.runbooks import (
    MAX_DOCUMENT_BYTES, PACKAGE_ROOT, RunbookError, bundle_script, code_only, core_modules, dump_runbook,
    render_runbook,
)
from tests.ssm import validator
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


def sample_document() -> dict:
    return render_runbook(SAMPLE_RULE, package_root=CORE)


# --- bundler ------------------------------------------------------------------------------------------------

def test_closure_holds_what_the_script_imports_transitively_dependencies_first():
    names = [module.name for module in core_modules(SAMPLE_RULE / "remediation.py", CORE)]
    # exposure imports labels (from perimeter import labels) and addresses (relative); unused is never imported.
    assert names == ["perimeter", "perimeter.addresses", "perimeter.labels", "perimeter.exposure"]


def test_render_replaces_script_file_by_the_bundle_in_place():
    rendered = sample_document()
    source = yaml.safe_load((SAMPLE_RULE / "runbook.yaml").read_text())
    script = rendered["mainSteps"][1]["inputs"].pop("Script")
    assert list(rendered["mainSteps"][1]["inputs"]) == ["Runtime", "Handler", "InputPayload"]
    del source["mainSteps"][1]["inputs"]["ScriptFile"]
    assert rendered == source  # nothing else changed
    future_line = "from __future__ import annotations\n"
    assert script.startswith(future_line)  # hoisted: Python accepts it only at the top
    assert script.endswith((SAMPLE_RULE / "remediation.py").read_text().replace(future_line, ""))
    assert "_perimeter_register('perimeter.exposure', False)" in script
    assert "perimeter.unused" not in script


def test_rendering_is_deterministic_whatever_the_import_order(tmp_path):
    first = write(tmp_path / "a.py", "from perimeter.labels import describe\nfrom perimeter.exposure import covers\n")
    second = write(tmp_path / "b.py", "import perimeter.exposure\nfrom perimeter import labels\n")
    prefix = [bundle_script(script, CORE).rsplit("# End of bundled", 1)[0] for script in (first, second)]
    assert prefix[0] == prefix[1]
    assert dump_runbook(sample_document()) == dump_runbook(sample_document())


def run_isolated(script: str, call: str) -> str:
    """Run script text in a fresh interpreter where importing perimeter from disk is impossible."""
    program = textwrap.dedent(f"""
        import importlib.abc, json, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("perimeter", "rdklib"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        try:
            import perimeter
            raise SystemExit("perimeter is importable")
        except ImportError:
            pass
        namespace = {{"__name__": "script"}}
        exec(compile(sys.stdin.read(), "<script>", "exec"), namespace)
        print(json.dumps({call}))
    """)
    done = subprocess.run([sys.executable, "-I", "-c", program], input=script, capture_output=True, text=True,
                          cwd="/", timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_bundled_script_runs_where_perimeter_is_not_importable():
    script = sample_document()["mainSteps"][1]["inputs"]["Script"]
    rule = {"SecurityGroupRuleId": "sgr-1", "IsEgress": False, "IpProtocol": "tcp", "FromPort": 0,
            "ToPort": 1024, "CidrIpv4": "0.0.0.0/0"}
    result = run_isolated(script, f"namespace['world_ingress']([{rule!r}], 22)")
    assert result == [["sgr-1", "tcp 0-1024 from 0.0.0.0/0"]]


def test_real_core_modules_bundle_and_run_on_their_own(tmp_path):
    script = write(tmp_path / "remediation.py", """\
        from __future__ import annotations
        from perimeter.securitygroups import *  # noqa: F403
        from perimeter import cidrs

        def handler(events, context):
            return cidrs.is_world(events["Cidr"])
    """)
    names = {module.name for module in core_modules(script, PACKAGE_ROOT)}
    assert {"perimeter", "perimeter.cidrs", "perimeter.ports", "perimeter.securitygroups"} <= names
    assert run_isolated(bundle_script(script), "namespace['handler']({'Cidr': '::/0'}, {})") is True


def test_a_rules_pure_evaluation_module_is_bundled_with_its_core_imports(tmp_path):
    script = write(tmp_path / "remediation.py", """\
        from perimeter.rules.sg_ingress_port_range_restricted.rule import parse_parameters

        def handler(events, context):
            return parse_parameters({"maxPorts": events["MaxPorts"]}).max_ports
    """)
    names = {module.name for module in core_modules(script, PACKAGE_ROOT)}
    assert {"perimeter.rules", "perimeter.rules.sg_ingress_port_range_restricted",
            "perimeter.rules.sg_ingress_port_range_restricted.rule",
            "perimeter.securitygroups", "perimeter.parameters"} <= names
    assert run_isolated(bundle_script(script), "namespace['handler']({'MaxPorts': '7'}, {})") == 7


@pytest.mark.parametrize("statement, message", [
    ("import rdklib", "imports rdklib, which the aws:executeScript runtime does not have"),
    ("from perimeter.rules.sg import rule", "imports perimeter.rules.sg, not found under"),
    ("import yaml", "imports yaml"),
    ("from perimeter.nowhere import thing", "imports perimeter.nowhere, not found under"),
    ("from . import exposure", "relative import in a script"),
    ("import perimeter.unused", "imports rdklib"),  # a core module with a forbidden import of its own
])
def test_imports_the_runtime_lacks_are_refused(tmp_path, statement, message):
    script = write(tmp_path / "remediation.py", f"def handler(events, context):\n    {statement}\n")
    with pytest.raises(RunbookError, match=message):
        bundle_script(script, CORE)


def test_import_cycles_between_core_modules_are_refused(tmp_path):
    write(tmp_path / "core" / "perimeter" / "__init__.py", "")
    write(tmp_path / "core" / "perimeter" / "a.py", "from perimeter.b import B\nA = 1\n")
    write(tmp_path / "core" / "perimeter" / "b.py", "from perimeter.a import A\nB = 2\n")
    script = write(tmp_path / "remediation.py", "import perimeter.a\n")
    with pytest.raises(RunbookError, match="import cycle .*perimeter.a -> perimeter.b -> perimeter.a"):
        bundle_script(script, tmp_path / "core")


def test_bundled_core_modules_lose_docstrings_and_comment_lines_but_keep_their_line_numbers():
    source = textwrap.dedent('''\
        """Module docstring,
        two lines."""
        from __future__ import annotations
        # a comment line
        HASH = "# not a comment"  # an inline comment stays


        class Only:
            """Only a docstring: the body needs a statement."""


        def documented(value):
            """One line."""
            return value, HASH
    ''')
    stripped = code_only(source)
    assert len(stripped.splitlines()) == len(source.splitlines())
    assert "docstring" not in stripped and "a comment line" not in stripped and "One line" not in stripped
    assert 'HASH = "# not a comment"\n' in stripped and "inline comment" not in stripped
    namespace: dict = {}
    exec(compile(stripped, "<stripped>", "exec"), namespace)
    assert namespace["documented"](1) == (1, "# not a comment")
    assert stripped.splitlines()[13] == source.splitlines()[13] == "    return value, HASH"


def test_documents_over_the_ssm_size_limit_are_refused(tmp_path):
    rule_dir = tmp_path / "big_rule"
    write(rule_dir / "runbook.yaml", (SAMPLE_RULE / "runbook.yaml").read_text())
    write(rule_dir / "remediation.py", f"PADDING = {'x' * MAX_DOCUMENT_BYTES!r}\ndef handler(events, context):\n"
                                       "    return {}\n")
    with pytest.raises(RunbookError, match=f"SSM accepts at most {MAX_DOCUMENT_BYTES} bytes"):
        render_runbook(rule_dir, CORE)


def test_dumped_text_loads_back_and_shows_the_script_as_a_block():
    document = sample_document()
    text = dump_runbook(document, "yaml")
    assert "    Script: |\n      from __future__ import annotations\n" in text
    assert yaml.safe_load(text) == document
    assert json.loads(dump_runbook(document, "json")) == document


def test_script_file_must_be_a_file_of_the_rule(tmp_path):
    runbook = (SAMPLE_RULE / "runbook.yaml").read_text().replace("ScriptFile: remediation.py",
                                                                   "ScriptFile: ../elsewhere.py")
    write(tmp_path / "rule" / "runbook.yaml", runbook)
    with pytest.raises(RunbookError, match="must name a file in"):
        render_runbook(tmp_path / "rule", CORE)


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


def test_sample_rule_remediates_then_changes_nothing(group):
    rendered = sample_document()
    parameters = {"AutomationAssumeRole": ROLE, "GroupId": group, "Port": 22}
    first = run_document(rendered, parameters)
    assert (first.status, first.executed) == (SUCCESS, ["CheckGroup", "Remediate", "StopOnDryRun", "Verify"])
    assert first.outputs == {"Remediate.Revoked": ["tcp 22-22 from 0.0.0.0/0"], "Remediate.RevokedCount": 1}
    assert first.assume_role == ROLE
    assert ingress_sources(group) == ["10.0.0.0/8"]
    again = run_document(rendered, parameters)
    assert (again.status, again.outputs["Remediate.RevokedCount"]) == (SUCCESS, 0)


def test_sample_rule_dry_run_reports_and_stops(group):
    result = run_document(sample_document(), {"AutomationAssumeRole": ROLE, "GroupId": group, "Port": "22",
                                              "DryRun": "true"})
    assert result.executed == ["CheckGroup", "Remediate", "StopOnDryRun"]
    assert result.outputs["Remediate.RevokedCount"] == 1
    assert ingress_sources(group) == ["0.0.0.0/0", "10.0.0.0/8"]


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


def test_scripts_see_only_the_core_modules_they_bundle(aws):
    result = run_document(document(script_step("Unbundled", "import perimeter.ports\nreturn {}")))
    assert result.status == FAILED and "the runbook script did not bundle it" in result.failure_message
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
