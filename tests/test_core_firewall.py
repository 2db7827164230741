"""perimeter.firewall: the Network Firewall policy and rule-group models, field by field, both spellings."""
from __future__ import annotations

import pytest

from perimeter.firewall import (
    DEFAULT_ACTION_ORDER,
    STATEFUL,
    STATELESS,
    STRICT_ORDER,
    FirewallModelError,
    FirewallPolicy,
    RuleGroup,
    RuleGroupReference,
    firewall_policy_from_configuration,
    is_empty,
    rule_group_from_configuration,
    rule_group_type_from_arn,
)
from tests.builders import pascalise

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:network-firewall:us-east-1:{ACCOUNT}:"
POLICY_ARN = PREFIX + "firewall-policy/inspection"
DROP_FRAGMENTS = PREFIX + "stateless-rulegroup/drop-fragments"
FORWARD_WEB = PREFIX + "stateless-rulegroup/forward-web"
EGRESS = PREFIX + "stateful-rulegroup/egress-domains"
MANAGED = "arn:aws:network-firewall:us-east-1:aws-managed:stateful-rulegroup/ThreatSignaturesBotnetStrictOrder"


FULL_POLICY = {
    "firewallPolicy": {
        "statelessRuleGroupReferences": [
            {"resourceArn": DROP_FRAGMENTS, "priority": 10},
            {"resourceArn": FORWARD_WEB, "priority": 20},
        ],
        "statefulRuleGroupReferences": [
            {"resourceArn": EGRESS, "priority": 1},
            {"resourceArn": MANAGED, "priority": 2, "override": {"action": "DROP_TO_ALERT"}},
        ],
        "statelessDefaultActions": ["aws:forward_to_sfe", "custom-metrics"],
        "statelessFragmentDefaultActions": ["aws:drop"],
        "statefulDefaultActions": ["aws:drop_strict", "aws:alert_strict"],
        "statefulEngineOptions": {"ruleOrder": "STRICT_ORDER", "streamExceptionPolicy": "DROP"},
    },
    "firewallPolicyResponse": {"firewallPolicyName": "inspection", "firewallPolicyArn": POLICY_ARN,
                               "firewallPolicyId": "2d8f4b7e-90a1-4c3b-8e5f-6a7b8c9d0e1f"},
    "updateToken": "6f0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
}
FULL_POLICY_MODEL = FirewallPolicy(
    name="inspection",
    arn=POLICY_ARN,
    stateless_references=(RuleGroupReference(DROP_FRAGMENTS, 10), RuleGroupReference(FORWARD_WEB, 20)),
    stateful_references=(RuleGroupReference(EGRESS, 1), RuleGroupReference(MANAGED, 2, "DROP_TO_ALERT")),
    stateless_default_actions=("aws:forward_to_sfe", "custom-metrics"),
    stateless_fragment_default_actions=("aws:drop",),
    stateful_default_actions=("aws:drop_strict", "aws:alert_strict"),
    rule_order=STRICT_ORDER,
)


# --- firewall_policy_from_configuration -----------------------------------------------------------
@pytest.mark.parametrize("spelling", [lambda c: c, pascalise], ids=["camel", "pascal"])
def test_policy_every_field(spelling):
    assert firewall_policy_from_configuration(spelling(FULL_POLICY)) == FULL_POLICY_MODEL


def test_policy_pascal_body_under_camel_keys():
    """Each level is read in either spelling on its own: camel outer keys around a PascalCase body."""
    configuration = {
        "firewallPolicy": pascalise(FULL_POLICY["firewallPolicy"]),
        "firewallPolicyResponse": pascalise(FULL_POLICY["firewallPolicyResponse"]),
    }
    assert firewall_policy_from_configuration(configuration) == FULL_POLICY_MODEL


def test_policy_camel_name_wins_over_pascal_twin():
    configuration = {**FULL_POLICY, "firewallPolicyResponse": {"firewallPolicyName": "camel",
                                                               "FirewallPolicyName": "pascal"}}
    assert firewall_policy_from_configuration(configuration).name == "camel"


