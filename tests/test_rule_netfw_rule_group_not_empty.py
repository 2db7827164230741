"""netfw-rule-group-not-empty: one test group per scenario S1..S10 of the rule's docstring.

Pure verdicts go through the registry (parse_parameters -> evaluate), as the Lambda and the scan do.
S8 (the Lambda's DescribeRuleGroup confirmation) runs ``complete_item`` against a real boto3
network-firewall client wrapped in botocore's Stubber, so every request and response is checked against
the service model; nothing reaches the network.
"""
from __future__ import annotations

import copy

import boto3
import botocore.httpsession
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, load_rule
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from perimeter.rules.netfw_rule_group_not_empty import rule
from tests.builders import api_shape, pascalise, recorded_item

SPEC = load_rule("perimeter.rules.netfw_rule_group_not_empty.rule")
RULE_ID = "netfw-rule-group-not-empty"
ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUP_TYPE = "AWS::NetworkFirewall::RuleGroup"
STATEFUL_ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateful-rulegroup/test-group"
STATELESS_ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateless-rulegroup/test-group"
NEUTRAL_ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:rulegroup/test-group"  # says no type

STATELESS_EMPTY = Verdict(NON_COMPLIANT, "Stateless rule group is empty: no stateless rules")
STATEFUL_EMPTY = Verdict(
    NON_COMPLIANT, "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no domain list targets"
)
UNREAD = (
    " rule group rules could not be read from the configuration item (no rulesSource); "
    "check it with DescribeRuleGroup"
)
GROUP_ID = "5c1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"  # DescribeRuleGroup: 36 characters
SSH_DROP = 'drop tcp $HOME_NET any -> $EXTERNAL_NET 22 (msg:"ssh"; sid:1;)'


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("a test tried to send a real HTTP request")

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", refuse)


# --- builders -------------------------------------------------------------------------------------
def stateless_rule(priority):
    return {
        "priority": priority,
        "ruleDefinition": {
            "actions": ["aws:forward_to_sfe"],
            "matchAttributes": {"sources": [{"addressDefinition": "0.0.0.0/0"}], "protocols": [6]},
        },
    }


def stateful_rule(sid):
    return {
        "action": "DROP",
        "header": {"protocol": "TCP", "source": "ANY", "sourcePort": "ANY", "direction": "FORWARD",
                   "destination": "ANY", "destinationPort": "3389"},
        "ruleOptions": [{"keyword": "sid", "settings": [str(sid)]}],
    }


def stateless_source(count=None):
    """``count`` None: statelessRules absent."""
    inner = {"customActions": []}
    if count is not None:
        inner["statelessRules"] = [stateless_rule(i + 1) for i in range(count)]
    return {"statelessRulesAndCustomActions": inner}


def domain_source(*targets):
    return {
        "rulesSourceList": {"targets": list(targets), "targetTypes": ["TLS_SNI"], "generatedRulesType": "ALLOWLIST"}
    }


MISSING = object()


def group_item(rules_source=MISSING, *, kind="STATEFUL", type_in=("response", "arn"), status="OK",
               resource_type=GROUP_TYPE, pascal=False):
    """A recorded rule-group item. ``type_in`` says where the type is stated: ``response`` (ruleGroupResponse.
    type), ``configuration`` (the configuration's own type), ``arn`` (stateful-rulegroup/ in every ARN)."""
    arn = (STATEFUL_ARN if kind == "STATEFUL" else STATELESS_ARN) if "arn" in type_in else NEUTRAL_ARN
    body = {} if rules_source is MISSING else {"rulesSource": rules_source}
    response = {"ruleGroupArn": arn, "ruleGroupName": "test-group", "ruleGroupId": "5c1e2f3a-4b5c-4d6e-8f70",
                "capacity": 100, "ruleGroupStatus": "ACTIVE"}
    if "response" in type_in:
        response["type"] = kind
    configuration = {"ruleGroup": body, "ruleGroupResponse": response, "updateToken": "0a1b2c3d"}
    if "configuration" in type_in:
        configuration["type"] = kind
    return recorded_item(resource_type, arn, configuration, status=status, name="test-group", pascal=pascal)


