"""netfw-policy-rule-group-associated: one test group per scenario S1..S9 of the rule's docstring.

Every verdict goes through the registry (parse_parameters -> evaluate), as the Lambda and the scan do.
Items are AWS::NetworkFirewall::FirewallPolicy configuration items in the recorded camelCase shape,
the PascalCase shape of DescribeFirewallPolicy / CloudFormation exports, and the API shape.
"""
from __future__ import annotations

import copy

import pytest

from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, load_rule
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict
from tests.builders import api_shape, pascalise, recorded_item

SPEC = load_rule("perimeter.rules.netfw_policy_rule_group_associated.rule")
RULE_ID = "netfw-policy-rule-group-associated"
ACCOUNT = "123456789012"
POLICY_TYPE = "AWS::NetworkFirewall::FirewallPolicy"
POLICY_ARN = f"arn:aws:network-firewall:us-east-1:{ACCOUNT}:firewall-policy/test-policy"
STATELESS_ARN = f"arn:aws:network-firewall:us-east-1:{ACCOUNT}:stateless-rulegroup/"
STATEFUL_ARN = f"arn:aws:network-firewall:us-east-1:{ACCOUNT}:stateful-rulegroup/"
MANAGED_ARN = "arn:aws:network-firewall:us-east-1:aws-managed:stateful-rulegroup/ThreatSignaturesBotnetActionOrder"

NONE_ANY = "No stateless or stateful rule group associated (policy has none); "
FORWARD = "stateless default action aws:forward_to_sfe"


# --- builders -------------------------------------------------------------------------------------
def stateless(*names, pascal=False):
    entries = [{"resourceArn": STATELESS_ARN + name, "priority": 10 * (i + 1)} for i, name in enumerate(names)]
    return [pascalise(entry) for entry in entries] if pascal else entries


def stateful(*names, pascal=False):
    entries = [{"resourceArn": STATEFUL_ARN + name} for name in names]
    return [pascalise(entry) for entry in entries] if pascal else entries


def policy_body(stateless_refs=None, stateful_refs=None, *, default=("aws:forward_to_sfe",), stateful_default=None,
                rule_order=None):
    body = {"statelessDefaultActions": list(default), "statelessFragmentDefaultActions": ["aws:forward_to_sfe"]}
    if stateless_refs is not None:
        body["statelessRuleGroupReferences"] = stateless_refs
    if stateful_refs is not None:
        body["statefulRuleGroupReferences"] = stateful_refs
    if stateful_default is not None:
        body["statefulDefaultActions"] = list(stateful_default)
    if rule_order is not None:
        body["statefulEngineOptions"] = {"ruleOrder": rule_order}
    return body


def policy_item(body, *, status="OK", resource_type=POLICY_TYPE, pascal=False):
    configuration = {
        "firewallPolicy": body,
        "firewallPolicyResponse": {
            "firewallPolicyName": "test-policy",
            "firewallPolicyArn": POLICY_ARN,
            "firewallPolicyId": "2d8f4b7e-90a1-4c3b-8e5f-6a7b8c9d0e1f",
            "firewallPolicyStatus": "ACTIVE",
            "numberOfAssociations": 1,
        },
        "updateToken": "6f0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
    }
    if body is None:
        del configuration["firewallPolicy"]
    return recorded_item(resource_type, POLICY_ARN, configuration, status=status, name="test-policy", pascal=pascal)


def judge(item, *, left_scope=False, **raw_parameters) -> Verdict:
    return SPEC.evaluate(item, SPEC.parse_parameters(raw_parameters), left_scope=left_scope)


# Policies by what they hold, and the annotation parts they produce.
POLICIES = {
    "none": policy_body([], []),
    "stateless-only": policy_body(stateless("a", "b"), []),
    "stateful-only": policy_body([], stateful("x")),
    "both": policy_body(stateless("a"), stateful("x")),
}
HOLDINGS = {"none": "none", "stateless-only": "2 stateless", "stateful-only": "1 stateful",
            "both": "1 stateless and 1 stateful"}
