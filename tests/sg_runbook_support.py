"""What the security-group runbook tests share (a test module imports the fixtures document, account and net,
and sets RULE_DIR): a moto account with a VPC, a group to reference and a prefix list;
a fresh group to remediate per test; views of its rules; interceptors that change the group between the script's
read and its write; and the random groups of the property tests."""
from __future__ import annotations

import contextlib
import json
import uuid
from datetime import timedelta

import boto3
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from hypothesis import strategies as st
from moto import mock_aws

from perimeter.exemptions import evaluation_date, tag_key
from perimeter.runbooks import render_runbook
from perimeter.securitygroups import security_group_from_configuration
from tests.ssm.runner import FAILED, SUCCESS, run_document
from tests.support import ClientInterceptor, OperationStubber

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/PerimeterRemediation"
SOURCE_KEYS = ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId")


@contextlib.contextmanager
def moto_account():
    """One moto account (starting moto per test costs ~0.5 s): (ec2, a VPC, a group to reference, a managed prefix
    list). Each test remediates a group of its own."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            patch.setenv(name, "/nonexistent")
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        peer_id = ec2.create_security_group(GroupName="peer", Description="peer", VpcId=vpc_id)["GroupId"]
        prefix_list_id = ec2.create_managed_prefix_list(
            PrefixListName="offices", AddressFamily="IPv4", MaxEntries=5)["PrefixList"]["PrefixListId"]
        yield ec2, vpc_id, peer_id, prefix_list_id


@pytest.fixture(scope="module")
def document(request) -> dict:
    """The runbook of the test module's RULE_DIR, rendered as the templates deploy it."""
    return render_runbook(request.module.RULE_DIR)


@pytest.fixture(scope="module")
def account():
    with moto_account() as shared:
        yield shared


@pytest.fixture
def net(account) -> "Network":
    return Network(account)


class Network:
    """A fresh group to remediate in the shared VPC (or ``group_id``), with a group to reference and a prefix list."""

    def __init__(self, account, group_id: str | None = None):
        self.ec2, self.vpc_id, self.peer_id, self.prefix_list_id = account
        if group_id is None:
            name = f"target-{uuid.uuid4().hex[:12]}"
            group_id = self.ec2.create_security_group(GroupName=name, Description=name, VpcId=self.vpc_id)["GroupId"]
        self.group_id = group_id

    def allow(self, *permissions: dict) -> None:
        self.ec2.authorize_security_group_ingress(GroupId=self.group_id, IpPermissions=list(permissions))

    def rules(self, egress: bool = False) -> dict[str, tuple]:
        """Inbound (or outbound) rules by id: (protocol, from, to, source key, source value, description)."""
        return _rules(self.ec2, self.group_id, egress)

    def allowed(self, egress: bool = False) -> set[tuple]:
        return {view[:5] for view in self.rules(egress).values()}

    def described(self) -> dict:
        return self.ec2.describe_security_groups(GroupIds=[self.group_id])["SecurityGroups"][0]

    def item(self) -> dict:
        """The group as a configuration item, for the rule's evaluate."""
        return {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": self.group_id,
                "configurationItemStatus": "OK", "configuration": self.described()}


def _rules(ec2, group_id: str, egress: bool = False) -> dict[str, tuple]:
    found = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    views = {}
    for item in found["SecurityGroupRules"]:
        if item["IsEgress"] != egress:
            continue
        key, value = _source(item)
        views[item["SecurityGroupRuleId"]] = (item["IpProtocol"], item["FromPort"], item["ToPort"], key, value,
                                              item.get("Description", ""))
    return views


def _source(item: dict) -> tuple[str, str]:
    if item.get("ReferencedGroupInfo"):
        return "ReferencedGroupId", item["ReferencedGroupInfo"]["GroupId"]
    return next((key, item[key]) for key in SOURCE_KEYS if item.get(key))


def tcp(first: int, last: int, **sources) -> dict:
    return {"IpProtocol": "tcp", "FromPort": first, "ToPort": last, **sources}


def udp(first: int, last: int, **sources) -> dict:
    return {"IpProtocol": "udp", "FromPort": first, "ToPort": last, **sources}


def cidrs(*values: str, description: str | None = None) -> list[dict]:
    return [{"CidrIp": value, **({"Description": description} if description else {})} for value in values]


