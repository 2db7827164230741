"""The scenario tests of the two stateless default-action rules, whose scenarios S1..S8 are numbered alike:
netfw-policy-default-action-full-packets (statelessDefaultActions) and netfw-policy-default-action-fragment-packets
(statelessFragmentDefaultActions). Each rule's own test file (tests/test_rule_<folder>.py) runs every case for its
rule through ``use_rule``.

Every verdict goes through the registry (parse_parameters -> evaluate), as the Lambda and the scan do. Each test
runs for both rules; the judgement they share (perimeter.firewall.judge_stateless_default_action) must read each
rule's own setting and nothing else.
"""
from __future__ import annotations

import pytest

from builders import api_shape
from netfw_items import POLICY_TYPE, policy_body, policy_item
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, rule_by_id
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict

ALLOWED = "allowed: aws:drop, aws:forward_to_sfe"
# rule id -> (its parameter and policy setting, the packets it names, the policy_body keyword of that setting)
RULES = {
    "netfw-policy-default-action-full-packets": ("statelessDefaultActions", "full packets", "stateless"),
    "netfw-policy-default-action-fragment-packets": ("statelessFragmentDefaultActions", "fragmented packets", "fragments"),
}


def use_rule(rule_id: str, monkeypatch) -> str:
    """Point the cases at ``rule_id`` for one test (an autouse fixture of each rule's test file calls this)."""
    setting, packets, keyword = RULES[rule_id]
    for name, value in {"SPEC": rule_by_id(rule_id), "SETTING": setting, "PACKETS": packets, "KW": keyword}.items():
        monkeypatch.setitem(globals(), name, value)
    return rule_id


def item(*actions, custom=(), **options):
    return policy_item(policy_body(**{KW: actions}, custom=custom), **options)


def judge(policy, *, left_scope=False, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(policy), SPEC.parse_parameters(raw), left_scope=left_scope)


# --- S1 drop or forward: compliant -------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["aws:forward_to_sfe", "aws:drop"])
def test_s1_drop_or_forward_is_compliant(action):
    assert judge(item(action)) == Verdict(COMPLIANT, f"Stateless default action for {PACKETS} is {action}")


def test_s1_the_default_parameter_allows_drop_and_forward():
    assert SPEC.parameter_defaults == {SETTING: "aws:drop,aws:forward_to_sfe", "maxExemptionDays": "365"}
    assert SPEC.resource_types == (POLICY_TYPE,)


# --- S2 pass: non-compliant --------------------------------------------------------------------------------------
def test_s2_pass_is_non_compliant():
    assert judge(item("aws:pass")) == Verdict(
        NON_COMPLIANT, f"Stateless default action for {PACKETS} is aws:pass; {ALLOWED}")


def test_s2_only_this_rules_setting_counts():
    other = "fragments" if KW == "stateless" else "stateless"
    policy = policy_item(policy_body(**{other: ("aws:pass",), KW: ("aws:drop",)}))
    assert judge(policy).compliance == COMPLIANT


# --- S3 custom actions are named, the standard action decides ------------------------------------------------
def test_s3_custom_action_does_not_decide():
    assert judge(item("aws:pass", "count-packets", custom=("count-packets",))) == Verdict(
        NON_COMPLIANT, f"Stateless default action for {PACKETS} is aws:pass (with custom action count-packets); {ALLOWED}")
    assert judge(item("count-packets", "aws:drop", custom=("count-packets",))) == Verdict(
        COMPLIANT, f"Stateless default action for {PACKETS} is aws:drop (with custom action count-packets)")


# --- S4 the parameter narrows the allowed actions ------------------------------------------------------------
def test_s4_parameter_narrows_the_allowed_actions():
    assert judge(item("aws:forward_to_sfe"), **{SETTING: "aws:drop"}) == Verdict(
        NON_COMPLIANT, f"Stateless default action for {PACKETS} is aws:forward_to_sfe; allowed: aws:drop")
    assert judge(item("aws:drop"), **{SETTING: " aws:drop "}).compliance == COMPLIANT
    assert judge(item("aws:pass"), **{SETTING: "aws:pass,aws:drop"}).compliance == COMPLIANT


# --- S5 no standard action: malformed ------------------------------------------------------------------------
@pytest.mark.parametrize("actions", [(), ("count-packets",), ("aws:pass", "aws:drop")])
def test_s5_no_or_two_standard_actions_is_malformed(actions):
    with pytest.raises(ItemError, match=f"{POLICY_TYPE} .*: {SETTING} must hold exactly one of"):
        judge(item(*actions))


def test_s5_missing_setting_or_policy_body_is_malformed():
    body = policy_body()
    del body[SETTING]
    for policy in (policy_item(body), policy_item(None)):
        with pytest.raises(ItemError, match=f"{SETTING} must hold exactly one of .* \\(found none\\)"):
            judge(policy)


# --- S6 PascalCase and the API shape ---------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["aws:pass", "aws:drop"])
def test_s6_pascal_case_and_api_shape_give_the_same_verdict(action):
    recorded = judge(item(action))
    assert judge(item(action, pascal=True)) == recorded
    assert judge(api_shape(item(action))) == recorded


# --- S7 bad parameters --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, message", [
    ("aws:reject", "'aws:reject' is not one of aws:pass, aws:drop, aws:forward_to_sfe"),
    ("aws:drop,,", "'' is not one of"),
])
def test_s7_invalid_parameters_are_refused(value, message):
    with pytest.raises(ParameterError, match=f"parameter {SETTING}: {message}"):
        SPEC.parse_parameters({SETTING: value})
    with pytest.raises(ParameterError, match="unknown parameter"):
        SPEC.parse_parameters({"allowedActions": "aws:drop"})


# --- S8 not applicable ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s8_gone_items_are_not_applicable(status):
    policy = item("aws:pass", status=status)
    policy["configuration"] = None
    assert judge(policy) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s8_left_scope_and_other_types_are_not_applicable():
    assert judge(item("aws:pass"), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)
    assert judge(item("aws:pass", resource_type="AWS::NetworkFirewall::RuleGroup")) == Verdict(
        NOT_APPLICABLE, "Resource type AWS::NetworkFirewall::RuleGroup is not evaluated by this rule")
