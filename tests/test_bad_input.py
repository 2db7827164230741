"""Bad events and bad items (issue 6): a verdict where one can honestly be given, else a clear error.

Clear errors are the pack's own types (EventError, ItemError, ParameterError; RuleInvocationError from the
Lambda, naming the rule), with a message naming the field. Nothing is delivered on an error: Config records
a failed evaluation instead of a wrong verdict. The issue's list, item by item:
- events: invokingEvent missing or malformed, unknown messageType, ruleParameters absent / "" / invalid JSON /
  unknown names (rejected with the list of known names), an item of the wrong resource type, configuration
  null or a JSON string;
- items: every field of the security-group and firewall shapes missing, null, of the wrong type or out of range
  (a structural sweep over real-shaped items, plus the semantics that matter named one by one).
"""
from __future__ import annotations

import copy
import json

import pytest
from moto import mock_aws

from conftest import change_event, load_fixture
from perimeter.events import EventError
from perimeter.items import ItemError, describe, normalise_item
from perimeter.parameters import PACK_PARAMETERS, ParameterError
from perimeter.registry import all_rules, rule_by_id
from perimeter.rule import RuleInvocationError, lambda_handler_for
from perimeter.verdicts import COMPLIANCE_TYPES, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE
from support import ClientInterceptor
from tests.fakes.networkfirewall import FakeNetworkFirewall

RULES = all_rules()
HANDLERS = {spec.rule_id: lambda_handler_for(spec) for spec in RULES}
# Real-shaped items per resource type (the first is what the event tests send), more for the structural sweep; a
# rule gets those of its first resource type, so a new rule of a known type needs no entry here.
ITEMS_BY_TYPE = {
    "AWS::EC2::SecurityGroup": ["sg-open-range.notification", "sg-mixed-sources.notification",
                                "sg-legacy-ipranges.notification", "sg-open-range.api", "sg-default.notification"],
    "AWS::NetworkFirewall::FirewallPolicy": ["netfw-policy-both.notification", "netfw-policy-stateless-only.pascal",
                                             "netfw-policy-strict-empty.notification"],
    "AWS::NetworkFirewall::RuleGroup": ["netfw-group-stateless-rules.notification", "netfw-group-suricata.notification",
                                        "netfw-group-domain-list.notification",
                                        "netfw-group-stateful-5tuple.notification",
                                        "netfw-group-no-rules-source.notification"],
    "AWS::NetworkFirewall::Firewall": ["netfw-firewall.notification", "netfw-firewall.pascal"],
    "AWS::EC2::NetworkAcl": ["nacl-ssh-open.notification", "nacl-ssh-shadowed.notification"],
}
ITEMS = {spec.rule_id: ITEMS_BY_TYPE[spec.resource_types[0]] for spec in RULES}
CLEAR_ERRORS = (EventError, ItemError, ParameterError)
PYTHON_WORDING = ("invalid literal", "object has no attribute", "NoneType", "not subscriptable", "unhashable",
                  "not supported between", "object is not iterable", "list index out of range")


def item_of(rule_id: str, index: int = 0) -> dict:
    return copy.deepcopy(load_fixture(f"items/{ITEMS[rule_id][index]}.json"))


@pytest.fixture(scope="module")
def moto_account():
    with mock_aws(), FakeNetworkFirewall():
        yield


@pytest.fixture
def aws(moto_account, monkeypatch):
    return ClientInterceptor(monkeypatch)


