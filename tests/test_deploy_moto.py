"""The account stack (templates/perimeter.yaml) deployed on moto's CloudFormation, as far as moto can prove it.

What this proves: the template deploys as `aws cloudformation package` leaves it (Code replaced by the uploaded
artifact's S3 location), creating each rule's log group, role, function (python3.12, the rule's handler),
invoke permission for config.amazonaws.com limited to this account, and, for rules with a runbook, the SSM
Automation document with the script inlined and the automation role trusted by SSM of this account only. Then the
function the stack created is run from the built artifact, handler and all, with a configuration-change event,
and returns its verdict (PutEvaluations in TestMode).

What it cannot prove: moto's CloudFormation silently skips AWS::Config::ConfigRule and
AWS::Config::RemediationConfiguration (the stack still reaches CREATE_COMPLETE), and moto's Lambda needs docker to
invoke a function, which this environment does not have. The Config resources' correctness rests on cfn-lint and
tests/test_templates.py; the function runs in-process from the extracted artifact instead of through Lambda.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from perimeter import package
from perimeter.registry import all_rules
from perimeter.templates import logical_id
from perimeter.templates.naming import REMEDIATION_ROLE_SUFFIX

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
BUCKET = "perimeter-artifacts"
KEY = "perimeter-lambda.zip"
STACK = "perimeter"
SPECS = all_rules()
RUNBOOK_SPECS = [spec for spec in SPECS if (spec.folder / "runbook.yaml").exists()]
ARTIFACT_PACKAGES = ("perimeter", "rdklib")

# moto warns that it skips the Config resources (see the module docstring).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("artifact") / KEY)


def packaged_template(template: dict) -> dict:
    """What `aws cloudformation package` does to the template: local Code paths become the uploaded S3 object."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            assert resource["Properties"]["Code"] == "../build/perimeter-lambda.zip"
            resource["Properties"]["Code"] = {"S3Bucket": BUCKET, "S3Key": KEY}
        if resource["Type"] == "AWS::SSM::Document":
            # CloudFormation serialises an object Content to JSON itself; moto 5.2.5 keeps the object and then fails
            # in DescribeDocument (it hashes Content as text), so hand it the JSON text CloudFormation would send.
            resource["Properties"]["Content"] = json.dumps(resource["Properties"]["Content"])
    return template


@pytest.fixture
def stack(artifact):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=artifact.read_bytes())
        template = packaged_template(yaml.safe_load((ROOT / "templates" / "perimeter.yaml").read_text()))
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template),
                                    Capabilities=["CAPABILITY_NAMED_IAM"])
        yield cloudformation


def physical_ids(cloudformation) -> dict[str, str]:
    summaries = cloudformation.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {s["LogicalResourceId"]: s.get("PhysicalResourceId") for s in summaries}


def test_stack_creates_functions_roles_permissions_documents(stack):
    status = stack.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
    ids = physical_ids(stack)
    lam = boto3.client("lambda", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)

    assert status == "CREATE_COMPLETE"
    for spec in SPECS:
        logical = logical_id(spec.rule_id)
        name = f"perimeter-{spec.rule_id}"
        configuration = lam.get_function(FunctionName=name)["Configuration"]
        assert configuration["Runtime"] == "python3.12"
        assert configuration["Handler"] == "perimeter.entry.lambda_handler"
        assert configuration["Environment"]["Variables"] == {"PERIMETER_RULE_ID": spec.rule_id}
        role_name = configuration["Role"].rsplit("/", 1)[1]
        assert role_name == ids[f"{logical}FunctionRole"]
        trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
        [statement] = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
        assert statement["Principal"] == {"Service": "config.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}}
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
        assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups] == [(f"/aws/lambda/{name}", 90)]


def test_stack_creates_each_runbook_document_and_automation_role(stack):
    ssm = boto3.client("ssm", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    template = yaml.safe_load((ROOT / "templates" / "perimeter.yaml").read_text())

    assert RUNBOOK_SPECS
    for spec in RUNBOOK_SPECS:
        name = f"perimeter-{spec.rule_id}-remediation"
        document = ssm.describe_document(Name=name)["Document"]
        expected = template["Resources"][f"{logical_id(spec.rule_id)}RemediationDocument"]["Properties"]["Content"]
        assert document["DocumentType"] == "Automation"
        assert {p["Name"] for p in document["Parameters"]} == set(expected["parameters"])
        content = json.loads(ssm.get_document(Name=name, DocumentFormat="JSON")["Content"])
        assert content == expected  # the runbook, its script inlined
        role = iam.get_role(RoleName=f"perimeter-{spec.rule_id}{REMEDIATION_ROLE_SUFFIX}")["Role"]
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}


@contextlib.contextmanager
def modules_from(directory: Path):
    """Import perimeter, rules and rdklib from ``directory`` (the extracted artifact) instead of this checkout."""
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in ARTIFACT_PACKAGES}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n.split(".")[0] in ARTIFACT_PACKAGES]:
            del sys.modules[name]
        sys.modules.update(saved)
        importlib.invalidate_caches()


def test_the_deployed_function_returns_a_verdict_for_a_change_event(stack, artifact, tmp_path, monkeypatch):
    lam = boto3.client("lambda", region_name=REGION)
    configuration = lam.get_function_configuration(FunctionName="perimeter-sg-ingress-port-range-restricted")
    handler = configuration["Handler"]
    for name, value in configuration["Environment"]["Variables"].items():  # as Lambda sets them
        monkeypatch.setenv(name, value)
    event = json.loads((FIXTURES / "events" / "change-open-range.json").read_text())
    event["configRuleName"] = "perimeter-sg-ingress-port-range-restricted"
    task = tmp_path / "task"  # Lambda runs the extracted zip from /var/task
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)

    module_name, _, function_name = handler.rpartition(".")
    with modules_from(task):
        module = importlib.import_module(module_name)
        assert Path(module.__file__).is_relative_to(task)
        assert Path(sys.modules["rdklib"].__file__).is_relative_to(task)
        result = getattr(module, function_name)(event, None)

    assert [(e["ComplianceResourceType"], e["ComplianceResourceId"], e["ComplianceType"]) for e in result] == [
        ("AWS::EC2::SecurityGroup", "sg-0e1f2a3b4c5d6e7f8", "NON_COMPLIANT")]
    assert result[0]["Annotation"].startswith("Inbound port ranges open")
