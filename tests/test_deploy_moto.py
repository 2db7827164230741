"""The stacks (templates/perimeter.yaml, organization/artifacts.yaml, organization/member.yaml) deployed on moto's
CloudFormation, as far as moto can prove it.

What this proves: the account stack deploys as `aws cloudformation package` leaves it (Code replaced by the uploaded
artifact's S3 location), creating each rule's log group, role, function (python3.12, the rule's handler),
invoke permission for config.amazonaws.com limited to this account, error alarm, and, for rules with a runbook, the
SSM Automation document with the script inlined and the automation role trusted by SSM of this account only. Every
stack deploys in two regions of one account (IAM is global: a fixed role name would collide), and the organization's
stacks deploy in order: the regional artifact buckets, then the member stacks reading the artifact from them. The
conformance packs' literal function and role ARNs, resolved for each region, name what the stacks created there. Then
the function the stack created is run from the built artifact, handler and all, with a configuration-change event,
and returns its verdict (PutEvaluations in TestMode).

What it cannot prove: moto's CloudFormation silently skips AWS::Config::ConfigRule,
AWS::Config::RemediationConfiguration, AWS::CloudWatch::Alarm and AWS::S3::BucketPolicy (the stack still reaches
CREATE_COMPLETE), and moto's Lambda needs docker to invoke a function, which this environment does not have. The
Config resources' correctness rests on cfn-lint and tests/test_templates.py; the alarms and the bucket policy are
created here through their APIs (PutMetricAlarm, PutBucketPolicy, whose parameters CloudFormation's properties
mirror) from the template's own properties, resolved as CloudFormation would; the function runs in-process from the
extracted artifact instead of through Lambda.
"""
from __future__ import annotations

import contextlib
import copy
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
REGIONS = ("us-east-1", "eu-west-1")
ORGANIZATION_ID = "o-exampleorg01"
ARTIFACT_BUCKET_PREFIX = "acme-perimeter-artifacts"
PREFIX = "perimeter-"

# moto warns that it skips the Config resources (see the module docstring).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("artifact") / KEY)


def load_template(relative: str) -> dict:
    return yaml.safe_load((ROOT / "templates" / relative).read_text(encoding="utf-8"))


def packaged_template(template: dict, bucket: str = BUCKET) -> dict:
    """What `aws cloudformation package` does to the template: local Code paths become the uploaded S3 object."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(resource["Properties"]["Code"], str):
            assert resource["Properties"]["Code"] == "../build/perimeter-lambda.zip"
            resource["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": KEY}
    return for_moto(template)


def for_moto(template: dict) -> dict:
    """CloudFormation serialises an object Content of an SSM document to JSON itself; moto 5.2.5 keeps the object and
    then fails in DescribeDocument (it hashes Content as text), so hand it the JSON text CloudFormation would send."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SSM::Document" and isinstance(resource["Properties"]["Content"], dict):
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
        role = iam.get_role(RoleName=f"perimeter-{spec.rule_id}-{REGION}")["Role"]
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ssm.amazonaws.com"}
        assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
        assert trust["Condition"]["ArnLike"] == {
            "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:automation-execution/*"}


# --- two regions of one account ---------------------------------------------------------------------------------