def judge(item, *, left_scope=False, **raw_parameters) -> Verdict:
    return SPEC.evaluate(item, SPEC.parse_parameters(raw_parameters), left_scope=left_scope)


def item_error(item) -> str:
    with pytest.raises(ItemError) as error:
        judge(item)
    return str(error.value)


# --- S1 a STATELESS group with 3 rules ------------------------------------------------------------
def test_s01_stateless_fixture_with_3_rules(fixture_item):
    assert judge(fixture_item("netfw-group-stateless-rules.notification")) == Verdict(
        COMPLIANT, "Stateless rule group has 3 rule(s)"
    )


def test_s01_stateless_fixture_api_shape(fixture_item):
    item = fixture_item("netfw-group-stateless-rules.notification")
    assert judge(normalise_item(api_shape(item))) == judge(item) == Verdict(
        COMPLIANT, "Stateless rule group has 3 rule(s)"
    )


@pytest.mark.parametrize("count", [1, 3, 40])
def test_s01_counts_stateless_rules(count):
    assert judge(group_item(stateless_source(count), kind="STATELESS")) == Verdict(
        COMPLIANT, f"Stateless rule group has {count} rule(s)"
    )


def test_s01_stateless_pascal_spelling():
    assert judge(group_item(pascalise(stateless_source(3)), kind="STATELESS", pascal=True)) == Verdict(
        COMPLIANT, "Stateless rule group has 3 rule(s)"
    )


def test_s01_stateless_counts_only_stateless_rules():
    source = {**stateless_source(2), "rulesString": SSH_DROP, "statefulRules": [stateful_rule(1)]}
    assert judge(group_item(source, kind="STATELESS")) == Verdict(COMPLIANT, "Stateless rule group has 2 rule(s)")


# --- S2 a STATELESS group with no rules -----------------------------------------------------------
def test_s02_stateless_empty_fixture(fixture_item):
    assert judge(fixture_item("netfw-group-stateless-empty.notification")) == STATELESS_EMPTY


@pytest.mark.parametrize(
    "source",
    [stateless_source(0), stateless_source(None), {"statelessRulesAndCustomActions": {"statelessRules": None}},
     {"statelessRulesAndCustomActions": None}, {}],
    ids=["empty-list", "list-missing", "list-null", "container-null", "empty-rulesSource"],
)
def test_s02_stateless_rules_empty_or_missing(source):
    assert judge(group_item(source, kind="STATELESS")) == STATELESS_EMPTY


def test_s02_stateful_content_does_not_fill_a_stateless_group():
    source = {**stateless_source(0), "rulesString": SSH_DROP, **domain_source("a.example")}
    assert judge(group_item(source, kind="STATELESS")) == STATELESS_EMPTY


def test_s02_stateless_empty_pascal():
    assert judge(group_item(pascalise(stateless_source(0)), kind="STATELESS", pascal=True)) == STATELESS_EMPTY


# --- S3 a STATEFUL group with rules ---------------------------------------------------------------
def test_s03_five_tuple_fixture(fixture_item):
    assert judge(fixture_item("netfw-group-stateful-5tuple.notification")) == Verdict(
        COMPLIANT, "Stateful rule group has 1 rule(s)"
    )


def test_s03_suricata_fixture_counts_rule_lines_not_comments(fixture_item):
    assert judge(fixture_item("netfw-group-suricata.notification")) == Verdict(
        COMPLIANT, "Stateful rule group has 2 rule(s)"
    )


def test_s03_domain_list_fixture_counts_targets(fixture_item):
    assert judge(fixture_item("netfw-group-domain-list.notification")) == Verdict(
        COMPLIANT, "Stateful rule group has 2 rule(s)"
    )


