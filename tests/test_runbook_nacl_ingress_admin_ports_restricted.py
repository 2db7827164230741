"""The nacl-ingress-admin-ports-restricted runbook, rendered, validated and executed end to end against moto EC2.

moto keeps network ACL entries as AWS does (NetworkAclEntryAlreadyExists for a number taken in a direction) but
enforces no entries quota: the quota refusal is tested by the runbook's own count, and AWS's refusal midway
(NetworkAclEntryLimitExceeded) by answering one call with it.
"""
from __future__ import annotations

import ipaddress
import itertools
import json
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from perimeter.exemptions import evaluation_date, tag_key
from perimeter.registry import rule_by_id
from perimeter.networkacls import ALLOW, DENY, network_acl_from_configuration, packet_action
from perimeter.rules.nacl_ingress_admin_ports_restricted import rule
from perimeter.runbooks import render_runbook
from perimeter.templates import AUTOMATION_ROLE, RESOURCE_ID, RULE_VALUE, TEMPLATE_VALUE, map_remediation_parameters
from perimeter.verdicts import COMPLIANT
from tests.ssm import validator
from tests.ssm.runner import FAILED, SUCCESS, ParameterError, run_document
from tests.support import ClientInterceptor

RULE_ID = "nacl-ingress-admin-ports-restricted"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "nacl_ingress_admin_ports_restricted"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/PerimeterRemediation"
SUBNETS = (f"10.0.{third}.{fourth}/28" for third in range(256) for fourth in range(0, 256, 16))


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULE_DIR)