def remediate(document: dict, net: Network, **parameters):
    """Run the document for real (DryRun false) unless the test says otherwise."""
    return run_document(document, {"SecurityGroupId": net.group_id, "AutomationAssumeRole": ROLE, "DryRun": "false",
                                   **parameters})


def removed(result) -> list[dict]:
    return result.outputs["Remediate.Removed"]


def added(result) -> list[dict]:
    return result.outputs["Remediate.Added"]


def undone(result) -> list[dict]:
    return result.outputs["Remediate.Undone"]


def skipped(result) -> list[dict]:
    return result.outputs["Remediate.Skipped"]


def before_first(monkeypatch, operation: str, action) -> ClientInterceptor:
    """Run ``action()`` once, just before the script's first ``operation`` call reaches EC2: a change by someone
    else between the script's read and its write. An action returning (response, parsed) answers the call itself."""
    interceptor = ClientInterceptor(monkeypatch)
    fired = []

    def hook(**_):
        if not fired:
            fired.append(operation)
            return action()
        return None

    interceptor.on_create["ec2"] = [lambda client: client.meta.events.register(f"before-call.ec2.{operation}", hook)]
    return interceptor


def ignore_revocations(monkeypatch, *operations: str) -> ClientInterceptor:
    """Every Revoke call of the script (``operations``, e.g. "RevokeSecurityGroupIngress") "succeeds" and changes
    nothing, as under a racing change."""
    interceptor = ClientInterceptor(monkeypatch)

    def attach(client):
        stubber = OperationStubber(client, *operations)
        for operation in operations:
            stubber.add_response(xform_name(operation), {"Return": True})
        stubber.activate()

    interceptor.on_create["ec2"] = [attach]
    return interceptor


def refused(code: str):
    """An EC2 error answer, as botocore parses one."""
    return lambda: (AWSResponse("https://ec2.amazonaws.com", 403, {}, None),
                    {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {}})


def changes_in(failure: str) -> dict:
    """The JSON the failure message ends with: what the run changed before it stopped."""
    return json.loads(failure.split("What this run changed: ", 1)[1].splitlines()[0])


def as_allowed(entry: dict) -> tuple:
    key = next(key for key in SOURCE_KEYS if key in entry)
    return entry["IpProtocol"], entry["FromPort"], entry["ToPort"], key, entry[key]


def restore(ec2, group_id: str, entries: list[dict]) -> None:
    """What an operator would do with the Removed output: authorize each rule again."""
    spelling = {"CidrIpv4": ("IpRanges", "CidrIp"), "CidrIpv6": ("Ipv6Ranges", "CidrIpv6"),
                "PrefixListId": ("PrefixListIds", "PrefixListId"), "ReferencedGroupId": ("UserIdGroupPairs", "GroupId")}
    for entry in entries:
        key = next(key for key in SOURCE_KEYS if key in entry)
        list_name, value_name = spelling[key]
        source = {value_name: entry[key], "Description": entry["Description"]}
        if "ReferencedUserId" in entry:
            source["UserId"] = entry["ReferencedUserId"]
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
            "IpProtocol": entry["IpProtocol"], "FromPort": entry["FromPort"], "ToPort": entry["ToPort"],
            list_name: [source]}])


# --- random groups for the property tests -------------------------------------------------------------------------

PORTS = (0, 1, 22, 53, 80, 443, 1000, 1024, 3389, 8080, 65535)
SOURCE_CHOICES = ("0.0.0.0/0", "10.0.0.0/8", "8.8.8.0/24", "::/0", "fd00::/8", "prefix-list", "peer")
# Protocols whose rules carry no ports in the model: EC2 wants -1 (or any value) in their fields.
PORTLESS = ("-1", "icmp", "50")


@st.composite
def permissions(draw, protocols=("tcp", "udp", "-1", "icmp")):
    """(protocol, from, to, source) of one rule; ``source`` as in SOURCE_CHOICES."""
    protocol = draw(st.sampled_from(protocols))
    source = draw(st.sampled_from(SOURCE_CHOICES))
    if protocol in PORTLESS:
        first = last = -1
    else:  # tcp, udp and SCTP "132", which EC2 stores with the range given
        first, last = sorted(draw(st.lists(st.sampled_from(PORTS), min_size=2, max_size=2)))
    return protocol, first, last, source