COUNTS = {"stateless-only": (2, 0), "stateful-only": (0, 1), "both": (1, 1)}
MISSING = {  # (requirement, policy) -> missing types named, or None when met
    ("any", "none"): "stateless or stateful",
    ("stateful", "none"): "stateful",
    ("stateful", "stateless-only"): "stateful",
    ("stateless", "none"): "stateless",
    ("stateless", "stateful-only"): "stateless",
    ("both", "none"): "stateless or stateful",
    ("both", "stateless-only"): "stateful",
    ("both", "stateful-only"): "stateless",
}


def expected(requirement: str, policy: str) -> Verdict:
    missing = MISSING.get((requirement, policy))
    if missing is None:
        n_stateless, n_stateful = COUNTS[policy]
        return Verdict(COMPLIANT, f"Policy references {n_stateless} stateless and {n_stateful} stateful rule group(s)")
    return Verdict(NON_COMPLIANT, f"No {missing} rule group associated (policy has {HOLDINGS[policy]}); {FORWARD}")


# --- S1 one stateless and one stateful reference, default "any" ----------------------------------
def test_s01_one_of_each_fixture(fixture_item):
    assert judge(fixture_item("netfw-policy-both.notification")) == Verdict(
        COMPLIANT, "Policy references 1 stateless and 1 stateful rule group(s)"
    )


@pytest.mark.parametrize("raw", [{}, {"requiredRuleGroupTypes": ""}, {"requiredRuleGroupTypes": "   "},
                                 {"requiredRuleGroupTypes": "any"}, {"requiredRuleGroupTypes": " ANY "},
                                 {"requiredRuleGroupTypes": "Any"}])
def test_s01_absent_blank_or_any_spelling_is_the_default(raw):
    assert SPEC.parse_parameters(raw).own.required_rule_group_types == "any"
    assert SPEC.evaluate(policy_item(POLICIES["both"]), SPEC.parse_parameters(raw)) == Verdict(
        COMPLIANT, "Policy references 1 stateless and 1 stateful rule group(s)"
    )


def test_s01_metadata_default_is_any():
    assert SPEC.parameter_defaults == {"requiredRuleGroupTypes": "any", "maxExemptionDays": "365"}
    assert SPEC.resource_types == (POLICY_TYPE,)


@pytest.mark.parametrize("policy", ["stateless-only", "stateful-only"])
def test_s01_one_kind_is_enough_for_any(policy):
    assert judge(policy_item(POLICIES[policy])) == expected("any", policy)


def test_s01_managed_stateful_reference_counts():
    item = policy_item(policy_body(None, [{"resourceArn": MANAGED_ARN, "override": {"action": "DROP_TO_ALERT"}}]))
    assert judge(item) == Verdict(COMPLIANT, "Policy references 0 stateless and 1 stateful rule group(s)")


def test_s01_api_shape_gives_the_notification_verdict(fixture_item):
    notification = fixture_item("netfw-policy-both.notification")
    api = api_shape(notification)
    assert isinstance(api["configuration"], str) and "accountId" in api and "arn" in api
    normalised = normalise_item(api)
    assert normalised["ARN"] == notification["ARN"] and normalised["awsAccountId"] == ACCOUNT
    assert judge(normalised) == judge(notification) == Verdict(
        COMPLIANT, "Policy references 1 stateless and 1 stateful rule group(s)"
    )


# --- S2 no references: empty, missing or null lists, or no firewallPolicy -------------------------
def test_s02_empty_fixture_names_its_default_action(fixture_item):
    assert judge(fixture_item("netfw-policy-empty.notification")) == Verdict(
        NON_COMPLIANT,
        "No stateless or stateful rule group associated (policy has none); stateless default action aws:pass",
    )


