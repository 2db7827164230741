"""Hypothesis fuzzing of every rule (issue 6): generated items, parameters and events.

For every rule of ``perimeter.registry.all_rules()``: no exception but the pack's clear error types, every
verdict one of the three, every annotation 1-256 characters; and through the Lambda handler under moto (fewer
examples) nothing but a delivered evaluation or a RuleInvocationError that is not an "unexpected error".

Profiles: ``perimeter-test`` (``make test``: a few hundred examples per rule, derandomized, so the suite is
deterministic) and ``perimeter-fuzz`` (``make fuzz``: PERIMETER_FUZZ=1, at least 10,000 per rule, random).
Neither keeps an example database (``database=None``): nothing is written into the repository.
"""
from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as outcome
from hypothesis import strategies as st
from moto import mock_aws

from conftest import load_fixture
from perimeter.events import EventError
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import PACK_PARAMETERS, ParameterError
from perimeter.registry import all_rules
from perimeter.rule import RuleInvocationError, lambda_handler_for
from perimeter.verdicts import COMPLIANCE_TYPES, MAX_ANNOTATION
from support import ClientInterceptor, OperationStubber, stub_clients
from tests.fakes.networkfirewall import FakeNetworkFirewall

CLEAR_ERRORS = (EventError, ItemError, ParameterError, RuleInvocationError)
# Python's own wording: a message carrying it comes from a bug, not from a check that names the field.
PYTHON_WORDING = ("invalid literal", "object has no attribute", "NoneType", "not subscriptable", "unhashable",
                  "not supported between", "object is not iterable", "list index out of range")

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# make test's bounded share (derandomized, so every run checks the same cases); make fuzz runs 10,000 random
# examples a rule. 150 a rule, not 300: at fourteen rules, with the runbooks' moto property tests, 300 took the
# suite past its 10 minutes on the shared 2-core machine (this file alone: 177 s).
settings.register_profile("perimeter-test", max_examples=150, derandomize=True, **_COMMON)
settings.register_profile("perimeter-fuzz", max_examples=10_000, derandomize=False, **_COMMON)
FUZZING = bool(os.environ.get("PERIMETER_FUZZ"))
PROFILE = settings.get_profile("perimeter-fuzz" if FUZZING else "perimeter-test")
HANDLER_PROFILE = settings(PROFILE, max_examples=2_000 if FUZZING else 60)

RULES = all_rules()
RULE_IDS = [spec.rule_id for spec in RULES]

# --- values ----------------------------------------------------------------------------------------------------

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
    st.text(max_size=12), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def rarely(strategy, other, one_in: int = 10):
    """``strategy``, and one draw in about ``one_in`` ``other``. The trigger is a middle value: Hypothesis
    favours the bounds of an integer range, which would make "rarely" common."""
    trigger = one_in // 2 + 1
    return st.integers(1, one_in).flatmap(lambda n: other if n == trigger else strategy)


def either(*strategies, junk_one_in: int = 15):
    """Mostly well-formed values, now and then junk of any type."""
    return rarely(st.one_of(*strategies), JUNK, junk_one_in)


def spelled(fields: dict[str, st.SearchStrategy], required: tuple[str, ...] = ()) -> st.SearchStrategy:
    """An object with ``required`` fields (missing one in twenty draws) and any subset of the others, each key
    in camelCase or (as the APIs and exports write it) PascalCase."""
    present = {name: strategy for name, strategy in fields.items() if name in required}
    optional = {name: strategy for name, strategy in fields.items() if name not in required}
    return rarely(st.fixed_dictionaries(present, optional=optional), st.fixed_dictionaries({}, optional=fields), 20).flatmap(
        lambda chosen: st.fixed_dictionaries({
            name: st.sampled_from([name, name[:1].upper() + name[1:]]) for name in chosen
        }).map(lambda spellings, chosen=chosen: {spellings[name]: value for name, value in chosen.items()})
    )


ipv4 = st.ip_addresses(v=4).flatmap(lambda a: st.integers(0, 32).map(lambda n: f"{a}/{n}"))
ipv6 = st.ip_addresses(v=6).flatmap(lambda a: st.integers(0, 128).map(lambda n: f"{a}/{n}"))
CIDR_SAMPLES = st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.0/8", "8.8.8.0/24", "100.64.0.0/10", "1.2.3.4",
                                "300.0.0.0/8", "1.2.3.4/33", "not-a-cidr", "", " 0.0.0.0/0 ", "fe80::/10"])
