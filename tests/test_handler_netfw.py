"""The two Network Firewall rules' Lambdas end to end: moto for Config (TestMode), the botocore-validated
fake for the network-firewall APIs moto lacks."""
from __future__ import annotations

import pytest
from moto import mock_aws

from conftest import change_event
from perimeter.rule import RuleInvocationError
from support import ClientInterceptor, rule_handler
from tests.fakes.networkfirewall import FakeNetworkFirewall

policy_handler = rule_handler("netfw-policy-rule-group-associated")
group_handler = rule_handler("netfw-rule-group-not-empty")

GROUP_NAME = "big-suricata"  # the fixture item recorded without its rulesSource


@pytest.fixture
def aws(monkeypatch):
    with mock_aws(), FakeNetworkFirewall(region="us-east-1", account_id="123456789012") as nfw:
        interceptor = ClientInterceptor(monkeypatch)
        interceptor.nfw = nfw
        yield interceptor


def verdicts(result):
    return [(e["ComplianceResourceType"], e["ComplianceType"], e.get("Annotation")) for e in result]


def test_policy_without_rule_groups(aws, fixture_item):
    event = change_event(fixture_item("netfw-policy-empty.notification"), "perimeter-netfw-policy-rule-group-associated")

    assert verdicts(policy_handler(event, None)) == [
        ("AWS::NetworkFirewall::FirewallPolicy", "NON_COMPLIANT",
         "No stateless or stateful rule group associated (policy has none); stateless default action aws:pass")
    ]
    assert aws.calls == [("config", "PutEvaluations")]


def test_policy_requirement_parameter(aws, fixture_item):
    event = change_event(
        fixture_item("netfw-policy-stateless-only.notification"), "perimeter-netfw-policy-rule-group-associated",
        ruleParameters='{"requiredRuleGroupTypes": "stateful"}',
    )

    assert verdicts(policy_handler(event, None))[0][1:] == (
        "NON_COMPLIANT", "No stateful rule group associated (policy has 2 stateless); stateless default action aws:forward_to_sfe"
    )


def test_policy_invalid_requirement_fails_the_invocation(aws, fixture_item):
    event = change_event(
        fixture_item("netfw-policy-both.notification"), "perimeter-netfw-policy-rule-group-associated",
        ruleParameters='{"requiredRuleGroupTypes": "all"}',
    )

    with pytest.raises(RuleInvocationError, match="requiredRuleGroupTypes: 'all' is not one of any, stateful, stateless, both"):
        policy_handler(event, None)


def test_recorded_rules_are_judged_without_any_api_call(aws, fixture_item):
    event = change_event(fixture_item("netfw-group-suricata-comments.notification"), "perimeter-netfw-rule-group-not-empty")

    assert verdicts(group_handler(event, None)) == [
        ("AWS::NetworkFirewall::RuleGroup", "NON_COMPLIANT",
         "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no domain list targets")
    ]
    assert aws.nfw.calls == []


def _item_for_live_group(fixture_item, arn):
    item = fixture_item("netfw-group-no-rules-source.notification")
    item["resourceId"] = item["ARN"] = arn
    item["configuration"]["ruleGroupResponse"]["ruleGroupArn"] = arn
    return item


def test_missing_rules_source_is_confirmed_with_describe_rule_group(aws, fixture_item):
    arn = aws.nfw.put_rule_group(
        GROUP_NAME, "STATEFUL", rules="drop tcp $HOME_NET any -> $EXTERNAL_NET 23 (msg:\"telnet\"; sid:1; rev:1;)\n"
    )
    event = change_event(_item_for_live_group(fixture_item, arn), "perimeter-netfw-rule-group-not-empty")

    assert verdicts(group_handler(event, None)) == [
        ("AWS::NetworkFirewall::RuleGroup", "COMPLIANT", "Stateful rule group has 1 rule(s)")
    ]
    assert aws.nfw.calls == [("DescribeRuleGroup", {"RuleGroupArn": arn})]
    assert aws.operations() == ["DescribeRuleGroup", "PutEvaluations"]


def test_confirmed_empty_group_is_non_compliant(aws, fixture_item):
    arn = aws.nfw.put_rule_group(GROUP_NAME, "STATEFUL", rules="# nothing yet\n")
    event = change_event(_item_for_live_group(fixture_item, arn), "perimeter-netfw-rule-group-not-empty")

    assert verdicts(group_handler(event, None))[0][1:] == (
        "NON_COMPLIANT", "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no domain list targets"
    )


def test_group_gone_before_confirmation_is_not_applicable(aws, fixture_item):
    event = change_event(fixture_item("netfw-group-no-rules-source.notification"), "perimeter-netfw-rule-group-not-empty")

    assert verdicts(group_handler(event, None)) == [
        ("AWS::NetworkFirewall::RuleGroup", "NOT_APPLICABLE", "Resource status is ResourceDeletedNotRecorded")
    ]


def test_confirmation_denied_fails_the_invocation(aws, fixture_item):
    arn = aws.nfw.put_rule_group(GROUP_NAME, "STATEFUL", rules="# x\n")
    aws.nfw.fail_next("DescribeRuleGroup", "ThrottlingException", times=1)
    event = change_event(_item_for_live_group(fixture_item, arn), "perimeter-netfw-rule-group-not-empty")

    with pytest.raises(RuleInvocationError, match="netfw-rule-group-not-empty: .*ThrottlingException"):
        group_handler(event, None)
