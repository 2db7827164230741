"""The netfw-policy-rule-group-associated runbook, rendered, validated and run end to end against the fake."""
from __future__ import annotations

import copy
from pathlib import Path

import boto3
import pytest

from perimeter.firewall import rule_group_item
from perimeter.registry import load_rule
from perimeter.runbooks import render_runbook
from perimeter.templates.remediation_parameters import RESOURCE_ID, RULE_VALUE, map_remediation_parameters
from tests.fakes.networkfirewall import FakeNetworkFirewall
from tests.ssm.runner import FAILED, SUCCESS, outputs, run_document
from tests.ssm.validator import validate_document

RULE_DIR = Path(__file__).resolve().parents[1] / "rules" / "netfw_policy_rule_group_associated"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/NetworkFirewallRemediation"
MANAGED = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/ThreatSignaturesBotnet"
MANAGED_STRICT, MANAGED_ACTION = MANAGED + "StrictOrder", MANAGED + "ActionOrder"
MALWARE_STRICT = f"arn:aws:network-firewall:{REGION}:aws-managed:stateful-rulegroup/ThreatSignaturesMalwareStrictOrder"
STATEFUL_LIST, STATELESS_LIST = "StatefulRuleGroupReferences", "StatelessRuleGroupReferences"
STATELESS_RULES = {"RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": [{
    "Priority": 1,
    "RuleDefinition": {"MatchAttributes": {"Protocols": [6]}, "Actions": ["aws:forward_to_sfe"]},
}]}}}


@pytest.fixture(scope="module")
def document() -> dict:
    return render_runbook(RULE_DIR)


@pytest.fixture
def nfw():
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT) as fake:
        yield fake


def policy(*, stateful=(), stateless=(), strict=False, **extra) -> dict:
    body = {"StatelessDefaultActions": ["aws:forward_to_sfe"], "StatelessFragmentDefaultActions": ["aws:drop"],
            STATEFUL_LIST: list(stateful), STATELESS_LIST: list(stateless), **extra}
    if strict:
        body["StatefulEngineOptions"] = {"RuleOrder": "STRICT_ORDER"}
    return body


def run(document: dict, firewall_policy: str, rule_group_arn: str | list[str], **parameters):
    """Run the document; DryRun false unless given (the document's own default, a dry run, has its own test)."""
    arns = [rule_group_arn] if isinstance(rule_group_arn, str) else rule_group_arn
    return run_document(document, {"AutomationAssumeRole": ROLE, "FirewallPolicy": firewall_policy,
                                   "RuleGroupArn": arns, "DryRun": False, **parameters}, region=REGION)


def only_reference(out: dict) -> tuple[str, dict]:
    """(list, reference) of a run given one rule group."""
    (entry,) = out["References"]
    return entry["List"], {key: value for key, value in entry.items() if key in ("ResourceArn", "Priority")}


def describe(arn: str) -> dict:
    return boto3.client("network-firewall", region_name=REGION).describe_firewall_policy(FirewallPolicyArn=arn)


def strict_group(nfw, name: str) -> str:
    return nfw.put_rule_group(name, rule_group={"RulesSource": {"RulesString": "pass ip any any -> any any (sid:1;)"},
                                                "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"}})


def test_the_rendered_document_is_valid(document):
    assert [str(finding) for finding in validate_document(document)] == []
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert all("allowedPattern" in declaration for declaration in document["parameters"].values())
    assert document["mainSteps"][0]["action"] == "aws:invokeLambdaFunction"  # the rule's remediation function


def test_stateful_group_joins_a_default_action_order_policy_without_priority(document, nfw):
    existing = nfw.put_rule_group("egress", rules="pass tcp any any -> any 443 (sid:1;)")
    arn = nfw.put_firewall_policy("edge", policy(stateful=[{"ResourceArn": existing}]))
    out = outputs(run(document, arn, MANAGED_ACTION))
    assert out == {"Changed": True, "DryRun": False, "PolicyArn": arn, "Attempts": 1, "Message": out["Message"],
                   "References": [{"List": STATEFUL_LIST, "ResourceArn": MANAGED_ACTION, "Added": True}]}
    assert nfw.firewall_policy(arn)[STATEFUL_LIST] == [{"ResourceArn": existing}, {"ResourceArn": MANAGED_ACTION}]