cidr = st.one_of(ipv4, ipv6, CIDR_SAMPLES)
protocol = either(rarely(
    st.sampled_from(["tcp", "udp", "-1", "icmp", "6", "17", "icmpv6"]),
    st.sampled_from(["1", "58", "50", "all", "TCP", " udp ", "256", "-2", "٣", "²", "0x6", "06"]) | st.integers(-3, 300).map(str)
    | st.integers(-3, 300),
    one_in=4))
port = either(st.integers(-3, 65540), st.sampled_from([-1, 0, 1, 22, 443, 1024, 65535, 65536, "80", "-1", "--5",
                                                      "٣", "1e3", " 22 ", "0x50"]))
source_entries = {
    "ipv4Ranges": st.lists(either(spelled(required=("cidrIp",), fields={"cidrIp": either(cidr), "description": either(st.text(max_size=30))})), max_size=3),
    "ipRanges": st.lists(either(cidr, spelled(required=("cidrIp",), fields={"cidrIp": either(cidr)})), max_size=3),
    "ipv6Ranges": st.lists(either(spelled(required=("cidrIpv6",), fields={"cidrIpv6": either(cidr), "description": st.text(max_size=10)})), max_size=2),
    "prefixListIds": st.lists(either(spelled(required=("prefixListId",), fields={"prefixListId": either(rarely(st.just("pl-0123abcd"), st.just("")))})), max_size=2),
    "userIdGroupPairs": st.lists(either(spelled(required=("groupId",), fields={"groupId": either(rarely(st.sampled_from(["sg-0abc", "sg-1"]), st.just(""))),
                                                 "groupName": either(st.text(max_size=8)),
                                                 "userId": either(st.just("123456789012"))})), max_size=2),
}
VALID_PORTS = st.integers(0, 65535).flatmap(lambda first: st.tuples(st.just(first), st.integers(first, 65535)))
permission = st.tuples(spelled(required=("ipProtocol", "ipv4Ranges"), fields={"ipProtocol": protocol, "fromPort": port, "toPort": port, **source_entries}),
                       VALID_PORTS, rarely(st.just(False), st.just(True), 4)).map(
    # Most permissions carry a valid range (0 <= from <= to <= 65535); the rest keep whatever was drawn.
    lambda drawn: drawn[0] if drawn[2] else {**drawn[0], "fromPort": drawn[1][0], "toPort": drawn[1][1]})
permissions = either(rarely(st.lists(either(permission), min_size=1, max_size=5), st.just([])))

SECURITY_GROUP = spelled(required=("groupId", "ipPermissions"), fields={
    "groupId": either(rarely(st.just("sg-0e1f2a3b4c5d6e7f8"), st.just(""))),
    "groupName": either(st.sampled_from(["default", "web"]) | st.text(max_size=10)),
    "vpcId": either(st.just("vpc-1")), "ownerId": either(st.just("123456789012")),
    "ipPermissions": permissions, "ipPermissionsEgress": permissions,
})

acl_number = either(st.integers(1, 32768), st.sampled_from([0, -1, 32769, 100.0, "100", 1.5]))
acl_entry = spelled(required=("ruleNumber", "protocol", "ruleAction", "egress", "cidrBlock"), fields={
    "ruleNumber": acl_number, "protocol": either(st.sampled_from(["6", "17", "-1", "1", "58", "50", "tcp"])),
    "ruleAction": either(st.sampled_from(["allow", "deny", "ALLOW"])), "egress": either(st.booleans()),
    "cidrBlock": either(rarely(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "8.8.8.0/24", "0.0.0.0/1"]), cidr)),
    "ipv6CidrBlock": either(rarely(st.just("::/0"), cidr), junk_one_in=3),
    "portRange": either(spelled(required=("from", "to"), fields={"from": port, "to": port})),
    "icmpTypeCode": either(spelled({"type": st.integers(-1, 255), "code": st.integers(-1, 255)})),
})
NETWORK_ACL = spelled(required=("networkAclId", "entries", "associations"), fields={
    "networkAclId": either(rarely(st.just("acl-0e1f2a3b4c5d6e7f8"), st.just(""))), "vpcId": either(st.just("vpc-1")),
    "isDefault": either(st.booleans()), "entries": either(st.lists(either(acl_entry), max_size=8)),
    "associations": either(st.lists(either(spelled(required=("subnetId",), fields={
        "subnetId": either(st.just("subnet-1")), "networkAclId": st.just("acl-1")})), max_size=2)),
})

