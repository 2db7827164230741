"""The generated templates: up to date, lint-clean, least privilege, and wired to the rules and runbooks they render.

cfn-lint (test extras) and checkov (its own virtual environment, build/checkov-venv, installed by `make test`) each
run once over the whole template set. The conformance pack bodies are files of their own, so linting the files lints
each body as a template of its own.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore import xform_name

from perimeter import templates
from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.firewall_logging import LOG_DELIVERY_PERMISSIONS
from perimeter.registry import all_rules
from perimeter.importgraph import import_graph
from perimeter.package import LAMBDA_SCOPE
from perimeter.runbooks import render_runbook
from perimeter.templates.limits import body_limit
from perimeter.templates.packs import PackValues, pack
from perimeter.templates.naming import role_rule_part
from perimeter.templates.plan import plan_pack, remediation_function_arn
from perimeter.templates import (
    ACCOUNT_PACK, ACCOUNT_STACK, AUTOMATION_ROLE, BUILDERS, MAX_PACK_BODY_BYTES, MAX_PACK_PARAMETERS,
    MAX_REGION_LENGTH, ORG_ARTIFACTS, ORG_MEMBER, ORG_PACK, PACK_FILES, RESOURCE_ID, ROLE_SUFFIX_LENGTH, RULE_VALUE,
    TEMPLATE_VALUE, TemplateError, logical_id, map_remediation_parameters,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CHECKOV_CONFIG = TEMPLATES / ".checkov.yaml"
CHECKOV = Path(os.environ.get("PERIMETER_CHECKOV", ROOT / "build" / "checkov-venv" / "bin" / "checkov"))
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
POLICIES_JSON = Path(__import__("cfnlint").__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
SPECS = all_rules()
IDS = [spec.rule_id for spec in SPECS]
RULE_TEMPLATES = (ACCOUNT_STACK, ACCOUNT_PACK, ORG_PACK)
FUNCTION_TEMPLATES = (ACCOUNT_STACK, ORG_MEMBER)
READ_PREFIXES = ("Describe", "Get", "List")


# A pack rendered with a value for every runbook parameter that has none (`perimeter pack --parameters`), so that
# every rule with a runbook gets its remediation configuration; the committed packs leave those out.
FULL = "+values"
FULL_PACKS = (ACCOUNT_PACK + FULL, ORG_PACK + FULL)


def every_required_value() -> PackValues:
    rules = {}
    for plan in plan_pack():
        required = {p.name: f"example-{p.name}" for p in plan.template_parameters() if p.required}
        if required:
            rules[plan.rule_id] = required
    return PackValues(rules)


@lru_cache(maxsize=None)
def load(relative: str) -> dict:
    if relative.endswith(FULL):
        return pack(plan_pack(), every_required_value(), organization=relative.startswith("organization/"))
    return yaml.safe_load((TEMPLATES / relative).read_text(encoding="utf-8"))


def resources(relative: str, kind: str) -> dict[str, dict]:
    return {name: r for name, r in load(relative)["Resources"].items() if r["Type"] == kind}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def unwrap_if(value):
    """The value of a ``Fn::If [cond, value, AWS::NoValue]`` (or the value itself)."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1]
    return value


# --- generated and committed ------------------------------------------------------------------------------

def test_committed_templates_match_the_rule_metadata():
    rendered = templates.render_all()

    assert set(rendered) == set(BUILDERS)
    stale = templates.drifted(TEMPLATES, rendered)
    assert not stale, f"templates drifted from rules/*/parameters.json and runbooks: {stale}; run `make templates`"


