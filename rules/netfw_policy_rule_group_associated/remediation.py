"""Remediation of netfw-policy-rule-group-associated: make a firewall policy reference baseline rule groups.

The aws:executeScript handler of runbook.yaml, bundled with the core and rule modules it imports. Each group given
(one, or one stateful and one stateless) is read with DescribeRuleGroup and refused, changing nothing, when the
rule's requiredRuleGroupTypes does not ask for its type or netfw-rule-group-not-empty judges it NON_COMPLIANT (the
policy would comply but inspect nothing), both by the rules' own code. The policy is read, a reference per group
planned (a priority only where the rule order needs one), and the planned policy judged by this rule's evaluate: a
plan still NON_COMPLIANT is refused with the rule's annotation, which names what is missing. The update carries the
UpdateToken read and everything else as read (the API reference does not promise that an update omitting the
description or encryption keeps them); a stale token means re-read and re-plan, a bounded number of times. The
policy is then described again and judged: still NON_COMPLIANT fails the run. The policy lookup and the
read-plan-update loop are perimeter.firewall_policy_remediation's, shared with the other policy runbooks.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

from perimeter.firewall import (
    DEFAULT_ACTION_ORDER, STATEFUL, STATELESS, STRICT_ORDER, RuleGroup, firewall_policy_from_configuration,
    firewall_policy_item, rule_group_from_configuration, rule_group_item,
)
from perimeter.firewall_policy_remediation import describe_policy, policy_key, read_plan_update
from perimeter.remediation import (
    InputError, RemediationError, boolean_input, client, rule_parameters, string_list_input, unless_gone,
)
from perimeter.verdicts import COMPLIANT, Verdict
from perimeter.rules.netfw_policy_rule_group_associated.rule import Parameters, evaluate, missing_types, parse_parameters
from perimeter.rules.netfw_rule_group_not_empty.rule import evaluate as evaluate_rule_group

PRIORITY_STEP = 100  # a new reference goes this far above the highest priority of its list
MAX_PRIORITY = 65535  # StatelessRuleGroupReference / StatefulRuleGroupReference Priority maximum
LISTS = {STATEFUL: "StatefulRuleGroupReferences", STATELESS: "StatelessRuleGroupReferences"}
# AWS managed stateful groups come in two variants, each usable only in policies of that rule order.
MANAGED_SUFFIXES = {"StrictOrder": STRICT_ORDER, "ActionOrder": DEFAULT_ACTION_ORDER}
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"RequiredRuleGroupTypes": "requiredRuleGroupTypes"}
GROUPS = "RuleGroupArn"
RULE = "netfw-policy-rule-group-associated"


class Association(NamedTuple):  # not a dataclass: those need their module in sys.modules, a script is not there
    """One group's place in the policy: the reference to add (new), or the one already there."""

    list_name: str
    reference: dict
    new: bool
    note: str = ""

    def output(self, added: bool) -> dict:
        return {"List": self.list_name, **self.reference, "Added": added}

    def label(self) -> str:
        priority = self.reference.get("Priority")
        return self.reference["ResourceArn"] + ("" if priority is None else f" at priority {priority}") + \
            f" to {self.list_name}"