def source_entry(net: Network, source: str) -> dict:
    if source == "prefix-list":
        return {"PrefixListIds": [{"PrefixListId": net.prefix_list_id}]}
    if source == "peer":
        return {"UserIdGroupPairs": [{"GroupId": net.peer_id}]}
    if ":" in source:
        return {"Ipv6Ranges": [{"CidrIpv6": source}]}
    return {"IpRanges": [{"CidrIp": source}]}


def source_value(net: Network, source: str) -> str:
    """A SOURCE_CHOICES entry as a parameter value (trustedSources) names it."""
    return {"prefix-list": net.prefix_list_id, "peer": net.peer_id}.get(source, source)


def grant(net: Network, granted) -> None:
    for protocol, first, last, source in granted:
        net.allow({"IpProtocol": protocol, "FromPort": first, "ToPort": last, **source_entry(net, source)})


def covered(rule_view: tuple, before: set[tuple]) -> bool:
    """Does some rule of before allow everything this rule allows?"""
    protocol, first, last, key, value = rule_view
    for b_protocol, b_first, b_last, b_key, b_value in before:
        if (b_key, b_value) != (key, value):
            continue
        if b_protocol == "-1":
            return True
        if b_protocol == protocol and (protocol not in ("tcp", "udp") and (b_first, b_last) == (first, last)
                                       or b_first <= first and last <= b_last):
            return True
    return False


def view_of(permission) -> tuple:
    """A perimeter.securitygroups.Permission as Network.allowed() views rules."""
    first = -1 if permission.from_port is None else permission.from_port
    last = -1 if permission.to_port is None else permission.to_port
    return permission.protocol, first, last, permission.source.kind, permission.source.value


# --- checks every SG runbook passes -------------------------------------------------------------------------------

def check_exempt_group_is_left_unchanged(document: dict, net: Network, rule_id: str, monkeypatch) -> None:
    """A group tagged exempt from ``rule_id`` until a future date: success, nothing read or changed beyond the tags,
    the empty outputs and ``ExemptUntil``."""
    until = (evaluation_date() + timedelta(days=30)).isoformat()
    net.ec2.create_tags(Resources=[net.group_id], Tags=[{"Key": tag_key(rule_id), "Value": f"{until} vendor CHG-7"}])
    before = (net.rules(), net.rules(egress=True))
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, net)

    assert result.status == SUCCESS, result.failure_message
    assert (net.rules(), net.rules(egress=True)) == before
    assert result.outputs["Remediate.ExemptUntil"] == until
    assert all(value == [] for name, value in result.outputs.items() if name != "Remediate.ExemptUntil")
    assert interceptor.operations("ec2") == ["DescribeTags"]


def check_missing_group_fails_clearly(document: dict, net: Network) -> None:
    net.ec2.delete_security_group(GroupId=net.group_id)

    result = remediate(document, net)

    assert result.status == FAILED
    assert f"security group {net.group_id} does not exist (InvalidGroup.NotFound)" in result.failure_message


def remediate_random_group(document: dict, account, granted, raw: dict, rule, offending) -> tuple:
    """The property tests' run: ``granted`` rules on a fresh group, the document run with the rule parameters ``raw``
    (its trustedSources a tuple of SOURCE_CHOICES) under their runbook names. Asserts the run succeeded, left egress
    alone and left the group COMPLIANT by the rule's evaluate; returns (allowed before, allowed after, the views of
    ``offending(group, parameters)`` before, the result)."""
    net = Network(account)
    grant(net, granted)
    raw = {**raw, "trustedSources": ",".join(source_value(net, source) for source in raw["trustedSources"])}
    parameters = rule.parse_parameters(raw)
    before, egress_before = net.allowed(), net.rules(egress=True)
    flagged = {view_of(permission) for permission in offending(
        security_group_from_configuration(net.described(), egress=False), parameters)}

    result = remediate(document, net, **{name[0].upper() + name[1:]: value for name, value in raw.items()})

    assert result.status == SUCCESS, result.failure_message
    assert net.rules(egress=True) == egress_before
    assert rule.evaluate(net.item(), parameters).compliance == "COMPLIANT"
    return before, net.allowed(), flagged, result