def test_s03_entries_lines_and_targets_add_up():
    source = {"statefulRules": [stateful_rule(1), stateful_rule(2)], "rulesString": f"{SSH_DROP}\n{SSH_DROP}\n",
              **domain_source("a.example", "b.example", "c.example")}
    assert judge(group_item(source)) == Verdict(COMPLIANT, "Stateful rule group has 7 rule(s)")


def test_s03_windows_line_endings():
    rules_string = f"# egress\r\n\r\n{SSH_DROP}\r\n{SSH_DROP}\r\n"
    assert judge(group_item({"rulesString": rules_string})) == Verdict(COMPLIANT, "Stateful rule group has 2 rule(s)")


def test_s03_rule_line_after_indented_comments():
    rules_string = f"   # first comment\n\t# second\n\n    {SSH_DROP}\n  \n"
    assert judge(group_item({"rulesString": rules_string})) == Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")


def test_s03_single_rule_without_trailing_newline():
    assert judge(group_item({"rulesString": SSH_DROP})) == Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")


@pytest.mark.parametrize("source, count", [
    ({"statefulRules": [stateful_rule(1)]}, 1),
    ({"rulesString": f"{SSH_DROP}\n"}, 1),
    (domain_source(".amazonaws.com"), 1),
])
def test_s03_pascal_spelling(source, count):
    assert judge(group_item(pascalise(source), pascal=True)) == Verdict(
        COMPLIANT, f"Stateful rule group has {count} rule(s)"
    )


def test_s03_api_shape(fixture_item):
    item = fixture_item("netfw-group-suricata.notification")
    assert judge(normalise_item(api_shape(item))) == Verdict(COMPLIANT, "Stateful rule group has 2 rule(s)")


# --- S4 a Suricata rulesString of only blank lines and comments -----------------------------------
def test_s04_comments_fixture(fixture_item):
    item = fixture_item("netfw-group-suricata-comments.notification")
    assert "#drop tcp" in item["configuration"]["ruleGroup"]["rulesSource"]["rulesString"]
    assert judge(item) == STATEFUL_EMPTY


@pytest.mark.parametrize("rules_string", [
    "",
    "\n\n",
    "   \n\t\n",
    "# only a comment",
    "# one\r\n#two\r\n\r\n",
    f"   # {SSH_DROP}\n  #{SSH_DROP}\n",
], ids=["empty", "newlines", "whitespace", "comment", "crlf-comments", "indented-commented-rules"])
def test_s04_no_rule_lines(rules_string):
    assert judge(group_item({"rulesString": rules_string})) == STATEFUL_EMPTY


def test_s04_comments_fixture_api_shape(fixture_item):
    item = fixture_item("netfw-group-suricata-comments.notification")
    assert judge(normalise_item(api_shape(item))) == STATEFUL_EMPTY


# --- S5 a STATEFUL group with an empty list, a list without targets, or an empty rulesSource ------
def test_s05_domain_list_without_targets_fixture(fixture_item):
    assert judge(fixture_item("netfw-group-domain-list-empty.notification")) == STATEFUL_EMPTY


@pytest.mark.parametrize("source", [
    {"statefulRules": []},
    {"statefulRules": None},
    domain_source(),
    {"rulesSourceList": {"targetTypes": ["HTTP_HOST"], "generatedRulesType": "DENYLIST"}},
    {"rulesSourceList": None},
    {"rulesString": None},
    {},
], ids=["statefulRules-empty", "statefulRules-null", "targets-empty", "targets-missing", "list-null",
        "rulesString-null", "empty-rulesSource"])
def test_s05_stateful_sources_without_rules(source):
    assert judge(group_item(source)) == STATEFUL_EMPTY


def test_s05_stateless_rules_do_not_fill_a_stateful_group():
    assert judge(group_item(stateless_source(3))) == STATEFUL_EMPTY


def test_s05_pascal_empty_rules_source():
    assert judge(group_item({}, pascal=True)) == STATEFUL_EMPTY
    assert judge(group_item(pascalise(domain_source()), pascal=True)) == STATEFUL_EMPTY


