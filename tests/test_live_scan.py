"""`perimeter scan --live` (issue 6): items built from read-only calls, in the shape the Lambdas receive.

moto serves EC2 (more security groups than one DescribeSecurityGroups page) and STS; the botocore-validated
Network Firewall fake serves policies and rule groups. moto answers DescribeSecurityGroups whole, ignoring
MaxResults and NextToken, so ``Ec2Pages`` pages its answer the way EC2 does.
"""
from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.ec2.models import ec2_backends

from conftest import load_fixture
from faultinjection import HttpFaults, denied, error, fake_backend, throttle
from perimeter.cli import main
from perimeter.items import normalise_item
from perimeter.live import ACTIONS, READERS, LiveScanError, live_items
from perimeter.registry import all_rules
from tests.fakes.networkfirewall import FakeNetworkFirewall

ACCOUNT = "123456789012"
REGION, OTHER_REGION = "us-east-1", "eu-west-1"
BULK_GROUPS = 1001  # more than one DescribeSecurityGroups page (MaxResults 1000) on their own
ALL_TYPES = ["AWS::EC2::SecurityGroup", "AWS::NetworkFirewall::FirewallPolicy", "AWS::NetworkFirewall::RuleGroup",
             "AWS::NetworkFirewall::Firewall", "AWS::EC2::NetworkAcl"]
SNAPSHOT_KEYS = set(load_fixture("items/sg-open-range.notification.json"))
README = Path(__file__).resolve().parents[1] / "README.md"


class Ec2Pages:
    """Pages moto's whole DescribeSecurityGroups answer as EC2 does, checking the request as EC2 would."""

    def __init__(self):
        self.requests: list[dict] = []

    def register(self, events) -> None:
        events.register("before-parameter-build.ec2.DescribeSecurityGroups", self._request)
        events.register("after-call.ec2.DescribeSecurityGroups", self._page)

    def _request(self, params, context, **_):
        size = params.get("MaxResults")
        assert size is None or 5 <= size <= 1000, "EC2: MaxResults must be 5-1000"
        assert not (size and (params.get("GroupIds") or params.get("GroupNames"))), "EC2: no MaxResults with ids"
        self.requests.append(dict(params))
        context["ec2-page"] = (size, int(params.get("NextToken") or 0))

    def _page(self, parsed, context, **_):
        size, start = context["ec2-page"]
        if size is None or "SecurityGroups" not in parsed:
            return
        groups = parsed["SecurityGroups"]
        parsed["SecurityGroups"] = groups[start : start + size]
        if start + size < len(groups):
            parsed["NextToken"] = str(start + size)


class CallLog:
    """Every operation the live scan's clients call."""

    def __init__(self):
        self.operations: list[str] = []

    def register(self, events) -> None:
        events.register("before-parameter-build", lambda model, **_: self.operations.append(model.name))


