"""The runbook tests of the two stateless default-action rules, run end to end against the Network Firewall fake:
netfw-policy-default-action-full-packets (StatelessDefaultActions) and netfw-policy-default-action-fragment-packets
(StatelessFragmentDefaultActions). Each rule's tests/test_runbook_<folder>.py collects every case for its own
runbook through the ``case`` fixture; each case also checks that the other setting is left alone.
"""
from __future__ import annotations

from typing import NamedTuple

import pytest

from perimeter.registry import load_rule
from perimeter.runbooks import render_runbook
from perimeter.templates.remediation_parameters import RESOURCE_ID, RULE_VALUE, map_remediation_parameters
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.netfw_policy_runbooks import (
    ACCOUNT, REGION, ROLE, RULES, concurrent_writer, deleted_after, describe, exemption_tag, failure_outputs, outputs,
    run, verdict, without,
)
from tests.ssm.runner import FAILED, run_document
from tests.ssm.validator import validate_document

FULL, FRAGMENTS = "StatelessDefaultActions", "StatelessFragmentDefaultActions"
METRICS = {"ActionName": "metrics", "ActionDefinition": {"PublishMetricAction": {"Dimensions": [{"Value": "edge"}]}}}
STATELESS_RULES = {"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [{
    "Priority": 1, "RuleDefinition": {"MatchAttributes": {"Protocols": [6]}, "Actions": ["aws:forward_to_sfe"]}}]}}}


class Case(NamedTuple):
    folder: str
    rule_id: str
    setting: str  # the policy member this runbook fixes
    other: str  # the one it must leave alone
    parameter: str  # the runbook parameter carrying the rule's allowed actions
    packets: str

    @property
    def rule_parameter(self) -> str:
        return self.parameter[:1].lower() + self.parameter[1:]


CASES = {
    "netfw_policy_default_action_full_packets": Case(
        "netfw_policy_default_action_full_packets", "netfw-policy-default-action-full-packets", FULL, FRAGMENTS,
        "StatelessDefaultActions", "full packets"),
    "netfw_policy_default_action_fragment_packets": Case(
        "netfw_policy_default_action_fragment_packets", "netfw-policy-default-action-fragment-packets", FRAGMENTS,
        FULL, "StatelessFragmentDefaultActions", "fragmented packets"),
}


@pytest.fixture(scope="module")
def document(case) -> dict:
    return render_runbook(RULES / case.folder)


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        yield fake


def body(case: Case, actions: list[str], other: list[str] | None = None, **extra) -> dict:
    """A policy whose fixed setting holds ``actions`` and whose other stateless setting holds ``other``."""
    policy = {case.setting: actions, case.other: other or ["aws:drop"], **extra}
    if any(action == "metrics" for action in [*actions, *(other or [])]):
        policy["StatelessCustomActions"] = [METRICS]
    return policy


def judged(case: Case, arn: str, **raw) -> tuple[str, str]:
    return verdict(case.folder, arn, **raw)


# --- the document ---------------------------------------------------------------------------------------------
def test_the_rendered_document_is_valid_and_carries_the_rules_parameter(case, document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert all("allowedPattern" in declaration for declaration in document["parameters"].values())
    assert document["mainSteps"][0]["action"] == "aws:invokeLambdaFunction"  # the rule's remediation function
    assert (document["parameters"]["DryRun"]["default"], document["parameters"]["TargetAction"]["default"]) == \
        (True, "aws:forward_to_sfe")
    spec = load_rule(f"perimeter.rules.{case.folder}.rule")
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(spec, document)}
    assert (mapped[case.parameter].source, mapped[case.parameter].rule_parameter) == (RULE_VALUE, case.rule_parameter)
    assert document["parameters"][case.parameter]["default"] == spec.parameter_defaults[case.rule_parameter]
    assert mapped["FirewallPolicy"].source == RESOURCE_ID