def test_templates_directory_holds_only_the_generated_templates():
    on_disk = {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.yaml") if path != CHECKOV_CONFIG}

    assert on_disk == set(BUILDERS)  # a template the generator dropped (central.yaml) must not linger


def test_check_mode_reports_drift(tmp_path, capsys):
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    assert templates.main(["--check", str(tmp_path / "templates")]) == 0

    (tmp_path / "templates" / ORG_MEMBER).write_text("# edited by hand\n", encoding="utf-8")

    assert templates.main(["--check", str(tmp_path / "templates")]) == 1
    assert ORG_MEMBER in capsys.readouterr().err


@pytest.mark.parametrize("relative", PACK_FILES)
def test_conformance_pack_bodies_fit_config_limits(relative):
    body = (TEMPLATES / relative).read_bytes()
    pack = load(relative)

    assert len(body) <= body_limit(relative), f"{relative} is {len(body)} bytes"
    assert len(pack["Parameters"]) <= MAX_PACK_PARAMETERS
    # A pack holds Config rules and remediation configurations only: it cannot create functions or documents.
    assert {r["Type"] for r in pack["Resources"].values()} <= {
        "AWS::Config::ConfigRule", "AWS::Config::RemediationConfiguration"}
    assert set(pack) <= {"Parameters", "Conditions", "Resources"}


def test_rule_parameters_follow_the_conformance_pack_naming():
    template = load(ACCOUNT_STACK)
    for spec in SPECS:
        rule = template["Resources"][logical_id(spec.rule_id)]
        inputs = rule["Properties"].get("InputParameters", {})
        for name, default in spec.parameter_defaults.items():
            parameter = f"{logical_id(spec.rule_id)}Param{name[0].upper()}{name[1:]}"
            if name in PACK_WIDE_PARAMETERS:  # every rule has it: one parameter for the whole pack
                parameter = f"{name[0].upper()}{name[1:]}"
            assert str(template["Parameters"][parameter]["Default"]) == default
            # Optional parameters: an empty value leaves the parameter out, so the rule's default applies.
            assert inputs[name] == {"Fn::If": [f"{parameter}IsSet", {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}


@pytest.mark.parametrize("relative", PACK_FILES)
def test_packs_write_each_rule_parameter_in_with_its_declared_default(relative):
    template = load(relative)
    for spec in SPECS:
        inputs = template["Resources"][logical_id(spec.rule_id)]["Properties"].get("InputParameters", {})
        # A blank default leaves the parameter out, so the rule's own default applies, as in the stack.
        assert inputs == {name: default for name, default in spec.parameter_defaults.items() if default}


@pytest.mark.parametrize("relative", PACK_FILES + FULL_PACKS)
def test_pack_input_parameters_are_the_documented_budget(relative):
    """NamePrefix, RemediationAutomatic, and the DryRun of each remediation the pack configures; nothing else."""
    template = load(relative)
    configured = [name for name in template["Resources"] if name.endswith("Remediation")]

    assert list(template["Parameters"]) == ["NamePrefix", "RemediationAutomatic"] + [f"{n}DryRun" for n in configured]
    if relative in FULL_PACKS:
        assert len(configured) == len(RUNBOOK_SPECS)


# --- external linters -------------------------------------------------------------------------------------

def test_cfn_lint_finds_nothing_in_any_template_or_pack_body(tmp_path):
    if not CFN_LINT.is_file():
        pytest.fail(f"{CFN_LINT} is missing: `make test` installs cfn-lint with the test extras")
    files = [str(TEMPLATES / relative) for relative in BUILDERS]
    for relative in FULL_PACKS:  # the packs `perimeter pack --parameters` renders, every remediation configured
        path = tmp_path / relative.replace("/", "-").replace(FULL, "")
        path.write_text(yaml.safe_dump(load(relative), sort_keys=False), encoding="utf-8")
        files.append(str(path))
    # Informational findings too (-c I): zero of every level. The only ignore is W3002 on each function's Code,
    # declared in that resource's Metadata: the local path is what `aws cloudformation package` uploads.
    result = subprocess.run([str(CFN_LINT), "--format", "parseable", "-c", "I", "--", *files],
                            capture_output=True, text=True, timeout=240)

    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_checkov_reports_no_failed_check():
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: `make test` installs checkov into build/checkov-venv")
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(CHECKOV_CONFIG), "-d", str(TEMPLATES), "--output", "json", "--quiet",
         "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"},
    )
    assert result.stdout.strip(), f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})"
              for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)

    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert passed > 0, "checkov scanned nothing"