@pytest.fixture(scope="module")
def account():
    """One moto account and one fake for the module: 1001 plain groups (made through moto's backend, which is
    quick) plus groups with rules (through the API), two firewall policies and three rule groups."""
    nfw = FakeNetworkFirewall(region=REGION, account_id=ACCOUNT, default_max_results=2)  # entered per test
    with mock_aws():
        ec2 = boto3.Session(region_name=REGION).client("ec2")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        backend = ec2_backends[ACCOUNT][REGION]
        for number in range(BULK_GROUPS):
            backend.create_security_group(f"bulk-{number:04d}", "bulk", vpc)
        for name, permissions in [
            ("open-range", [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535,
                             "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}],
                             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]),
            ("web", [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
            ("icmp", [{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]),
        ]:
            group = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc,
                                              TagSpecifications=[{"ResourceType": "security-group",
                                                                  "Tags": [{"Key": "team", "Value": "network"}]}])
            ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=permissions)
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="172.31.200.0/24")["Subnet"]["SubnetId"]
        acl = ec2.create_network_acl(VpcId=vpc, TagSpecifications=[
            {"ResourceType": "network-acl", "Tags": [{"Key": "Name", "Value": "admin"}]}])["NetworkAcl"]["NetworkAclId"]
        for number, action, ports in ((100, "allow", (22, 22)), (110, "allow", (443, 443)), (200, "deny", (22, 22))):
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction=action,
                                         Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": ports[0], "To": ports[1]})
        association = next(association["NetworkAclAssociationId"] for default in ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
            for association in default["Associations"] if association["SubnetId"] == subnet)
        ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
        other = boto3.Session(region_name=OTHER_REGION).client("ec2")
        other.create_security_group(GroupName="elsewhere", Description="eu", VpcId=other.describe_vpcs()["Vpcs"][0]["VpcId"])

        stateless = nfw.put_rule_group("forward-web", "STATELESS", rule_group={"RulesSource": {
            "StatelessRulesAndCustomActions": {"StatelessRules": [{"Priority": 1, "RuleDefinition": {
                "MatchAttributes": {"Protocols": [6]}, "Actions": ["aws:forward_to_sfe"]}}]}}})
        suricata = nfw.put_rule_group("block-telnet", "STATEFUL", rules="drop tcp any any -> any 23 (sid:1;)\n")
        nfw.put_rule_group("placeholder", "STATEFUL", rules="# to do\n")
        nfw.put_firewall_policy("inspection", {
            "StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "StatelessRuleGroupReferences": [{"ResourceArn": stateless, "Priority": 10}],
            "StatefulRuleGroupReferences": [{"ResourceArn": suricata}],
            "PolicyVariables": {"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}}},
            tags=[{"Key": "team", "Value": "network"}])
        pass_all = nfw.put_firewall_policy("pass-all", {"StatelessDefaultActions": ["aws:pass"],
                                                        "StatelessFragmentDefaultActions": ["aws:pass"]})
        boto3.Session(region_name=REGION).client("s3").create_bucket(Bucket="fw-alerts")
        nfw.put_firewall("edge", pass_all, {"subnet-0a1a1a1a1a1a1a1a1": "us-east-1a",
                                            "subnet-0b2b2b2b2b2b2b2b2": "us-east-1b"},
                         delete_protection=True, subnet_change_protection=True, logging=[
                             {"LogType": "ALERT", "LogDestinationType": "S3", "LogDestination": {"bucketName": "fw-alerts"}},
                             {"LogType": "FLOW", "LogDestinationType": "S3", "LogDestination": {"bucketName": "gone"}}])
        nfw.put_firewall("lab", pass_all, {"subnet-0c3c3c3c3c3c3c3c3": "us-east-1c"})
        expected = {region: {group["GroupId"] for group in boto3.Session(region_name=region).client("ec2")
                             .describe_security_groups()["SecurityGroups"]} for region in (REGION, OTHER_REGION)}
        yield {"nfw": nfw, "groups": expected}
        assert nfw.contract_errors == []


def _hook_sessions(monkeypatch):
    """Every boto3.Session made from now on pages EC2 like EC2 and logs its calls."""
    pages, log = Ec2Pages(), CallLog()

    class Session(boto3.Session):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pages.register(self.events)
            log.register(self.events)

    monkeypatch.setattr(boto3, "Session", Session)
    return pages, log


@pytest.fixture
def hooks(account, monkeypatch):
    with account["nfw"]:
        yield _hook_sessions(monkeypatch)


@pytest.fixture(scope="module")
def scanned(account):
    """The items of one full live scan of REGION (all resource types), shared by the shape tests."""
    with pytest.MonkeyPatch.context() as monkeypatch, account["nfw"]:
        pages, log = _hook_sessions(monkeypatch)
        items = list(live_items(ALL_TYPES, [REGION]))
    return items, pages, log


def run(capsys, *argv):
    status = main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- reading the account -------------------------------------------------------------------------------------


def test_security_groups_are_paged_by_1000_and_all_read(account, scanned):
    items, pages, _ = scanned
    groups = [item["resourceId"] for item in items if item["resourceType"] == "AWS::EC2::SecurityGroup"]

    assert len(groups) == len(set(groups)) == len(account["groups"][REGION]) > BULK_GROUPS
    assert set(groups) == account["groups"][REGION]
    assert [(request.get("MaxResults"), request.get("NextToken")) for request in pages.requests] == [
        (1000, None), (1000, "1000")]


def test_only_read_only_calls_and_one_get_caller_identity(scanned):
    _, _, log = scanned
    calls = Counter(log.operations)

    assert set(calls) <= set(ACTIONS)
    assert all(ACTIONS[operation].split(":")[1].startswith(("Describe", "List", "Get")) for operation in ACTIONS)
    assert calls["GetCallerIdentity"] == 1
    assert calls["DescribeSecurityGroups"] == 2 and calls["DescribeNetworkAcls"] == 1
    assert calls["ListRuleGroups"] == 2 and calls["ListFirewallPolicies"] == 1  # the fake pages by 2 here
    assert calls["DescribeRuleGroup"] == 3 and calls["DescribeFirewallPolicy"] == 2


def test_items_are_in_the_notification_shape(scanned):
    items, _, _ = scanned
    for item in items:
        assert set(item) == SNAPSHOT_KEYS
        assert normalise_item(item) == item  # already the notification shape: nothing to convert
        assert item["awsAccountId"] == ACCOUNT and item["awsRegion"] == REGION
        assert item["configurationItemStatus"] == "OK" and isinstance(item["configuration"], dict)
        json.dumps(item)  # what a Lambda receives is JSON: no datetimes left


def test_security_group_item_is_spelled_as_config_records_it(scanned):
    items, _, _ = scanned
    [item] = [item for item in items if item["resourceName"] == "open-range"]
    configuration = item["configuration"]

    assert item["ARN"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{item['resourceId']}"
    assert item["tags"] == {"team": "network"} and configuration["tags"] == [{"key": "team", "value": "network"}]
    assert item["relationships"] == [{"resourceId": configuration["vpcId"], "resourceName": None,
                                      "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"}]
    [permission] = configuration["ipPermissions"]
    assert permission == {"ipProtocol": "tcp", "fromPort": 0, "toPort": 65535,
                          "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "anyone"}], "ipRanges": ["0.0.0.0/0"],
                          "ipv6Ranges": [{"cidrIpv6": "::/0"}], "prefixListIds": [], "userIdGroupPairs": []}
    assert configuration["groupId"] == item["resourceId"] and configuration["groupName"] == "open-range"


def test_network_acl_item_is_spelled_as_config_records_it(scanned):
    items, _, _ = scanned
    [item] = [item for item in items if item["resourceType"] == "AWS::EC2::NetworkAcl" and item["tags"]]
    configuration = item["configuration"]

    assert item["ARN"] == f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{item['resourceId']}"
    assert configuration["networkAclId"] == item["resourceId"] and configuration["isDefault"] is False
    assert item["tags"] == {"Name": "admin"}
    assert sorted(configuration["entries"], key=lambda e: e["ruleNumber"])[0] == {
        "cidrBlock": "0.0.0.0/0", "egress": False, "portRange": {"from": 22, "to": 22}, "protocol": "6",
        "ruleAction": "allow", "ruleNumber": 100}
    [association] = configuration["associations"]
    assert {"resourceId": association["subnetId"], "resourceName": None, "resourceType": "AWS::EC2::Subnet",
            "name": "Is attached to Subnet"} in item["relationships"]


def test_firewall_items_are_spelled_as_config_records_them(scanned):
    items, _, _ = scanned
    [policy] = [item for item in items if item["resourceName"] == "inspection"]
    [group] = [item for item in items if item["resourceName"] == "block-telnet"]

    # Config's resource id for Network Firewall resources is the resource's id, not its ARN.
    assert policy["ARN"] == f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall-policy/inspection"
    assert policy["resourceId"] == policy["configuration"]["firewallPolicyResponse"]["firewallPolicyId"]
    assert group["resourceId"] == group["configuration"]["ruleGroupResponse"]["ruleGroupId"] != group["ARN"]
    assert set(policy["configuration"]) == {"firewallPolicy", "firewallPolicyResponse", "updateToken"}
    body = policy["configuration"]["firewallPolicy"]
    assert body["statefulRuleGroupReferences"] == [{"resourceArn": group["ARN"]}]
    # Map keys are data, not field names: the rule variable keeps its name.
    assert body["policyVariables"] == {"ruleVariables": {"HOME_NET": {"definition": ["10.0.0.0/8"]}}}
    assert policy["tags"] == {"team": "network"}
    response = policy["configuration"]["firewallPolicyResponse"]
    assert response["firewallPolicyName"] == "inspection" and response["lastModifiedTime"].endswith("Z")
    assert group["configuration"]["ruleGroup"]["rulesSource"] == {"rulesString": "drop tcp any any -> any 23 (sid:1;)\n"}
    assert group["configuration"]["ruleGroupResponse"]["type"] == "STATEFUL"


def test_firewall_items_carry_their_sync_states_and_logging(scanned):
    items, _, _ = scanned
    [edge] = [item for item in items if item["resourceName"] == "edge"]
    [lab] = [item for item in items if item["resourceName"] == "lab"]

    assert edge["resourceType"] == "AWS::NetworkFirewall::Firewall"
    assert edge["resourceId"] == edge["configuration"]["firewall"]["firewallId"] != edge["ARN"]
    assert sorted(edge["configuration"]["firewallStatus"]["syncStates"]) == ["us-east-1a", "us-east-1b"]
    assert edge["configuration"]["firewall"]["deleteProtection"] is True
    logging = edge["supplementaryConfiguration"]["LoggingConfiguration"]
    assert logging["firewallArn"] == edge["ARN"]
    assert logging["loggingConfiguration"]["logDestinationConfigs"][0] == {
        "logType": "ALERT", "logDestinationType": "S3", "logDestination": {"bucketName": "fw-alerts"}}
    assert edge["supplementaryConfiguration"]["LogDestinationsExist"] == {"ALERT": True, "FLOW": False}
    assert lab["supplementaryConfiguration"]["LoggingConfiguration"]["loggingConfiguration"] == {"logDestinationConfigs": []}


def test_items_are_yielded_lazily(account, hooks):
    pages, log = hooks
    items = live_items(ALL_TYPES, [REGION])

    first = next(items)

    assert first["resourceType"] == "AWS::EC2::SecurityGroup"
    assert log.operations == ["GetCallerIdentity", "DescribeSecurityGroups"]  # one page, nothing else yet
    items.close()


def test_every_resource_type_a_rule_evaluates_can_be_read_live():
    assert {kind for spec in all_rules() for kind in spec.resource_types} <= set(READERS)


def test_a_resource_type_without_a_reader_is_a_clear_error():
    with pytest.raises(LiveScanError, match="the live scan cannot read AWS::EC2::VPC yet"):
        next(live_items(["AWS::EC2::VPC"], [REGION]))


def test_only_the_selected_rules_resource_types_are_read(account, hooks, capsys):
    _, log = hooks
    status, out, _ = run(capsys, "scan", "--live", "--rule", "netfw-rule-group-not-empty", "--format", "json")

    assert status == 1
    assert {finding["resourceType"] for finding in json.loads(out)} == {"AWS::NetworkFirewall::RuleGroup"}
    assert set(log.operations) == {"GetCallerIdentity", "ListRuleGroups", "DescribeRuleGroup"}
    assert all(call[1].get("Scope") == "ACCOUNT" for call in account["nfw"].calls if call[0] == "ListRuleGroups")


def test_regions(account, hooks, capsys):
    status, out, _ = run(capsys, "scan", "--live", "--region", REGION, "--region", OTHER_REGION, "--rule",
                         "sg-ingress-port-range-restricted", "--format", "json")

    found = {finding["resourceId"] for finding in json.loads(out)}
    assert status == 1
    assert found == account["groups"][REGION] | account["groups"][OTHER_REGION]


# --- the same verdicts as the file scan ----------------------------------------------------------------------


@pytest.mark.parametrize("output", ["json", "table"])
def test_live_verdicts_equal_the_snapshot_scan_of_the_same_items(account, scanned, hooks, capsys, tmp_path, output):
    items, _, _ = scanned
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps({"fileVersion": "1.0", "configSnapshotId": "live", "configurationItems": items}))

    live = run(capsys, "scan", "--live", "--region", REGION, "--format", output)
    offline = run(capsys, "scan", snapshot, "--format", output)

    if output == "table":
        assert live == offline
    else:  # the same findings; the live scan reads resource types in the order of the rules' ids
        key = lambda finding: (finding["rule"], finding["resourceId"])  # noqa: E731
        assert sorted(json.loads(live[1]), key=key) == sorted(json.loads(offline[1]), key=key)
        assert (live[0], live[2]) == (offline[0], offline[2])
    assert live[0] == 1 and live[2] == ""  # findings; nothing on stderr when it is not a terminal
    if output == "json":
        verdicts = {(f["resourceType"], f["complianceType"]) for f in json.loads(live[1])}
        assert {("AWS::EC2::SecurityGroup", "NON_COMPLIANT"), ("AWS::EC2::SecurityGroup", "COMPLIANT"),
                ("AWS::NetworkFirewall::FirewallPolicy", "NON_COMPLIANT"),
                ("AWS::NetworkFirewall::FirewallPolicy", "COMPLIANT"),
                ("AWS::NetworkFirewall::RuleGroup", "NON_COMPLIANT"), ("AWS::NetworkFirewall::RuleGroup", "COMPLIANT"),
                ("AWS::NetworkFirewall::Firewall", "NON_COMPLIANT"), ("AWS::NetworkFirewall::Firewall", "COMPLIANT"),
                ("AWS::EC2::SecurityGroup", "NOT_APPLICABLE"),  # sg-default-closed: groups not named default
                ("AWS::EC2::NetworkAcl", "NON_COMPLIANT"),  # SSH allowed at 100, the deny at 200 changes nothing
                ("AWS::EC2::NetworkAcl", "NOT_APPLICABLE")} == verdicts  # the VPCs' default ACLs


# --- progress ------------------------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_stderr_only_when_it_is_a_terminal(account, hooks, capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    status = main(["scan", "--live", "--rule", "netfw-policy-rule-group-associated"])

    out = capsys.readouterr().out
    assert status == 1 and out.startswith("Rule")
    drawn = terminal.getvalue()
    assert "\r\033[Kscanning: us-east-1 FirewallPolicy " in drawn
    assert drawn.endswith("\r\033[K")  # the line is cleared before the results
    assert "scanning" not in out


# --- credentials, region and permissions: one line, exit 2 ---------------------------------------------------


def _no_credentials(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # and so no instance-metadata request


def _no_region(monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


@pytest.fixture
def faults(monkeypatch):
    injected = HttpFaults()
    injected.no_backoff_sleep(monkeypatch)
    injected.attach_to_new_sessions(monkeypatch)
    return injected


def one_line_error(capsys, *argv) -> str:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("perimeter: error: ") and err.count("\n") == 1, err
    return err[len("perimeter: error: "):-1]


def test_no_credentials(capsys, monkeypatch):
    _no_credentials(monkeypatch)
    assert one_line_error(capsys, "scan", "--live") == (
        "no AWS credentials found: run 'aws configure' or 'aws sso login', set AWS_PROFILE or "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile")


def test_no_region(capsys, monkeypatch):
    _no_region(monkeypatch)
    assert one_line_error(capsys, "scan", "--live") == (
        "no AWS region: pass --region R, or set AWS_REGION or a region in your AWS profile")


def test_profile_not_found(capsys):
    assert one_line_error(capsys, "scan", "--live", "--profile", "no-such-profile") == (
        "AWS profile 'no-such-profile' not found: check ~/.aws/config (or AWS_CONFIG_FILE) or drop --profile")


def test_profile_region_and_credentials_are_used(capsys, monkeypatch, tmp_path, faults):
    _no_credentials(monkeypatch)
    _no_region(monkeypatch)
    config = tmp_path / "config"
    config.write_text("[profile audit]\nregion = eu-west-1\naws_access_key_id = AKIAAUDIT\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    faults.script("sts", "GetCallerIdentity", denied("AccessDenied", "no"))

    message = one_line_error(capsys, "scan", "--live", "--profile", "audit")

    assert message.startswith("access denied: sts:GetCallerIdentity in eu-west-1 (AccessDenied)")


def test_invalid_region_name(capsys):
    assert "pass a region name such as us-east-1" in one_line_error(capsys, "scan", "--live", "--region", "us east 1")


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException", "RequestExpired"])
def test_expired_credentials(capsys, faults, code):
    faults.script("sts", "GetCallerIdentity", error(code, 403, "The security token included in the request is expired"))
    assert one_line_error(capsys, "scan", "--live") == (
        f"AWS credentials have expired ({code} calling sts:GetCallerIdentity): renew them (e.g. 'aws sso login') and retry")


def test_rejected_credentials(capsys, faults):
    faults.script("sts", "GetCallerIdentity", error("InvalidClientTokenId", 403, "The security token is invalid"))
    assert one_line_error(capsys, "scan", "--live") == (
        "AWS credentials were rejected (InvalidClientTokenId calling sts:GetCallerIdentity): check the access key, "
        "or renew the session")


@pytest.mark.parametrize("service, operation, code, action", [
    ("ec2", "DescribeSecurityGroups", "UnauthorizedOperation", "ec2:DescribeSecurityGroups"),
    ("network-firewall", "ListFirewallPolicies", "AccessDeniedException", "network-firewall:ListFirewallPolicies"),
    ("network-firewall", "DescribeRuleGroup", "AccessDeniedException", "network-firewall:DescribeRuleGroup"),
])
def test_access_denied_names_the_action_and_the_policy(account, capsys, monkeypatch, faults, service, operation, code, action):
    _hook_sessions(monkeypatch)
    faults.attach_to_new_sessions(monkeypatch)
    faults.serve("network-firewall", fake_backend(account["nfw"]))  # the fake, not entered, answers in the retry loop
    faults.script(service, operation, denied(code))

    assert one_line_error(capsys, "scan", "--live") == (
        f"access denied: {action} in us-east-1 ({code}); the live scan needs the read-only IAM policy in the README "
        "section 'Scanning a live account'")


def test_throttling_is_retried_and_then_explained(account, hooks, capsys, faults):
    sg_only = ("--rule", "sg-ingress-port-range-restricted", "--region", OTHER_REGION)  # a region with one page
    faults.script("ec2", "DescribeSecurityGroups", throttle(), throttle())
    status, out, _ = run(capsys, "scan", "--live", *sg_only, "--format", "json")
    assert status == 0 and {f["resourceId"] for f in json.loads(out)} == account["groups"][OTHER_REGION]
    assert faults.attempts("ec2", "DescribeSecurityGroups") == 3  # 2 throttled, then the page

    faults.script("ec2", "DescribeSecurityGroups", *[throttle()] * 3)
    assert one_line_error(capsys, "scan", "--live", *sg_only) == (
        "AWS error in eu-west-1: ec2:DescribeSecurityGroups failed: RequestLimitExceeded: Rate exceeded")
    assert faults.attempts("ec2", "DescribeSecurityGroups") == 6


@pytest.mark.parametrize("argv, message", [
    (["scan", "--live", "snapshot.json"], "PATH is not allowed with --live"),
    (["scan"], "the following arguments are required: path"),
    (["scan", "--live", "--account", "111122223333"], "--account is not allowed with --live"),
    (["scan", "snapshot.json", "--profile", "p"], "--profile needs --live, --aggregator or an s3:// location"),
])
def test_usage(capsys, argv, message):
    assert one_line_error(capsys, *argv).startswith(message)


def test_bad_parameters_fail_before_any_call(capsys, tmp_path, faults):
    parameters = tmp_path / "parameters.json"
    parameters.write_text('{"sg-ingress-port-range-restricted": {"maxPorts": "0"}}')
    assert "maxPorts: '0' is not an integer >= 1" in one_line_error(capsys, "scan", "--live", "--parameters", parameters)
    assert sum(faults._attempts.values()) == 0


def test_the_readme_policy_grants_exactly_the_calls_the_live_scan_makes():
    text = README.read_text(encoding="utf-8")
    start = text.index("### Scanning a live account")
    section = text[start:text.index("\n## ", start)]
    policy = json.loads(section[section.index("```json") + len("```json"):section.rindex("```")])
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert granted == set(ACTIONS.values()) - {"sts:GetCallerIdentity"}  # GetCallerIdentity needs no permission
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])


def test_a_resource_deleted_between_list_and_describe_is_skipped(account, hooks):
    account["nfw"].fail_next("DescribeFirewallPolicy", "ResourceNotFoundException", message="gone")

    names = [item["resourceName"] for item in live_items(["AWS::NetworkFirewall::FirewallPolicy"], [REGION])]

    assert len(names) == 1 and names[0] in ("inspection", "pass-all")