ARNS = st.sampled_from([
    "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/g",
    "arn:aws:network-firewall:us-east-1:123456789012:stateless-rulegroup/g",
    "arn:aws:network-firewall:us-east-1:aws-managed:stateful-rulegroup/ThreatSignaturesBotnetStrictOrder",
    "arn:aws:network-firewall:us-east-1:123456789012:firewall-policy/p", "arn:aws:s3:::b", "not-an-arn", "",
])
actions = either(st.lists(either(st.sampled_from(["aws:pass", "aws:drop", "aws:forward_to_sfe", "aws:drop_strict",
                                                  "custom", ""]), st.text(max_size=300)), max_size=3))
references = either(st.lists(either(spelled(required=("resourceArn",), fields={"resourceArn": either(ARNS), "priority": either(st.integers(-5, 70000)),
                                             "override": either(spelled({"action": either(st.just("DROP_TO_ALERT"))}))})),
                             max_size=4))
FIREWALL_POLICY = spelled(required=("firewallPolicy",), fields={
    "firewallPolicy": either(spelled(required=("statelessDefaultActions",), fields={
        "statelessRuleGroupReferences": references, "statefulRuleGroupReferences": references,
        "statelessDefaultActions": actions, "statelessFragmentDefaultActions": actions, "statefulDefaultActions": actions,
        "statefulEngineOptions": either(spelled({"ruleOrder": either(st.sampled_from(["STRICT_ORDER", "DEFAULT_ACTION_ORDER", "x"]))})),
    })),
    "firewallPolicyResponse": either(spelled({"firewallPolicyName": either(st.text(max_size=300)),
                                              "firewallPolicyArn": either(ARNS)})),
})

rules_string = either(st.lists(st.sampled_from(["", "   ", "# comment", "pass tcp any any -> any 80 (sid:1;)",
                                                "drop ip any any -> any any (sid:2;)", "\t#x"]), max_size=5).map("\n".join),
                      st.text(max_size=40))
GROUP_TYPES = ("STATEFUL", "STATELESS")


@st.composite
def rule_group_configurations(draw):
    """A rule group whose type, where stated (ruleGroupResponse.type, type, the ARN), mostly agrees."""
    kind = draw(st.sampled_from(GROUP_TYPES))
    stated = draw(rarely(st.just(kind), st.sampled_from([*GROUP_TYPES, "stateful", "OTHER"])))
    arn = draw(rarely(st.just(f"arn:aws:network-firewall:us-east-1:123456789012:{kind.lower()}-rulegroup/g"), ARNS))
    stateless = {"statelessRulesAndCustomActions": either(spelled({"statelessRules": either(st.lists(JUNK, max_size=3))}))}
    stateful = {"statefulRules": either(st.lists(JUNK, max_size=3)), "rulesString": rules_string,
                "rulesSourceList": either(spelled({"targets": either(st.lists(either(st.text(max_size=20)), max_size=3))}))}
    sources = rarely(st.just(stateless if kind == "STATELESS" else stateful), st.just({**stateless, **stateful}))
    return draw(spelled(required=("ruleGroup", "ruleGroupResponse"), fields={
        "ruleGroup": either(spelled(required=("rulesSource",), fields={
            "rulesSource": either(sources.flatmap(spelled))})),
        "ruleGroupResponse": either(spelled(required=("type", "ruleGroupArn"), fields={
            "type": either(st.just(stated)), "ruleGroupArn": either(st.just(arn)),
            "ruleGroupName": either(st.text(max_size=300))})),
        "type": either(st.just(stated)),
    }))


RULE_GROUP = rule_group_configurations()