def test_s02_empty_fixture_api_shape(fixture_item):
    item = fixture_item("netfw-policy-empty.notification")
    assert judge(normalise_item(api_shape(item))) == judge(item) == Verdict(
        NON_COMPLIANT,
        "No stateless or stateful rule group associated (policy has none); stateless default action aws:pass",
    )


@pytest.mark.parametrize("stateless_refs", [[], None, "missing"], ids=["stateless-empty", "stateless-null",
                                                                        "stateless-missing"])
@pytest.mark.parametrize("stateful_refs", [[], None, "missing"], ids=["stateful-empty", "stateful-null",
                                                                       "stateful-missing"])
def test_s02_every_combination_of_empty_null_and_missing_lists(stateless_refs, stateful_refs):
    body = policy_body()
    if stateless_refs != "missing":
        body["statelessRuleGroupReferences"] = stateless_refs
    if stateful_refs != "missing":
        body["statefulRuleGroupReferences"] = stateful_refs
    assert judge(policy_item(body)) == Verdict(NON_COMPLIANT, NONE_ANY + FORWARD)


@pytest.mark.parametrize("body", ["missing", None, {}], ids=["no-firewallPolicy", "null-firewallPolicy",
                                                             "empty-firewallPolicy"])
def test_s02_no_policy_body_says_default_action_not_set(body):
    item = policy_item(None)
    if body != "missing":
        item["configuration"]["firewallPolicy"] = body
    assert judge(item) == Verdict(NON_COMPLIANT, NONE_ANY + "stateless default action not set")


def test_s02_configuration_with_nothing_but_the_response():
    item = policy_item(None)
    item["configuration"] = {"firewallPolicyResponse": item["configuration"]["firewallPolicyResponse"]}
    assert judge(item) == Verdict(NON_COMPLIANT, NONE_ANY + "stateless default action not set")


def test_s02_several_stateless_default_actions_are_all_named():
    item = policy_item(policy_body([], [], default=("aws:pass", "custom-metrics")))
    assert judge(item) == Verdict(NON_COMPLIANT, NONE_ANY + "stateless default action aws:pass, custom-metrics")


@pytest.mark.parametrize("requirement, missing", [("stateless", "stateless"), ("stateful", "stateful"),
                                                  ("both", "stateless or stateful")])
def test_s02_empty_policy_under_every_requirement(requirement, missing):
    item = policy_item(POLICIES["none"])
    assert judge(item, requiredRuleGroupTypes=requirement) == Verdict(
        NON_COMPLIANT, f"No {missing} rule group associated (policy has none); {FORWARD}"
    )


# --- S3 "stateful" against a policy with only 2 stateless references ------------------------------
S3_ANNOTATION = (
    "No stateful rule group associated (policy has 2 stateless); stateless default action aws:forward_to_sfe"
)


@pytest.mark.parametrize("spelling", ["stateful", "STATEFUL", " Stateful "])
def test_s03_stateful_required_stateless_only_fixture(fixture_item, spelling):
    item = fixture_item("netfw-policy-stateless-only.notification")
    assert judge(item, requiredRuleGroupTypes=spelling) == Verdict(NON_COMPLIANT, S3_ANNOTATION)


def test_s03_same_fixture_is_compliant_under_any(fixture_item):
    item = fixture_item("netfw-policy-stateless-only.notification")
    assert judge(item) == Verdict(COMPLIANT, "Policy references 2 stateless and 0 stateful rule group(s)")


def test_s03_api_shape(fixture_item):
    item = fixture_item("netfw-policy-stateless-only.notification")
    assert judge(normalise_item(api_shape(item)), requiredRuleGroupTypes="stateful") == Verdict(
        NON_COMPLIANT, S3_ANNOTATION
    )


def test_s03_stateful_required_and_present():
    assert judge(policy_item(POLICIES["stateful-only"]), requiredRuleGroupTypes="stateful") == Verdict(
        COMPLIANT, "Policy references 0 stateless and 1 stateful rule group(s)"
    )