def test_policy_fixture_recorded_shape(fixture_item):
    policy = firewall_policy_from_configuration(fixture_item("netfw-policy-both.notification")["configuration"])
    assert policy == FirewallPolicy(
        name="inspection-both",
        arn=PREFIX + "firewall-policy/inspection-both",
        stateless_references=(RuleGroupReference(DROP_FRAGMENTS, 10),),
        stateful_references=(RuleGroupReference(EGRESS, None),),
        stateless_default_actions=("aws:forward_to_sfe",),
        stateless_fragment_default_actions=("aws:forward_to_sfe",),
        stateful_default_actions=(),
        rule_order=DEFAULT_ACTION_ORDER,
    )


def test_policy_fixture_pascal_shape_matches_camel(fixture_item):
    camel = firewall_policy_from_configuration(
        fixture_item("netfw-policy-stateless-only.notification")["configuration"]
    )
    pascal = firewall_policy_from_configuration(fixture_item("netfw-policy-stateless-only.pascal")["configuration"])
    assert pascal == camel
    assert [ref.priority for ref in pascal.stateless_references] == [10, 20]


def test_policy_strict_fixture(fixture_item):
    policy = firewall_policy_from_configuration(fixture_item("netfw-policy-strict-empty.notification")["configuration"])
    assert (policy.rule_order, policy.stateful_default_actions) == (STRICT_ORDER, ("aws:drop_strict",))
    assert policy.stateless_references == policy.stateful_references == ()


@pytest.mark.parametrize("configuration", [{}, {"firewallPolicy": None}, {"firewallPolicy": {}},
                                           {"FirewallPolicy": {}}])
def test_policy_without_a_body_has_nothing(configuration):
    assert firewall_policy_from_configuration(configuration) == FirewallPolicy(
        name=None, arn=None, stateless_references=(), stateful_references=(), stateless_default_actions=(),
        stateless_fragment_default_actions=(), stateful_default_actions=(), rule_order=DEFAULT_ACTION_ORDER,
    )


def test_policy_name_and_arn_from_the_configuration_when_no_response():
    configuration = {"FirewallPolicyName": "cfn-export", "FirewallPolicyArn": POLICY_ARN, "FirewallPolicy": {}}
    policy = firewall_policy_from_configuration(configuration)
    assert (policy.name, policy.arn) == ("cfn-export", POLICY_ARN)


@pytest.mark.parametrize("engine", [None, {}, {"ruleOrder": None}, {"ruleOrder": ""},
                                    {"streamExceptionPolicy": "DROP"}])
def test_policy_rule_order_defaults_to_default_action_order(engine):
    body = {"statelessDefaultActions": ["aws:pass"]}
    if engine is not None:
        body["statefulEngineOptions"] = engine
    assert firewall_policy_from_configuration({"firewallPolicy": body}).rule_order == DEFAULT_ACTION_ORDER


@pytest.mark.parametrize("order", [STRICT_ORDER, DEFAULT_ACTION_ORDER])
def test_policy_rule_order_both_spellings(order):
    camel = {"firewallPolicy": {"statefulEngineOptions": {"ruleOrder": order}}}
    assert firewall_policy_from_configuration(camel).rule_order == order
    assert firewall_policy_from_configuration(pascalise(camel)).rule_order == order


def test_policy_reference_without_priority_or_override():
    policy = firewall_policy_from_configuration({"firewallPolicy": {"statefulRuleGroupReferences": [
        {"resourceArn": EGRESS}, {"resourceArn": MANAGED, "override": None}, {"resourceArn": MANAGED, "override": {}},
    ]}})
    assert policy.stateful_references == (RuleGroupReference(EGRESS, None),) + (RuleGroupReference(MANAGED, None),) * 2


def test_policy_priority_zero_is_kept():
    policy = firewall_policy_from_configuration(
        {"firewallPolicy": {"statelessRuleGroupReferences": [{"resourceArn": DROP_FRAGMENTS, "priority": 0}]}}
    )
    assert policy.stateless_references == (RuleGroupReference(DROP_FRAGMENTS, 0),)


# --- firewall policy errors name the field --------------------------------------------------------
def policy_error(body: dict) -> str:
    with pytest.raises(FirewallModelError) as error:
        firewall_policy_from_configuration({"firewallPolicy": body})
    return str(error.value)