def fails_clearly(rule_id: str, event, *fragments: str) -> str:
    """Run the handler; it must raise RuleInvocationError naming the rule and every fragment."""
    with pytest.raises(RuleInvocationError) as raised:
        HANDLERS[rule_id](event, None)
    message = str(raised.value)
    assert message.startswith(f"{rule_id}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert "unexpected error" not in message
    return message


def event_for(rule_id: str, **fields) -> dict:
    return change_event(item_of(rule_id), f"perimeter-{rule_id}", **fields)


def with_invoking(event: dict, change) -> dict:
    invoking = json.loads(event["invokingEvent"])
    change(invoking)
    return {**event, "invokingEvent": json.dumps(invoking)}


def with_item(event: dict, change) -> dict:
    return with_invoking(event, lambda invoking: change(invoking["configurationItem"]))


rules = pytest.mark.parametrize("rule_id", [spec.rule_id for spec in RULES])


# --- events ------------------------------------------------------------------------------------------------------

@rules
@pytest.mark.parametrize("event, fragment", [
    (None, "the event must be a JSON object, not NoneType"),
    ("{}", "the event must be a JSON object, not str"),
    ({}, "event field invokingEvent is missing"),
])
def test_not_an_event(aws, rule_id, event, fragment):
    fails_clearly(rule_id, event, "malformed invoking event", fragment)
    assert aws.calls == []


@rules
@pytest.mark.parametrize("value, fragment", [
    ("<absent>", "event field invokingEvent is missing"),
    ("", "event field invokingEvent is missing"),
    ("{not json", "event field invokingEvent is not valid JSON"),
    ("[1, 2]", "event field invokingEvent must hold a JSON object"),
    (42, "event field invokingEvent must be a JSON string, not int"),
])
def test_missing_or_malformed_invoking_event(aws, rule_id, value, fragment):
    event = event_for(rule_id)
    if value == "<absent>":
        del event["invokingEvent"]
    else:
        event["invokingEvent"] = value
    fails_clearly(rule_id, event, fragment)
    assert aws.calls == []


@rules
@pytest.mark.parametrize("message_type", ["ConfigurationSnapshotDeliveryCompleted", "", None, "<absent>"])
def test_unknown_message_type(aws, rule_id, message_type):
    def change(invoking):
        if message_type == "<absent>":
            del invoking["messageType"]
        else:
            invoking["messageType"] = message_type

    fails_clearly(rule_id, with_invoking(event_for(rule_id), change), "invokingEvent.messageType", "is not one of")
    assert aws.calls == []


@rules
@pytest.mark.parametrize("parameters", ["<absent>", "", "   ", "{}", None])
def test_absent_or_empty_rule_parameters_mean_the_defaults(aws, rule_id, parameters):
    event = event_for(rule_id)
    if parameters == "<absent>":
        del event["ruleParameters"]
    else:
        event["ruleParameters"] = parameters
    [evaluation] = HANDLERS[rule_id](event, None)
    assert evaluation["ComplianceType"] in COMPLIANCE_TYPES and evaluation["Annotation"]


@rules
@pytest.mark.parametrize("parameters, fragment", [
    ("{maxPorts: 1}", "event field ruleParameters is not valid JSON"),
    ('["maxPorts"]', "event field ruleParameters must hold a JSON object"),
    ("7", "event field ruleParameters must hold a JSON object"),
    (7, "event field ruleParameters must be a JSON string, not int"),
])
def test_malformed_rule_parameters(aws, rule_id, parameters, fragment):
    fails_clearly(rule_id, event_for(rule_id, ruleParameters=parameters), fragment)
    assert aws.calls == []


@rules
def test_unknown_parameter_names_are_rejected_with_the_known_names(aws, rule_id):
    spec = rule_by_id(rule_id)
    known = ", ".join(sorted(spec.parameter_names + PACK_PARAMETERS))

    message = fails_clearly(rule_id, event_for(rule_id, ruleParameters=json.dumps({"maxport": "2", "Scope": "x"})),
                            "InvalidParameterValueException",
                            "unknown parameter(s) Scope (value 'x'), maxport (value '2'); "
                            f"known parameters: {known}")
    assert message.endswith(known)
    assert aws.calls == []


@rules
@pytest.mark.parametrize("value", [5, True, None, ["1"], {"a": "1"}])
def test_parameter_values_that_are_not_text(aws, rule_id, value):
    name = (rule_by_id(rule_id).parameter_names or PACK_PARAMETERS)[0]
    event = event_for(rule_id, ruleParameters=json.dumps({name: value}))
    if value is None:  # Config's "not set": the default
        assert HANDLERS[rule_id](event, None)[0]["ComplianceType"] in COMPLIANCE_TYPES
        return
    fails_clearly(rule_id, event, f"parameter {name}:")


@rules
def test_missing_result_token(aws, rule_id):
    event = event_for(rule_id)
    del event["resultToken"]
    fails_clearly(rule_id, event, "event field resultToken is missing")


@rules
def test_item_of_the_wrong_resource_type_is_not_applicable_with_its_reason(aws, rule_id):
    event = with_item(event_for(rule_id), lambda item: item.update(resourceType="AWS::S3::Bucket"))

    [evaluation] = HANDLERS[rule_id](event, None)

    assert (evaluation["ComplianceResourceType"], evaluation["ComplianceType"], evaluation["Annotation"]) == (
        "AWS::S3::Bucket", NOT_APPLICABLE, "Resource type AWS::S3::Bucket is not evaluated by this rule")


@rules
def test_configuration_null_on_an_evaluated_item_is_a_clear_error(aws, rule_id):
    event = with_item(event_for(rule_id), lambda item: item.update(configuration=None))
    fails_clearly(rule_id, event, f"{describe(item_of(rule_id))}: configuration is missing or not an object")
    assert "PutEvaluations" not in aws.operations()


@rules
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_configuration_null_on_a_gone_item_is_not_applicable(aws, rule_id, status):
    event = with_item(event_for(rule_id), lambda item: item.update(configuration=None, configurationItemStatus=status))
    [evaluation] = HANDLERS[rule_id](event, None)
    assert (evaluation["ComplianceType"], evaluation["Annotation"]) == (NOT_APPLICABLE, f"Resource status is {status}")


@rules
def test_configuration_as_json_text_is_read(aws, rule_id):
    expected = HANDLERS[rule_id](event_for(rule_id), None)
    event = with_item(event_for(rule_id), lambda item: item.update(configuration=json.dumps(item["configuration"])))
    assert HANDLERS[rule_id](event, None) == expected


@rules
def test_configuration_as_broken_json_text_is_a_clear_error(aws, rule_id):
    event = with_item(event_for(rule_id), lambda item: item.update(configuration='{"groupId": '))
    fails_clearly(rule_id, event, f"{describe(item_of(rule_id))}: configuration is not valid JSON")


@rules
@pytest.mark.parametrize("field, value, fragment", [
    ("resourceId", "<absent>", "invokingEvent.configurationItem.resourceId is missing or not a non-empty string"),
    ("resourceId", "", "invokingEvent.configurationItem.resourceId is missing"),
    ("resourceId", ["sg-1"], "invokingEvent.configurationItem.resourceId is missing"),
    ("resourceType", None, "invokingEvent.configurationItem.resourceType is missing"),
    ("resourceType", 7, "invokingEvent.configurationItem.resourceType is missing"),
    ("configurationItemCaptureTime", "<absent>", "configurationItemCaptureTime None is not an ISO 8601 time"),
    ("configurationItemCaptureTime", "yesterday", "configurationItemCaptureTime 'yesterday' is not an ISO 8601 time"),
    ("configurationItemCaptureTime", 1763633742, "configurationItemCaptureTime 1763633742 is not an ISO 8601 time"),
    ("configurationItemStatus", ["OK"], "invokingEvent.configurationItem.configurationItemStatus ['OK'] is not a string"),
    ("configurationItemStatus", "Exploded", "unknown configurationItemStatus 'Exploded'"),
])
def test_item_fields_rdklib_and_put_evaluations_read(aws, rule_id, field, value, fragment):
    def change(item):
        if value == "<absent>":
            del item[field]
        else:
            item[field] = value

    fails_clearly(rule_id, with_item(event_for(rule_id), change), fragment)
    assert "PutEvaluations" not in aws.operations()


@rules
def test_item_without_a_status_is_evaluated_as_recorded(aws, rule_id):
    expected = HANDLERS[rule_id](event_for(rule_id), None)
    event = with_item(event_for(rule_id), lambda item: item.pop("configurationItemStatus"))
    assert HANDLERS[rule_id](event, None) == expected


@rules
@pytest.mark.parametrize("change, fragment", [
    (lambda summary: summary.pop("resourceId"), "invokingEvent.configurationItemSummary.resourceId is missing"),
    (lambda summary: summary.update(resourceType=None), "invokingEvent.configurationItemSummary.resourceType is missing"),
    (lambda summary: summary.update(configurationItemCaptureTime="soon"), "is not an ISO 8601 time"),
])
def test_malformed_oversized_summary(aws, rule_id, change, fragment):
    event = load_fixture("events/oversized-open-range.json")
    fails_clearly(rule_id, with_invoking(event, lambda invoking: change(invoking["configurationItemSummary"])), fragment)
    assert aws.calls == []


@rules
@pytest.mark.parametrize("value, verdict", [(True, NOT_APPLICABLE), (False, None), ("<absent>", None)])
def test_event_left_scope_spellings(aws, rule_id, value, verdict):
    expected = HANDLERS[rule_id](event_for(rule_id), None)[0]["ComplianceType"]
    event = event_for(rule_id)
    if value == "<absent>":
        del event["eventLeftScope"]
    else:
        event["eventLeftScope"] = value
    assert HANDLERS[rule_id](event, None)[0]["ComplianceType"] == (verdict or expected)


@rules
@pytest.mark.parametrize("value", ["true", "false", None, 1])
def test_event_left_scope_not_a_boolean_fails_the_invocation(aws, rule_id, value):
    fails_clearly(rule_id, event_for(rule_id, eventLeftScope=value), "eventLeftScope must be a JSON boolean")
    assert aws.calls == []


# --- items: every field missing, null, of the wrong type or out of range -----------------------------------------

MUTATIONS = ["<delete>", None, 7, -1, 65536, 70000, 2**64, 1.5, "", "x", "-5", "٣", [], {}, [1], {"a": 1}, True,
             "0.0.0.0/0", "300.0.0.0/8", "a" * 300]


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, path + (key,))
    elif isinstance(value, list) and value:
        yield from _paths(value[0], path + (0,))


