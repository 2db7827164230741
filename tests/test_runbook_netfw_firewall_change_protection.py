"""The netfw-firewall-change-protection runbook, rendered, validated and run end to end against the fake."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from perimeter.exemptions import evaluation_date
from perimeter.registry import load_rule
from perimeter.runbooks import render_runbook
from perimeter.templates.remediation_parameters import RESOURCE_ID, RULE_VALUE, map_remediation_parameters
from tests.netfw_firewall_runbooks import (
    REGION, ROLE, after_describe, exempt_tags, failed_outputs, new_firewall, nfw, outputs, run, verdict,
)  # nfw: the fake, a fixture
from tests.ssm.runner import run_document
from tests.ssm.validator import validate_document

RULE_ID = "netfw-firewall-change-protection"
RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "netfw_firewall_change_protection"
SPEC = load_rule("perimeter.rules.netfw_firewall_change_protection.rule")
SUBNET, POLICY = "UpdateSubnetChangeProtection", "UpdateFirewallPolicyChangeProtection"
BOTH = {"requirePolicyChangeProtection": "true"}


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULE_DIR)


def protections(nfw, arn: str) -> tuple[bool, bool]:
    record = nfw.firewall(arn)
    return record.subnet_change_protection, record.policy_change_protection


def test_the_rendered_document_is_valid_and_carries_the_rules_parameter(document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["parameters"]["DryRun"]["default"] is True
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(SPEC, document)}
    assert mapped["Firewall"].source == RESOURCE_ID
    assert (mapped["RequirePolicyChangeProtection"].source, mapped["RequirePolicyChangeProtection"].rule_parameter) \
        == (RULE_VALUE, "requirePolicyChangeProtection")
    assert document["parameters"]["RequirePolicyChangeProtection"]["default"] == \
        SPEC.parameter_defaults["requirePolicyChangeProtection"]


def test_the_document_defaults_to_a_dry_run_that_changes_nothing(document, nfw):
    arn = new_firewall(nfw)
    given = {"AutomationAssumeRole": ROLE, "Firewall": arn, "RequirePolicyChangeProtection": "true"}
    out = outputs(run_document(document, given, region=REGION))
    assert (out["Changed"], out["DryRun"], out["Enabled"]) == (False, True, [])
    assert out["Planned"] == ["SubnetChangeProtection", "FirewallPolicyChangeProtection"]
    assert out["Message"] == (f"Dry run: would turn on subnet change protection and firewall policy change "
                              f"protection of {arn}; nothing changed")
    assert nfw.calls_to(SUBNET) == nfw.calls_to(POLICY) == [] and protections(nfw, arn) == (False, False)


def test_by_default_only_subnet_change_protection_is_turned_on(document, nfw):
    arn = new_firewall(nfw)
    out = outputs(run(document, nfw.firewall(arn).id))
    assert (out["Changed"], out["Enabled"], out["Attempts"]) == (True, ["SubnetChangeProtection"], 1)
    assert protections(nfw, arn) == (True, False) and nfw.calls_to(POLICY) == []
    assert verdict(nfw, SPEC, arn)[0] == "COMPLIANT"
    assert out["Message"].endswith("(Subnet change protection is enabled (firewall policy change protection not "
                                   "required))")


def test_both_protections_one_call_each_with_the_token_of_the_one_before(document, nfw):
    arn = new_firewall(nfw)
    token = nfw.firewall(arn).token
    out = outputs(run(document, arn, RequirePolicyChangeProtection="true"))
    assert out["Enabled"] == ["SubnetChangeProtection", "FirewallPolicyChangeProtection"]
    (subnet,), (policy,) = nfw.calls_to(SUBNET), nfw.calls_to(POLICY)
    assert subnet == {"FirewallArn": arn, "UpdateToken": token, "SubnetChangeProtection": True}
    assert policy["UpdateToken"] not in (None, token)  # the token UpdateSubnetChangeProtection answered with
    assert protections(nfw, arn) == (True, True)
    assert verdict(nfw, SPEC, arn, BOTH) == ("COMPLIANT", "Subnet change protection is enabled; firewall policy "
                                                          "change protection is enabled")


def test_only_the_calls_that_are_needed(document, nfw):
    arn = new_firewall(nfw, subnet_change_protection=True)
    out = outputs(run(document, arn, RequirePolicyChangeProtection="true"))
    assert (out["Planned"], out["Enabled"]) == (["FirewallPolicyChangeProtection"], ["FirewallPolicyChangeProtection"])
    assert nfw.calls_to(SUBNET) == [] and len(nfw.calls_to(POLICY)) == 1


def test_a_second_run_changes_nothing_and_succeeds(document, nfw):
    arn = new_firewall(nfw)
    assert outputs(run(document, arn, RequirePolicyChangeProtection="true"))["Changed"] is True
    out = outputs(run(document, arn, RequirePolicyChangeProtection="true"))
    assert (out["Changed"], out["Planned"], out["Attempts"]) == (False, [], 0)
    assert out["Message"].startswith(f"{RULE_ID} already judges {arn} COMPLIANT")
    assert len(nfw.calls_to(SUBNET)) == len(nfw.calls_to(POLICY)) == 1


def test_a_stale_token_is_re_read_and_retried(document, nfw):
    arn = new_firewall(nfw)
    after_describe(nfw, lambda arn: nfw.bump_firewall_token(arn, delete_protection=True), times=1)
    out = outputs(run(document, arn, RequirePolicyChangeProtection="true"))
    assert (out["Changed"], out["Attempts"]) == (True, 3)
    assert len(nfw.calls_to(SUBNET)) == 2 and len(nfw.calls_to(POLICY)) == 1
    assert protections(nfw, arn) == (True, True) and nfw.firewall(arn).delete_protection is True


def test_a_persistent_conflict_fails_after_five_attempts_saying_what_changed_before(document, nfw):
    arn = new_firewall(nfw)
    nfw.fail_next(POLICY, "InvalidTokenException", times=50)
    result = run(document, arn, RequirePolicyChangeProtection="true")
    out = failed_outputs(result)
    assert (out["Changed"], out["Enabled"], out["Attempts"]) == (True, ["SubnetChangeProtection"], 1 + 5)
    assert "Turning on firewall policy change protection: refused with InvalidTokenException 5 times in a row" \
        in result.failure_message
    assert '"Enabled":["SubnetChangeProtection"]' in result.failure_message
    assert protections(nfw, arn) == (True, False)


def test_a_firewall_deleted_mid_run_fails_loudly_with_what_changed(document, nfw):
    arn = new_firewall(nfw)
    update = nfw._operations[SUBNET]

    def update_then_delete(params, region):
        response = update(params, region)
        nfw.delete_firewall_now(arn)  # deleted between the two updates
        return response

    nfw._operations[SUBNET] = update_then_delete
    result = run(document, arn, RequirePolicyChangeProtection="true")
    out = failed_outputs(result)
    assert (out["Changed"], out["Enabled"]) == (True, ["SubnetChangeProtection"])
    assert f"Firewall {arn} no longer exists: it was deleted during the run" in result.failure_message


def test_an_invalid_parameter_fails_with_the_rules_message_and_reads_nothing(document, nfw):
    arn = new_firewall(nfw)
    result = run(document, arn, RequirePolicyChangeProtection="")
    assert outputs(result)["Enabled"] == ["SubnetChangeProtection"]  # empty: the rule's default, false
    nfw.calls.clear()
    from perimeter.rules.netfw_firewall_change_protection.remediation import handler

    answer = handler({"Firewall": arn, "RequirePolicyChangeProtection": "yes", "DryRun": False}, {})
    assert answer["Failed"] is True and nfw.calls == []
    assert "parameter RequirePolicyChangeProtection (rule parameter requirePolicyChangeProtection)" in answer["Failure"]


def test_an_exempt_firewall_is_left_unchanged_and_the_run_says_until_when(document, nfw):
    until = (evaluation_date() + timedelta(days=10)).isoformat()
    arn = new_firewall(nfw, tags=exempt_tags(RULE_ID, until))
    out = outputs(run(document, arn, RequirePolicyChangeProtection="true"))
    assert (out["ExemptUntil"], out["Changed"], out["Enabled"]) == (until, False, [])
    assert nfw.calls_to(SUBNET) == nfw.calls_to(POLICY) == [] and protections(nfw, arn) == (False, False)
