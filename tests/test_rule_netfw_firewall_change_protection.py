"""netfw-firewall-change-protection: one test group per scenario S1..S8 of the rule's docstring."""
from __future__ import annotations

import pytest

from builders import api_shape, pascalise
from netfw_items import FIREWALL_TYPE, firewall_body, firewall_item
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, rule_by_id
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict

SPEC = rule_by_id("netfw-firewall-change-protection")


def judge(item, *, left_scope=False, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw), left_scope=left_scope)


def test_s1_subnet_change_protection_on_is_compliant():
    assert judge(firewall_item(subnet=True, policy=False)) == Verdict(
        COMPLIANT, "Subnet change protection is enabled (firewall policy change protection not required)")
    assert SPEC.parameter_defaults == {"requirePolicyChangeProtection": "false", "maxExemptionDays": "365"}


def test_s2_subnet_change_protection_off_or_absent_is_non_compliant():
    assert judge(firewall_item(subnet=False)) == Verdict(NON_COMPLIANT, "Subnet change protection is disabled")
    body = firewall_body()
    del body["subnetChangeProtection"]
    assert judge(firewall_item(body)).compliance == NON_COMPLIANT


def test_s3_both_protections_when_both_are_required():
    assert judge(firewall_item(), requirePolicyChangeProtection="true") == Verdict(
        COMPLIANT, "Subnet change protection is enabled; firewall policy change protection is enabled")


def test_s4_policy_change_protection_off_when_required():
    assert judge(firewall_item(policy=False), requirePolicyChangeProtection="true") == Verdict(
        NON_COMPLIANT, "Firewall policy change protection is disabled")
    assert judge(firewall_item(subnet=False, policy=False), requirePolicyChangeProtection="true") == Verdict(
        NON_COMPLIANT, "Subnet change protection is disabled; firewall policy change protection is disabled")


@pytest.mark.parametrize("subnet, policy", [(True, True), (False, True), (True, False)])
def test_s5_other_spellings_give_the_same_verdict(subnet, policy):
    recorded = judge(firewall_item(subnet=subnet, policy=policy), requirePolicyChangeProtection="true")
    assert judge(firewall_item(subnet=subnet, policy=policy, pascal=True), requirePolicyChangeProtection="true") == recorded
    assert judge(api_shape(firewall_item(subnet=subnet, policy=policy)), requirePolicyChangeProtection="true") == recorded
    export = {**firewall_item(), "configuration": pascalise(firewall_body(subnet=subnet, policy=policy))}
    assert judge(export, requirePolicyChangeProtection="true") == recorded


def test_s6_malformed_flags_are_clear_errors():
    with pytest.raises(ItemError, match=f"{FIREWALL_TYPE} .*: subnetChangeProtection 'on' is neither true nor false"):
        judge(firewall_item(subnet="on"))


@pytest.mark.parametrize("raw, message", [({"requirePolicyChangeProtection": "yes"}, "'yes' is not true or false"),
                                          ({"requireSubnet": "true"}, "unknown parameter")])
def test_s7_invalid_parameters_are_refused(raw, message):
    with pytest.raises(ParameterError, match=message):
        SPEC.parse_parameters(raw)


def test_s8_not_applicable():
    gone = firewall_item(item_status="ResourceNotRecorded")
    gone["configuration"] = None
    assert judge(gone) == Verdict(NOT_APPLICABLE, "Resource status is ResourceNotRecorded")
    assert judge(firewall_item(subnet=False), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)
    assert judge(firewall_item(resource_type="AWS::EC2::Subnet")).compliance == NOT_APPLICABLE