# --- S4 "stateless" against stateful-only, then with a stateless reference ------------------------
def test_s04_stateless_required_stateful_only():
    assert judge(policy_item(POLICIES["stateful-only"]), requiredRuleGroupTypes="stateless") == Verdict(
        NON_COMPLIANT,
        "No stateless rule group associated (policy has 1 stateful); stateless default action aws:forward_to_sfe",
    )


def test_s04_stateless_required_with_a_stateless_reference():
    assert judge(policy_item(POLICIES["both"]), requiredRuleGroupTypes="STATELESS") == Verdict(
        COMPLIANT, "Policy references 1 stateless and 1 stateful rule group(s)"
    )


def test_s04_stateless_required_stateless_only_fixture(fixture_item):
    item = fixture_item("netfw-policy-stateless-only.notification")
    assert judge(item, requiredRuleGroupTypes="stateless") == Verdict(
        COMPLIANT, "Policy references 2 stateless and 0 stateful rule group(s)"
    )


# --- S5 "both" ------------------------------------------------------------------------------------
def test_s05_both_with_one_of_each(fixture_item):
    assert judge(fixture_item("netfw-policy-both.notification"), requiredRuleGroupTypes="both") == Verdict(
        COMPLIANT, "Policy references 1 stateless and 1 stateful rule group(s)"
    )


@pytest.mark.parametrize("policy, missing", [("stateless-only", "stateful"), ("stateful-only", "stateless"),
                                             ("none", "stateless or stateful")])
def test_s05_both_names_the_missing_type(policy, missing):
    assert judge(policy_item(POLICIES[policy]), requiredRuleGroupTypes="Both") == Verdict(
        NON_COMPLIANT, f"No {missing} rule group associated (policy has {HOLDINGS[policy]}); {FORWARD}"
    )


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("requirement", ["any", "stateful", "stateless", "both"])
def test_s05_every_requirement_against_every_policy(requirement, policy):
    for spelling in (requirement, requirement.upper(), f" {requirement.capitalize()} "):
        assert judge(policy_item(POLICIES[policy]), requiredRuleGroupTypes=spelling) == expected(requirement, policy)


# --- S6 stateful default actions are named too ----------------------------------------------------
def test_s06_strict_order_fixture_names_stateful_default_action(fixture_item):
    assert judge(fixture_item("netfw-policy-strict-empty.notification")) == Verdict(
        NON_COMPLIANT,
        "No stateless or stateful rule group associated (policy has none); stateless default action "
        "aws:forward_to_sfe; stateful default action aws:drop_strict",
    )


def test_s06_several_stateful_default_actions():
    item = policy_item(policy_body([], [], stateful_default=("aws:drop_established", "aws:alert_established"),
                                   rule_order="STRICT_ORDER"))
    assert judge(item) == Verdict(
        NON_COMPLIANT, NONE_ANY + FORWARD + "; stateful default action aws:drop_established, aws:alert_established"
    )


def test_s06_empty_stateful_default_list_is_not_named():
    item = policy_item(policy_body([], [], stateful_default=()))
    assert judge(item) == Verdict(NON_COMPLIANT, NONE_ANY + FORWARD)


def test_s06_compliant_annotation_does_not_name_default_actions(fixture_item):
    item = fixture_item("netfw-policy-strict-empty.notification")
    item["configuration"]["firewallPolicy"]["statefulRuleGroupReferences"] = stateful("x")
    assert judge(item) == Verdict(COMPLIANT, "Policy references 0 stateless and 1 stateful rule group(s)")