def handler(events, context):
    nfw = client("network-firewall")
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")  # absent: a dry run, as the document says
    requested = _priority(events.get("Priority"))
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    groups = _rule_groups(nfw, events.get(GROUPS), parameters)
    given = events["FirewallPolicy"].strip()

    def plan(described: dict):
        associations = [_plan(described, group, group_order, requested) for group, group_order in groups]
        new = [entry for entry in associations if entry.new]
        planned = copy.deepcopy(described)
        for entry in new:
            planned["FirewallPolicy"][entry.list_name] = [*planned["FirewallPolicy"].get(entry.list_name, []),
                                                          entry.reference]
        verdict = _judge(planned, parameters, groups)
        return (planned if new else None), (associations, new, verdict)

    run = read_plan_update(nfw, policy_key(nfw, given), RULE, plan, dry_run=dry_run, given=events["FirewallPolicy"])
    policy_arn = run.policy_arn
    if run.exempt:
        return {"Changed": False, "DryRun": dry_run, "PolicyArn": policy_arn, "References": [],
                "Attempts": run.attempts, **run.exempt}
    associations, new, verdict = run.detail
    result = {"Changed": False, "DryRun": dry_run, "PolicyArn": policy_arn,
              "References": [entry.output(False) for entry in associations], "Attempts": run.attempts}
    adding, note = " and ".join(entry.label() for entry in new), "".join(entry.note for entry in new)
    if not new:
        return {**result, "Message": f"{' and '.join(group.arn for group, _ in groups)} already in "
                                     f"{policy_arn}, which {RULE} judges COMPLIANT ({verdict.annotation}); "
                                     "nothing changed"}
    if dry_run:
        return {**result, "Message": f"Dry run: would add {adding} of {policy_arn}, after which {RULE} would "
                                     f"judge it COMPLIANT ({verdict.annotation}); nothing changed{note}"}
    verdict = _verify(nfw, policy_arn, associations, parameters)
    return {**result, "Changed": True, "References": [entry.output(entry.new) for entry in associations],
            "Message": f"Added {adding} of {policy_arn}; {RULE} now judges it COMPLIANT "
                       f"({verdict.annotation}){note}"}


def _rule_groups(nfw, value, parameters: Parameters) -> list[tuple[RuleGroup, str | None]]:
    arns = list(dict.fromkeys(string_list_input(value, GROUPS)))
    if not 1 <= len(arns) <= len(LISTS):
        raise InputError(f"parameter {GROUPS}: give one rule group ARN, or one stateful and one stateless, "
                         f"not {len(arns)}")
    groups = [_describe_rule_group(nfw, arn, parameters) for arn in arns]
    if len({group.type for group, _ in groups}) < len(groups):
        raise RemediationError(f"{GROUPS} names two {groups[0][0].type} rule groups; give at most one of each type "
                               "(one stateful and one stateless). Nothing changed.")
    return groups


def _describe_rule_group(nfw, arn: str, parameters: Parameters) -> tuple[RuleGroup, str | None]:
    """The group, refused unless the rules accept it, and for a stateful one its rule order (None if unknown)."""
    described = unless_gone(lambda: nfw.describe_rule_group(RuleGroupArn=arn), lambda: RemediationError(
        f"Rule group {arn} does not exist in this account and Region; nothing changed"))
    group = rule_group_from_configuration(described, arn)
    if group.type not in LISTS:
        raise RemediationError(f"Cannot tell whether rule group {arn} is stateful or stateless")
    # A type counts only if the rule would miss it in a policy without rule groups.
    requirement = parameters.required_rule_group_types
    wanted = missing_types(firewall_policy_from_configuration({}), requirement)
    if group.type.lower() not in wanted:
        raise RemediationError(f"Rule group {arn} is {group.type}, which does not satisfy requiredRuleGroupTypes "
                               f"{requirement}: give a {' or '.join(wanted)} rule group. Nothing changed.")
    # AWS managed groups: AWS maintains their rules and does not publish them, and Config records only the account's
    # groups (https://docs.aws.amazon.com/network-firewall/latest/developerguide/nwfw-managed-rule-groups.html).
    managed = ":aws-managed:" in group.arn
    verdict = None if managed else evaluate_rule_group(rule_group_item(described), None)
    if verdict and verdict.compliance != COMPLIANT:
        raise RemediationError(
            f"Rule group {arn} is judged {verdict.compliance} by netfw-rule-group-not-empty: {verdict.annotation}. "
            "Associating it would make the policy comply while inspecting nothing; add rules to it or give another "
            "group. Nothing changed."
        )
    if group.type != STATEFUL:
        return group, None
    if managed:  # the name says the order
        return group, next((order for suffix, order in MANAGED_SUFFIXES.items()
                            if (group.name or "").endswith(suffix)), None)
    body = described.get("RuleGroup")
    if body is None:
        return group, None
    return group, (body.get("StatefulRuleOptions") or {}).get("RuleOrder", DEFAULT_ACTION_ORDER)