def _mutated(item: dict, path: tuple, mutation):
    item = copy.deepcopy(item)
    parent = item
    for key in path[:-1]:
        parent = parent[key]
    if mutation == "<delete>":
        del parent[path[-1]]
    else:
        parent[path[-1]] = mutation
    return item


def _scopes(spec):
    if "sourceScope" in spec.parameter_names:
        return [{}, {"sourceScope": "public"}, {"sourceScope": "world"}]
    return [{}]


@pytest.mark.parametrize("spec, fixture", [(spec, name) for spec in RULES for name in ITEMS[spec.rule_id]],
                         ids=lambda value: getattr(value, "rule_id", value))
def test_every_field_missing_null_wrong_type_or_out_of_range(spec, fixture):
    """Each field of a real-shaped item (configuration and the item's own fields, first list entries included)
    replaced by each mutation: a verdict of the three with a 1-256 character annotation, or a clear error that
    names the item (and, from the models, the field), never another exception."""
    base = load_fixture(f"items/{fixture}.json")
    outcomes = {"verdict": 0, "error": 0}
    problems = []
    for raw_parameters in _scopes(spec):
        parameters = spec.parse_parameters(raw_parameters)
        for path in list(_paths(base))[1:]:
            for mutation in MUTATIONS:
                raw = _mutated(base, path, mutation)
                try:
                    verdict = spec.evaluate(normalise_item(raw), parameters)
                except CLEAR_ERRORS as error:
                    message = str(error)
                    outcomes["error"] += 1
                    if any(wording in message for wording in PYTHON_WORDING) or "\n" in message:
                        problems.append((path, mutation, message))
                    continue
                except Exception as error:  # noqa: BLE001 - the point of the test
                    problems.append((path, mutation, f"{type(error).__name__}: {error}"))
                    continue
                outcomes["verdict"] += 1
                if verdict.compliance not in COMPLIANCE_TYPES or not 1 <= len(verdict.annotation) <= MAX_ANNOTATION:
                    problems.append((path, mutation, verdict))
    assert problems == []
    assert outcomes["verdict"] and outcomes["error"]