flag = either(st.booleans(), st.sampled_from(["true", "false", "TRUE", "yes"]))
zones = st.sampled_from(["us-east-1a", "us-east-1b", "us-east-1c"])
subnet_ids = st.sampled_from(["subnet-0a", "subnet-0b", "subnet-0c"])
FIREWALL_BODY = {
    "firewallArn": either(st.just("arn:aws:network-firewall:us-east-1:123456789012:firewall/fw"), ARNS),
    "firewallId": either(st.just("7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6")), "firewallName": either(st.text(max_size=20)),
    "firewallPolicyArn": either(ARNS), "vpcId": either(st.just("vpc-1")),
    "subnetMappings": either(st.lists(either(spelled(required=("subnetId",), fields={"subnetId": either(subnet_ids)})),
                                      max_size=3)),
    "deleteProtection": flag, "subnetChangeProtection": flag, "firewallPolicyChangeProtection": flag,
}
FIREWALL = st.one_of(
    spelled(required=("firewall",), fields={
        "firewall": either(spelled(required=("subnetMappings",), fields=FIREWALL_BODY)),
        "firewallStatus": either(spelled({"status": either(st.just("READY")), "syncStates": either(
            st.dictionaries(zones, st.just({"attachment": {"status": "READY"}}), max_size=3))}))}),
    spelled(FIREWALL_BODY),  # a CloudFormation export: the properties without the "firewall" wrapper
)
log_destination = spelled(required=("logType", "logDestinationType", "logDestination"), fields={
    "logType": either(st.sampled_from(["ALERT", "FLOW", "TLS", "DEBUG"])),
    "logDestinationType": either(st.sampled_from(["S3", "CloudWatchLogs", "KinesisDataFirehose", "Kafka"])),
    "logDestination": either(st.dictionaries(st.sampled_from(["bucketName", "logGroup", "deliveryStream", "prefix"]),
                                             either(st.text(max_size=12)), max_size=2)),
})
# What a firewall item carries about other resources (perimeter.firewall): its logging configuration, whether
# the destinations exist, its subnets' zones.
FIREWALL_SUPPLEMENT = st.fixed_dictionaries({}, optional={
    "LoggingConfiguration": either(spelled({"firewallArn": either(ARNS), "loggingConfiguration": either(spelled(
        {"logDestinationConfigs": either(st.lists(either(log_destination), max_size=3))}))})),
    "LogDestinationsExist": either(st.dictionaries(st.sampled_from(["ALERT", "FLOW", "TLS"]), either(st.booleans()))),
    "SubnetAvailabilityZones": either(st.dictionaries(subnet_ids, either(zones))),
})

JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                          max_leaves=12)
CONFIGURATIONS = {
    "AWS::EC2::SecurityGroup": SECURITY_GROUP,
    "AWS::EC2::NetworkAcl": NETWORK_ACL,
    "AWS::NetworkFirewall::FirewallPolicy": FIREWALL_POLICY,
    "AWS::NetworkFirewall::RuleGroup": RULE_GROUP,
    "AWS::NetworkFirewall::Firewall": FIREWALL,
}


def configuration_for(resource_type: str) -> st.SearchStrategy:
    """A rule of a resource type without a tailored strategy is still fuzzed, with arbitrary JSON."""
    return CONFIGURATIONS.get(resource_type, st.dictionaries(st.text(max_size=10), JSON_VALUE, max_size=5))


STATUSES = rarely(st.sampled_from(["OK"] * 6 + ["ResourceDiscovered"]),
                  either(st.sampled_from(["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded", "Weird"])),
                  one_in=5)


@st.composite
def items(draw, spec):
    """A configuration item for one of the rule's resource types (now and then another type), in the
    notification shape or the API shape, with every field possibly missing, null or of the wrong type."""
    resource_type = draw(rarely(st.sampled_from(list(spec.resource_types)), st.just("AWS::S3::Bucket")))
    configuration = draw(rarely(configuration_for(resource_type), st.none() | JUNK, one_in=20))
    if draw(rarely(st.just(False), st.just(True))):
        configuration = json.dumps(configuration)  # the API shape's JSON text
    item = {
        "configurationItemCaptureTime": "2026-11-20T10:15:42.123Z",
        "resourceType": resource_type,
        "resourceId": draw(st.sampled_from(["sg-0e1f2a3b4c5d6e7f8", "arn:aws:network-firewall:us-east-1:123456789012:"
                                            "stateful-rulegroup/g"])),
        "ARN": draw(rarely(st.none(), either(ARNS))),
        "awsAccountId": "123456789012",
        "configurationItemStatus": draw(STATUSES),
        "configuration": configuration,
        "supplementaryConfiguration": draw(rarely(
            FIREWALL_SUPPLEMENT if resource_type == "AWS::NetworkFirewall::Firewall" else st.just({}),
            st.sampled_from(['{"a": 1}', "{broken", [], None]))),
    }
    if draw(rarely(st.just(False), st.just(True), 20)):  # a missing field
        del item[draw(st.sampled_from(sorted(item)))]
    return item


def parameters_for(spec) -> st.SearchStrategy:
    names = list(spec.parameter_names) + list(PACK_PARAMETERS) + ["unknownName"]
    values = either(st.sampled_from(["", " ", "1", "0", "10", "65535", "70000", "abc", "443,1024-65535", "5-1", ",",
                                     "any", "public", "world", "ANY", "stateful", "stateless", "both", "all",
                                     "true", "false", "none", "22,3389",
                                     "perimeter-execution"]))
    return st.dictionaries(st.sampled_from(names), values, max_size=3)