def test_s06_many_long_custom_actions_fit_in_256_characters():
    custom = [f"custom-action-{i:02d}-{'metrics' * 8}" for i in range(20)]
    item = policy_item(policy_body([], [], default=["aws:forward_to_sfe", *custom], stateful_default=custom,
                                   rule_order="STRICT_ORDER"))
    verdict = judge(item)
    assert verdict.compliance == NON_COMPLIANT
    assert len(verdict.annotation) == MAX_ANNOTATION
    assert verdict.annotation.startswith(NONE_ANY + "stateless default action aws:forward_to_sfe, custom-action-00-")
    assert verdict.annotation.endswith("…")


def test_s06_long_annotation_under_a_narrower_requirement_keeps_what_is_missing():
    custom = [f"custom-{i}-{'x' * 60}" for i in range(10)]
    item = policy_item(policy_body(stateless("a"), [], default=custom))
    verdict = judge(item, requiredRuleGroupTypes="both")
    assert verdict.compliance == NON_COMPLIANT and len(verdict.annotation) <= MAX_ANNOTATION
    assert verdict.annotation.startswith("No stateful rule group associated (policy has 1 stateless); ")


# --- S7 PascalCase spelling -----------------------------------------------------------------------
@pytest.mark.parametrize("requirement", ["any", "stateful", "stateless", "both"])
def test_s07_pascal_fixture_matches_camel_fixture(fixture_item, requirement):
    camel = fixture_item("netfw-policy-stateless-only.notification")
    pascal = fixture_item("netfw-policy-stateless-only.pascal")
    assert "FirewallPolicy" in pascal["configuration"] and "firewallPolicy" not in pascal["configuration"]
    assert judge(pascal, requiredRuleGroupTypes=requirement) == judge(camel, requiredRuleGroupTypes=requirement)
    assert judge(pascal, requiredRuleGroupTypes=requirement) == expected(requirement, "stateless-only")


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("requirement", ["any", "stateful", "stateless", "both"])
def test_s07_pascal_built_items_give_the_camel_verdicts(requirement, policy):
    camel = policy_item(POLICIES[policy])
    pascal = policy_item(pascalise(POLICIES[policy]), pascal=True)
    assert "StatelessRuleGroupReferences" in pascal["configuration"]["FirewallPolicy"]
    assert judge(pascal, requiredRuleGroupTypes=requirement) == judge(camel, requiredRuleGroupTypes=requirement)
    assert judge(pascal, requiredRuleGroupTypes=requirement) == expected(requirement, policy)


def test_s07_pascal_strict_order_with_stateful_defaults(fixture_item):
    camel = fixture_item("netfw-policy-strict-empty.notification")
    pascal = copy.deepcopy(camel)
    pascal["configuration"] = pascalise(camel["configuration"])
    assert pascal["configuration"]["FirewallPolicy"]["StatefulEngineOptions"]["RuleOrder"] == "STRICT_ORDER"
    assert judge(pascal) == judge(camel) == Verdict(
        NON_COMPLIANT, NONE_ANY + FORWARD + "; stateful default action aws:drop_strict"
    )


def test_s07_describe_firewall_policy_response_as_configuration():
    """A DescribeFirewallPolicy response pasted as the configuration (UpdateToken and all)."""
    item = policy_item(None)
    item["configuration"] = {
        "UpdateToken": "6f0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
        "FirewallPolicyResponse": {"FirewallPolicyName": "p", "FirewallPolicyArn": POLICY_ARN, "FirewallPolicyId": "1"},
        "FirewallPolicy": {
            "StatelessRuleGroupReferences": [],
            "StatefulRuleGroupReferences": [{"ResourceArn": MANAGED_ARN, "Priority": 1}],
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "StatefulDefaultActions": ["aws:drop_strict"],
            "StatefulEngineOptions": {"RuleOrder": "STRICT_ORDER"},
        },
    }
    assert judge(item, requiredRuleGroupTypes="both") == Verdict(
        NON_COMPLIANT,
        "No stateless rule group associated (policy has 1 stateful); " + FORWARD
        + "; stateful default action aws:drop_strict",
    )


