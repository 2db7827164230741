"""The netfw-policy-stateful-strict-order runbook, rendered, validated and run end to end against the Network Firewall
fake: a strict-order policy without a default drop gets aws:drop_established, keeping its alert actions; a policy of
another rule order is refused with how to migrate."""
from __future__ import annotations

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

FOLDER = "netfw_policy_stateful_strict_order"
RULE = "netfw-policy-stateful-strict-order"
SETTING = "StatefulDefaultActions"
ALERTS = ["aws:alert_strict", "aws:alert_established"]
MIGRATION = ("create a new firewall policy with StatefulEngineOptions RuleOrder STRICT_ORDER (CreateFirewallPolicy)",
             "then point each firewall that uses this policy at the new one with AssociateFirewallPolicy")


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULES / FOLDER)


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        yield fake


def policy(actions: list[str] | None = None, *, strict: bool = True, **extra) -> dict:
    body = {"StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:drop"], **extra}
    if strict:
        body["StatefulEngineOptions"] = {"RuleOrder": "STRICT_ORDER", **body.get("StatefulEngineOptions", {})}
    if actions is not None:
        body[SETTING] = actions
    return body


def judged(arn: str, **raw) -> tuple[str, str]:
    return verdict(FOLDER, arn, **raw)


def test_the_rendered_document_is_valid_and_carries_the_rules_parameter(document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert all("allowedPattern" in declaration for declaration in document["parameters"].values())
    assert document["parameters"]["DryRun"]["default"] is True
    spec = load_rule(f"perimeter.rules.{FOLDER}.rule")
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(spec, document)}
    assert (mapped["RequireDefaultDrop"].source, mapped["RequireDefaultDrop"].rule_parameter) == \
        (RULE_VALUE, "requireDefaultDrop")
    assert mapped["FirewallPolicy"].source == RESOURCE_ID
    assert "AssociateFirewallPolicy" in document["description"]  # how to migrate a policy of another order


def test_by_default_it_is_a_dry_run_that_says_what_it_would_add_and_changes_nothing(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(["aws:alert_established"]))
    token = nfw.update_token(arn)
    out = outputs(run_document(document, {"AutomationAssumeRole": ROLE, "FirewallPolicy": arn}, region=REGION))
    assert out == {"Changed": False, "DryRun": True, "PolicyArn": arn, "Setting": SETTING,
                   "Before": ["aws:alert_established"], "After": ["aws:drop_established", "aws:alert_established"],
                   "Attempts": 1, "Message": out["Message"]}
    assert out["Message"] == (f"Dry run: would set {SETTING} of {arn} from [aws:alert_established] to "
                              f"[aws:drop_established, aws:alert_established], after which {RULE} would judge it "
                              "COMPLIANT (Stateful rules in STRICT_ORDER; default action aws:drop_established, "
                              "aws:alert_established); nothing changed")
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.update_token(arn) == token


@pytest.mark.parametrize("before", [[], ["aws:alert_strict"], ALERTS], ids=["none", "alert-strict", "both-alerts"])
def test_the_fix_adds_drop_established_keeping_the_alert_actions(document, nfw, before):
    arn = nfw.put_firewall_policy("edge", policy(before))
    assert judged(arn)[0] == "NON_COMPLIANT"
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Before"], out["After"]) == (True, before, ["aws:drop_established", *before])
    assert nfw.firewall_policy(arn)[SETTING] == ["aws:drop_established", *before]
    assert judged(arn) == ("COMPLIANT", "Stateful rules in STRICT_ORDER; default action "
                                        f"{', '.join(['aws:drop_established', *before])}")


def test_a_policy_without_stateful_default_actions_gets_one(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())  # the member absent altogether
    assert outputs(run(document, arn))["After"] == ["aws:drop_established"]
    assert nfw.firewall_policy(arn)[SETTING] == ["aws:drop_established"]