def test_stateful_group_joins_a_strict_order_policy_100_above_the_highest(document, nfw):
    first, second = strict_group(nfw, "first"), strict_group(nfw, "second")
    arn = nfw.put_firewall_policy("strict", policy(strict=True, stateful=[
        {"ResourceArn": first, "Priority": 30}, {"ResourceArn": second, "Priority": 7}]))
    out = outputs(run(document, arn, MANAGED_STRICT))
    assert only_reference(out) == (STATEFUL_LIST, {"ResourceArn": MANAGED_STRICT, "Priority": 130})
    assert nfw.firewall_policy(arn)[STATEFUL_LIST][-1] == {"ResourceArn": MANAGED_STRICT, "Priority": 130}


def test_first_reference_of_a_list_gets_priority_100_and_a_stateless_group_always_has_one(document, nfw):
    group = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("empty", policy())
    out = outputs(run(document, arn, group))
    assert only_reference(out) == (STATELESS_LIST, {"ResourceArn": group, "Priority": 100})
    assert nfw.firewall_policy(arn)[STATELESS_LIST] == [{"ResourceArn": group, "Priority": 100}]


def test_given_priority_is_used_when_free(document, nfw):
    taken = nfw.put_rule_group("taken", "STATELESS", rule_group=STATELESS_RULES)
    group = nfw.put_rule_group("new", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy(stateless=[{"ResourceArn": taken, "Priority": 50}]))
    out = outputs(run(document, arn, group, Priority="5"))
    assert only_reference(out) == (STATELESS_LIST, {"ResourceArn": group, "Priority": 5})
    assert nfw.firewall_policy(arn)[STATELESS_LIST][-1] == {"ResourceArn": group, "Priority": 5}


def test_a_taken_priority_fails_clearly_and_changes_nothing(document, nfw):
    taken = nfw.put_rule_group("taken", "STATELESS", rule_group=STATELESS_RULES)
    group = nfw.put_rule_group("new", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy(stateless=[{"ResourceArn": taken, "Priority": 50}]))
    result = run(document, arn, group, Priority="50")
    assert result.status == FAILED
    assert f"Priority 50 is already used by {taken} in {STATELESS_LIST}" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


@pytest.mark.parametrize("identify", ["arn", "name", "id"])
def test_the_policy_is_found_by_arn_name_or_policy_id(document, identify):
    # Three policies and pages of two: the id lookup has to follow ListFirewallPolicies' NextToken.
    with FakeNetworkFirewall(region=REGION, account_id=ACCOUNT, default_max_results=2) as nfw:
        arns = [nfw.put_firewall_policy(name, policy()) for name in ("alpha", "bravo", "zulu")]
        target = arns[-1]
        given = {"arn": target, "name": "zulu", "id": describe(target)["FirewallPolicyResponse"]["FirewallPolicyId"]}
        out = outputs(run(document, given[identify], MANAGED_ACTION))
        assert out["PolicyArn"] == target
        assert nfw.firewall_policy(target)[STATEFUL_LIST] == [{"ResourceArn": MANAGED_ACTION}]
        assert all(nfw.firewall_policy(other)[STATEFUL_LIST] == [] for other in arns[:-1])
        if identify == "id":
            assert len(nfw.calls_to("ListFirewallPolicies")) == 2


def test_an_already_associated_group_changes_nothing_and_succeeds(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(strict=True, stateful=[{"ResourceArn": MANAGED_STRICT, "Priority": 9}]))
    token = nfw.update_token(arn)
    out = outputs(run(document, "edge", MANAGED_STRICT))
    assert out["Changed"] is False
    assert out["References"] == [{"List": STATEFUL_LIST, "ResourceArn": MANAGED_STRICT, "Priority": 9, "Added": False}]
    assert "already" in out["Message"]
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.update_token(arn) == token