# --- dry run, the fix, idempotence ----------------------------------------------------------------------------
def test_by_default_it_is_a_dry_run_that_says_what_it_would_set_and_changes_nothing(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    token = nfw.update_token(arn)
    given = {"AutomationAssumeRole": ROLE, "FirewallPolicy": arn}
    out = outputs(run_document(document, given, region=REGION))  # started by hand, DryRun left alone
    assert out == {"Changed": False, "DryRun": True, "PolicyArn": arn, "Setting": case.setting,
                   "Before": ["aws:pass"], "After": ["aws:forward_to_sfe"], "Attempts": 1, "Message": out["Message"]}
    assert out["Message"] == (
        f"Dry run: would set {case.setting} of {arn} from [aws:pass] to [aws:forward_to_sfe], after which "
        f"{case.rule_id} would judge it COMPLIANT (Stateless default action for {case.packets} is "
        "aws:forward_to_sfe); nothing changed")
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.update_token(arn) == token
    assert nfw.firewall_policy(arn)[case.setting] == ["aws:pass"]


def test_the_fix_sets_the_target_action_and_the_rule_then_judges_the_policy_compliant(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    assert judged(case, arn)[0] == "NON_COMPLIANT"
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Before"], out["After"], out["Attempts"]) == \
        (True, ["aws:pass"], ["aws:forward_to_sfe"], 1)
    assert out["Message"] == (f"Set {case.setting} of {arn} from [aws:pass] to [aws:forward_to_sfe]; {case.rule_id} "
                              f"now judges it COMPLIANT (Stateless default action for {case.packets} is "
                              "aws:forward_to_sfe)")
    stored = nfw.firewall_policy(arn)
    assert (stored[case.setting], stored[case.other]) == (["aws:forward_to_sfe"], ["aws:drop"])
    assert judged(case, arn) == ("COMPLIANT", f"Stateless default action for {case.packets} is aws:forward_to_sfe")


def test_target_action_drop_is_set_when_given(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    assert outputs(run(document, arn, TargetAction="aws:drop"))["After"] == ["aws:drop"]
    assert nfw.firewall_policy(arn)[case.setting] == ["aws:drop"]


def test_a_second_run_changes_nothing_and_succeeds(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    assert outputs(run(document, arn))["Changed"] is True
    token = nfw.update_token(arn)
    again = outputs(run(document, arn))
    assert (again["Changed"], again["Before"], again["After"]) == \
        (False, ["aws:forward_to_sfe"], ["aws:forward_to_sfe"])
    assert again["Message"] == (f"{case.rule_id} judges {arn} COMPLIANT (Stateless default action for "
                                f"{case.packets} is aws:forward_to_sfe); nothing changed")
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 1 and nfw.update_token(arn) == token


def test_a_compliant_action_other_than_the_target_is_left_as_it_is(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:drop"]))
    out = outputs(run(document, arn))  # TargetAction aws:forward_to_sfe, but aws:drop is allowed too
    assert (out["Changed"], out["After"]) == (False, ["aws:drop"])
    assert nfw.calls_to("UpdateFirewallPolicy") == []


# --- what stays -------------------------------------------------------------------------------------------------
def test_custom_actions_are_kept_in_their_places(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["metrics", "aws:pass"], other=["aws:pass", "metrics"]))
    out = outputs(run(document, arn))
    assert (out["Before"], out["After"]) == (["metrics", "aws:pass"], ["metrics", "aws:forward_to_sfe"])
    stored = nfw.firewall_policy(arn)
    assert stored[case.setting] == ["metrics", "aws:forward_to_sfe"]
    assert stored[case.other] == ["aws:pass", "metrics"]  # the other rule's business
    assert stored["StatelessCustomActions"] == [METRICS]
    assert judged(case, arn)[1] == (f"Stateless default action for {case.packets} is aws:forward_to_sfe "
                                    "(with custom action metrics)")


def test_everything_else_in_the_policy_is_left_exactly_as_it_was(case, document, nfw):
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    own = nfw.put_rule_group("own", rule_group={"RulesSource": {"RulesString": "pass ip any any -> any any (sid:1;)"},
                                                "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}})
    policy = body(
        case, ["aws:pass", "metrics"], other=["aws:pass"],
        StatelessRuleGroupReferences=[{"ResourceArn": stateless, "Priority": 10}],
        StatefulRuleGroupReferences=[{"ResourceArn": own, "Priority": 1}],
        StatefulEngineOptions={"RuleOrder": "STRICT_ORDER", "StreamExceptionPolicy": "REJECT"},
        StatefulDefaultActions=["aws:drop_established", "aws:alert_established"],
        PolicyVariables={"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}},
        TLSInspectionConfigurationArn=f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:tls-configuration/inspect",
    )
    arn = nfw.put_firewall_policy("edge", policy, description="edge inspection",
                                  tags=[{"Key": "team", "Value": "net"}])
    before = describe(arn)

    outputs(run(document, arn))

    after = describe(arn)
    assert after["FirewallPolicy"][case.setting] == ["aws:forward_to_sfe", "metrics"]
    assert without(after, case.setting) == without(before, case.setting)  # description, encryption, tags, all
    (update,) = nfw.calls_to("UpdateFirewallPolicy")
    assert update["Description"] == "edge inspection"
    assert update["EncryptionConfiguration"] == before["FirewallPolicyResponse"]["EncryptionConfiguration"]
    assert update["UpdateToken"] == before["UpdateToken"]


# --- UpdateToken --------------------------------------------------------------------------------------------------
def test_a_token_conflict_is_re_read_and_retried_keeping_the_other_writers_change(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    concurrent_writer(nfw, lambda policy: policy.update({case.other: ["aws:forward_to_sfe"]}), times=1)
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Attempts"]) == (True, 2)
    first, second = nfw.calls_to("UpdateFirewallPolicy")
    assert first["UpdateToken"] != second["UpdateToken"]
    stored = nfw.firewall_policy(arn)
    assert (stored[case.setting], stored[case.other]) == (["aws:forward_to_sfe"], ["aws:forward_to_sfe"])


def test_a_conflict_that_never_clears_fails_after_five_attempts_with_its_outputs(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    nfw.fail_next("UpdateFirewallPolicy", "InvalidTokenException", times=50)
    result = run(document, arn)
    assert result.status == FAILED
    assert "InvalidTokenException 5 times in a row, each time after re-reading it. Nothing was changed" \
        in result.failure_message
    recorded = failure_outputs(result)
    assert (recorded["Changed"], recorded["Attempts"], recorded["PolicyArn"]) == (False, 5, arn)
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 5
    assert len(nfw.calls_to("DescribeFirewallPolicy")) == 5  # re-read before each attempt
    assert nfw.firewall_policy(arn)[case.setting] == ["aws:pass"]


# --- deleted, missing, exempt -------------------------------------------------------------------------------------
def test_a_policy_deleted_between_read_and_update_fails_loudly(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    deleted_after(nfw, "DescribeFirewallPolicy")
    result = run(document, arn)
    assert result.status == FAILED
    assert f"Firewall policy {arn} was deleted after it was read: UpdateFirewallPolicy answered " \
           "ResourceNotFoundException. Nothing was changed." in result.failure_message
    assert failure_outputs(result)["Changed"] is False


def test_a_policy_deleted_right_after_the_update_fails_loudly_recording_the_change(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    deleted_after(nfw, "UpdateFirewallPolicy")
    result = run(document, arn)
    assert result.status == FAILED
    assert f"UpdateFirewallPolicy succeeded but {arn} no longer exists when described again" in result.failure_message
    recorded = failure_outputs(result)
    assert (recorded["Changed"], recorded["Before"], recorded["After"]) == \
        (True, ["aws:pass"], ["aws:forward_to_sfe"])


def test_a_policy_that_does_not_exist_fails_clearly(case, document, nfw):
    result = run(document, "gone")
    assert result.status == FAILED
    assert "Firewall policy gone does not exist" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_an_exempt_policy_is_left_unchanged_and_the_run_says_until_when(case, document, nfw):
    tags, until = exemption_tag(case.rule_id)
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]), tags=tags)
    out = outputs(run(document, arn))
    assert (out["Changed"], out["ExemptUntil"], out["Before"], out["After"]) == (False, until, [], [])
    assert out["Message"].startswith(f"Exempt from {case.rule_id} until {until}")
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.firewall_policy(arn)[case.setting] == ["aws:pass"]


def test_the_other_rules_exemption_does_not_stop_this_runbook(case, document, nfw):
    other_rule = next(other.rule_id for other in CASES.values() if other != case)
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]), tags=exemption_tag(other_rule)[0])
    assert outputs(run(document, arn))["Changed"] is True


def test_the_policy_is_found_by_the_policy_id_config_passes(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    policy_id = describe(arn)["FirewallPolicyResponse"]["FirewallPolicyId"]
    assert outputs(run(document, policy_id))["PolicyArn"] == arn
    assert nfw.firewall_policy(arn)[case.setting] == ["aws:forward_to_sfe"]


# --- TargetAction and the rule's parameter ------------------------------------------------------------------------
def test_a_target_action_the_rules_parameter_does_not_allow_is_refused_before_any_call(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    result = run(document, arn, **{case.parameter: "aws:drop"})  # TargetAction left at aws:forward_to_sfe
    assert result.status == FAILED
    assert f"parameter TargetAction: aws:forward_to_sfe is not allowed by {case.parameter} (rule parameter " \
           f"{case.rule_parameter}: aws:drop); the policy would still be NON_COMPLIANT. Give one of aws:drop. " \
           "Nothing changed." in result.failure_message
    assert nfw.calls_to("DescribeFirewallPolicy") == [] and nfw.calls_to("UpdateFirewallPolicy") == []
    assert outputs(run(document, arn, TargetAction="aws:drop", **{case.parameter: "aws:drop"}))["After"] == \
        ["aws:drop"]


def test_target_action_pass_is_refused_under_the_default_parameter(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    result = run(document, arn, TargetAction="aws:pass")
    assert result.status == FAILED
    assert "TargetAction: aws:pass is not allowed" in result.failure_message


def test_the_rules_parameter_is_read_by_the_rules_own_parser(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    result = run(document, arn, **{case.parameter: "aws:drop,aws:reject"})
    assert result.status == FAILED
    assert f"parameter {case.parameter} (rule parameter {case.rule_parameter}): " in result.failure_message
    assert "aws:reject" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_a_policy_the_rules_parameter_allows_is_left_as_it_is(case, document, nfw):
    arn = nfw.put_firewall_policy("edge", body(case, ["aws:pass"]))
    out = outputs(run(document, arn, TargetAction="aws:pass",
                      **{case.parameter: "aws:pass,aws:drop,aws:forward_to_sfe"}))
    assert (out["Changed"], out["After"]) == (False, ["aws:pass"])
    assert nfw.calls_to("UpdateFirewallPolicy") == []
