"""netfw-policy-stateful-strict-order: one test group per scenario S1..S8 of the rule's docstring."""
from __future__ import annotations

import pytest

from builders import api_shape
from netfw_items import POLICY_TYPE, policy_body, policy_item
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, rule_by_id
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict

SPEC = rule_by_id("netfw-policy-stateful-strict-order")
NO_DROP = "hold neither aws:drop_strict nor aws:drop_established"


def item(stateful=None, rule_order=None, **options):
    return policy_item(policy_body(stateful=stateful, rule_order=rule_order), **options)


def judge(policy, *, left_scope=False, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(policy), SPEC.parse_parameters(raw), left_scope=left_scope)


# --- S1 strict order with a default drop ---------------------------------------------------------------------
def test_s1_strict_order_with_a_default_drop_is_compliant():
    assert judge(item(["aws:drop_established", "aws:alert_established"], "STRICT_ORDER")) == Verdict(
        COMPLIANT, "Stateful rules in STRICT_ORDER; default action aws:drop_established, aws:alert_established")
    assert judge(item(["aws:drop_strict"], "STRICT_ORDER")).compliance == COMPLIANT
    assert SPEC.parameter_defaults == {"requireDefaultDrop": "true", "maxExemptionDays": "365"}


# --- S2 default action order ---------------------------------------------------------------------------------
def test_s2_default_action_order_is_non_compliant():
    assert judge(item(None, "DEFAULT_ACTION_ORDER")) == Verdict(
        NON_COMPLIANT, "Stateful rule order is DEFAULT_ACTION_ORDER, not STRICT_ORDER")
    assert judge(item()) == Verdict(
        NON_COMPLIANT, "Stateful rule order is DEFAULT_ACTION_ORDER (not set: the default), not STRICT_ORDER")


def test_s2_default_action_order_fails_even_without_requiring_a_drop():
    assert judge(item(), requireDefaultDrop="false").compliance == NON_COMPLIANT


# --- S3 strict order without a default drop ------------------------------------------------------------------
def test_s3_strict_order_without_a_drop_is_non_compliant():
    assert judge(item(["aws:alert_strict"], "STRICT_ORDER")) == Verdict(
        NON_COMPLIANT, f"Stateful rules in STRICT_ORDER but no default drop: stateful default actions aws:alert_strict {NO_DROP}")
    assert judge(item([], "STRICT_ORDER")) == Verdict(
        NON_COMPLIANT, f"Stateful rules in STRICT_ORDER but no default drop: stateful default actions none {NO_DROP}")
    assert judge(item(["aws:drop_established_app_layer"], "STRICT_ORDER")).compliance == NON_COMPLIANT


# --- S4 a default drop not required --------------------------------------------------------------------------
def test_s4_default_drop_not_required():
    assert judge(item(None, "STRICT_ORDER"), requireDefaultDrop="FALSE") == Verdict(
        COMPLIANT, "Stateful rules in STRICT_ORDER; default action none (default drop not required)")


# --- S5 PascalCase and the API shape ---------------------------------------------------------------------------
@pytest.mark.parametrize("stateful, order", [(["aws:drop_strict"], "STRICT_ORDER"), (["aws:alert_strict"], "STRICT_ORDER"),
                                             (None, None), (None, "DEFAULT_ACTION_ORDER")])
def test_s5_pascal_case_and_api_shape_give_the_same_verdict(stateful, order):
    recorded = judge(item(stateful, order))
    assert judge(item(stateful, order, pascal=True)) == recorded
    assert judge(api_shape(item(stateful, order))) == recorded


# --- S6 malformed --------------------------------------------------------------------------------------------------
def test_s6_unknown_rule_order_or_bad_actions_are_malformed():
    with pytest.raises(ItemError, match=f"{POLICY_TYPE} .*statefulEngineOptions.ruleOrder 'RANDOM' is unknown"):
        judge(item(None, "RANDOM"))
    with pytest.raises(ItemError, match="statefulDefaultActions must be a list of strings"):
        judge(item([1], "STRICT_ORDER"))


# --- S7 bad parameters ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [({"requireDefaultDrop": "yes"}, "requireDefaultDrop: 'yes' is not true or false"),
                                          ({"requireDrop": "true"}, "unknown parameter")])
def test_s7_invalid_parameters_are_refused(raw, message):
    with pytest.raises(ParameterError, match=message):
        SPEC.parse_parameters(raw)


# --- S8 not applicable ---------------------------------------------------------------------------------------------
def test_s8_not_applicable():
    gone = item(status="ResourceDeleted")
    gone["configuration"] = None
    assert judge(gone) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")
    assert judge(item(), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)
    assert judge(item(resource_type="AWS::EC2::SecurityGroup")).compliance == NOT_APPLICABLE