def test_policy_error_is_a_value_error():
    assert issubclass(FirewallModelError, ValueError)


@pytest.mark.parametrize("key", ["statelessRuleGroupReferences", "statefulRuleGroupReferences"])
def test_policy_error_references_not_a_list(key):
    assert policy_error({key: {"resourceArn": EGRESS}}) == f"{key} must be a list, not dict"
    assert policy_error(pascalise({key: "x"})) == f"{key} must be a list, not str"


def test_policy_error_reference_not_an_object():
    assert policy_error({"statefulRuleGroupReferences": [EGRESS]}) == (
        "statefulRuleGroupReferences entry must be an object, not str"
    )


@pytest.mark.parametrize("entry", [{"priority": 1}, {"resourceArn": ""}, {"resourceArn": None}, {"resourceArn": 3},
                                   {"ResourceARN": EGRESS}])
def test_policy_error_reference_without_resource_arn(entry):
    message = policy_error({"statelessRuleGroupReferences": [entry]})
    assert message == f"statelessRuleGroupReferences entry {entry!r} has no resourceArn"


@pytest.mark.parametrize("priority", ["x", "10", 1.0, True, [1]])
def test_policy_error_priority_not_an_integer(priority):
    message = policy_error({"statelessRuleGroupReferences": [{"resourceArn": DROP_FRAGMENTS, "priority": priority}]})
    assert message == f"statelessRuleGroupReferences priority {priority!r} is not an integer"


def test_policy_error_override_not_an_object():
    message = policy_error({"statefulRuleGroupReferences": [{"resourceArn": EGRESS, "override": "DROP_TO_ALERT"}]})
    assert message == "statefulRuleGroupReferences override must be an object, not str"


@pytest.mark.parametrize(
    "key", ["statelessDefaultActions", "statelessFragmentDefaultActions", "statefulDefaultActions"]
)
def test_policy_error_default_actions(key):
    assert policy_error({key: "aws:pass"}) == f"{key} must be a list, not str"
    assert policy_error({key: ["aws:pass", None]}) == f"{key} must be a list of strings"


@pytest.mark.parametrize("order", ["STRICT", "strict_order", 1])
def test_policy_error_unknown_rule_order(order):
    assert policy_error({"statefulEngineOptions": {"ruleOrder": order}}) == (
        f"statefulEngineOptions.ruleOrder {order!r} is unknown"
    )


@pytest.mark.parametrize("configuration, name", [
    ({"firewallPolicy": ["x"]}, "firewallPolicy"),
    ({"FirewallPolicy": "x"}, "firewallPolicy"),
    ({"firewallPolicyResponse": "x"}, "firewallPolicyResponse"),
    ({"firewallPolicy": {"statefulEngineOptions": "STRICT_ORDER"}}, "statefulEngineOptions"),
])
def test_policy_error_containers_not_objects(configuration, name):
    with pytest.raises(FirewallModelError, match=rf"^{name} must be an object, not "):
        firewall_policy_from_configuration(configuration)


# --- rule_group_type_from_arn ---------------------------------------------------------------------
@pytest.mark.parametrize("arn, kind", [
    (PREFIX + "stateful-rulegroup/egress", STATEFUL),
    (PREFIX + "stateless-rulegroup/drop-fragments", STATELESS),
    (MANAGED, STATEFUL),
    ("arn:aws:network-firewall:eu-west-1:aws-managed:stateful-rulegroup/AbusedLegitMalwareDomainsActionOrder",
     STATEFUL),
    ("arn:aws-us-gov:network-firewall:us-gov-west-1:123456789012:stateless-rulegroup/x", STATELESS),
    ("arn:aws-cn:network-firewall:cn-north-1:123456789012:stateful-rulegroup/x", STATEFUL),
    (PREFIX + "stateful-rulegroup/name/with:colon", STATEFUL),
])
def test_type_from_arn(arn, kind):
    assert rule_group_type_from_arn(arn) == kind