def test_every_checkov_skip_is_justified():
    lines = CHECKOV_CONFIG.read_text(encoding="utf-8").splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s*-\s*CKV_", line)]

    assert skips
    for index in skips:
        check = lines[index].split("-", 1)[1].strip()
        assert lines[index - 1].strip().startswith("#"), f"{check} has no justification comment above it"
        justification = []
        j = index - 1
        while j >= 0 and lines[j].strip().startswith("#"):
            justification.insert(0, lines[j])
            j -= 1
        assert check in " ".join(justification), f"the comment above {check} does not name it"
    for relative in BUILDERS:
        for name, resource in load(relative)["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert len(skip["comment"]) > 40, (relative, name)


# --- IAM ----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def action_resource_types() -> dict[str, list]:
    """service:action (lower case) -> the resource types IAM lets a statement name for it (cfn-lint's data)."""
    data = json.loads(POLICIES_JSON.read_text(encoding="utf-8"))
    return {f"{service}:{action}": entry.get("Resources", [])
            for service, spec in data.items() for action, entry in spec.get("Actions", {}).items()}


def all_policy_statements():
    for relative in BUILDERS:
        for name, resource in load(relative)["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role":
                for inline in resource["Properties"].get("Policies", []):
                    for statement in inline["PolicyDocument"]["Statement"]:
                        yield relative, name, statement


def test_no_wildcard_actions_and_every_action_exists():
    known = action_resource_types()
    seen = 0
    for relative, name, statement in all_policy_statements():
        assert "NotAction" not in statement and "NotResource" not in statement, (relative, name)
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            seen += 1
            assert action != "*" and not action.endswith(":*"), (relative, name, action)
            assert "*" not in action, (relative, name, action)
            assert action.lower() in known, f"{relative} {name}: unknown IAM action {action}"
    assert seen


def test_write_actions_are_scoped_to_resource_arns_where_iam_allows():
    known = action_resource_types()
    scoped = 0
    for relative, name, statement in all_policy_statements():
        actions = as_list(statement["Action"])
        resources_ = as_list(statement["Resource"])
        writes = [a for a in actions if not a.split(":")[1].startswith(READ_PREFIXES)]
        for action in writes:
            if known[action.lower()]:  # the action supports resource-level permissions
                scoped += 1
                assert "*" not in resources_, f"{relative} {name}: {action} on '*' though IAM can scope it"
        if "*" in resources_:
            # '*' only for actions IAM cannot scope, or reads.
            for action in actions:
                assert not known[action.lower()] or action.split(":")[1].startswith(READ_PREFIXES), (
                    relative, name, action)
    assert scoped


def test_automation_roles_trust_only_ssm_of_this_account():
    for relative in (ACCOUNT_STACK, ORG_MEMBER):
        roles = {n: r for n, r in resources(relative, "AWS::IAM::Role").items() if n.endswith("RemediationRole")}
        assert len(roles) == sum((spec.folder / "runbook.yaml").exists() for spec in SPECS)
        for name, role in roles.items():
            [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}, name
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, name


def test_config_may_invoke_each_function_only_for_the_functions_own_account():
    # A service principal's request carries no aws:PrincipalOrgID (IAM User Guide, global condition keys), so an
    # invoke permission conditioned on it never matches: every account runs its own functions, under SourceAccount.
    permissions = {f"{relative}:{name}": permission for relative in FUNCTION_TEMPLATES
                   for name, permission in resources(relative, "AWS::Lambda::Permission").items()}
    assert len(permissions) == len(FUNCTION_TEMPLATES) * len(SPECS)
    for name, permission in permissions.items():
        properties = permission["Properties"]
        assert properties == {"Action": "lambda:InvokeFunction", "FunctionName": properties["FunctionName"],
                              "Principal": "config.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"}}, name
    for relative in BUILDERS:
        assert "PrincipalOrgID" not in json.dumps(resources(relative, "AWS::Lambda::Permission")), relative


def test_no_role_is_assumed_across_accounts():
    for relative, name, statement in all_policy_statements():
        assert "sts:AssumeRole" not in as_list(statement["Action"]), (relative, name)
    for relative in BUILDERS:
        for name, role in resources(relative, "AWS::IAM::Role").items():
            [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert set(trust["Principal"]) == {"Service"}, (relative, name)  # a service of this account, no "AWS"
    for relative in RULE_TEMPLATES:
        for rule in resources(relative, "AWS::Config::ConfigRule").values():
            assert "ExecutionRoleName" not in rule["Properties"].get("InputParameters", {}), relative


def granted_actions(role: dict) -> set[str]:
    return {a for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]
            for a in as_list(s["Action"])}


def test_each_function_has_its_own_role_with_only_its_rules_actions():
    for relative in FUNCTION_TEMPLATES:
        functions = resources(relative, "AWS::Lambda::Function")
        roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
        assert len(set(roles)) == len(functions) == len(SPECS) + len(RUNBOOK_SPECS), relative
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    for spec in SPECS:
        logical = logical_id(spec.rule_id)
        base = {"config:PutEvaluations", "config:GetResourceConfigHistory"}
        for relative in FUNCTION_TEMPLATES:
            template = load(relative)["Resources"]
            assert granted_actions(template[f"{logical}FunctionRole"]) == base | declared(spec, "LambdaActions") | logs
            if spec in RUNBOOK_SPECS:  # the remediation's write permissions: on its function's role only
                assert granted_actions(template[f"{logical}RemediationFunctionRole"]) == \
                    declared(spec, "RemediationActions") | logs, (relative, spec.rule_id)


@pytest.mark.parametrize("relative", FUNCTION_TEMPLATES)
def test_the_automation_role_may_only_invoke_its_rules_remediation_function(relative):
    template = load(relative)["Resources"]
    for spec in RUNBOOK_SPECS:
        logical = logical_id(spec.rule_id)
        [policy] = template[f"{logical}RemediationRole"]["Properties"]["Policies"]
        [statement] = policy["PolicyDocument"]["Statement"]
        assert (statement["Effect"], statement["Action"]) == ("Allow", ["lambda:InvokeFunction"])
        assert statement["Resource"] == [{"Fn::GetAtt": [f"{logical}RemediationFunction", "Arn"]}]


@pytest.mark.parametrize("relative", FUNCTION_TEMPLATES)
def test_each_runbook_calls_the_remediation_function_its_stack_creates(relative):
    template = load(relative)["Resources"]
    for spec in RUNBOOK_SPECS:
        logical = logical_id(spec.rule_id)
        function = template[f"{logical}RemediationFunction"]["Properties"]
        content = template[f"{logical}RemediationDocument"]["Properties"]["Content"]
        calls = [step for step in content["mainSteps"] if step["action"] == "aws:invokeLambdaFunction"]
        name = function["FunctionName"]["Fn::Sub"]
        assert calls and all(step["inputs"]["FunctionName"] == {"Fn::Sub": (
            f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}")} for step in calls)
        # A long rule id gets a short form (Lambda names hold 64 characters): see role_rule_part.
        assert name == f"${{NamePrefix}}{role_rule_part(spec.rule_id)}-remediation"
        assert (function["Handler"], function["Environment"]["Variables"]) == (
            "perimeter.remediation_entry.lambda_handler", {"PERIMETER_RULE_ID": spec.rule_id})
        # Lambda stops the remediation before SSM stops waiting for it (the action runs at most 300 seconds).
        assert function["Timeout"] < min(step["timeoutSeconds"] for step in calls) <= 300
        assert f"{logical}RemediationErrorsAlarm" in template and f"{logical}RemediationLogGroup" in template


# --- deployable in several regions of one account ---------------------------------------------------------------

def test_the_longest_region_code_fits_the_role_name_budget():
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text(encoding="utf-8"))
    regions = [region for partition in endpoints["partitions"] for region in partition["regions"]]

    assert max(len(region) for region in regions) <= MAX_REGION_LENGTH
    assert ROLE_SUFFIX_LENGTH == 1 + MAX_REGION_LENGTH


def test_named_roles_carry_the_region_and_function_roles_are_unnamed():
    for relative in FUNCTION_TEMPLATES:
        for name, role in resources(relative, "AWS::IAM::Role").items():
            role_name = role["Properties"].get("RoleName")
            if name.endswith("FunctionRole"):
                assert role_name is None, (relative, name)
            else:
                assert role_name["Fn::Sub"].endswith("-${AWS::Region}"), (relative, name)


def arn_texts(node) -> list[str]:
    """Every ARN (or ARN pattern) written in ``node``, as its Fn::Sub text."""
    if isinstance(node, dict):
        if "Fn::Sub" in node:
            return [node["Fn::Sub"]]
        return [text for value in node.values() for text in arn_texts(value)]
    if isinstance(node, list):
        return [text for value in node for text in arn_texts(value)]
    return [node] if isinstance(node, str) and node.startswith("arn:") else []


def test_role_policies_and_trusts_name_only_their_own_region():
    seen = 0
    for relative in FUNCTION_TEMPLATES:
        for name, role in resources(relative, "AWS::IAM::Role").items():
            properties = role["Properties"]
            texts = arn_texts(properties.get("Policies", [])) + arn_texts(properties["AssumeRolePolicyDocument"])
            for text in texts:
                plain = text.replace("${AWS::Partition}", "aws").replace("${AWS::Region}", "THIS-REGION")
                service, region = plain.split(":")[2:4]
                if service not in ("iam", "s3"):  # global services' ARNs have no region
                    seen += 1
                    assert region == "THIS-REGION", (relative, name, text)
    assert seen


# --- failed evaluations are visible ---------------------------------------------------------------------------

def test_every_function_has_an_alarm_on_its_errors_notifying_the_optional_topic():
    for relative in FUNCTION_TEMPLATES:
        template = load(relative)
        alarms = resources(relative, "AWS::CloudWatch::Alarm")
        functions = resources(relative, "AWS::Lambda::Function")
        watched = {}
        for name, alarm in alarms.items():
            properties = alarm["Properties"]
            [dimension] = properties["Dimensions"]
            watched[dimension["Value"]["Ref"]] = name
            assert (properties["Namespace"], properties["MetricName"], dimension["Name"]) == (
                "AWS/Lambda", "Errors", "FunctionName"), name
            assert (properties["Statistic"], properties["Threshold"], properties["ComparisonOperator"]) == (
                "Sum", 0, "GreaterThanThreshold"), name  # the first failure
            assert properties["TreatMissingData"] == "notBreaching"
            topic = {"Fn::If": ["AlarmTopicArnIsSet", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
            assert properties["AlarmActions"] == properties["OKActions"] == topic, name
        assert set(watched) == set(functions), relative
        assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
        assert template["Conditions"]["AlarmTopicArnIsSet"] == {"Fn::Not": [{"Fn::Equals": [
            {"Ref": "AlarmTopicArn"}, ""]}]}


# --- the organization's artifact buckets ------------------------------------------------------------------------

def test_the_artifact_bucket_is_regional_and_readable_by_the_organization_only():
    bucket = load(ORG_ARTIFACTS)["Resources"]["ArtifactBucket"]["Properties"]
    [read, tls] = load(ORG_ARTIFACTS)["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert bucket["BucketName"] == {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert (read["Effect"], read["Action"]) == ("Allow", "s3:GetObject")
    assert read["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ArtifactBucket}/*"}
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    for function in resources(ORG_MEMBER, "AWS::Lambda::Function").values():
        # Lambda reads code only from a bucket in the function's own region.
        assert function["Properties"]["Code"] == {"S3Bucket": bucket["BucketName"], "S3Key": {"Ref": "ArtifactKey"}}
    member_prefix = load(ORG_MEMBER)["Parameters"]["ArtifactBucketPrefix"]
    assert member_prefix == load(ORG_ARTIFACTS)["Parameters"]["ArtifactBucketPrefix"]


# --- the actions each rule declares are the ones its code calls ----------------------------------------------

@lru_cache(maxsize=None)
def operations(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(op): f"{model.signing_name}:{op}" for op in model.operation_names}


def services_created(tree: ast.AST) -> set[str]:
    """Services of clients created with a literal name: boto3.client("x"), client("x"), build_client("x")."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("client", "build_client") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def api_calls(paths: list[Path]) -> set[str]:
    """IAM actions of the API operations called in these files (method calls and paginators)."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in paths]
    services = set().union(*(services_created(tree) for tree in trees))
    table: dict[str, set[str]] = {}
    for service in services:
        for method, action in operations(service).items():
            table.setdefault(method, set()).add(action)
    found = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                method = node.func.attr
                if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                    method = node.args[0].value
                found |= table.get(method, set())
    return found


def declared(spec, key: str) -> set[str]:
    return {action for statement in spec.metadata["Perimeter"][key] for action in statement["Action"]}


# IAM actions not named after their operation: HeadBucket needs s3:ListBucket (S3 API reference, HeadBucket).
IAM_ACTIONS = {"s3:HeadBucket": "s3:ListBucket"}
# Actions a call needs of its caller besides its own: changing a firewall's logging configuration needs the log
# delivery permissions (perimeter.firewall_logging.LOG_DELIVERY_PERMISSIONS, which cites the Developer Guide).
IMPLIED_ACTIONS = {"network-firewall:UpdateLoggingConfiguration": {
    action for statement in LOG_DELIVERY_PERMISSIONS for action in statement["actions"]}}
# The exemption pass a periodic rule's module imports (for PeriodicListing) runs in its Lambda, never in a runbook.
EXEMPTION_PASS = ROOT / "perimeter" / "periodic.py"
# What the base calls for a periodic rule with a complete listing (perimeter.rule.reported_resources).
PERIODIC_BASE_ACTIONS = {"config:GetComplianceDetailsByConfigRule"}


def core_modules_imported(path: Path) -> list[Path]:
    """The perimeter modules a rule module imports (at the top or inside its I/O functions), but not the rules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("perimeter.") \
                and not node.module.startswith("perimeter.rules"):
            found.append(ROOT / (node.module.replace(".", "/") + ".py"))
    return found


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_lambda_actions_declared_are_the_ones_the_rule_calls(spec):
    rule = spec.folder / "rule.py"
    # Every rule also runs the exemption pass of perimeter/periodic.py, whose actions the registry adds.
    called = {IAM_ACTIONS.get(action, action)
              for action in api_calls([rule, *core_modules_imported(rule), ROOT / "perimeter" / "periodic.py"])}
    if spec.declaration["trigger"]["periodic"]:  # its own complete listing retires resources (perimeter.rule)
        called |= PERIODIC_BASE_ACTIONS
    assert declared(spec, "LambdaActions") == called


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_remediation_actions_declared_are_the_ones_the_runbook_calls(spec):
    runbook = spec.folder / "runbook.yaml"
    if not runbook.exists():
        assert declared(spec, "RemediationActions") == set()
        return
    document = yaml.safe_load(runbook.read_text(encoding="utf-8"))
    used = set()
    for step in document["mainSteps"]:
        inputs = step.get("inputs", {})
        if step["action"] == "aws:executeScript":
            # remediation.py and what it imports run in the remediation function (any other script is inlined).
            script = spec.folder / inputs["ScriptFile"]
            graph = import_graph(ROOT, LAMBDA_SCOPE, script=script)
            used |= api_calls([script] + [imports.module.path for imports in graph.values()
                                          if imports.module and imports.module.path != EXEMPTION_PASS])
        elif "Service" in inputs and "Api" in inputs:
            model = botocore.session.get_session().get_service_model(inputs["Service"])
            used.add(f"{model.signing_name}:{inputs['Api']}")
    used = {IAM_ACTIONS.get(action, action) for action in used}
    used |= {implied for action in set(used) for implied in IMPLIED_ACTIONS.get(action, ())}

    assert declared(spec, "RemediationActions") == used


# --- Config rules -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("relative", RULE_TEMPLATES)
def test_change_triggered_rules_list_both_change_message_types(relative):
    rules = resources(relative, "AWS::Config::ConfigRule")
    assert len(rules) == len(SPECS)
    for spec in SPECS:
        source = rules[logical_id(spec.rule_id)]["Properties"]["Source"]
        types = {detail["MessageType"] for detail in source["SourceDetails"]}
        assert source["Owner"] == "CUSTOM_LAMBDA"
        if spec.metadata["Parameters"]["SourceEvents"]:
            assert {"ConfigurationItemChangeNotification", "OversizedConfigurationItemChangeNotification"} <= types
            scope = rules[logical_id(spec.rule_id)]["Properties"]["Scope"]["ComplianceResourceTypes"]
            assert scope == list(spec.resource_types)


def test_a_periodic_rule_gets_a_scheduled_source_with_its_frequency():
    spec = SPECS[0]
    metadata = json.loads(json.dumps(spec.metadata))
    metadata["Parameters"]["SourcePeriodic"] = "TwentyFour_Hours"
    declaration = {**spec.declaration, "trigger": {"change": True, "periodic": "TwentyFour_Hours"}}
    periodic = dataclasses.replace(spec, metadata=metadata, declaration=declaration)

    details, frequency = templates.source_details(periodic)

    assert frequency == "TwentyFour_Hours"
    assert {"EventSource": "aws.config", "MessageType": "ScheduledNotification",
            "MaximumExecutionFrequency": "TwentyFour_Hours"} in details
    plan = templates.RulePlan(periodic, logical_id(spec.rule_id), None, ())
    rule = templates.config_rule(plan, templates.References(
        function_arn=lambda p: "arn", document=None, automation_role_arn=None, extra_inputs=lambda p: {},
        rule_condition=None, rule_depends_on=lambda p: [], rule_name_in_remediation=None,
        remediation_depends_on=None))
    # Deployed, the frequency is the rule's template parameter (its default: the declared frequency).
    frequency_parameter = {"Ref": f"{logical_id(spec.rule_id)}MaximumExecutionFrequency"}
    assert rule["Properties"]["MaximumExecutionFrequency"] == frequency_parameter
    scheduled = [d for d in rule["Properties"]["Source"]["SourceDetails"] if d["MessageType"] == "ScheduledNotification"]
    assert scheduled == [{"EventSource": "aws.config", "MessageType": "ScheduledNotification",
                          "MaximumExecutionFrequency": frequency_parameter}]


def test_a_periodic_rules_frequency_is_a_template_parameter_defaulting_to_its_declaration():
    periodic = [spec for spec in SPECS if spec.declaration["trigger"]["periodic"]]
    assert periodic
    parameters = load(ACCOUNT_STACK)["Parameters"]
    for spec in periodic:
        assert parameters[f"{logical_id(spec.rule_id)}MaximumExecutionFrequency"]["Default"] == spec.periodic_frequency
    # The default pack spends no input parameter on it (Config's 60 per pack): the declared frequency is written in,
    # and `perimeter pack --parameters` renders another.
    pack = load(ACCOUNT_PACK)["Resources"]
    for spec in periodic:
        assert pack[logical_id(spec.rule_id)]["Properties"]["MaximumExecutionFrequency"] == spec.periodic_frequency


def test_functions_run_python_3_12_with_each_rules_handler():
    for relative in FUNCTION_TEMPLATES:
        functions = resources(relative, "AWS::Lambda::Function")
        assert {f["Properties"]["Runtime"] for f in functions.values()} == {"python3.12"}
        by_handler: dict[str, list[str]] = {}
        for f in functions.values():
            by_handler.setdefault(f["Properties"]["Handler"], []).append(
                f["Properties"]["Environment"]["Variables"]["PERIMETER_RULE_ID"])
        assert {handler: sorted(ids) for handler, ids in by_handler.items()} == {
            "perimeter.entry.lambda_handler": sorted(spec.rule_id for spec in SPECS),
            "perimeter.remediation_entry.lambda_handler": sorted(spec.rule_id for spec in RUNBOOK_SPECS)}


# --- remediation configurations -----------------------------------------------------------------------------

RUNBOOK_SPECS = [spec for spec in SPECS if (spec.folder / "runbook.yaml").exists()]


@pytest.mark.parametrize("relative", (ACCOUNT_STACK,) + FULL_PACKS)
@pytest.mark.parametrize("spec", RUNBOOK_SPECS, ids=[s.rule_id for s in RUNBOOK_SPECS])
def test_remediation_parameters_match_the_runbook(spec, relative):
    runbook = yaml.safe_load((spec.folder / "runbook.yaml").read_text(encoding="utf-8"))["parameters"]
    configuration = load(relative)["Resources"][f"{logical_id(spec.rule_id)}Remediation"]["Properties"]
    given = configuration["Parameters"]

    assert set(given) <= set(runbook), f"not runbook parameters: {set(given) - set(runbook)}"
    for name, definition in runbook.items():
        if "default" not in definition:  # required: always given, never behind Fn::If
            assert name in given and "Fn::If" not in given[name], name
    resource_ids = [n for n, v in given.items() if "ResourceValue" in v]
    assert len(resource_ids) == 1 and given[resource_ids[0]] == {"ResourceValue": {"Value": "RESOURCE_ID"}}
    assert list(runbook).index(resource_ids[0]) == min(
        i for i, n in enumerate(runbook) if n != "AutomationAssumeRole"
        and n not in {p[0].upper() + p[1:] for p in spec.parameter_names})
    assert "AutomationAssumeRole" in given
    assert configuration["TargetType"] == "SSM_DOCUMENT"
    controls = configuration["ExecutionControls"]["SsmControls"]
    assert set(controls) == {"ConcurrentExecutionRatePercentage", "ErrorPercentage"}
    assert configuration["Automatic"] == {"Fn::If": ["RemediationIsAutomatic", True, False]}


@pytest.mark.parametrize("relative", (ACCOUNT_STACK,) + FULL_PACKS)
def test_remediation_is_manual_and_dry_run_by_default(relative):
    template = load(relative)
    assert str(template["Parameters"]["RemediationAutomatic"]["Default"]) == "false"
    dry_runs = [name for name in template["Parameters"] if name.endswith("RemediationDryRun")]
    assert len(dry_runs) == sum("DryRun" in yaml.safe_load((s.folder / "runbook.yaml").read_text())["parameters"]
                                for s in RUNBOOK_SPECS)
    for name in dry_runs:
        assert template["Parameters"][name]["Default"] == "true"
        configuration = template["Resources"][name.replace("DryRun", "")]["Properties"]
        # Always passed: an empty value must fail the run, not fall back to the runbook's DryRun=false.
        assert configuration["Parameters"]["DryRun"] == {"StaticValue": {"Values": [{"Ref": name}]}}


@pytest.mark.parametrize("relative", (ACCOUNT_STACK, ORG_MEMBER))
def test_documents_are_the_rendered_runbooks_calling_the_remediation_functions(relative):
    documents = resources(relative, "AWS::SSM::Document")
    assert len(documents) == len(RUNBOOK_SPECS)
    for spec in RUNBOOK_SPECS:
        document = documents[f"{logical_id(spec.rule_id)}RemediationDocument"]["Properties"]
        assert document["DocumentType"] == "Automation"
        assert document["Content"] == render_runbook(spec.folder, remediation_function_arn(spec), spec.rule_id)
        scripts = [s["inputs"]["Script"] for s in document["Content"]["mainSteps"] if "Script" in s.get("inputs", {})]
        assert scripts and not any("perimeter." in script for script in scripts)  # the rule's code is in the zip


def test_mapping_of_the_security_group_runbook_is_explicit():
    spec = next(s for s in SPECS if s.rule_id == "sg-ingress-port-range-restricted")
    if not (spec.folder / "runbook.yaml").exists():
        pytest.skip("runbook not written yet")
    mapping = {p.name: (p.source, p.rule_parameter, p.default)
               for p in map_remediation_parameters(spec, render_runbook(spec.folder))}

    assert mapping == {
        "SecurityGroupId": (RESOURCE_ID, None, None),
        "AutomationAssumeRole": (AUTOMATION_ROLE, None, None),
        "MaxPorts": (RULE_VALUE, "maxPorts", None),
        "AuthorizedTcpPorts": (RULE_VALUE, "authorizedTcpPorts", None),
        "AuthorizedUdpPorts": (RULE_VALUE, "authorizedUdpPorts", None),
        "SourceScope": (RULE_VALUE, "sourceScope", None),
        "TrustedSources": (RULE_VALUE, "trustedSources", None),
        "IncludeSelfReferences": (RULE_VALUE, "includeSelfReferences", None),
        "ReplacementTcpPorts": (TEMPLATE_VALUE, None, ""),
        "ReplacementUdpPorts": (TEMPLATE_VALUE, None, ""),
        "InboundRuleQuota": (TEMPLATE_VALUE, None, "60"),
        "DryRun": (TEMPLATE_VALUE, None, "true"),
    }


def sample_document(**parameters) -> dict:
    base = {"AutomationAssumeRole": {"type": "String"}}
    return {"schemaVersion": "0.3", "assumeRole": "{{ AutomationAssumeRole }}", "parameters": {**parameters, **base},
            "mainSteps": []}


def sg_spec(resource_id_parameter: str = "SecurityGroupId"):
    """The SG rule's spec, its declaration naming ``resource_id_parameter`` as the runbook's resource id."""
    spec = next(s for s in SPECS if s.rule_id == "sg-ingress-port-range-restricted")
    remediation = {**spec.declaration["remediation"], "resourceIdParameter": resource_id_parameter}
    return dataclasses.replace(spec, declaration={**spec.declaration, "remediation": remediation})


def test_a_required_extra_parameter_becomes_an_empty_template_parameter_gating_the_remediation():
    mapping = map_remediation_parameters(sg_spec("GroupId"), sample_document(
        GroupId={"type": "String"}, Baseline={"type": "String"}, Count={"type": "Integer", "default": 3}))
    by_name = {p.name: p for p in mapping}

    assert by_name["GroupId"].source == RESOURCE_ID
    assert (by_name["Baseline"].source, by_name["Baseline"].required, by_name["Baseline"].default) == (
        TEMPLATE_VALUE, True, "")
    assert by_name["Count"].default == "3"


@pytest.mark.parametrize("document, message", [
    (sample_document(GroupId={"type": "String"}, Tags={"type": "MapList", "default": []}), "type MapList"),
    (sample_document(MaxPorts={"type": "String", "default": "1"}), "has no parameter GroupId, which the declaration"),
    ({"schemaVersion": "0.3", "parameters": {"GroupId": {"type": "String"}}, "mainSteps": []},
     "no AutomationAssumeRole"),
    (sample_document(GroupId={"type": "StringList"}), "receives the resource id .* but has type StringList"),
    (sample_document(GroupId={"type": "String"}, SourceScope={"type": "StringList", "default": []}),
     "has type StringList"),
], ids=["unsupported-type", "no-resource-id", "no-role", "resource-id-not-string", "twin-not-string"])
def test_unmappable_runbook_parameters_fail_generation_clearly(document, message):
    with pytest.raises(TemplateError, match=message):
        map_remediation_parameters(sg_spec("GroupId"), document)


def test_the_resource_id_goes_to_the_declared_parameter_not_the_first_one():
    """A String parameter added above the resource id parameter must not take Config's resource id."""
    mapping = map_remediation_parameters(sg_spec("GroupId"), sample_document(
        Baseline={"type": "String", "default": "x"}, GroupId={"type": "String"}))
    by_name = {p.name: p for p in mapping}

    assert (by_name["GroupId"].source, by_name["Baseline"].source) == (RESOURCE_ID, TEMPLATE_VALUE)


@pytest.mark.parametrize("actions", [["*"], ["ec2:*"], ["DescribeSecurityGroups"]])
def test_wildcard_or_unqualified_declared_actions_fail_generation(actions):
    metadata = json.loads(json.dumps(sg_spec().metadata))
    metadata["Perimeter"]["LambdaActions"] = [{"Action": actions, "Resource": ["*"]}]

    with pytest.raises(TemplateError, match="name each action"):
        templates.declared_statements(dataclasses.replace(sg_spec(), metadata=metadata), "LambdaActions")


# --- names and the organization wiring ----------------------------------------------------------------------

def test_named_resources_fit_their_limits_with_the_longest_allowed_prefix():
    limit = templates.max_prefix_length(SPECS)
    pattern = load(ACCOUNT_STACK)["Parameters"]["NamePrefix"]["AllowedPattern"]
    assert pattern.endswith(f"{{0,{limit}}}$")
    prefix = "p" * limit
    for spec in SPECS:
        assert len(prefix + spec.rule_id) <= 64  # Lambda function name
        # automation role, with the region: a long rule id is shortened there (naming.role_rule_part)
        assert len(prefix + role_rule_part(spec.rule_id) + "-" + "r" * MAX_REGION_LENGTH) <= 64


def test_long_rule_ids_get_distinct_deterministic_role_names():
    full, fragment = "netfw-policy-default-action-full-packets", "netfw-policy-default-action-fragment-packets"

    assert role_rule_part("sg-default-closed") == "sg-default-closed"
    assert len(role_rule_part(fragment)) == 34 and role_rule_part(fragment).startswith("netfw-policy-default-action-f")
    assert role_rule_part(full) != role_rule_part(fragment)
    assert role_rule_part(fragment) == role_rule_part(fragment)


@pytest.mark.parametrize("stack_file, pack_file", [(ACCOUNT_STACK, ACCOUNT_PACK), (ORG_MEMBER, ORG_PACK)])
def test_each_pack_names_its_own_accounts_functions_documents_and_regional_roles(stack_file, pack_file):
    stack = load(stack_file)["Resources"]
    pack = load(pack_file)
    assert "CentralAccountId" not in pack["Parameters"]
    for spec in SPECS:
        logical = logical_id(spec.rule_id)
        function_name = stack[f"{logical}Function"]["Properties"]["FunctionName"]["Fn::Sub"]
        rule = pack["Resources"][logical]["Properties"]

        assert rule["Source"]["SourceIdentifier"] == {"Fn::Sub": (
            f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{function_name}")}
        if f"{logical}Remediation" in pack["Resources"]:
            remediation = pack["Resources"][f"{logical}Remediation"]
            role = stack[f"{logical}RemediationRole"]["Properties"]["RoleName"]["Fn::Sub"]
            assert remediation["DependsOn"] == [logical]
            assert remediation["Properties"]["TargetId"] == stack[f"{logical}RemediationDocument"]["Properties"]["Name"]
            assert remediation["Properties"]["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"] == [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role}"}]


def test_the_account_stack_creates_its_rules_only_when_asked():
    stack = load(ACCOUNT_STACK)["Resources"]
    for spec in SPECS:
        assert stack[logical_id(spec.rule_id)]["Condition"] == "ConfigRulesCreated"


def test_rules_without_a_runbook_get_no_remediation_resources():
    without = [spec for spec in SPECS if not (spec.folder / "runbook.yaml").exists()]
    assert without, "the pack has a rule without remediation (netfw-rule-group-not-empty)"
    for spec in without:
        logical = logical_id(spec.rule_id)
        for relative in BUILDERS:
            names = set(load(relative)["Resources"])
            assert not {f"{logical}Remediation", f"{logical}RemediationDocument", f"{logical}RemediationRole",
                        f"{logical}RemediationFunction", f"{logical}RemediationFunctionRole"} & names
        assert logical in load(ACCOUNT_PACK)["Resources"]


def test_a_new_rule_folder_needs_no_template_editing():
    model = next(spec for spec in SPECS if not (spec.folder / "runbook.yaml").exists())
    metadata = json.loads(json.dumps(model.metadata))
    metadata["Parameters"]["RuleName"] = "example-new-rule"
    metadata["Parameters"]["OptionalParameters"] = json.dumps({"threshold": "3"})
    metadata["Perimeter"]["ParameterDescriptions"] = {"threshold": "An example."}
    new = dataclasses.replace(model, rule_id="example-new-rule", metadata=metadata,
                              parameter_defaults={"threshold": "3"})

    rendered = {path: yaml.safe_load(text) for path, text in templates.render_all(SPECS + (new,)).items()}

    assert "ExampleNewRuleFunction" in rendered[ACCOUNT_STACK]["Resources"]
    assert rendered[ACCOUNT_STACK]["Parameters"]["ExampleNewRuleParamThreshold"]["Default"] == "3"
    assert "ExampleNewRule" in rendered[ACCOUNT_PACK]["Resources"]
    assert {"ExampleNewRuleFunction", "ExampleNewRuleErrorsAlarm"} <= set(rendered[ORG_MEMBER]["Resources"])
    assert rendered[ORG_PACK]["Resources"]["ExampleNewRule"]["Properties"]["InputParameters"]["threshold"]


def test_remediation_setting_ranges_are_the_config_apis_own():
    model = botocore.session.get_session().get_service_model("config")
    shapes = {**model.shape_for("RemediationConfiguration").members, **model.shape_for("SsmControls").members}
    for name, default, low, high, _ in templates.REMEDIATION_SETTINGS:
        member = shapes[name.removeprefix("Remediation")]
        assert (low, high) == (member.metadata["min"], member.metadata["max"]), name
        assert low <= default <= high
    body = model.operation_model("PutConformancePack").input_shape.members["TemplateBody"]
    assert body.metadata["max"] == MAX_PACK_BODY_BYTES