def test_s07_pascal_missing_lists_mean_none():
    item = policy_item(pascalise(policy_body()), pascal=True)
    assert judge(item) == Verdict(NON_COMPLIANT, NONE_ANY + FORWARD)


# --- S8 invalid parameters ------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["all", "ALL", "none", "stateful,stateless", "stateful stateless", "*", "0"])
def test_s08_invalid_value_names_parameter_and_value(value):
    with pytest.raises(ParameterError) as error:
        SPEC.parse_parameters({"requiredRuleGroupTypes": value})
    message = str(error.value)
    assert "requiredRuleGroupTypes" in message
    assert f"'{value.strip()}'" in message
    assert "any, stateful, stateless, both" in message


@pytest.mark.parametrize("value", [5, True, ["any"]])
def test_s08_non_string_value_is_rejected(value):
    with pytest.raises(ParameterError, match=r"requiredRuleGroupTypes.*must be a string"):
        SPEC.parse_parameters({"requiredRuleGroupTypes": value})


@pytest.mark.parametrize("name", ["requiredRuleGroupType", "RequiredRuleGroupTypes", "ruleGroupTypes"])
def test_s08_unknown_parameter_name_is_rejected(name):
    with pytest.raises(ParameterError) as error:
        SPEC.parse_parameters({name: "any"})
    message = str(error.value)
    assert f"{name} (value 'any')" in message
    assert "known parameters: ExecutionRoleName, maxExemptionDays, requiredRuleGroupTypes" in message


def test_s08_parameters_not_an_object():
    with pytest.raises(ParameterError, match="JSON object"):
        SPEC.parse_parameters(["requiredRuleGroupTypes", "any"])


def test_s08_pack_parameter_is_accepted():
    assert SPEC.parse_parameters({"ExecutionRoleName": "PerimeterAudit", "requiredRuleGroupTypes": "both"}) \
        .own.required_rule_group_types == "both"


def test_s08_lambda_edge_raises_invalid_parameters_error():
    from rdklib import InvalidParametersError

    from perimeter.rule import PackRule

    with pytest.raises(InvalidParametersError) as error:
        PackRule(SPEC).evaluate_parameters({"requiredRuleGroupTypes": "all"})
    assert str(error.value).startswith(f"{RULE_ID}: parameter requiredRuleGroupTypes: 'all'")


