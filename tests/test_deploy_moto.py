"""The stacks (templates/perimeter.yaml, organization/artifacts.yaml, organization/member.yaml) deployed on moto's
CloudFormation, as far as moto can prove it.

What this proves: the account stack deploys as `aws cloudformation package` leaves it (Code replaced by the uploaded
artifact's S3 location), creating each rule's log group, role, function (python3.12, the rule's handler),
invoke permission for config.amazonaws.com limited to this account, error alarm, and, for rules with a runbook, the
remediation function, the SSM Automation document calling it and the automation role trusted by SSM of this account
only, allowed to invoke that function alone. The deployed document, as SSM holds it, is run step by step against
moto EC2 through the function the stack created (handler and rule id as Lambda holds them, code from the artifact),
in the account stack and in the organization's member stack. Every
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

import ast
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
from perimeter.templates.naming import role_rule_part
from tests.ssm.lambdas import LambdaFunction
from tests.ssm.runner import SUCCESS, run_document

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
    return template


def for_moto(template: dict, region: str = REGION, parameters: dict | None = None) -> dict:
    """CloudFormation resolves the intrinsic functions in an object Content of an SSM document (the remediation
    function's ARN, an Fn::Sub) and serialises it to JSON itself; moto 5.2.5 keeps the object and then fails in
    DescribeDocument (it hashes Content as text), so hand it the JSON text CloudFormation would send."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SSM::Document" and isinstance(resource["Properties"]["Content"], dict):
            content = Resolver(template, region, parameters or {}, {})(resource["Properties"]["Content"])
            resource["Properties"]["Content"] = json.dumps(content)
    return template


@pytest.fixture
def stack(artifact):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=artifact.read_bytes())
        template = packaged_template(yaml.safe_load((ROOT / "templates" / "perimeter.yaml").read_text()))
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(for_moto(template)),
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
        remediated = spec in RUNBOOK_SPECS
        # A long rule id gets a short form in its remediation function's name (Lambda names hold 64 characters).
        remediation_name = f"perimeter-{role_rule_part(spec.rule_id)}-remediation"
        groups = [group for prefix in (name, remediation_name)
                  for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{prefix}")["logGroups"]]
        assert sorted({(g["logGroupName"], g.get("retentionInDays")) for g in groups}) == sorted(
            [(f"/aws/lambda/{name}", 90)] + ([(f"/aws/lambda/{remediation_name}", 90)] if remediated else []))
        if remediated:  # its remediation function, with a role of its own
            remediation = lam.get_function(FunctionName=remediation_name)["Configuration"]
            assert (remediation["Handler"], remediation["Environment"]["Variables"]) == (
                "perimeter.remediation_entry.lambda_handler", {"PERIMETER_RULE_ID": spec.rule_id})
            assert remediation["Role"].rsplit("/", 1)[1] == ids[f"{logical}RemediationFunctionRole"]


def test_stack_creates_each_runbook_document_and_automation_role(stack):
    ssm = boto3.client("ssm", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    template = yaml.safe_load((ROOT / "templates" / "perimeter.yaml").read_text())

    assert RUNBOOK_SPECS
    for spec in RUNBOOK_SPECS:
        name = f"perimeter-{spec.rule_id}-remediation"
        document = ssm.describe_document(Name=name)["Document"]
        expected = Resolver(template, REGION, {}, {})(
            template["Resources"][f"{logical_id(spec.rule_id)}RemediationDocument"]["Properties"]["Content"])
        assert document["DocumentType"] == "Automation"
        assert {p["Name"] for p in document["Parameters"]} == set(expected["parameters"])
        content = json.loads(ssm.get_document(Name=name, DocumentFormat="JSON")["Content"])
        assert content == expected  # the runbook, calling the remediation function by its ARN
        role = iam.get_role(RoleName=f"perimeter-{role_rule_part(spec.rule_id)}-{REGION}")["Role"]
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
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(for_moto(template, region, parameters)),
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


# --- the remediation runs as deployed ---------------------------------------------------------------------------

def deployed_functions(region: str, content: dict, task: Path) -> dict[str, LambdaFunction]:
    """The functions the deployed document invokes, as Lambda holds them (handler, environment, timeout), their code
    the artifact the stack was given."""
    lam = boto3.client("lambda", region_name=region)
    functions = {}
    for step in content["mainSteps"]:
        if step["action"] == "aws:invokeLambdaFunction":
            configuration = lam.get_function_configuration(FunctionName=step["inputs"]["FunctionName"])
            assert configuration["FunctionArn"] == step["inputs"]["FunctionName"]
            functions[configuration["FunctionName"]] = LambdaFunction(
                configuration["FunctionName"], configuration["Handler"], configuration["Environment"]["Variables"],
                task, configuration["Timeout"])
    return functions


def open_range_group(region: str) -> str:
    ec2 = boto3.client("ec2", region_name=region)
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(GroupName="wide", Description="wide", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 1000, "ToPort": 2000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return group_id


@pytest.mark.parametrize("deployment", ["account", "organization"])
def test_the_deployed_runbook_remediates_through_the_deployed_remediation_function(deployment, artifact, tmp_path):
    """The document as SSM holds it, run step by step: it invokes the function the same stack created in that region
    (its handler and rule id as Lambda holds them, code from the artifact), whose answer fixes the group; the
    automation role may invoke exactly that function and holds no EC2 permission itself."""
    region = REGIONS[1]
    spec = next(spec for spec in RUNBOOK_SPECS if spec.rule_id == "sg-ingress-port-range-restricted")
    task = tmp_path / "task"
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)
    with mock_aws():
        if deployment == "account":
            upload_artifact(region, f"{BUCKET}-{region}", artifact)
            status = create_stack(region, STACK, packaged_template(load_template("perimeter.yaml"),
                                                                   bucket=f"{BUCKET}-{region}"))
        else:
            create_stack(region, "perimeter-artifacts", load_template("organization/artifacts.yaml"),
                         skipped_now=False, OrganizationId=ORGANIZATION_ID, ArtifactBucketPrefix=ARTIFACT_BUCKET_PREFIX)
            upload_artifact(region, f"{ARTIFACT_BUCKET_PREFIX}-{region}", artifact, create=False)
            status = create_stack(region, "StackSet-perimeter-member", load_template("organization/member.yaml"),
                                  ArtifactBucketPrefix=ARTIFACT_BUCKET_PREFIX, ArtifactKey=KEY)
        assert status == "CREATE_COMPLETE"
        name = f"{PREFIX}{spec.rule_id}"
        content = json.loads(boto3.client("ssm", region_name=region).get_document(
            Name=f"{name}-remediation", DocumentFormat="JSON")["Content"])
        functions = deployed_functions(region, content, task)
        assert [(f.name, f.handler, f.environment) for f in functions.values()] == [
            (f"{name}-remediation", "perimeter.remediation_entry.lambda_handler", {"PERIMETER_RULE_ID": spec.rule_id})]
        iam = boto3.client("iam", region_name=region)
        role = iam.get_role(RoleName=f"{name}-{region}")["Role"]
        [policy] = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)["PolicyDocument"]
        # moto 5.2.5's CloudFormation stores an inline policy as Python's repr of the mapping, and returns that text.
        [statement] = (ast.literal_eval(document) if isinstance(document, str) else document)["Statement"]
        assert (statement["Action"], statement["Resource"]) == (
            ["lambda:InvokeFunction"], [f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}-remediation"])
        group_id = open_range_group(region)

        result = run_document(content, {"SecurityGroupId": group_id, "AutomationAssumeRole": role["Arn"],
                                        "DryRun": False}, region=region, functions=functions)

        assert result.status == SUCCESS, result.failure_message
        assert result.executed[:2] == ["RemediateInvoke", "Remediate"]
        assert [(r["FromPort"], r["ToPort"]) for r in result.outputs["Remediate.Removed"]] == [(1000, 2000)]
        rules = boto3.client("ec2", region_name=region).describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
        assert not [rule for rule in rules if not rule["IsEgress"]]
