"""netfw-firewall-deletion-protection: one test group per scenario S1..S6 of the rule's docstring."""
from __future__ import annotations

import pytest

from builders import api_shape, pascalise
from netfw_items import FIREWALL_TYPE, firewall_body, firewall_item
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.registry import LEFT_SCOPE_REASON, rule_by_id
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Verdict

SPEC = rule_by_id("netfw-firewall-deletion-protection")
ON = Verdict(COMPLIANT, "Deletion protection is enabled")
OFF = Verdict(NON_COMPLIANT, "Deletion protection is disabled")


def judge(item, *, left_scope=False, **raw) -> Verdict:
    return SPEC.evaluate(normalise_item(item), SPEC.parse_parameters(raw), left_scope=left_scope)


def test_s1_deletion_protection_on_is_compliant():
    assert judge(firewall_item(delete=True)) == ON
    assert SPEC.resource_types == (FIREWALL_TYPE,) and SPEC.parameter_defaults == {"maxExemptionDays": "365"}


def test_s2_deletion_protection_off_or_absent_is_non_compliant():
    assert judge(firewall_item(delete=False)) == OFF
    body = firewall_body()
    del body["deleteProtection"]
    assert judge(firewall_item(body)) == OFF


@pytest.mark.parametrize("flag", [True, False])
def test_s3_other_spellings_give_the_same_verdict(flag):
    recorded = judge(firewall_item(delete=flag))
    assert judge(firewall_item(delete=flag, pascal=True)) == recorded
    assert judge(api_shape(firewall_item(delete=flag))) == recorded
    export = firewall_item()
    export["configuration"] = pascalise(firewall_body(delete=flag))  # CloudFormation: no "firewall" wrapper
    assert judge(export) == recorded
    assert judge(firewall_item(delete=str(flag).lower())) == recorded


@pytest.mark.parametrize("body, field", [(firewall_body(delete=1), "deleteProtection 1"), ("fw", "firewall must be an object")])
def test_s4_malformed_values_are_clear_errors(body, field):
    with pytest.raises(ItemError, match=f"{FIREWALL_TYPE} .*: {field}"):
        judge(firewall_item(body) if isinstance(body, dict) else {**firewall_item(), "configuration": {"firewall": body}})


def test_s5_unknown_parameters_are_refused():
    with pytest.raises(ParameterError, match="unknown parameter"):
        SPEC.parse_parameters({"enabled": "true"})


def test_s6_not_applicable():
    gone = firewall_item(item_status="ResourceDeleted")
    gone["configuration"] = None
    assert judge(gone) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")
    assert judge(firewall_item(delete=False), left_scope=True) == Verdict(NOT_APPLICABLE, LEFT_SCOPE_REASON)
    assert judge(firewall_item(resource_type="AWS::NetworkFirewall::FirewallPolicy")).compliance == NOT_APPLICABLE