def create_stack(region: str, name: str, template: dict, skipped_now: bool = True, **parameters: str) -> str:
    """Create the stack in ``region`` and, with ``skipped_now``, what moto skipped; the stack's final status, with the
    failed resources' reasons when it failed."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(for_moto(template)),
                                Capabilities=["CAPABILITY_NAMED_IAM"],
                                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                   if e["ResourceStatus"].endswith("FAILED")]
        return f"{status} {reasons}"
    if skipped_now:
        create_skipped_resources(region, name, template, parameters)
    return status


SKIPPED_BY_MOTO = {
    "AWS::CloudWatch::Alarm": lambda region, properties: boto3.client("cloudwatch", region_name=region)
    .put_metric_alarm(**properties),
    "AWS::S3::BucketPolicy": lambda region, properties: boto3.client("s3", region_name=region)
    .put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"])),
}


class Resolver:
    """CloudFormation's intrinsics as the templates use them: Ref, Fn::Sub, Fn::GetAtt (Arn), Fn::If, Fn::Equals,
    Fn::Not, Condition, AWS::NoValue; over the stack's parameters, pseudo parameters and physical ids."""

    def __init__(self, template: dict, region: str, parameters: dict, physical: dict):
        defaults = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
        self.values = {**defaults, **parameters, **physical,
                       "AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT_ID}
        self.conditions = template.get("Conditions", {})

    def __call__(self, node):
        if isinstance(node, list):
            return [value for value in map(self, node) if value is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, value)] = node.items()
            if key == "Ref":
                return NO_VALUE if value == "AWS::NoValue" else self.values[value]
            if key == "Fn::Sub":
                text = value
                for name, replacement in self.values.items():
                    text = text.replace(f"${{{name}}}", str(replacement))
                assert "${" not in text, text
                return text
            if key == "Fn::If":
                return self(value[1] if self.condition(value[0]) else value[2])
        resolved = {key: self(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def condition(self, node) -> bool:
        if isinstance(node, str):
            return self.condition(self.conditions[node])
        [(key, value)] = node.items()
        if key == "Condition":
            return self.condition(value)
        if key == "Fn::Not":
            return not self.condition(value[0])
        if key == "Fn::Equals":
            return self(value[0]) == self(value[1])
        raise AssertionError(f"unsupported condition {node}")


NO_VALUE = object()


def create_skipped_resources(region: str, name: str, template: dict, parameters: dict) -> None:
    """Create what moto's CloudFormation skipped, from the template's own properties."""
    summaries = boto3.client("cloudformation", region_name=region).list_stack_resources(
        StackName=name)["StackResourceSummaries"]
    physical = {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries if s.get("PhysicalResourceId")}
    resolve_node = Resolver(template, region, parameters, physical)
    for resource in template["Resources"].values():
        if resource["Type"] in SKIPPED_BY_MOTO:
            SKIPPED_BY_MOTO[resource["Type"]](region, resolve_node(resource["Properties"]))


def upload_artifact(region: str, bucket: str, artifact: Path, create: bool = True) -> None:
    s3 = boto3.client("s3", region_name=region)
    if create:
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_object(Bucket=bucket, Key=KEY, Body=artifact.read_bytes())


def resolve(text: str, region: str) -> str:
    """A pack's Fn::Sub text as Config would resolve it in ``region`` of this account, with the default NamePrefix."""
    values = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT_ID, "NamePrefix": PREFIX}
    for name, value in values.items():
        text = text.replace(f"${{{name}}}", value)
    assert "${" not in text, text
    return text


def assert_pack_names_what_exists(pack_file: str, region: str) -> None:
    """The pack's functions and automation roles, resolved for ``region``, exist in this account."""
    lam = boto3.client("lambda", region_name=region)
    iam = boto3.client("iam", region_name=region)
    ssm = boto3.client("ssm", region_name=region)
    for logical, resource in load_template(pack_file)["Resources"].items():
        properties = resource["Properties"]
        if resource["Type"] == "AWS::Config::ConfigRule":
            arn = resolve(properties["Source"]["SourceIdentifier"]["Fn::Sub"], region)
            assert lam.get_function(FunctionName=arn)["Configuration"]["FunctionArn"] == arn
        else:
            [role_arn] = properties["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"]
            role_arn = resolve(role_arn["Fn::Sub"], region)
            assert iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]["Arn"] == role_arn
            ssm.describe_document(Name=resolve(properties["TargetId"]["Fn::Sub"], region))


def assert_functions_and_alarms_in(region: str, topic: str | None = None) -> None:
    lam = boto3.client("lambda", region_name=region)
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]}
    for spec in SPECS:
        name = f"{PREFIX}{spec.rule_id}"
        assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"].split(":")[3] == region
        alarm = alarms[f"{name}-errors"]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
            "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": name}])
        assert alarm["AlarmActions"] == ([topic] if topic else [])


def test_the_account_stack_deploys_in_two_regions_of_one_account(artifact):
    with mock_aws():
        topic = boto3.client("sns", region_name=REGIONS[0]).create_topic(Name="perimeter-alarms")["TopicArn"]
        statuses = {}
        for region in REGIONS:
            upload_artifact(region, f"{BUCKET}-{region}", artifact)
            template = packaged_template(load_template("perimeter.yaml"), bucket=f"{BUCKET}-{region}")
            topic_parameter = {"AlarmTopicArn": topic} if region == REGIONS[0] else {}
            statuses[region] = create_stack(region, STACK, template, **topic_parameter)

        assert statuses == {region: "CREATE_COMPLETE" for region in REGIONS}
        for region in REGIONS:
            assert_functions_and_alarms_in(region, topic if region == REGIONS[0] else None)
            assert_pack_names_what_exists("conformance-pack.yaml", region)


def test_the_organization_stacks_deploy_in_two_regions_of_one_account(artifact):
    with mock_aws():
        statuses = {}
        artifacts = {"OrganizationId": ORGANIZATION_ID, "ArtifactBucketPrefix": ARTIFACT_BUCKET_PREFIX}
        for region in REGIONS:
            # moto's S3 ignores policy conditions, so the TLS-only Deny would refuse every moto request: the bucket
            # policy goes on last, where PutBucketPolicy still takes it and GetBucketPolicy returns it.
            statuses[f"artifacts {region}"] = create_stack(
                region, "perimeter-artifacts", load_template("organization/artifacts.yaml"), skipped_now=False,
                **artifacts)
            upload_artifact(region, f"{ARTIFACT_BUCKET_PREFIX}-{region}", artifact, create=False)
        for region in REGIONS:  # what the StackSet does in each account and region
            statuses[f"member {region}"] = create_stack(
                region, "StackSet-perimeter-member", load_template("organization/member.yaml"),
                ArtifactBucketPrefix=ARTIFACT_BUCKET_PREFIX, ArtifactKey=KEY)
        for region in REGIONS:
            create_skipped_resources(region, "perimeter-artifacts", load_template("organization/artifacts.yaml"),
                                     artifacts)

        assert set(statuses.values()) == {"CREATE_COMPLETE"}, statuses
        for region in REGIONS:
            policy = json.loads(boto3.client("s3", region_name=region).get_bucket_policy(
                Bucket=f"{ARTIFACT_BUCKET_PREFIX}-{region}")["Policy"])
            read = next(s for s in policy["Statement"] if s["Sid"] == "OrganizationReadsArtifacts")
            assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION_ID}}
            assert_functions_and_alarms_in(region)
            assert_pack_names_what_exists("organization/conformance-pack.yaml", region)


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