@pytest.mark.parametrize("arn", [
    None, "", "stateful-rulegroup/x", "garbage", 42, ["stateful-rulegroup"],
    PREFIX + "firewall-policy/inspection",
    PREFIX + "firewall/fw",
    PREFIX + "rulegroup/x",
    PREFIX + "Stateful-RuleGroup/x",
    "arn:aws:network-firewall:us-east-1:stateful-rulegroup/x",  # a field short
])
def test_type_from_arn_garbage_is_none(arn):
    assert rule_group_type_from_arn(arn) is None


# --- rule_group_from_configuration ----------------------------------------------------------------
GROUP_ARN = PREFIX + "stateful-rulegroup/everything"
FULL_GROUP = {
    "ruleGroup": {
        "rulesSource": {
            "statelessRulesAndCustomActions": {"statelessRules": [{"priority": 1}, {"priority": 2}]},
            "statefulRules": [{"action": "DROP"}, {"action": "PASS"}, {"action": "ALERT"}],
            "rulesString": "# header\n\ndrop tcp any any -> any 22 (sid:1;)\n  # pass\n"
                           "alert ip any any -> any any (sid:2;)\n",
            "rulesSourceList": {"targets": [".example.com", "example.org", "x.test", "y.test"],
                                "targetTypes": ["TLS_SNI"], "generatedRulesType": "DENYLIST"},
        },
    },
    "ruleGroupResponse": {"ruleGroupArn": GROUP_ARN, "ruleGroupName": "everything", "type": "STATEFUL"},
}
FULL_GROUP_MODEL = RuleGroup(name="everything", arn=GROUP_ARN, type=STATEFUL, has_rules_source=True,
                             stateless_rule_count=2, stateful_rule_count=3, rules_string_lines=2, domain_list_targets=4)


@pytest.mark.parametrize("spelling", [lambda c: c, pascalise], ids=["camel", "pascal"])
def test_group_every_field(spelling):
    assert rule_group_from_configuration(spelling(FULL_GROUP)) == FULL_GROUP_MODEL


def test_group_mixed_spelling_levels():
    configuration = {
        "ruleGroup": pascalise(FULL_GROUP["ruleGroup"]), "RuleGroupResponse": FULL_GROUP["ruleGroupResponse"]
    }
    assert rule_group_from_configuration(configuration) == FULL_GROUP_MODEL


@pytest.mark.parametrize("name, model", [
    ("netfw-group-stateless-rules.notification", dict(type=STATELESS, stateless_rule_count=3)),
    ("netfw-group-stateless-empty.notification", dict(type=STATELESS)),
    ("netfw-group-stateful-5tuple.notification", dict(type=STATEFUL, stateful_rule_count=1)),
    ("netfw-group-suricata.notification", dict(type=STATEFUL, rules_string_lines=2)),
    ("netfw-group-suricata-comments.notification", dict(type=STATEFUL)),
    ("netfw-group-domain-list.notification", dict(type=STATEFUL, domain_list_targets=2)),
    ("netfw-group-domain-list-empty.notification", dict(type=STATEFUL)),
    ("netfw-group-no-rules-source.notification", dict(type=STATEFUL, has_rules_source=False)),
])
def test_group_fixtures(fixture_item, name, model):
    item = fixture_item(name)
    group = rule_group_from_configuration(item["configuration"], item["ARN"])
    counts = dict(has_rules_source=True, stateless_rule_count=0, stateful_rule_count=0, rules_string_lines=0,
                  domain_list_targets=0)
    assert group == RuleGroup(name=item["resourceName"], arn=item["ARN"], **{**counts, **model})


def test_group_arn_precedence_response_then_configuration_then_item():
    response_arn, configuration_arn, item_arn = (PREFIX + f"stateful-rulegroup/{n}" for n in "abc")
    configuration = {"ruleGroupResponse": {"ruleGroupArn": response_arn}, "ruleGroupArn": configuration_arn}
    assert rule_group_from_configuration(configuration, item_arn).arn == response_arn
    del configuration["ruleGroupResponse"]
    assert rule_group_from_configuration(configuration, item_arn).arn == configuration_arn
    del configuration["ruleGroupArn"]
    assert rule_group_from_configuration(configuration, item_arn).arn == item_arn
    assert rule_group_from_configuration(configuration).arn is None