def test_a_second_run_changes_nothing_and_succeeds(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    assert outputs(run(document, arn))["Changed"] is True
    token = nfw.update_token(arn)
    again = outputs(run(document, arn))
    assert (again["Changed"], again["After"]) == (False, ["aws:drop_established", *ALERTS])
    assert again["Message"].endswith("nothing changed")
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 1 and nfw.update_token(arn) == token


@pytest.mark.parametrize("drop", ["aws:drop_strict", "aws:drop_established"])
def test_a_policy_with_a_default_drop_is_left_as_it_is(document, nfw, drop):
    arn = nfw.put_firewall_policy("edge", policy([drop, "aws:alert_strict"]))
    assert outputs(run(document, arn))["Changed"] is False
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_require_default_drop_false_is_read_by_the_rules_parser_and_then_nothing_changes(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    out = outputs(run(document, arn, RequireDefaultDrop="FALSE"))
    assert out["Changed"] is False and "(default drop not required)" in out["Message"]
    assert nfw.calls_to("UpdateFirewallPolicy") == []
    result = run(document, arn, RequireDefaultDrop="True")
    assert outputs(result)["Changed"] is True


def test_an_invalid_require_default_drop_fails_naming_both_parameters(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    result = run_document(document, {"AutomationAssumeRole": ROLE, "FirewallPolicy": arn, "DryRun": False,
                                     "RequireDefaultDrop": ""}, region=REGION)
    assert outputs(result)["Changed"] is True  # empty means the rule's default, true
    with pytest.raises(ValueError, match="allowedPattern"):
        run(document, arn, RequireDefaultDrop="yes")  # SSM refuses it before the script runs


# --- another rule order: refused, with how to migrate ------------------------------------------------------------
@pytest.mark.parametrize("engine", [{"RuleOrder": "DEFAULT_ACTION_ORDER"}, None], ids=["default-action-order", "unset"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_policy_not_in_strict_order_is_refused_with_how_to_migrate(document, nfw, engine, dry_run):
    body = policy(strict=False, **({"StatefulEngineOptions": engine} if engine else {}))
    arn = nfw.put_firewall_policy("edge", body)
    before, token = nfw.firewall_policy(arn), nfw.update_token(arn)
    result = run(document, arn, DryRun=dry_run)
    assert result.status == FAILED
    order = "DEFAULT_ACTION_ORDER" + ("" if engine else " (not set: the default)")
    assert f"Firewall policy {arn} is judged NON_COMPLIANT by {RULE}: Stateful rule order is {order}, not " \
           "STRICT_ORDER. Rule order cannot be switched by this runbook" in result.failure_message
    assert all(step in result.failure_message for step in MIGRATION)
    assert failure_outputs(result)["Changed"] is False
    assert nfw.calls_to("UpdateFirewallPolicy") == []
    assert (nfw.firewall_policy(arn), nfw.update_token(arn)) == (before, token)


def test_another_drop_action_the_rule_does_not_count_is_refused(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(["aws:drop_established_app_layer", "aws:alert_established"]))
    result = run(document, arn)
    assert result.status == FAILED
    assert "already has the drop action aws:drop_established_app_layer in StatefulDefaultActions" \
        in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


# --- what stays -----------------------------------------------------------------------------------------------------
def test_everything_else_in_the_policy_is_left_exactly_as_it_was(document, nfw):
    own = nfw.put_rule_group("own", rule_group={"RulesSource": {"RulesString": "pass ip any any -> any any (sid:1;)"},
                                                "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}})
    managed = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/ThreatSignaturesMalwareStrictOrder"
    body = policy(
        ALERTS,
        StatelessDefaultActions=["aws:forward_to_sfe", "metrics"],
        StatelessCustomActions=[{"ActionName": "metrics", "ActionDefinition": {
            "PublishMetricAction": {"Dimensions": [{"Value": "edge"}]}}}],
        StatefulRuleGroupReferences=[{"ResourceArn": own, "Priority": 1},
                                     {"ResourceArn": managed, "Priority": 2, "Override": {"Action": "DROP_TO_ALERT"}}],
        StatefulEngineOptions={"StreamExceptionPolicy": "REJECT"},
        PolicyVariables={"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}},
        TLSInspectionConfigurationArn=f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:tls-configuration/inspect",
    )
    arn = nfw.put_firewall_policy("edge", body, description="edge inspection", tags=[{"Key": "team", "Value": "net"}])
    before = describe(arn)

    outputs(run(document, arn))

    after = describe(arn)
    assert after["FirewallPolicy"][SETTING] == ["aws:drop_established", *ALERTS]
    assert without(after, SETTING) == without(before, SETTING)
    (update,) = nfw.calls_to("UpdateFirewallPolicy")
    assert (update["Description"], update["UpdateToken"]) == ("edge inspection", before["UpdateToken"])
    assert update["EncryptionConfiguration"] == before["FirewallPolicyResponse"]["EncryptionConfiguration"]


# --- UpdateToken, deletion, exemption -------------------------------------------------------------------------------
def test_a_token_conflict_is_re_read_and_retried_keeping_the_other_writers_change(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(["aws:alert_strict"]))
    concurrent_writer(nfw, lambda body: body.update({SETTING: ["aws:alert_established"]}), times=1)
    out = outputs(run(document, arn))
    assert (out["Changed"], out["Attempts"], out["Before"]) == (True, 2, ["aws:alert_established"])
    assert nfw.firewall_policy(arn)[SETTING] == ["aws:drop_established", "aws:alert_established"]
    first, second = nfw.calls_to("UpdateFirewallPolicy")
    assert first["UpdateToken"] != second["UpdateToken"]


def test_a_conflict_that_never_clears_fails_after_five_attempts_with_its_outputs(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    nfw.fail_next("UpdateFirewallPolicy", "InvalidTokenException", times=50)
    result = run(document, arn)
    assert result.status == FAILED
    assert "InvalidTokenException 5 times in a row" in result.failure_message
    recorded = failure_outputs(result)
    assert (recorded["Changed"], recorded["Attempts"], recorded["Before"]) == (False, 5, ALERTS)
    assert len(nfw.calls_to("DescribeFirewallPolicy")) == 5 and nfw.firewall_policy(arn)[SETTING] == ALERTS


@pytest.mark.parametrize("deleted_after_operation, message", [
    ("DescribeFirewallPolicy", "Firewall policy {arn} was deleted after it was read"),
    ("UpdateFirewallPolicy", "UpdateFirewallPolicy succeeded but {arn} no longer exists when described again"),
], ids=["before-the-update", "right-after-the-update"])
def test_a_policy_deleted_mid_run_fails_loudly_recording_what_changed(document, nfw, deleted_after_operation, message):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    deleted_after(nfw, deleted_after_operation)
    result = run(document, arn)
    assert result.status == FAILED
    assert message.format(arn=arn) in result.failure_message
    recorded = failure_outputs(result)
    # Changed says whether the update went through; Before / After are the actions as read and as planned.
    assert (recorded["Changed"], recorded["Before"], recorded["After"]) == \
        (deleted_after_operation == "UpdateFirewallPolicy", ALERTS, ["aws:drop_established", *ALERTS])


def test_an_exempt_policy_is_left_unchanged_and_the_run_says_until_when(document, nfw):
    tags, until = exemption_tag(RULE)
    arn = nfw.put_firewall_policy("edge", policy(strict=False), tags=tags)  # exempt comes before any refusal
    out = outputs(run(document, arn))
    assert (out["Changed"], out["ExemptUntil"]) == (False, until)
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_the_policy_is_found_by_the_policy_id_config_passes(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    policy_id = describe(arn)["FirewallPolicyResponse"]["FirewallPolicyId"]
    assert outputs(run(document, policy_id))["PolicyArn"] == arn


def test_a_policy_deleted_while_the_id_is_looked_up_is_not_the_one(document, nfw):
    """Finding the policy by id describes every listed policy; one deleted by someone else since the listing is
    simply not the one (as the firewall lookup already treats it), not a reason to fail the run."""
    gone = nfw.put_firewall_policy("aaa-gone", policy(ALERTS))
    arn = nfw.put_firewall_policy("edge", policy(ALERTS))
    policy_id = describe(arn)["FirewallPolicyResponse"]["FirewallPolicyId"]
    listed = nfw._operations["ListFirewallPolicies"]

    def list_then_delete(params, region):
        response = listed(params, region)
        nfw._operations["ListFirewallPolicies"] = listed
        nfw.delete_policy_now(gone)
        return response

    nfw._operations["ListFirewallPolicies"] = list_then_delete
    out = outputs(run(document, policy_id))
    assert (out["PolicyArn"], out["Changed"]) == (arn, True)