def judge(rule_id: str, configuration_change, parameters=None, index: int = 0):
    spec = rule_by_id(rule_id)
    item = item_of(rule_id, index)
    configuration_change(item["configuration"])
    return spec.evaluate(normalise_item(item), spec.parse_parameters(parameters or {}))


def judged_error(rule_id: str, configuration_change, parameters=None, index: int = 0) -> str:
    with pytest.raises(ItemError) as raised:
        judge(rule_id, configuration_change, parameters, index)
    return str(raised.value)


SG = "sg-ingress-port-range-restricted"
POLICY = "netfw-policy-rule-group-associated"
GROUP = "netfw-rule-group-not-empty"


def first_permission(change):
    return lambda configuration: change(configuration["ipPermissions"][0])


@pytest.mark.parametrize("change, fragment", [
    (first_permission(lambda p: p.update(fromPort=70000)), "fromPort 70000 for tcp is outside 0-65535"),
    (first_permission(lambda p: p.update(toPort=65536)), "toPort 65536 for tcp is outside 0-65535"),
    (first_permission(lambda p: p.update(fromPort=-1)), "fromPort -1 for tcp is outside 0-65535"),
    (first_permission(lambda p: p.update(fromPort=100, toPort=10)), "ipPermissions: tcp fromPort 100 is above toPort 10"),
    (first_permission(lambda p: p.update(fromPort="eighty")), "fromPort 'eighty' is not a number"),
    (first_permission(lambda p: p.update(fromPort="--5")), "fromPort '--5' is not a number"),
    (first_permission(lambda p: p.update(fromPort=True)), "fromPort True is not a number"),
    (first_permission(lambda p: p.update(fromPort=22.5)), "fromPort 22.5 is not a whole number"),
    (first_permission(lambda p: p.pop("ipProtocol")), "ipProtocol None is not a protocol"),
    (first_permission(lambda p: p.update(ipProtocol="256")), "ipProtocol '256' is not a protocol name or number 0-255"),
    (first_permission(lambda p: p.update(ipv4Ranges=[{"cidrIp": ""}])), "ipv4Ranges entry {'cidrIp': ''} has no cidrIp"),
    (first_permission(lambda p: p.update(ipRanges=[""])), "ipRanges entry '' is empty"),
    (first_permission(lambda p: p.update(ipv4Ranges="0.0.0.0/0")), "ipv4Ranges must be a list, not str"),
    (first_permission(lambda p: p.update(userIdGroupPairs=[{"userId": "123456789012"}])), "has no groupId"),
    (lambda c: c.update(ipPermissions={"ipProtocol": "tcp"}), "ipPermissions must be a list, not dict"),
    (lambda c: c.update(ipPermissions=["tcp"]), "ipPermissions entry 'tcp' is not an object"),
    (lambda c: c.pop("groupId"), "groupId is missing"),
    (lambda c: c.update(groupId=None), "groupId is missing"),
    (lambda c: c.pop("ipPermissions"), "ipPermissions is missing"),
    (lambda c: c.update(ipPermissions=None), "ipPermissions is missing"),
])
def test_security_group_fields_that_cannot_be_judged(change, fragment):
    message = judged_error(SG, change)
    assert message.startswith("AWS::EC2::SecurityGroup sg-0e1f2a3b4c5d6e7f8: ") and fragment in message