# --- S6 where the type is read from ---------------------------------------------------------------
@pytest.mark.parametrize("pascal", [False, True], ids=["camel", "pascal"])
@pytest.mark.parametrize("type_in", [("response",), ("configuration",), ("arn",)])
@pytest.mark.parametrize("kind", ["STATEFUL", "STATELESS"])
def test_s06_type_from_one_place_only(kind, type_in, pascal):
    source = stateless_source(0) if kind == "STATELESS" else {"statefulRules": []}
    item = group_item(pascalise(source) if pascal else source, kind=kind, type_in=type_in, pascal=pascal)
    assert judge(item) == (STATELESS_EMPTY if kind == "STATELESS" else STATEFUL_EMPTY)


def test_s06_type_only_in_the_item_arn():
    """No ruleGroupResponse at all: the item's own ARN says stateless-rulegroup/."""
    item = group_item(stateless_source(2), kind="STATELESS", type_in=("arn",))
    del item["configuration"]["ruleGroupResponse"]
    assert judge(item) == Verdict(COMPLIANT, "Stateless rule group has 2 rule(s)")


def test_s06_type_only_in_an_api_shaped_arn():
    item = group_item(stateless_source(2), kind="STATELESS", type_in=("arn",))
    del item["configuration"]["ruleGroupResponse"]
    assert judge(normalise_item(api_shape(item))) == Verdict(COMPLIANT, "Stateless rule group has 2 rule(s)")


def test_s06_type_in_cloudformation_export_shape():
    """AWS::NetworkFirewall::RuleGroup properties: RuleGroupName, Type, Capacity, RuleGroup."""
    item = group_item(type_in=())
    item["configuration"] = {"RuleGroupName": "test-group", "Type": "STATELESS", "Capacity": 100,
                             "RuleGroup": pascalise({"rulesSource": stateless_source(1)})}
    assert judge(item) == Verdict(COMPLIANT, "Stateless rule group has 1 rule(s)")


def test_s06_describe_rule_group_shape_as_configuration():
    item = group_item(type_in=())
    item["configuration"] = {
        "UpdateToken": "0a1b2c3d",
        "RuleGroup": {"RulesSource": {"RulesString": SSH_DROP}},
        "RuleGroupResponse": {"RuleGroupArn": NEUTRAL_ARN, "RuleGroupName": "test-group", "RuleGroupId": "1",
                              "Type": "STATEFUL"},
    }
    assert judge(item) == Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")


@pytest.mark.parametrize("spelling", ["stateless", "Stateless"])
def test_s06_type_is_case_insensitive(spelling):
    item = group_item(stateless_source(1), kind="STATELESS", type_in=("response",))
    item["configuration"]["ruleGroupResponse"]["type"] = spelling
    assert judge(item) == Verdict(COMPLIANT, "Stateless rule group has 1 rule(s)")


def test_s06_managed_rule_group_arn():
    managed = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/ThreatSignaturesBotnetActionOrder"
    item = group_item({"rulesString": SSH_DROP}, type_in=())
    item["ARN"] = item["resourceId"] = item["configuration"]["ruleGroupResponse"]["ruleGroupArn"] = managed
    assert judge(item) == Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")


def test_s06_no_type_anywhere_is_malformed():
    item = group_item({"statefulRules": []}, type_in=())
    assert item_error(item) == (
        f"{GROUP_TYPE} {NEUTRAL_ARN}: rule group type is in neither ruleGroupResponse.type, type, nor the ARN"
    )


def test_s06_no_type_and_no_arn_at_all():
    item = group_item({"statefulRules": []}, type_in=())
    del item["ARN"], item["configuration"]["ruleGroupResponse"]["ruleGroupArn"]
    assert "rule group type is in neither" in item_error(item)