# --- S9 NOT_APPLICABLE ----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s09_gone_items_with_null_configuration(status):
    item = policy_item(POLICIES["none"], status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s09_deleted_item_with_a_stale_configuration_is_not_judged():
    item = policy_item(POLICIES["none"], status="ResourceDeleted")
    assert judge(item, requiredRuleGroupTypes="both") == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


def test_s09_deleted_api_shaped_item(fixture_item):
    api = api_shape(fixture_item("netfw-policy-empty.notification"))
    api["configurationItemStatus"] = "ResourceDeleted"
    api["configuration"] = "null"
    assert judge(normalise_item(api)) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


@pytest.mark.parametrize("name", ["netfw-policy-empty.notification", "netfw-policy-both.notification"])
def test_s09_event_left_scope(fixture_item, name):
    assert judge(fixture_item(name), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)


def test_s09_left_scope_and_deleted_reports_the_status():
    item = policy_item(None, status="ResourceDeleted")
    item["configuration"] = None
    assert judge(item, left_scope=True) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


@pytest.mark.parametrize("name, resource_type", [
    ("netfw-group-stateless-empty.notification", "AWS::NetworkFirewall::RuleGroup"),
    ("sg-open-range.notification", "AWS::EC2::SecurityGroup"),
])
def test_s09_another_resource_type(fixture_item, name, resource_type):
    assert judge(fixture_item(name)) == Verdict(
        NOT_APPLICABLE, f"Resource type {resource_type} is not evaluated by this rule"
    )


def test_s09_resource_discovered_is_evaluated():
    assert judge(policy_item(POLICIES["none"], status="ResourceDiscovered")) == Verdict(
        NON_COMPLIANT, NONE_ANY + FORWARD
    )


# --- malformed items: ItemError naming the item and the field -------------------------------------
ITEM_NAME = f"{POLICY_TYPE} {POLICY_ARN}: "


def error_of(item, **raw_parameters) -> str:
    with pytest.raises(ItemError) as error:
        judge(item, **raw_parameters)
    return str(error.value)


@pytest.mark.parametrize("key", ["statelessRuleGroupReferences", "statefulRuleGroupReferences"])
@pytest.mark.parametrize("value", [{"resourceArn": STATELESS_ARN + "a"}, "arn:aws:...", 3])
def test_malformed_reference_list_not_a_list(key, value):
    body = policy_body()
    body[key] = value
    message = error_of(policy_item(body))
    assert message.startswith(ITEM_NAME)
    assert f"{key} must be a list, not {type(value).__name__}" in message


@pytest.mark.parametrize("entry", [{"priority": 1}, {"resourceArn": ""}, {"resourceArn": None, "priority": 1},
                                   {"resourceArn": 7}])
def test_malformed_reference_without_resource_arn(entry):
    message = error_of(policy_item(policy_body([entry], [])))
    assert message.startswith(ITEM_NAME)
    assert "statelessRuleGroupReferences entry" in message and "has no resourceArn" in message


def test_malformed_reference_entry_not_an_object():
    message = error_of(policy_item(policy_body([], [STATEFUL_ARN + "x"])))
    assert message == ITEM_NAME + "statefulRuleGroupReferences entry must be an object, not str"


@pytest.mark.parametrize("priority", ["x", "10", 1.5, True])
def test_malformed_priority(priority):
    body = policy_body([{"resourceArn": STATELESS_ARN + "a", "priority": priority}], [])
    assert error_of(policy_item(body)) == (
        ITEM_NAME + f"statelessRuleGroupReferences priority {priority!r} is not an integer"
    )


def test_malformed_priority_pascal():
    body = pascalise(policy_body([], [{"resourceArn": STATEFUL_ARN + "x", "priority": "x"}]))
    assert error_of(policy_item(body, pascal=True)) == (
        ITEM_NAME + "statefulRuleGroupReferences priority 'x' is not an integer"
    )


@pytest.mark.parametrize("order", ["STRICT", "strict_order", "PRIORITY_ORDER"])
def test_malformed_unknown_rule_order(order):
    message = error_of(policy_item(policy_body(stateless("a"), stateful("x"), rule_order=order)))
    assert message == ITEM_NAME + f"statefulEngineOptions.ruleOrder {order!r} is unknown"


@pytest.mark.parametrize("key", ["statelessDefaultActions", "statefulDefaultActions"])
def test_malformed_default_actions(key):
    body = policy_body([], [])
    body[key] = "aws:pass"
    assert error_of(policy_item(body)) == ITEM_NAME + f"{key} must be a list, not str"


def test_malformed_firewall_policy_not_an_object():
    item = policy_item(None)
    item["configuration"]["firewallPolicy"] = ["statelessRuleGroupReferences"]
    assert error_of(item) == ITEM_NAME + "firewallPolicy must be an object, not list"


@pytest.mark.parametrize("configuration", [None, "{}", []])
def test_malformed_evaluated_item_without_configuration(configuration):
    item = policy_item(POLICIES["both"])
    item["configuration"] = configuration
    assert error_of(item) == ITEM_NAME + "configuration is missing or not an object"


def test_malformed_api_configuration_is_not_json(fixture_item):
    api = api_shape(fixture_item("netfw-policy-both.notification"))
    api["configuration"] = api["configuration"][:-1]
    with pytest.raises(ItemError, match=rf"^{POLICY_TYPE} arn:.*/inspection-both: configuration is not valid JSON"):
        normalise_item(api)
