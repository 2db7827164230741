"""netfw-rule-group-not-empty: Network Firewall rule groups must contain rules.

The companion of netfw-policy-rule-group-associated (Security Hub NetworkFirewall.6, Control Tower
CT.NETWORK-FIREWALL.PR.4): a policy that references only empty rule groups inspects nothing either.
Pure, except ``complete_item``, which the Lambda (never the offline scan) runs first: recorded items may
omit large Suricata rule strings, so an item without any ``rulesSource`` is re-read with DescribeRuleGroup
before the group is called empty.

Scenarios (tests/test_rule_netfw_rule_group_not_empty.py mirrors each one by its number):

S1  Given a STATELESS rule group with 3 statelessRules
    When it is evaluated
    Then COMPLIANT "Stateless rule group has 3 rule(s)"
S2  Given a STATELESS rule group whose statelessRules list is empty or missing
    Then NON_COMPLIANT "Stateless rule group is empty: no stateless rules"
S3  Given a STATEFUL rule group with statefulRules entries, or a rulesString with a rule line, or a
    rulesSourceList with targets
    Then COMPLIANT "Stateful rule group has N rule(s)" (entries + rule lines + domain targets)
S4  Given a STATEFUL rule group whose rulesString holds only blank lines and # comments
    Then NON_COMPLIANT "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no
    domain list targets"
S5  Given a STATEFUL rule group with an empty statefulRules list, a rulesSourceList without targets, or
    an empty rulesSource
    Then NON_COMPLIANT "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no
    domain list targets"
S6  Given the type only in ruleGroupResponse.type, only in the configuration's own type field, or only
    in the ARN (stateful-rulegroup/...), in camelCase or PascalCase spelling
    Then the type is read from there; with no type anywhere, an unknown type, or places that
    contradict each other (ruleGroupResponse.type STATELESS, ARN stateful-rulegroup/) the item is
    malformed (a clear error naming the item and the field)
S7  Given an item with no rulesSource at all, in the offline scan (no API)
    Then NON_COMPLIANT "Stateful rule group rules could not be read from the configuration item (no
    rulesSource); check it with DescribeRuleGroup"
S8  Given an item with no rulesSource at all, in the Lambda
    Then DescribeRuleGroup decides: rules -> COMPLIANT, none -> NON_COMPLIANT as S2/S4, group gone ->
    NOT_APPLICABLE "Resource status is ResourceDeletedNotRecorded"
S9  Given an unknown parameter name
    Then the invocation fails with InvalidParametersError naming it
S10 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from perimeter.firewall import STATELESS, FirewallModelError, RuleGroup, is_empty, rule_group_from_configuration
from perimeter.declarations import declared_values
from perimeter.rules.netfw_rule_group_not_empty.declaration import DECLARATION
from perimeter.items import ItemError, configuration_of, describe
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict


def parse_parameters(raw: dict) -> None:
    declared_values(DECLARATION, raw)  # no parameters beyond the pack's own: refuses unknown names
    return None


def _rule_group(item: dict) -> RuleGroup:
    try:
        group = rule_group_from_configuration(configuration_of(item), item.get("ARN"))
    except FirewallModelError as error:  # complete_item runs outside the registry, which names the item
        raise ItemError(f"{describe(item)}: {error}") from None
    if group.type is None:
        raise ItemError(f"{describe(item)}: rule group type is in neither ruleGroupResponse.type, type, nor the ARN")
    return group


def _rule_count(group: RuleGroup) -> int:
    if group.type == STATELESS:
        return group.stateless_rule_count
    return group.stateful_rule_count + group.rules_string_lines + group.domain_list_targets


def evaluate(item: dict, parameters: None) -> Verdict:
    group = _rule_group(item)
    kind = group.type.capitalize()
    if not group.has_rules_source:
        return Verdict(
            NON_COMPLIANT,
            f"{kind} rule group rules could not be read from the configuration item (no rulesSource); "
            "check it with DescribeRuleGroup",
        )
    if not is_empty(group):
        return Verdict(COMPLIANT, f"{kind} rule group has {_rule_count(group)} rule(s)")
    if group.type == STATELESS:
        return Verdict(NON_COMPLIANT, "Stateless rule group is empty: no stateless rules")
    return Verdict(
        NON_COMPLIANT,
        "Stateful rule group is empty: no stateful rules, no Suricata rule lines, no domain list targets",
    )


def complete_item(item: dict, client_factory) -> dict:
    """Re-read a rule group whose item carries no rulesSource, through the Lambda's client factory."""
    group = _rule_group(item)
    if group.has_rules_source:
        return item
    if isinstance(group.arn, str) and group.arn:
        request = {"RuleGroupArn": group.arn}
    elif isinstance(group.name, str) and group.name:
        request = {"RuleGroupName": group.name, "Type": group.type}
    else:  # botocore would refuse the request with a multi-line ParamValidationError
        raise ItemError(f"{describe(item)}: no rulesSource, and neither a rule group ARN nor a name to read it with")
    client = client_factory.build_client("network-firewall")
    try:
        response = client.describe_rule_group(**request)
    except client.exceptions.ResourceNotFoundException:
        return {**item, "configurationItemStatus": "ResourceDeletedNotRecorded", "configuration": None}
    configuration = {"ruleGroup": response["RuleGroup"], "ruleGroupResponse": response["RuleGroupResponse"]}
    return {**item, "configuration": configuration}