@pytest.fixture(scope="module")
def account():
    """One moto account for the module (starting moto per test costs ~0.5 s); each test gets an ACL of its own."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            patch.setenv(name, "/nonexistent")
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        yield ec2, vpc_id


class Acl:
    """A fresh network ACL associated with a subnet of its own: the rule judges only associated ACLs."""

    def __init__(self, account, associate: bool = True):
        self.ec2, vpc_id = account
        self.acl_id = self.ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
        if associate:
            subnet = self.ec2.create_subnet(VpcId=vpc_id, CidrBlock=next(SUBNETS))["Subnet"]["SubnetId"]
            [current] = self.ec2.describe_network_acls(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
            association = next(a["NetworkAclAssociationId"] for a in current["Associations"] if a["SubnetId"] == subnet)
            self.ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=self.acl_id)

    def add(self, number: int, protocol: str = "6", action: str = ALLOW, cidr: str = "0.0.0.0/0", ports=None,
            egress: bool = False) -> None:
        request = {"NetworkAclId": self.acl_id, "RuleNumber": number, "Protocol": protocol, "RuleAction": action,
                   "Egress": egress, ("Ipv6CidrBlock" if ":" in cidr else "CidrBlock"): cidr}
        if ports is not None:
            request["PortRange"] = {"From": ports[0], "To": ports[1]}
        self.ec2.create_network_acl_entry(**request)

    def configuration(self) -> dict:
        return self.ec2.describe_network_acls(NetworkAclIds=[self.acl_id])["NetworkAcls"][0]

    def entries(self) -> set[tuple]:
        """Entries as (number, egress, action, protocol, cidr, from, to)."""
        return {(e["RuleNumber"], e["Egress"], e["RuleAction"], e["Protocol"], e.get("CidrBlock") or e["Ipv6CidrBlock"],
                 *((e["PortRange"]["From"], e["PortRange"]["To"]) if "PortRange" in e else (None, None)))
                for e in self.configuration()["Entries"]}

    def ingress(self):
        return network_acl_from_configuration(self.configuration()).ingress

    def verdict(self, **raw):
        item = {"resourceType": "AWS::EC2::NetworkAcl", "resourceId": self.acl_id, "configuration": self.configuration()}
        return rule.evaluate(item, rule.parse_parameters(raw))


@pytest.fixture
def acl(account) -> Acl:
    return Acl(account)


def remediate(document: dict, acl: Acl, **parameters):
    """Run the document for real (DryRun false) unless the test says otherwise."""
    return run_document(document, {"NetworkAclId": acl.acl_id, "AutomationAssumeRole": ROLE, "DryRun": "false",
                                   **parameters})


def output(result, name: str) -> list:
    return result.outputs[f"Remediate.{name}"]


def short(entries: list[dict]) -> list[tuple]:
    """Output entries as (number, action, protocol, cidr, from, to)."""
    return [(e["RuleNumber"], e["RuleAction"], e["Protocol"], e.get("CidrBlock") or e["Ipv6CidrBlock"], e["FromPort"],
             e["ToPort"]) for e in entries]


def changes_in(failure: str) -> dict:
    """The JSON the failure message ends with: what the run changed before it stopped."""
    return json.loads(failure.split("What this run changed: ", 1)[1].splitlines()[0])


def on_call(monkeypatch, operation: str, call: int, action) -> ClientInterceptor:
    """Run ``action()`` just before the script's ``call``-th ``operation`` call (1-based) reaches EC2: a change by
    someone else between the plan and that call. An action returning (response, parsed) answers the call itself."""
    interceptor = ClientInterceptor(monkeypatch)
    seen = []

    def hook(**_):
        seen.append(operation)
        return action() if len(seen) == call else None

    interceptor.on_create["ec2"] = [lambda client: client.meta.events.register(f"before-call.ec2.{operation}", hook)]
    return interceptor


def refused(code: str):
    """An EC2 error answer, as botocore parses one."""
    return lambda: (AWSResponse("https://ec2.amazonaws.com", 400, {}, None),
                    {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {}})


# --- the document -------------------------------------------------------------------------------------------------

def test_document_validates_and_carries_the_rules_parameters(document):
    assert validator.validate_document(document) == []
    parameters = document["parameters"]
    assert list(parameters) == ["NetworkAclId", "AutomationAssumeRole", "RestrictedTcpPorts", "RestrictedUdpPorts",
                                "SourceScope", "TrustedSources", "EvaluateDefaultNetworkAcl", "InboundRuleQuota",
                                "DryRun"]
    assert parameters["InboundRuleQuota"]["default"] == "20"
    assert parameters["DryRun"] == {**parameters["DryRun"], "type": "Boolean", "default": True}
    assert document["outputs"] == ["Remediate.Findings", "Remediate.Planned", "Remediate.Added",
                                   "Remediate.RolledBack", "Remediate.ExemptUntil"]


def test_the_templates_pass_the_rules_own_values_to_the_runbook(document):
    mapping = {p.name: (p.source, p.rule_parameter, p.default)
               for p in map_remediation_parameters(rule_by_id(RULE_ID), document)}
    assert mapping == {
        "NetworkAclId": (RESOURCE_ID, None, None),
        "AutomationAssumeRole": (AUTOMATION_ROLE, None, None),
        "RestrictedTcpPorts": (RULE_VALUE, "restrictedTcpPorts", None),
        "RestrictedUdpPorts": (RULE_VALUE, "restrictedUdpPorts", None),
        "SourceScope": (RULE_VALUE, "sourceScope", None),
        "TrustedSources": (RULE_VALUE, "trustedSources", None),
        "EvaluateDefaultNetworkAcl": (RULE_VALUE, "evaluateDefaultNetworkAcl", None),
        "InboundRuleQuota": (TEMPLATE_VALUE, None, "20"),
        "DryRun": (TEMPLATE_VALUE, None, "true"),
    }


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, acl):
    acl.add(100, ports=(22, 22))
    before = acl.entries()

    result = run_document(document, {"NetworkAclId": acl.acl_id, "AutomationAssumeRole": ROLE})

    assert result.status == SUCCESS, result.failure_message
    assert acl.entries() == before
    assert output(result, "Findings") == ["tcp 22 from 0.0.0.0/0 (rule 100)"]
    assert short(output(result, "Planned")) == [(99, DENY, "6", "0.0.0.0/0", 22, 22)]
    assert output(result, "Added") == []


# --- what it changes ----------------------------------------------------------------------------------------------

def test_an_offending_allow_gets_a_deny_right_below_it_and_nothing_else_changes(document, acl, monkeypatch):
    acl.add(100, "-1")
    acl.add(110, ports=(443, 443))
    acl.add(100, "-1", egress=True)
    before = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, acl, RestrictedUdpPorts="none")

    assert result.status == SUCCESS, result.failure_message
    assert short(output(result, "Added")) == [(98, DENY, "6", "0.0.0.0/0", 3389, 3389),
                                             (99, DENY, "6", "0.0.0.0/0", 22, 22)]
    assert output(result, "Added")[0] == {"NetworkAclId": acl.acl_id, "RuleNumber": 98, "Egress": False,
                                          "RuleAction": DENY, "Protocol": "6", "FromPort": 3389, "ToPort": 3389,
                                          "InFrontOfRule": 100, "CidrBlock": "0.0.0.0/0"}
    assert acl.entries() == before | {(98, False, DENY, "6", "0.0.0.0/0", 3389, 3389),
                                      (99, False, DENY, "6", "0.0.0.0/0", 22, 22)}
    assert acl.verdict(restrictedUdpPorts="none").compliance == COMPLIANT
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeNetworkAcls", "CreateNetworkAclEntry",
                                             "CreateNetworkAclEntry", "DescribeNetworkAcls"]


def test_an_ipv6_allow_gets_an_ipv6_deny(document, acl):
    acl.add(200, "17", cidr="::/0", ports=(3000, 4000))

    result = remediate(document, acl)

    assert result.status == SUCCESS, result.failure_message
    assert short(output(result, "Added")) == [(199, DENY, "17", "::/0", 3389, 3389)]
    assert (199, False, DENY, "17", "::/0", 3389, 3389) in acl.entries()


def test_a_shadowed_allow_is_left_alone(document, acl, monkeypatch):
    acl.add(90, "6", DENY, ports=(22, 22))
    acl.add(100, ports=(22, 22))
    before = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, acl)

    assert result.status == SUCCESS, result.failure_message
    assert acl.entries() == before
    assert (output(result, "Findings"), output(result, "Planned"), output(result, "Added")) == ([], [], [])
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeNetworkAcls"]


def test_trusted_sources_keep_their_access_through_an_allow_ahead_of_the_deny(document, acl):
    acl.add(100, ports=(22, 22))
    before = acl.entries()

    result = remediate(document, acl, TrustedSources="203.0.113.0/24, 2001:db8::/32, pl-0123456789abcdef0")

    assert result.status == SUCCESS, result.failure_message
    assert short(output(result, "Added")) == [(98, ALLOW, "6", "203.0.113.0/24", 22, 22),
                                             (99, DENY, "6", "0.0.0.0/0", 22, 22)]
    assert acl.entries() == before | {(98, False, ALLOW, "6", "203.0.113.0/24", 22, 22),
                                      (99, False, DENY, "6", "0.0.0.0/0", 22, 22)}
    ingress = acl.ingress()
    assert packet_action(ingress, "tcp", 22, 4, int(ipaddress.ip_address("203.0.113.9"))) == ALLOW
    assert packet_action(ingress, "tcp", 22, 4, int(ipaddress.ip_address("198.51.100.9"))) == DENY


def test_a_second_run_changes_nothing_and_succeeds(document, acl, monkeypatch):
    acl.add(100, "6")
    assert remediate(document, acl).status == SUCCESS
    after_first = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    second = remediate(document, acl)

    assert (second.status, output(second, "Added")) == (SUCCESS, [])
    assert acl.entries() == after_first
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeNetworkAcls"]


@pytest.mark.parametrize("evaluate_default, changed", [("false", False), ("true", True)])
def test_a_default_acl_is_remediated_only_when_the_rule_judges_it(document, account, evaluate_default, changed):
    ec2, vpc_id = account
    ec2.create_subnet(VpcId=vpc_id, CidrBlock=next(SUBNETS))  # a new subnet is associated with the default ACL
    default = Acl.__new__(Acl)
    default.ec2 = ec2
    default.acl_id = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                        {"Name": "default", "Values": ["true"]}])["NetworkAcls"][0][
        "NetworkAclId"]
    before = default.entries()

    result = remediate(document, default, EvaluateDefaultNetworkAcl=evaluate_default)

    assert result.status == SUCCESS, result.failure_message
    assert (default.entries() != before) is changed
    if changed:  # the module's other tests use their own ACLs; put the default one back
        for added in output(result, "Added"):
            ec2.delete_network_acl_entry(NetworkAclId=added["NetworkAclId"], RuleNumber=added["RuleNumber"],
                                         Egress=False)


# --- failing before any change ------------------------------------------------------------------------------------

def test_no_free_number_fails_before_any_change(document, acl, monkeypatch):
    acl.add(99, cidr="10.0.0.0/8", ports=(22, 22))  # matches packets the deny would: it must stay ahead of it
    acl.add(100, ports=(0, 1023))
    before = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, acl)

    assert result.status == FAILED
    assert (f"network ACL {acl.acl_id}: no free rule number between rule 99 and rule 100 for deny tcp 22 from "
            "0.0.0.0/0 in front of rule 100 (1 entries needed there); nothing changed") in result.failure_message
    assert acl.entries() == before
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeNetworkAcls"]
    assert changes_in(result.failure_message) == {"Findings": ["tcp 22 from 0.0.0.0/0 (rule 100)"], "Planned": [],
                                                  "Added": [], "RolledBack": []}


def test_the_quota_given_as_a_parameter_fails_before_any_change(document, acl, monkeypatch):
    acl.add(100, "-1")
    before = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, acl, InboundRuleQuota="4")

    assert result.status == FAILED
    assert (f"network ACL {acl.acl_id} would need 5 inbound IPv4 entries (1 now, 4 added), over the quota of 4; "
            "nothing changed") in result.failure_message
    assert acl.entries() == before
    assert interceptor.operations("ec2") == ["DescribeTags", "DescribeNetworkAcls"]


def test_the_default_quota_counts_the_acls_entries(document, acl):
    for number in range(1, 19):  # 18 inbound IPv4 entries; outbound and IPv6 ones count apart
        acl.add(number, ports=(443, 443), cidr=f"10.{number}.0.0/16")
        acl.add(number, "-1", egress=True)
        acl.add(number + 100, ports=(443, 443), cidr="::/0")
    acl.add(200, "6")  # the 19th; it needs denies for tcp 22 and tcp 3389: 21 inbound IPv4 entries
    before = acl.entries()

    result = remediate(document, acl)

    assert result.status == FAILED
    assert "would need 21 inbound IPv4 entries (19 now, 2 added), over the quota of 20" in result.failure_message
    assert acl.entries() == before
    assert remediate(document, acl, InboundRuleQuota="21").status == SUCCESS


# --- refusals midway: roll back -----------------------------------------------------------------------------------

def test_a_number_taken_between_plan_and_apply_rolls_back(document, acl, monkeypatch):
    acl.add(100, "6")
    before = acl.entries()

    def take_99():  # someone else creates rule 99 after the ACL was read, between the runbook's creates of 98 and 99
        acl.add(99, "1", ALLOW, "192.0.2.0/24")

    on_call(monkeypatch, "CreateNetworkAclEntry", 2, take_99)
    result = remediate(document, acl)

    assert result.status == FAILED
    assert "NetworkAclEntryAlreadyExists" in result.failure_message
    assert "the number was taken after the ACL was read" in result.failure_message
    assert "the 1 entries this run had added were deleted again (RolledBack)" in result.failure_message
    assert acl.entries() == before | {(99, False, ALLOW, "1", "192.0.2.0/24", None, None)}  # theirs stays
    assert short(output(result, "RolledBack")) == [(98, DENY, "6", "0.0.0.0/0", 3389, 3389)]
    assert output(result, "Added") == []
    assert changes_in(result.failure_message)["RolledBack"] == output(result, "RolledBack")


def test_the_quota_refused_midway_rolls_back(document, acl):
    acl.add(100, "-1")
    acl.add(110, "6", cidr="::/0")
    before = acl.entries()

    with pytest.MonkeyPatch.context() as patch:
        on_call(patch, "CreateNetworkAclEntry", 5, refused("NetworkAclEntryLimitExceeded"))
        result = remediate(document, acl)

    assert result.status == FAILED
    assert "NetworkAclEntryLimitExceeded" in result.failure_message
    assert acl.entries() == before
    assert [entry[0] for entry in short(output(result, "RolledBack"))] == [99, 98, 97, 96]  # newest first
    assert output(result, "Added") == []


# --- refusals -----------------------------------------------------------------------------------------------------

def test_an_exempt_acl_is_refused_and_nothing_changes(document, acl, monkeypatch):
    until = (evaluation_date() + timedelta(days=30)).isoformat()
    acl.ec2.create_tags(Resources=[acl.acl_id], Tags=[{"Key": tag_key(RULE_ID), "Value": f"{until} bastion NET-7"}])
    acl.add(100, "6")
    before = acl.entries()
    interceptor = ClientInterceptor(monkeypatch)

    result = remediate(document, acl)

    assert result.status == SUCCESS, result.failure_message
    assert result.outputs["Remediate.ExemptUntil"] == until
    assert acl.entries() == before
    assert interceptor.operations("ec2") == ["DescribeTags"]


def test_an_acl_that_does_not_exist_fails_clearly(document, account):
    ec2, vpc_id = account
    gone = Acl(account, associate=False)
    ec2.delete_network_acl(NetworkAclId=gone.acl_id)

    result = remediate(document, gone)

    assert result.status == FAILED
    assert f"network ACL {gone.acl_id} does not exist (" in result.failure_message
    assert "NotFound); it may have been deleted after Config evaluated it" in result.failure_message


def test_an_acl_without_subnets_is_not_judged_and_not_changed(document, account):
    loose = Acl(account, associate=False)
    loose.add(100, "6")
    before = loose.entries()

    result = remediate(document, loose)

    assert result.status == SUCCESS, result.failure_message
    assert loose.entries() == before


@pytest.mark.parametrize("parameters, message", [
    ({"SourceScope": "any"}, "parameter SourceScope (rule parameter sourceScope): 'any' is not one of world, public"),
    ({"RestrictedTcpPorts": "none", "RestrictedUdpPorts": "none"}, "both are empty"),
    ({"TrustedSources": "10.0.0.0/8,10.0.0.0/33"},
     "parameter TrustedSources (rule parameter trustedSources): '10.0.0.0/33' is not a CIDR, pl- or sg- id"),
    ({"InboundRuleQuota": "0"}, "parameter InboundRuleQuota: '0' is not an integer >= 1"),
])
def test_invalid_values_fail_naming_the_parameter_and_change_nothing(document, acl, parameters, message):
    acl.add(100, "6")
    before = acl.entries()

    result = remediate(document, acl, **parameters)

    assert result.status == FAILED
    assert message in result.failure_message
    assert acl.entries() == before


@pytest.mark.parametrize("parameters, name", [
    ({"NetworkAclId": "sg-0123456789abcdef0"}, "NetworkAclId"), ({"SourceScope": "world;rm"}, "SourceScope"),
    ({"InboundRuleQuota": "twenty"}, "InboundRuleQuota"), ({"DryRun": "maybe"}, "DryRun"),
])
def test_values_outside_the_allowed_patterns_never_start(document, acl, parameters, name):
    with pytest.raises(ParameterError, match=f"parameter {name}:"):
        remediate(document, acl, **parameters)


# --- the property: access only narrows, and the ACL is compliant afterwards or nothing changed -----------------

CIDRS = ["0.0.0.0/0", "0.0.0.0/1", "10.0.0.0/8", "203.0.113.0/24", "8.8.8.0/24", "::/0", "2001:db8::/32"]
PROTOCOLS = ["-1", "6", "17", "1"]
PORTS = [None, (22, 22), (3389, 3389), (0, 1023), (1024, 65535)]
TRUSTED = ["", "203.0.113.0/24", "10.0.0.0/8,2001:db8::/32"]
PACKETS = list(itertools.product(("tcp", "udp", "icmp"), (22, 23, 3389),
                                 ("1.2.3.4", "10.1.2.3", "203.0.113.9", "8.8.8.8", "2001:db8::1", "2600::1")))


def decisions(ingress) -> dict:
    return {(protocol, port, address): packet_action(ingress, protocol, port, ipaddress.ip_address(address).version,
                                                     int(ipaddress.ip_address(address)))
            for protocol, port, address in PACKETS}


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), scope=st.sampled_from(["world", "public"]), trusted=st.sampled_from(TRUSTED),
       quota=st.sampled_from(["", "8"]))
def test_property_access_only_narrows_and_the_acl_ends_compliant_or_untouched(document, account, data, scope,
                                                                             trusted, quota):
    acl = Acl(account)
    numbers = data.draw(st.lists(st.integers(1, 30), min_size=1, max_size=8, unique=True), label="numbers")
    for number in numbers:
        protocol = data.draw(st.sampled_from(PROTOCOLS), label="protocol")
        acl.add(number, protocol, data.draw(st.sampled_from([ALLOW, DENY]), label="action"),
                data.draw(st.sampled_from(CIDRS), label="cidr"),
                data.draw(st.sampled_from(PORTS), label="ports") if protocol in ("6", "17") else None)
    before_entries, before = acl.entries(), decisions(acl.ingress())

    result = remediate(document, acl, SourceScope=scope, TrustedSources=trusted, InboundRuleQuota=quota)

    after = decisions(acl.ingress())
    event(f"{result.status}, {len(output(result, 'Added'))} entries added")
    if result.status == FAILED:
        assert "nothing changed" in result.failure_message, result.failure_message
        assert acl.entries() == before_entries
        return
    assert acl.verdict(sourceScope=scope, trustedSources=trusted).compliance == COMPLIANT
    trust = rule.parse_parameters({"trustedSources": trusted}).trusted
    for packet, action in after.items():
        assert action == DENY or before[packet] == ALLOW, packet  # access only narrows
        address = packet[2]
        if trust.covers(f"{address}/{32 if '.' in address else 128}"):
            assert action == before[packet], packet  # trusted addresses keep what they had