def test_a_second_run_is_a_no_op(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    assert outputs(run(document, arn, MANAGED_ACTION))["Changed"] is True
    assert outputs(run(document, arn, MANAGED_ACTION))["Changed"] is False
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 1


def test_dry_run_says_what_it_would_add_and_changes_nothing(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(strict=True))
    before = nfw.firewall_policy(arn)
    out = outputs(run(document, arn, MANAGED_STRICT, DryRun=True))
    assert (out["Changed"], out["DryRun"]) == (False, True)
    assert out["References"] == [{"List": STATEFUL_LIST, "ResourceArn": MANAGED_STRICT, "Priority": 100,
                                  "Added": False}]
    assert out["Message"] == (f"Dry run: would add {MANAGED_STRICT} at priority 100 to {STATEFUL_LIST} of {arn}, "
                              "after which netfw-policy-rule-group-associated would judge it COMPLIANT (Policy "
                              "references 0 stateless and 1 stateful rule group(s)); nothing changed")
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.firewall_policy(arn) == before


def test_everything_else_in_the_policy_is_left_exactly_as_it_was(document, nfw):
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    own = strict_group(nfw, "own")
    body = policy(
        strict=True,
        stateless=[{"ResourceArn": stateless, "Priority": 10}],
        stateful=[{"ResourceArn": own, "Priority": 1},
                  {"ResourceArn": MALWARE_STRICT, "Priority": 2, "Override": {"Action": "DROP_TO_ALERT"}}],
        StatelessDefaultActions=["aws:forward_to_sfe", "metrics"],
        StatelessCustomActions=[{"ActionName": "metrics", "ActionDefinition": {
            "PublishMetricAction": {"Dimensions": [{"Value": "edge"}]}}}],
        StatefulDefaultActions=["aws:drop_established", "aws:alert_established"],
        PolicyVariables={"RuleVariables": {"HOME_NET": {"Definition": ["10.0.0.0/8"]}}},
        TLSInspectionConfigurationArn=f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:tls-configuration/inspect",
    )
    body["StatefulEngineOptions"]["StreamExceptionPolicy"] = "REJECT"
    arn = nfw.put_firewall_policy("edge", body, description="edge inspection", tags=[{"Key": "team", "Value": "net"}])
    before = describe(arn)

    outputs(run(document, arn, MANAGED_STRICT))

    after = describe(arn)
    expected = copy.deepcopy(before["FirewallPolicy"])
    expected[STATEFUL_LIST].append({"ResourceArn": MANAGED_STRICT, "Priority": 102})
    assert after["FirewallPolicy"] == expected
    volatile = ("LastModifiedTime", "ConsumedStatefulRuleCapacity")
    response_before, response_after = ({key: value for key, value in described["FirewallPolicyResponse"].items()
                                        if key not in volatile} for described in (before, after))
    assert response_after == response_before  # description, encryption, tags, name, id, status
    # The update carries the description and encryption it read: an omitted one would not be kept.
    (update,) = nfw.calls_to("UpdateFirewallPolicy")
    assert update["Description"] == "edge inspection"
    assert update["EncryptionConfiguration"] == before["FirewallPolicyResponse"]["EncryptionConfiguration"]
    assert update["UpdateToken"] == before["UpdateToken"]


def concurrent_writer(nfw, change, times: int) -> None:
    """Right after each of the next ``times`` DescribeFirewallPolicy calls, another writer changes the policy."""
    describe_policy = nfw._operations["DescribeFirewallPolicy"]

    def describe_then_write(params, region):
        response = describe_policy(params, region)
        if not concurrent_writer.left:
            return response
        concurrent_writer.left -= 1
        nfw.bump_token(response["FirewallPolicyResponse"]["FirewallPolicyArn"], change)
        return response

    concurrent_writer.left = times
    nfw._operations["DescribeFirewallPolicy"] = describe_then_write


def test_a_token_conflict_is_re_read_and_retried_keeping_the_other_writers_change(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    concurrent_writer(nfw, lambda body: body.update(StatelessFragmentDefaultActions=["aws:pass"]), times=1)
    out = outputs(run(document, arn, MANAGED_ACTION))
    assert (out["Changed"], out["Attempts"]) == (True, 2)
    updates = nfw.calls_to("UpdateFirewallPolicy")
    assert len(updates) == 2 and updates[0]["UpdateToken"] != updates[1]["UpdateToken"]
    stored = nfw.firewall_policy(arn)
    assert stored["StatelessFragmentDefaultActions"] == ["aws:pass"]  # not lost by our update
    assert stored[STATEFUL_LIST] == [{"ResourceArn": MANAGED_ACTION}]


def test_a_conflict_that_never_clears_fails_after_five_attempts(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    nfw.fail_next("UpdateFirewallPolicy", "InvalidTokenException", times=50)
    result = run(document, arn, MANAGED_ACTION)
    assert result.status == FAILED
    assert "InvalidTokenException 5 times in a row" in result.failure_message
    assert "Nothing was changed" in result.failure_message
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 5
    assert len(nfw.calls_to("DescribeFirewallPolicy")) == 5  # re-read before each attempt
    assert nfw.firewall_policy(arn)[STATEFUL_LIST] == []


def test_an_update_that_does_not_show_when_described_again_fails_loudly(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    update = nfw._operations["UpdateFirewallPolicy"]
    nfw._operations["UpdateFirewallPolicy"] = lambda params, region: update({**params, "DryRun": True}, region)
    result = run(document, arn, MANAGED_ACTION)
    assert result.status == FAILED
    assert f"UpdateFirewallPolicy succeeded but {arn} does not reference {MANAGED_ACTION}" in result.failure_message


def test_a_policy_that_does_not_exist_fails_clearly(document, nfw):
    result = run(document, "gone", MANAGED_ACTION)
    assert result.status == FAILED
    assert "Firewall policy gone does not exist" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_a_rule_group_that_does_not_exist_fails_clearly(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    missing = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateful-rulegroup/missing"
    result = run(document, arn, missing)
    assert result.status == FAILED
    assert f"Rule group {missing} does not exist" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


@pytest.mark.parametrize("strict, group", [(True, MANAGED_ACTION), (False, MANAGED_STRICT)])
def test_a_managed_group_of_the_other_rule_order_fails_naming_both(document, nfw, strict, group):
    arn = nfw.put_firewall_policy("edge", policy(strict=strict))
    result = run(document, arn, group)
    assert result.status == FAILED
    group_order, policy_order = ("DEFAULT_ACTION_ORDER", "STRICT_ORDER") if strict else \
        ("STRICT_ORDER", "DEFAULT_ACTION_ORDER")
    assert f"Rule group {group} uses rule order {group_order} but firewall policy {arn} uses {policy_order}" \
        in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_an_own_stateful_group_of_the_other_rule_order_fails_too(document, nfw):
    group = strict_group(nfw, "strict-only")
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, group)
    assert result.status == FAILED
    assert f"uses rule order STRICT_ORDER but firewall policy {arn} uses DEFAULT_ACTION_ORDER" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_a_priority_given_for_a_default_action_order_stateful_reference_is_ignored_and_said(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    out = outputs(run(document, arn, MANAGED_ACTION, Priority="7"))
    assert only_reference(out) == (STATEFUL_LIST, {"ResourceArn": MANAGED_ACTION})
    assert out["Message"].endswith("(Priority 7 ignored: DEFAULT_ACTION_ORDER policies take none)")


def policy_verdict(arn: str, required: str = "any") -> tuple[str, str]:
    """The rule's verdict, through the registry as the Lambda gives it, on the policy as described now."""
    spec = load_rule("perimeter.rules.netfw_policy_rule_group_associated.rule")
    item = {"resourceType": "AWS::NetworkFirewall::FirewallPolicy", "resourceId": arn,
            "configurationItemStatus": "OK", "configuration": describe(arn)}
    verdict = spec.evaluate(item, spec.parse_parameters({"requiredRuleGroupTypes": required}))
    return verdict.compliance, verdict.annotation


def test_afterwards_the_rule_evaluates_the_policy_compliant(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy(strict=True))
    assert policy_verdict(arn)[0] == "NON_COMPLIANT"
    outputs(run(document, arn, MANAGED_STRICT))
    assert policy_verdict(arn)[0] == "COMPLIANT"


# --- issue 10 item 8: the document itself defaults to a dry run ------------------------------------------------

def test_the_document_defaults_dry_run_to_true_and_then_changes_nothing(document, nfw):
    assert document["parameters"]["DryRun"]["default"] is True
    arn = nfw.put_firewall_policy("edge", policy())
    given = {"AutomationAssumeRole": ROLE, "FirewallPolicy": arn, "RuleGroupArn": [MANAGED_ACTION]}
    out = outputs(run_document(document, given, region=REGION))  # started by hand, DryRun left alone
    assert (out["Changed"], out["DryRun"]) == (False, True)
    assert out["Message"].startswith("Dry run: would add")
    assert nfw.calls_to("UpdateFirewallPolicy") == [] and nfw.firewall_policy(arn)[STATEFUL_LIST] == []


# --- issue 10 item 13: the runbook succeeds only when the rule then judges the policy COMPLIANT ----------------

def test_required_rule_group_types_gets_the_rules_value_in_the_templates(document):
    spec = load_rule("perimeter.rules.netfw_policy_rule_group_associated.rule")
    mapped = {parameter.name: parameter for parameter in map_remediation_parameters(spec, document)}
    assert (mapped["RequiredRuleGroupTypes"].source, mapped["RequiredRuleGroupTypes"].rule_parameter) == \
        (RULE_VALUE, "requiredRuleGroupTypes")
    assert mapped["FirewallPolicy"].source == RESOURCE_ID
    assert document["parameters"]["RequiredRuleGroupTypes"]["default"] == spec.parameter_defaults[
        "requiredRuleGroupTypes"]


def test_a_stateless_group_is_refused_when_the_rule_requires_stateful(document, nfw):
    group = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, group, RequiredRuleGroupTypes="stateful")
    assert result.status == FAILED
    assert f"Rule group {group} is STATELESS, which does not satisfy requiredRuleGroupTypes stateful: give a " \
           "stateful rule group. Nothing changed." in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []
    assert policy_verdict(arn, "stateful")[0] == "NON_COMPLIANT"


def test_a_stateful_group_is_refused_when_the_rule_requires_stateless(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="stateless")
    assert result.status == FAILED
    assert "is STATEFUL, which does not satisfy requiredRuleGroupTypes stateless" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_required_rule_group_types_is_read_by_the_rules_own_parser(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="all")
    assert result.status == FAILED
    assert "parameter RequiredRuleGroupTypes (rule parameter requiredRuleGroupTypes): 'all' is not one of any, " \
           "stateful, stateless, both" in result.failure_message
    assert nfw.calls_to("DescribeRuleGroup") == [] and nfw.calls_to("UpdateFirewallPolicy") == []
    # As the rule reads it: case and surrounding blanks do not matter.
    assert outputs(run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes=" Stateful "))["Changed"] is True
    assert policy_verdict(arn, "stateful")[0] == "COMPLIANT"


EMPTY_STATEFUL = [
    pytest.param({"RulesSource": {"RulesString": "# nothing\n\n"}}, id="rules-string-only-comments"),
    pytest.param({"RulesSource": {"StatefulRules": []}}, id="no-stateful-rules"),
    pytest.param({"RulesSource": {"RulesSourceList": {"Targets": [], "TargetTypes": ["HTTP_HOST"],
                                                      "GeneratedRulesType": "DENYLIST"}}}, id="domain-list-no-targets"),
]


@pytest.mark.parametrize("rule_group", EMPTY_STATEFUL)
def test_an_empty_stateful_group_is_refused_as_netfw_rule_group_not_empty_judges_it(document, nfw, rule_group):
    group = nfw.put_rule_group("nothing", rule_group=rule_group)
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, group)
    assert result.status == FAILED
    assert f"Rule group {group} is judged NON_COMPLIANT by netfw-rule-group-not-empty: Stateful rule group is " \
           "empty: no stateful rules, no Suricata rule lines, no domain list targets. Associating it would make " \
           "the policy comply while inspecting nothing" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []
    assert policy_verdict(arn)[0] == "NON_COMPLIANT"


def test_an_empty_stateless_group_is_refused(document, nfw):
    group = nfw.put_rule_group("nothing", "STATELESS", rule_group={
        "RulesSource": {"StatelessRulesAndCustomActions": {"StatelessRules": []}}})
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, group)
    assert result.status == FAILED
    assert "by netfw-rule-group-not-empty: Stateless rule group is empty: no stateless rules." \
        in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_an_already_associated_empty_group_fails_rather_than_reporting_success(document, nfw):
    group = nfw.put_rule_group("nothing", rules="# nothing")
    arn = nfw.put_firewall_policy("edge", policy(stateful=[{"ResourceArn": group}]))
    result = run(document, arn, group)
    assert result.status == FAILED
    assert "judged NON_COMPLIANT by netfw-rule-group-not-empty" in result.failure_message


def test_a_described_rule_group_becomes_the_item_the_not_empty_rule_reads(nfw):
    group = nfw.put_rule_group("egress", rules="pass tcp any any -> any 443 (sid:1;)\n# a comment\n")
    described = boto3.client("network-firewall", region_name=REGION).describe_rule_group(RuleGroupArn=group)
    item = rule_group_item(described)
    response = described["RuleGroupResponse"]
    assert (item["resourceType"], item["resourceId"], item["resourceName"], item["ARN"]) == \
        ("AWS::NetworkFirewall::RuleGroup", response["RuleGroupId"], "egress", group)
    spec = load_rule("perimeter.rules.netfw_rule_group_not_empty.rule")
    verdict = spec.evaluate(item, spec.parse_parameters({}))
    assert (verdict.compliance, verdict.annotation) == ("COMPLIANT", "Stateful rule group has 1 rule(s)")
    # AWS does not publish a managed group's rules: its item has none, exactly as DescribeRuleGroup answers.
    managed = rule_group_item(boto3.client("network-firewall", region_name=REGION).describe_rule_group(
        RuleGroupArn=MANAGED_STRICT))
    assert "ruleGroup" not in managed["configuration"] and managed["ARN"] == MANAGED_STRICT


def test_both_required_and_one_group_for_a_policy_with_neither_fails_naming_what_is_missing(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="both")
    assert result.status == FAILED
    assert f"With {MANAGED_ACTION}, firewall policy {arn} would still be NON_COMPLIANT under requiredRuleGroupTypes " \
           "both: No stateless rule group associated (policy has 1 stateful); stateless default action " \
           "aws:forward_to_sfe. Give RuleGroupArn a stateless rule group as well" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_both_required_with_one_group_of_each_type_adds_both_in_one_update(document, nfw):
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy())
    out = outputs(run(document, arn, [MANAGED_ACTION, stateless], RequiredRuleGroupTypes="both"))
    assert out["Changed"] is True
    assert out["References"] == [
        {"List": STATEFUL_LIST, "ResourceArn": MANAGED_ACTION, "Added": True},
        {"List": STATELESS_LIST, "ResourceArn": stateless, "Priority": 100, "Added": True},
    ]
    assert out["Message"].endswith("netfw-policy-rule-group-associated now judges it COMPLIANT (Policy references 1 "
                                   "stateless and 1 stateful rule group(s))")
    assert len(nfw.calls_to("UpdateFirewallPolicy")) == 1
    assert policy_verdict(arn, "both") == ("COMPLIANT", "Policy references 1 stateless and 1 stateful rule group(s)")