@pytest.mark.parametrize("change, parameters, expected", [
    (first_permission(lambda p: p.update(fromPort=22.0)), None,
     (NON_COMPLIANT, "Inbound port ranges open: tcp 22-65535 from 0.0.0.0/0")),
    (first_permission(lambda p: [p.pop("fromPort"), p.pop("toPort")]), None,
     (NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")),
    (first_permission(lambda p: p.update(fromPort=None, toPort=None, ipProtocol="17")), None,
     (NON_COMPLIANT, "Inbound port ranges open: udp 0-65535 from 0.0.0.0/0")),
    (first_permission(lambda p: p.update(ipProtocol="icmp", fromPort=-1, toPort=-1)), None,
     ("COMPLIANT", "No inbound port range over 1 port(s) open to any source")),
    (first_permission(lambda p: p.update(fromPort="0", toPort=" 65535 ")), None,
     (NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")),
    # A CIDR AWS would refuse still names a source that the scope "any" counts whatever its value.
    (first_permission(lambda p: p.update(ipv4Ranges=[{"cidrIp": "300.0.0.0/8"}], ipRanges=[])), None,
     (NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 300.0.0.0/8")),
    (lambda c: c.update(ipPermissionsEgress="garbage" and None), None,
     (NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0")),
])
def test_security_group_fields_with_an_honest_verdict(change, parameters, expected):
    assert tuple(judge(SG, change, parameters)) == expected


@pytest.mark.parametrize("cidr", ["300.0.0.0/8", "1.2.3.4/33", "not-a-cidr", "::/129"])
@pytest.mark.parametrize("scope", ["public", "world"])
def test_malformed_cidr_under_a_scope_that_must_read_it_is_a_clear_error(cidr, scope):
    change = first_permission(lambda p: p.update(ipv4Ranges=[{"cidrIp": cidr}], ipRanges=[]))
    assert judged_error(SG, change, {"sourceScope": scope}).endswith(f"'{cidr}' is not a valid CIDR")


def policy_body(change):
    return lambda configuration: change(configuration["firewallPolicy"])


@pytest.mark.parametrize("change, fragment", [
    (policy_body(lambda b: b.update(statelessRuleGroupReferences={"resourceArn": "x"})),
     "statelessRuleGroupReferences must be a list, not dict"),
    (policy_body(lambda b: b.update(statefulRuleGroupReferences=[{"priority": 1}])), "has no resourceArn"),
    (policy_body(lambda b: b.update(statefulRuleGroupReferences=["arn:aws:x"])), "statefulRuleGroupReferences entry must be an object"),
    (policy_body(lambda b: b["statelessRuleGroupReferences"][0].update(priority="10")), "priority '10' is not an integer"),
    (policy_body(lambda b: b.update(statelessDefaultActions="aws:pass")), "statelessDefaultActions must be a list, not str"),
    (policy_body(lambda b: b.update(statelessDefaultActions=[1])), "statelessDefaultActions must be a list of strings"),
    (policy_body(lambda b: b.update(statefulEngineOptions={"ruleOrder": "RANDOM"})), "statefulEngineOptions.ruleOrder 'RANDOM' is unknown"),
    (lambda c: c.update(firewallPolicy=["x"]), "firewallPolicy must be an object, not list"),
])
def test_firewall_policy_fields_that_cannot_be_judged(change, fragment):
    message = judged_error(POLICY, change)
    assert message.startswith(f"{describe(item_of(POLICY))}: ") and fragment in message


@pytest.mark.parametrize("change, compliance", [
    (lambda c: c.pop("firewallPolicy"), NON_COMPLIANT),
    (lambda c: c.update(firewallPolicy=None), NON_COMPLIANT),
    (policy_body(lambda b: b.update(statelessRuleGroupReferences=None, statefulRuleGroupReferences=None)), NON_COMPLIANT),
    (policy_body(lambda b: b.pop("statelessDefaultActions")), "COMPLIANT"),
    (lambda c: c.pop("firewallPolicyResponse"), "COMPLIANT"),
])
def test_firewall_policy_fields_with_an_honest_verdict(change, compliance):
    assert judge(POLICY, change).compliance == compliance


def group_source(change):
    return lambda configuration: change(configuration["ruleGroup"]["rulesSource"])


@pytest.mark.parametrize("change, index, fragment", [
    (lambda c: [c["ruleGroupResponse"].pop("type")], 0, None),  # the ARN still says STATELESS: judged
    (lambda c: [c["ruleGroupResponse"].update(type="STATEFUL")], 0, "rule group type is contradictory"),
    (lambda c: [c["ruleGroupResponse"].update(type="FIREWALL")], 0, "is neither STATEFUL nor STATELESS"),
    (group_source(lambda s: s.update(rulesString=["pass"])), 1, "rulesString must be a string"),
    (group_source(lambda s: s.update(rulesSourceList={"targets": [1]})), 2, "rulesSourceList.targets must be a list of strings"),
    (group_source(lambda s: s.update(statelessRulesAndCustomActions=[])), 0, "statelessRulesAndCustomActions must be an object, not list"),
    (lambda c: c.update(ruleGroup="rules"), 0, "ruleGroup must be an object, not str"),
])
def test_rule_group_fields(change, index, fragment):
    if fragment is None:
        assert judge(GROUP, change, index=index).compliance == "COMPLIANT"
        return
    message = judged_error(GROUP, change, index=index)
    assert message.startswith(f"{describe(item_of(GROUP, index))}: ") and fragment in message


def test_rule_group_with_no_type_anywhere_is_a_clear_error():
    def change(item):
        item["configuration"]["ruleGroupResponse"].pop("type")
        item["configuration"]["ruleGroupResponse"].pop("ruleGroupArn")
        item["ARN"] = None

    spec = rule_by_id(GROUP)
    item = item_of(GROUP)
    change(item)
    with pytest.raises(ItemError, match="rule group type is in neither ruleGroupResponse.type, type, nor the ARN"):
        spec.evaluate(normalise_item(item), spec.parse_parameters({}))


@pytest.mark.parametrize("change, compliance, annotation", [
    (group_source(lambda s: s["statelessRulesAndCustomActions"].update(statelessRules=None)), NON_COMPLIANT,
     "Stateless rule group is empty: no stateless rules"),
    (group_source(lambda s: s.pop("statelessRulesAndCustomActions")), NON_COMPLIANT,
     "Stateless rule group is empty: no stateless rules"),
])
def test_rule_group_fields_with_an_honest_verdict(change, compliance, annotation):
    assert tuple(judge(GROUP, change)) == (compliance, annotation)


def test_rule_group_without_rules_source_and_nothing_to_look_it_up_by(aws):
    """Found by the fuzz suite: DescribeRuleGroup was called with RuleGroupName=None (ParamValidationError)."""
    item = item_of(GROUP, ITEMS[GROUP].index("netfw-group-no-rules-source.notification"))
    item["ARN"] = None
    for field in ("ruleGroupArn", "ruleGroupName"):
        item["configuration"]["ruleGroupResponse"].pop(field)

    fails_clearly(GROUP, change_event(item, "r"), "no rulesSource, and neither a rule group ARN nor a name to read it with")
    assert aws.calls == []