def check_verdict(compliance: str, annotation: str | None) -> None:
    assert compliance in COMPLIANCE_TYPES
    assert annotation is not None and 1 <= len(annotation) <= MAX_ANNOTATION, annotation


def check_clear_error(error: Exception) -> None:
    message = str(error)
    assert message and "\n" not in message.strip()
    assert not any(wording in message for wording in PYTHON_WORDING), message
    assert "unexpected error" not in message, message


# --- the pure path: what the offline scan and the Lambda both run ------------------------------------------


@pytest.mark.parametrize("spec", RULES, ids=RULE_IDS)
@settings(PROFILE)
@given(data=st.data())
def test_every_rule_gives_a_verdict_or_a_clear_error(spec, data):
    raw_parameters = data.draw(parameters_for(spec), label="parameters")
    try:
        parameters = spec.parse_parameters(raw_parameters)
    except ParameterError as error:
        check_clear_error(error)
        parameters = spec.parse_parameters({})  # and the item is still fuzzed, with the defaults
    raw_item = data.draw(items(spec), label="item")
    left_scope = data.draw(rarely(st.just(False), st.just(True)), label="eventLeftScope")
    snapshot = copy.deepcopy(raw_item)
    try:
        verdict = spec.evaluate(normalise_item(raw_item), parameters, left_scope=left_scope)
    except CLEAR_ERRORS as error:
        check_clear_error(error)
        outcome(f"error {type(error).__name__}")
    else:
        check_verdict(verdict.compliance, verdict.annotation)
        outcome(verdict.compliance)
    assert raw_item == snapshot  # the input is never changed


# --- the Lambda path: events through the handler, under moto -------------------------------------------------

CHANGE = load_fixture("events/change-open-range.json")
HANDLERS = {spec.rule_id: lambda_handler_for(spec) for spec in RULES}


@st.composite
def events(draw, spec):
    event = copy.deepcopy(CHANGE)
    invoking = json.loads(event["invokingEvent"])
    invoking["configurationItem"] = draw(items(spec))
    invoking["messageType"] = draw(st.sampled_from(["ConfigurationItemChangeNotification"] * 8 +
                                                   ["ScheduledNotification", "Surprise"]))
    event["invokingEvent"] = draw(st.sampled_from(["json"] * 9 + ["object", "broken", "missing"]))
    event["invokingEvent"] = {"json": json.dumps(invoking), "object": invoking, "broken": json.dumps(invoking)[:-2],
                              "missing": None}[event["invokingEvent"]]
    if event["invokingEvent"] is None:
        del event["invokingEvent"]
    parameters = draw(parameters_for(spec).map(json.dumps) | st.sampled_from(["", "{bad", "[]", None]))
    if parameters is None:
        del event["ruleParameters"]
    else:
        event["ruleParameters"] = parameters
    event["eventLeftScope"] = draw(rarely(st.just(False), either(st.booleans(), st.sampled_from(["true", "false"]))))
    return event


@pytest.fixture(scope="module")
def moto():
    """moto for Config (TestMode) and STS; the fake for DescribeRuleGroup, which finds no group: NOT_APPLICABLE.
    A periodic rule's ScheduledNotification lists no firewalls and reads Config's record of its earlier results,
    which moto lacks: none, from a Stubber validated against botocore's model."""
    def no_earlier_results(client):
        stubber = OperationStubber(client, "GetComplianceDetailsByConfigRule")
        stubber.add_response("get_compliance_details_by_config_rule", {"EvaluationResults": []})
        return stubber

    with mock_aws(), FakeNetworkFirewall() as fake, pytest.MonkeyPatch.context() as monkeypatch:
        stub_clients(ClientInterceptor(monkeypatch), "config", no_earlier_results)
        yield
    assert fake.contract_errors == []


@pytest.mark.parametrize("spec", RULES, ids=RULE_IDS)
@settings(HANDLER_PROFILE)
@given(data=st.data())
def test_every_rule_through_the_lambda_handler(moto, spec, data):
    event = data.draw(events(spec), label="event")
    try:
        result = HANDLERS[spec.rule_id](event, None)
    except RuleInvocationError as error:
        check_clear_error(error)
        assert str(error).startswith(f"{spec.rule_id}: ")
        outcome("RuleInvocationError")
        return
    assert isinstance(result, list) and len(result) <= 1
    for evaluation in result:
        check_verdict(evaluation["ComplianceType"], evaluation.get("Annotation"))
        outcome(evaluation["ComplianceType"])