@pytest.mark.parametrize("where, path", [
    ("response", ("ruleGroupResponse", "type")),
    ("configuration", ("type",)),
])
def test_s06_unknown_type_is_malformed(where, path):
    item = group_item({"statefulRules": []}, type_in=(where,))
    target = item["configuration"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "STATEFULL"
    message = item_error(item)
    assert message.startswith(f"{GROUP_TYPE} {NEUTRAL_ARN}: ")
    assert f"rule group {'.'.join(path)} 'STATEFULL' is neither STATEFUL nor STATELESS" in message


def test_s06_non_string_type_is_malformed():
    item = group_item({"statefulRules": []}, type_in=("response",))
    item["configuration"]["ruleGroupResponse"]["type"] = 1
    assert "ruleGroupResponse.type 1 is neither STATEFUL nor STATELESS" in item_error(item)


def test_s06_response_type_contradicting_the_arn_is_malformed():
    item = group_item({"statefulRules": [stateful_rule(1)]}, kind="STATEFUL")
    item["configuration"]["ruleGroupResponse"]["type"] = "STATELESS"
    message = item_error(item)
    assert message == (
        f"{GROUP_TYPE} {STATEFUL_ARN}: rule group type is contradictory: "
        "STATELESS in ruleGroupResponse.type, STATEFUL in the ARN"
    )


def test_s06_configuration_type_contradicting_the_response_is_malformed():
    item = group_item(stateless_source(1), kind="STATELESS", type_in=("response", "configuration"))
    item["configuration"]["type"] = "STATEFUL"
    assert "STATELESS in ruleGroupResponse.type, STATEFUL in type" in item_error(item)


def test_s06_agreeing_types_in_every_place():
    item = group_item(stateless_source(1), kind="STATELESS", type_in=("response", "configuration", "arn"))
    assert judge(item) == Verdict(COMPLIANT, "Stateless rule group has 1 rule(s)")


# --- S7 no rulesSource in the item, offline ---------------------------------------------------------
def test_s07_no_rules_source_fixture(fixture_item):
    assert judge(fixture_item("netfw-group-no-rules-source.notification")) == Verdict(
        NON_COMPLIANT, "Stateful" + UNREAD
    )


@pytest.mark.parametrize("body", ["missing", None, {}, {"rulesSource": None}],
                         ids=["ruleGroup-missing", "ruleGroup-null", "ruleGroup-empty", "rulesSource-null"])
@pytest.mark.parametrize("kind", ["STATEFUL", "STATELESS"])
def test_s07_rules_not_in_the_item(kind, body):
    item = group_item(kind=kind)
    if body == "missing":
        del item["configuration"]["ruleGroup"]
    else:
        item["configuration"]["ruleGroup"] = body
    assert judge(item) == Verdict(NON_COMPLIANT, kind.capitalize() + UNREAD)


def test_s07_pascal_no_rules_source():
    assert judge(group_item(pascal=True)) == Verdict(NON_COMPLIANT, "Stateful" + UNREAD)


def test_s07_evaluate_itself_makes_no_api_call(fixture_item, monkeypatch):
    def no_clients(*_args, **_kwargs):
        raise AssertionError("evaluate created an AWS client")

    monkeypatch.setattr(boto3, "client", no_clients)
    monkeypatch.setattr(boto3.session.Session, "client", no_clients)
    assert judge(fixture_item("netfw-group-no-rules-source.notification")).compliance == NON_COMPLIANT


# --- S8 no rulesSource in the item, in the Lambda: DescribeRuleGroup decides ------------------------
class StubbedClientFactory:
    """rdklib's ClientFactory interface; its network-firewall client answers from a Stubber."""

    def __init__(self):
        self.client = boto3.client("network-firewall", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.built: list[str] = []

    def build_client(self, service, region=None, assume_role_mode=True):
        self.built.append(service)
        assert service == "network-firewall"
        self.stubber.activate()
        return self.client


@pytest.fixture
def factory():
    factory = StubbedClientFactory()
    yield factory
    factory.stubber.assert_no_pending_responses()


def described(rules_source: dict, *, kind="STATEFUL", arn=STATEFUL_ARN, name="big-suricata") -> dict:
    return {
        "UpdateToken": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "RuleGroup": {"RulesSource": rules_source},
        "RuleGroupResponse": {"RuleGroupArn": arn, "RuleGroupName": name, "RuleGroupId": GROUP_ID,
                              "Type": kind, "Capacity": 100, "RuleGroupStatus": "ACTIVE"},
    }


BIG_ARN = "arn:aws:network-firewall:us-east-1:123456789012:stateful-rulegroup/big-suricata"


def test_s08_rules_present_is_compliant(fixture_item, factory):
    item = fixture_item("netfw-group-no-rules-source.notification")
    factory.stubber.add_response(
        "describe_rule_group", described({"RulesString": f"# big\n{SSH_DROP}\n{SSH_DROP}\n{SSH_DROP}\n"}),
        {"RuleGroupArn": BIG_ARN},
    )
    completed = rule.complete_item(item, factory)
    assert factory.built == ["network-firewall"]
    assert judge(completed) == Verdict(COMPLIANT, "Stateful rule group has 3 rule(s)")


def test_s08_completed_item_keeps_the_item_and_leaves_the_input_alone(fixture_item, factory):
    item = fixture_item("netfw-group-no-rules-source.notification")
    before = copy.deepcopy(item)
    factory.stubber.add_response("describe_rule_group", described({"StatefulRules": []}), {"RuleGroupArn": BIG_ARN})
    completed = rule.complete_item(item, factory)
    assert item == before
    assert {k: v for k, v in completed.items() if k != "configuration"} == {
        k: v for k, v in before.items() if k != "configuration"
    }
    assert completed["configuration"]["ruleGroup"] == {"RulesSource": {"StatefulRules": []}}


@pytest.mark.parametrize("rules_source, verdict", [
    ({"RulesString": "# nothing yet\r\n\r\n"}, STATEFUL_EMPTY),
    ({"StatefulRules": []}, STATEFUL_EMPTY),
    (pascalise(domain_source()), STATEFUL_EMPTY),
    (pascalise(domain_source("a.example")), Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")),
], ids=["comments-only", "no-stateful-rules", "no-targets", "one-target"])
def test_s08_stateful_verdict_from_describe(fixture_item, factory, rules_source, verdict):
    factory.stubber.add_response("describe_rule_group", described(rules_source), {"RuleGroupArn": BIG_ARN})
    assert judge(rule.complete_item(fixture_item("netfw-group-no-rules-source.notification"), factory)) == verdict


@pytest.mark.parametrize("count, verdict", [
    (0, STATELESS_EMPTY),
    (2, Verdict(COMPLIANT, "Stateless rule group has 2 rule(s)")),
])
def test_s08_stateless_verdict_from_describe(factory, count, verdict):
    item = group_item(kind="STATELESS")
    rules = pascalise([stateless_rule(i + 1) for i in range(count)])
    factory.stubber.add_response(
        "describe_rule_group",
        described({"StatelessRulesAndCustomActions": {"StatelessRules": rules}}, kind="STATELESS", arn=STATELESS_ARN),
        {"RuleGroupArn": STATELESS_ARN},
    )
    assert judge(rule.complete_item(item, factory)) == verdict


def test_s08_group_gone_is_not_applicable(fixture_item, factory):
    factory.stubber.add_client_error(
        "describe_rule_group", service_error_code="ResourceNotFoundException",
        service_message="Rule group not found", http_status_code=400, expected_params={"RuleGroupArn": BIG_ARN},
    )
    completed = rule.complete_item(fixture_item("netfw-group-no-rules-source.notification"), factory)
    assert completed["configurationItemStatus"] == "ResourceDeletedNotRecorded"
    assert completed["configuration"] is None
    assert judge(completed) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeletedNotRecorded")


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException", "InternalServerError"])
def test_s08_other_errors_are_not_swallowed(fixture_item, factory, code):
    factory.stubber.add_client_error("describe_rule_group", service_error_code=code, http_status_code=400,
                                     expected_params={"RuleGroupArn": BIG_ARN})
    with pytest.raises(ClientError) as error:
        rule.complete_item(fixture_item("netfw-group-no-rules-source.notification"), factory)
    assert error.value.response["Error"]["Code"] == code


@pytest.mark.parametrize("name", [
    "netfw-group-stateless-empty.notification",
    "netfw-group-suricata-comments.notification",
    "netfw-group-domain-list-empty.notification",
    "netfw-group-stateful-5tuple.notification",
])
def test_s08_item_with_rules_source_makes_no_api_call(fixture_item, factory, name):
    item = fixture_item(name)
    assert rule.complete_item(item, factory) is item
    assert factory.built == []


def test_s08_group_without_arn_is_described_by_name_and_type(factory):
    item = group_item(kind="STATELESS", type_in=("response",))
    del item["ARN"], item["configuration"]["ruleGroupResponse"]["ruleGroupArn"]
    factory.stubber.add_response(
        "describe_rule_group",
        described({"StatelessRulesAndCustomActions": {"StatelessRules": [pascalise(stateless_rule(1))]}},
                  kind="STATELESS", arn=STATELESS_ARN, name="test-group"),
        {"RuleGroupName": "test-group", "Type": "STATELESS"},
    )
    assert judge(rule.complete_item(item, factory)) == Verdict(COMPLIANT, "Stateless rule group has 1 rule(s)")


def test_s08_api_shaped_item_is_completed(fixture_item, factory):
    item = normalise_item(api_shape(fixture_item("netfw-group-no-rules-source.notification")))
    factory.stubber.add_response("describe_rule_group", described({"RulesString": SSH_DROP}), {"RuleGroupArn": BIG_ARN})
    assert judge(rule.complete_item(item, factory)) == Verdict(COMPLIANT, "Stateful rule group has 1 rule(s)")


def test_s08_completion_with_no_type_anywhere_names_the_item(factory):
    item = group_item(type_in=())
    with pytest.raises(ItemError, match=r"^AWS::NetworkFirewall::RuleGroup .*rule group type is in neither"):
        rule.complete_item(item, factory)
    assert factory.built == []


def test_s08_completion_with_a_contradictory_type_names_the_item(factory):
    item = group_item(kind="STATEFUL")
    item["configuration"]["ruleGroupResponse"]["type"] = "STATELESS"
    with pytest.raises(ItemError, match=rf"^{GROUP_TYPE} {STATEFUL_ARN}: rule group type is contradictory"):
        rule.complete_item(item, factory)
    assert factory.built == []


def test_s08_spec_complete_describes_an_item_without_rules_source(fixture_item, factory):
    factory.stubber.add_response("describe_rule_group", described({"RulesString": SSH_DROP}), {"RuleGroupArn": BIG_ARN})
    completed = SPEC.complete(fixture_item("netfw-group-no-rules-source.notification"), factory)
    assert SPEC.evaluate(completed, SPEC.parse_parameters({})) == Verdict(
        COMPLIANT, "Stateful rule group has 1 rule(s)"
    )


def test_s08_spec_complete_leaves_complete_items_alone(fixture_item, factory):
    item = fixture_item("netfw-group-suricata.notification")
    assert SPEC.complete(item, factory) == item
    assert factory.built == []


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s08_spec_complete_does_not_describe_gone_items(factory, status):
    item = group_item(status=status)
    item["configuration"] = None
    completed = SPEC.complete(item, factory)
    assert factory.built == []
    assert SPEC.evaluate(completed, None) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s08_spec_complete_does_not_describe_other_resource_types(fixture_item, factory):
    item = fixture_item("netfw-policy-empty.notification")
    assert SPEC.complete(item, factory) is item
    assert factory.built == []


def test_s08_spec_complete_then_group_gone(fixture_item, factory):
    factory.stubber.add_client_error("describe_rule_group", service_error_code="ResourceNotFoundException",
                                     http_status_code=400, expected_params={"RuleGroupArn": BIG_ARN})
    completed = SPEC.complete(fixture_item("netfw-group-no-rules-source.notification"), factory)
    assert SPEC.evaluate(completed, None) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeletedNotRecorded")


# --- S9 parameters --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["requiredRuleGroupTypes", "minRules", "ruleGroupType"])
def test_s09_unknown_parameter_name_is_rejected(name):
    with pytest.raises(ParameterError) as error:
        SPEC.parse_parameters({name: "1"})
    assert f"{name} (value '1')" in str(error.value)
    assert "known parameters: ExecutionRoleName" in str(error.value)


def test_s09_no_parameters_and_the_pack_parameter_are_accepted():
    assert SPEC.parameter_defaults == {"maxExemptionDays": "365"}  # every rule's own (perimeter.exemptions)
    assert SPEC.parse_parameters({}).own is None
    assert SPEC.parse_parameters({"ExecutionRoleName": "PerimeterAudit"}).own is None


def test_s09_lambda_edge_raises_invalid_parameters_error():
    from rdklib import InvalidParametersError

    from perimeter.rule import PackRule

    with pytest.raises(InvalidParametersError) as error:
        PackRule(SPEC).evaluate_parameters({"minRules": "1"})
    assert str(error.value).startswith(f"{RULE_ID}: unknown parameter(s) minRules (value '1')")


# --- S10 NOT_APPLICABLE ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s10_gone_items_with_null_configuration(status):
    item = group_item({"statefulRules": []}, status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s10_deleted_item_with_no_type_is_not_judged():
    item = group_item({"statefulRules": []}, type_in=(), status="ResourceDeleted")
    assert judge(item) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


@pytest.mark.parametrize("name", ["netfw-group-stateless-empty.notification", "netfw-group-suricata.notification",
                                  "netfw-group-no-rules-source.notification"])
def test_s10_event_left_scope(fixture_item, name):
    assert judge(fixture_item(name), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)


@pytest.mark.parametrize("name, resource_type", [
    ("netfw-policy-empty.notification", "AWS::NetworkFirewall::FirewallPolicy"),
    ("sg-open-range.notification", "AWS::EC2::SecurityGroup"),
])
def test_s10_another_resource_type(fixture_item, name, resource_type):
    assert judge(fixture_item(name)) == Verdict(
        NOT_APPLICABLE, f"Resource type {resource_type} is not evaluated by this rule"
    )


def test_s10_resource_discovered_is_evaluated():
    assert judge(group_item({"statefulRules": []}, status="ResourceDiscovered")) == STATEFUL_EMPTY


# --- malformed items: ItemError naming the item and the field -------------------------------------
ITEM_NAME = f"{GROUP_TYPE} {STATEFUL_ARN}: "


@pytest.mark.parametrize("source, message", [
    ({"statefulRules": {"action": "DROP"}}, "statefulRules must be a list, not dict"),
    ({"rulesString": ["drop ..."]}, "rulesString must be a string"),
    ({"rulesSourceList": {"targets": "a.example"}}, "rulesSourceList.targets must be a list, not str"),
    ({"rulesSourceList": {"targets": [1]}}, "rulesSourceList.targets must be a list of strings"),
    ({"rulesSourceList": ["a.example"]}, "rulesSourceList must be an object, not list"),
    ({"statelessRulesAndCustomActions": {"statelessRules": "x"}}, "statelessRules must be a list, not str"),
    ("drop tcp any any -> any any", "rulesSource must be an object, not str"),
])
def test_malformed_fields(source, message):
    assert item_error(group_item(source)) == ITEM_NAME + message


@pytest.mark.parametrize("key, value", [("ruleGroup", "x"), ("ruleGroupResponse", ["STATEFUL"])])
def test_malformed_containers(key, value):
    item = group_item({"statefulRules": []})
    item["configuration"][key] = value
    assert item_error(item) == ITEM_NAME + f"{key} must be an object, not {type(value).__name__}"