def test_group_name_from_the_configuration_when_no_response():
    assert rule_group_from_configuration({"RuleGroupName": "cfn", "Type": "STATELESS"}).name == "cfn"


@pytest.mark.parametrize("configuration, arn, kind", [
    ({"ruleGroupResponse": {"type": "STATELESS"}}, None, STATELESS),
    ({"RuleGroupResponse": {"Type": "STATEFUL"}}, None, STATEFUL),
    ({"type": "stateless"}, None, STATELESS),
    ({"Type": "Stateful"}, None, STATEFUL),
    ({}, PREFIX + "stateless-rulegroup/x", STATELESS),
    ({"ruleGroupResponse": {"ruleGroupArn": PREFIX + "stateful-rulegroup/x"}}, None, STATEFUL),
    ({"RuleGroupArn": PREFIX + "stateless-rulegroup/x"}, None, STATELESS),
    ({}, MANAGED, STATEFUL),
    ({}, None, None),
    ({}, PREFIX + "rulegroup/x", None),
    ({"ruleGroupResponse": {"type": None}, "type": None}, None, None),
])
def test_group_type_sources(configuration, arn, kind):
    assert rule_group_from_configuration(configuration, arn).type == kind


def test_group_type_agreeing_everywhere():
    configuration = {"ruleGroupResponse": {"type": "STATELESS"}, "type": "stateless"}
    assert rule_group_from_configuration(configuration, PREFIX + "stateless-rulegroup/x").type == STATELESS


@pytest.mark.parametrize("configuration, arn, message", [
    ({"ruleGroupResponse": {"type": "STATELESS"}}, PREFIX + "stateful-rulegroup/x",
     "rule group type is contradictory: STATELESS in ruleGroupResponse.type, STATEFUL in the ARN"),
    ({"ruleGroupResponse": {"type": "STATEFUL"}, "type": "STATELESS"}, None,
     "rule group type is contradictory: STATEFUL in ruleGroupResponse.type, STATELESS in type"),
    ({"Type": "STATELESS", "RuleGroupArn": PREFIX + "stateful-rulegroup/x"}, None,
     "rule group type is contradictory: STATELESS in type, STATEFUL in the ARN"),
    ({"ruleGroupResponse": {"type": "STATEFULL"}}, None,
     "rule group ruleGroupResponse.type 'STATEFULL' is neither STATEFUL nor STATELESS"),
    ({"ruleGroupResponse": {"type": "STATEFUL"}, "type": "IPS"}, None,
     "rule group type 'IPS' is neither STATEFUL nor STATELESS"),
    ({"RuleGroupResponse": {"Type": ""}}, None,
     "rule group ruleGroupResponse.type '' is neither STATEFUL nor STATELESS"),
    ({"type": ["STATEFUL"]}, None, "rule group type ['STATEFUL'] is neither STATEFUL nor STATELESS"),
])
def test_group_type_errors_name_the_field(configuration, arn, message):
    with pytest.raises(FirewallModelError) as error:
        rule_group_from_configuration(configuration, arn)
    assert str(error.value) == message


@pytest.mark.parametrize("configuration", [{}, {"ruleGroup": None}, {"ruleGroup": {}},
                                           {"ruleGroup": {"rulesSource": None}}, {"RuleGroup": {"RulesSource": None}}])
def test_group_without_rules_source(configuration):
    group = rule_group_from_configuration({**configuration, "type": "STATEFUL"})
    assert group.has_rules_source is False
    assert (group.stateless_rule_count, group.stateful_rule_count, group.rules_string_lines,
            group.domain_list_targets) == (0, 0, 0, 0)


def test_group_empty_rules_source_is_present():
    assert rule_group_from_configuration({"ruleGroup": {"rulesSource": {}}}).has_rules_source is True