def _plan(described: dict, group: RuleGroup, group_order: str | None, requested: int | None) -> Association:
    policy = firewall_policy_from_configuration(described)
    references = policy.stateful_references if group.type == STATEFUL else policy.stateless_references
    list_name = LISTS[group.type]
    for reference in references:
        if reference.arn == group.arn:
            return Association(list_name, _reference(reference.arn, reference.priority), new=False)
    if group.type == STATEFUL and group_order and group_order != policy.rule_order:
        raise RemediationError(
            f"Rule group {group.arn} uses rule order {group_order} but firewall policy {policy.arn} uses "
            f"{policy.rule_order}; a policy accepts only stateful rule groups of its own rule order (for an AWS "
            "managed group, choose its variant ending in " + _suffix(policy.rule_order) + "). Nothing changed."
        )
    if group.type == STATEFUL and policy.rule_order != STRICT_ORDER:
        note = f" (Priority {requested} ignored: {DEFAULT_ACTION_ORDER} policies take none)" if requested else ""
        return Association(list_name, _reference(group.arn, None), new=True, note=note)
    taken = {reference.priority: reference.arn for reference in references if reference.priority is not None}
    if requested is not None and requested in taken:
        raise RemediationError(
            f"Priority {requested} is already used by {taken[requested]} in {list_name} of firewall policy "
            f"{policy.arn}; give a free Priority or leave it empty (default: {PRIORITY_STEP} above the highest). "
            "Nothing changed."
        )
    priority = requested if requested is not None else max(taken, default=0) + PRIORITY_STEP
    if priority > MAX_PRIORITY:
        raise RemediationError(f"No room above the highest priority in {list_name} of {policy.arn} "
                               f"(max {MAX_PRIORITY}); give a free Priority. Nothing changed.")
    return Association(list_name, _reference(group.arn, priority), new=True)


def _judge(planned: dict, parameters: Parameters, groups) -> Verdict:
    """The rule's verdict on the policy as planned; a plan it would still judge NON_COMPLIANT is refused."""
    verdict = evaluate(firewall_policy_item(planned), parameters)
    if verdict.compliance == COMPLIANT:
        return verdict
    policy = firewall_policy_from_configuration(planned)
    requirement = parameters.required_rule_group_types
    missing = " and ".join(f"a {kind}" for kind in missing_types(policy, requirement))
    raise RemediationError(
        f"With {' and '.join(group.arn for group, _ in groups)}, firewall policy {policy.arn} would still be "
        f"{verdict.compliance} under requiredRuleGroupTypes {requirement}: {verdict.annotation}. Give {GROUPS} "
        f"{missing} rule group as well ({GROUPS} takes one stateful and one stateless ARN). Nothing changed."
    )


def _verify(nfw, policy_arn: str, associations: list[Association], parameters: Parameters) -> Verdict:
    described = describe_policy(nfw, {"FirewallPolicyArn": policy_arn})
    policy = firewall_policy_from_configuration(described)
    for entry in associations:
        references = policy.stateful_references if entry.list_name == LISTS[STATEFUL] else policy.stateless_references
        group_arn = entry.reference["ResourceArn"]
        if not any(reference.arn == group_arn for reference in references):
            raise RemediationError(f"UpdateFirewallPolicy succeeded but {policy_arn} does not reference {group_arn} "
                                   f"in {entry.list_name} when described again")
    verdict = evaluate(firewall_policy_item(described), parameters)
    if verdict.compliance != COMPLIANT:
        raise RemediationError(f"UpdateFirewallPolicy succeeded but {RULE} still judges {policy_arn} "
                               f"{verdict.compliance} when described again: {verdict.annotation}")
    return verdict


def _reference(arn: str, priority: int | None) -> dict:
    return {"ResourceArn": arn} if priority is None else {"ResourceArn": arn, "Priority": priority}


def _suffix(rule_order: str) -> str:
    return next(suffix for suffix, order in MANAGED_SUFFIXES.items() if order == rule_order)


def _priority(value) -> int | None:
    """Priority: empty means "choose one"; otherwise an integer from 1 to MAX_PRIORITY."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_PRIORITY:
        raise RemediationError(f"Priority must be empty or an integer from 1 to {MAX_PRIORITY}, not {value!r}")
    return int(text)