def test_both_required_and_one_type_present_needs_only_the_other(document, nfw):
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy(stateless=[{"ResourceArn": stateless, "Priority": 10}]))
    assert outputs(run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="both"))["Changed"] is True
    assert policy_verdict(arn, "both")[0] == "COMPLIANT"


def test_two_groups_of_the_same_type_are_refused(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    malware_action = MALWARE_STRICT.replace("StrictOrder", "ActionOrder")
    result = run(document, arn, [MANAGED_ACTION, malware_action])
    assert result.status == FAILED
    assert "RuleGroupArn names two STATEFUL rule groups; give at most one of each type" in result.failure_message
    assert nfw.calls_to("UpdateFirewallPolicy") == []


def test_more_than_two_groups_are_refused_by_the_document(document, nfw):
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy())
    with pytest.raises(ValueError, match="maxItems"):
        run(document, arn, [MANAGED_ACTION, stateless, MALWARE_STRICT])


def test_a_dry_run_that_would_leave_the_policy_non_compliant_fails_too(document, nfw):
    arn = nfw.put_firewall_policy("edge", policy())
    result = run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="both", DryRun=True)
    assert result.status == FAILED
    assert "would still be NON_COMPLIANT" in result.failure_message


def test_a_policy_the_rule_still_judges_non_compliant_after_the_update_fails_loudly(document, nfw):
    # Right after our update another writer removes the stateless group: the references we added are there,
    # but under "both" the policy is NON_COMPLIANT again, and the run must not report success.
    stateless = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy(stateless=[{"ResourceArn": stateless, "Priority": 10}]))
    update = nfw._operations["UpdateFirewallPolicy"]

    def update_then_other_writer(params, region):
        response = update(params, region)
        nfw.bump_token(arn, lambda body: body.update({STATELESS_LIST: []}))
        return response

    nfw._operations["UpdateFirewallPolicy"] = update_then_other_writer
    result = run(document, arn, MANAGED_ACTION, RequiredRuleGroupTypes="both")
    assert result.status == FAILED
    assert f"UpdateFirewallPolicy succeeded but netfw-policy-rule-group-associated still judges {arn} NON_COMPLIANT " \
           "when described again: No stateless rule group associated (policy has 1 stateful)" in result.failure_message


def test_the_script_called_without_dry_run_changes_nothing(nfw, monkeypatch):
    """The remediation function can be invoked without the document (by hand, by another automation): like every
    other runbook's script, an absent DryRun means a dry run, never a change."""
    from perimeter.rules.netfw_policy_rule_group_associated.remediation import handler
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    group = nfw.put_rule_group("fragments", "STATELESS", rule_group=STATELESS_RULES)
    arn = nfw.put_firewall_policy("edge", policy())

    out = handler({"FirewallPolicy": arn, "RuleGroupArn": [group]}, None)

    assert (out["DryRun"], out["Changed"]) == (True, False)
    assert nfw.firewall_policy(arn)[STATELESS_LIST] == []