@pytest.mark.parametrize("rules_string, lines", [
    ("", 0),
    ("\n\n\n", 0),
    ("# a\n#b\n", 0),
    ("   # indented comment\n\t#tab\n", 0),
    ("drop tcp any any -> any any (sid:1;)", 1),
    ("# c\r\ndrop tcp any any -> any any (sid:1;)\r\n\r\npass ip any any -> any any (sid:2;)\r\n", 2),
    ("  drop tcp any any -> any any (sid:1;)  \n", 1),
    ("# c\n\n\nalert http any any -> any any (sid:3;)\n# trailing", 1),
    ("drop tcp any any -> any any (msg:\"#1\"; sid:1;)\n", 1),
])
def test_group_rules_string_lines(rules_string, lines):
    for spelling in ({"ruleGroup": {"rulesSource": {"rulesString": rules_string}}},
                     {"RuleGroup": {"RulesSource": {"RulesString": rules_string}}}):
        assert rule_group_from_configuration(spelling).rules_string_lines == lines


def group_error(rules_source) -> str:
    with pytest.raises(FirewallModelError) as error:
        rule_group_from_configuration({"ruleGroup": {"rulesSource": rules_source}, "type": "STATEFUL"})
    return str(error.value)


@pytest.mark.parametrize("rules_source, message", [
    ("x", "rulesSource must be an object, not str"),
    ({"statelessRulesAndCustomActions": []}, "statelessRulesAndCustomActions must be an object, not list"),
    ({"statelessRulesAndCustomActions": {"statelessRules": {}}}, "statelessRules must be a list, not dict"),
    ({"statefulRules": "drop"}, "statefulRules must be a list, not str"),
    ({"rulesString": 3}, "rulesString must be a string"),
    ({"RulesString": ["drop"]}, "rulesString must be a string"),
    ({"rulesSourceList": "a.example"}, "rulesSourceList must be an object, not str"),
    ({"rulesSourceList": {"targets": "a.example"}}, "rulesSourceList.targets must be a list, not str"),
    ({"RulesSourceList": {"Targets": ["a.example", 1]}}, "rulesSourceList.targets must be a list of strings"),
])
def test_group_errors_name_the_field(rules_source, message):
    assert group_error(rules_source) == message


@pytest.mark.parametrize("configuration, name", [
    ({"ruleGroup": "x"}, "ruleGroup"),
    ({"RuleGroupResponse": []}, "ruleGroupResponse"),
])
def test_group_error_containers(configuration, name):
    with pytest.raises(FirewallModelError, match=rf"^{name} must be an object, not "):
        rule_group_from_configuration(configuration)


# --- is_empty -------------------------------------------------------------------------------------
def group(kind, **counts) -> RuleGroup:
    base = dict(stateless_rule_count=0, stateful_rule_count=0, rules_string_lines=0, domain_list_targets=0)
    return RuleGroup(name="g", arn=None, type=kind, has_rules_source=True, **{**base, **counts})


@pytest.mark.parametrize("counts, empty", [
    ({}, True),
    ({"stateless_rule_count": 1}, False),
    ({"stateful_rule_count": 5, "rules_string_lines": 2, "domain_list_targets": 3}, True),
])
def test_is_empty_stateless_counts_only_stateless_rules(counts, empty):
    assert is_empty(group(STATELESS, **counts)) is empty


@pytest.mark.parametrize("counts, empty", [
    ({}, True),
    ({"stateful_rule_count": 1}, False),
    ({"rules_string_lines": 1}, False),
    ({"domain_list_targets": 1}, False),
    ({"stateless_rule_count": 4}, True),
])
def test_is_empty_stateful_counts_entries_lines_and_targets(counts, empty):
    assert is_empty(group(STATEFUL, **counts)) is empty


def test_is_empty_on_the_fixtures(fixture_item):
    empty = {name: is_empty(rule_group_from_configuration(fixture_item(name)["configuration"])) for name in (
        "netfw-group-stateless-rules.notification", "netfw-group-stateless-empty.notification",
        "netfw-group-stateful-5tuple.notification", "netfw-group-suricata.notification",
        "netfw-group-suricata-comments.notification", "netfw-group-domain-list.notification",
        "netfw-group-domain-list-empty.notification",
    )}
    assert empty == {
        "netfw-group-stateless-rules.notification": False,
        "netfw-group-stateless-empty.notification": True,
        "netfw-group-stateful-5tuple.notification": False,
        "netfw-group-suricata.notification": False,
        "netfw-group-suricata-comments.notification": True,
        "netfw-group-domain-list.notification": False,
        "netfw-group-domain-list-empty.notification": True,
    }
