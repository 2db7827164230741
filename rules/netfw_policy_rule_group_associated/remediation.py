"""Remediation of netfw-policy-rule-group-associated: make a firewall policy reference a baseline rule group.

The aws:executeScript handler of runbook.yaml (bundled into the document with the perimeter modules it imports).
It reads the policy (DescribeFirewallPolicy) and the rule group (DescribeRuleGroup), adds one reference to the
group in the stateful or stateless list according to the group's type, with a priority only where the policy's
rule order needs one, and writes the policy back with UpdateFirewallPolicy and the UpdateToken it read. Everything
else is sent back exactly as read: the rest of the policy document, its description and its encryption settings
(the API reference does not promise that an update omitting them keeps them). A stale token means another writer changed the policy: re-read,
re-apply, at most MAX_ATTEMPTS times. Then it describes the policy again to verify.
"""
from __future__ import annotations

import copy
import re

from botocore.exceptions import ClientError

from perimeter.firewall import (
    DEFAULT_ACTION_ORDER, STATEFUL, STATELESS, STRICT_ORDER, firewall_policy_from_configuration,
    rule_group_from_configuration,
)
from perimeter.remediation import boolean_input, client, error_code, exemption_refusal
from perimeter.rules.netfw_policy_rule_group_associated.declaration import DECLARATION

MAX_ATTEMPTS = 5  # UpdateFirewallPolicy tries before giving up on a policy that keeps changing under us
PRIORITY_STEP = 100  # a new reference goes this far above the highest priority of its list
MAX_PRIORITY = 65535  # StatelessRuleGroupReference / StatefulRuleGroupReference Priority maximum
LISTS = {STATEFUL: "StatefulRuleGroupReferences", STATELESS: "StatelessRuleGroupReferences"}
POLICY_ID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")
# AWS managed stateful groups come in two variants, each usable only in policies of that rule order.
MANAGED_SUFFIXES = {"StrictOrder": STRICT_ORDER, "ActionOrder": DEFAULT_ACTION_ORDER}


class RemediationError(Exception):
    """The policy cannot be remediated as asked; the message says why and what to do."""


def handler(events, context):
    nfw = client("network-firewall")
    dry_run = boolean_input(events.get("DryRun", False), "DryRun")
    requested = _priority(events.get("Priority"))
    group, group_order = _describe_rule_group(nfw, events["RuleGroupArn"].strip())
    key = _policy_key(nfw, events["FirewallPolicy"].strip())
    for attempt in range(1, MAX_ATTEMPTS + 1):
        described = _describe_policy(nfw, key)
        # Each read also brings the policy's Tags (FirewallPolicyResponse.Tags): an exempt policy is never changed,
        # even when tagged while we retry, and checking costs no call of its own.
        policy_arn = described["FirewallPolicyResponse"]["FirewallPolicyArn"]
        exempt = exemption_refusal(DECLARATION["id"], described["FirewallPolicyResponse"].get("Tags"), events)
        if exempt:
            return {"Changed": False, "DryRun": dry_run, "PolicyArn": policy_arn, "Attempts": attempt, **exempt}
        list_name, reference, new, note = _plan(described, group, group_order, requested)
        result = {"Changed": False, "DryRun": dry_run, "PolicyArn": policy_arn, "List": list_name,
                  "Reference": reference, "Attempts": attempt}
        if not new:
            return {**result, "Message": f"{group.arn} is already in {list_name} of {policy_arn}; nothing changed"}
        if dry_run:
            return {**result, "Message": f"Dry run: would add {_label(reference)} to {list_name} of {policy_arn}"
                                         f"{note}; nothing changed"}
        try:
            nfw.update_firewall_policy(**_update_request(described, list_name, reference))
        except ClientError as error:
            if error_code(error) == "InvalidTokenException":
                continue  # another writer changed the policy since we read it: re-read and re-apply
            raise
        _verify(nfw, policy_arn, list_name, group.arn)
        return {**result, "Changed": True,
                "Message": f"Added {_label(reference)} to {list_name} of {policy_arn}{note}"}
    raise RemediationError(
        f"Firewall policy {events['FirewallPolicy']} kept changing while being updated: UpdateFirewallPolicy was "
        f"refused with InvalidTokenException {MAX_ATTEMPTS} times in a row, each time after re-reading it. Nothing "
        "was changed; run the remediation again once the other writer is done."
    )


def _plan(described: dict, group, group_order: str | None, requested: int | None):
    """(list name, the reference to add or the one already there, whether it is new, a note for the message)."""
    policy = firewall_policy_from_configuration(described)
    references = policy.stateful_references if group.type == STATEFUL else policy.stateless_references
    list_name = LISTS[group.type]
    for reference in references:
        if reference.arn == group.arn:
            return list_name, _reference(reference.arn, reference.priority), False, ""
    if group.type == STATEFUL and group_order and group_order != policy.rule_order:
        raise RemediationError(
            f"Rule group {group.arn} uses rule order {group_order} but firewall policy {policy.arn} uses "
            f"{policy.rule_order}; a policy accepts only stateful rule groups of its own rule order (for an AWS "
            "managed group, choose its variant ending in " + _suffix(policy.rule_order) + "). Nothing changed."
        )
    if group.type == STATEFUL and policy.rule_order != STRICT_ORDER:
        note = f" (Priority {requested} ignored: {DEFAULT_ACTION_ORDER} policies take none)" if requested else ""
        return list_name, _reference(group.arn, None), True, note
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
    return list_name, _reference(group.arn, priority), True, ""


def _update_request(described: dict, list_name: str, reference: dict) -> dict:
    document = copy.deepcopy(described["FirewallPolicy"])
    document[list_name] = [*document.get(list_name, []), reference]
    response = described["FirewallPolicyResponse"]
    request = {"UpdateToken": described["UpdateToken"], "FirewallPolicyArn": response["FirewallPolicyArn"],
               "FirewallPolicy": document}
    # Sent back as read, so the update cannot clear or reset them.
    for name in ("Description", "EncryptionConfiguration"):
        if response.get(name):
            request[name] = response[name]
    return request


def _verify(nfw, policy_arn: str, list_name: str, group_arn: str) -> None:
    policy = firewall_policy_from_configuration(_describe_policy(nfw, {"FirewallPolicyArn": policy_arn}))
    references = policy.stateful_references if list_name == LISTS[STATEFUL] else policy.stateless_references
    if not any(reference.arn == group_arn for reference in references):
        raise RemediationError(f"UpdateFirewallPolicy succeeded but {policy_arn} does not reference {group_arn} "
                               f"in {list_name} when described again")


def _describe_rule_group(nfw, arn: str):
    """The rule group model and, for a stateful group, its rule order (None when nothing says)."""
    try:
        described = nfw.describe_rule_group(RuleGroupArn=arn)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise RemediationError(f"Rule group {arn} does not exist in this account and Region; "
                                   "nothing changed") from None
        raise
    group = rule_group_from_configuration(described, arn)
    if group.type not in LISTS:
        raise RemediationError(f"Cannot tell whether rule group {arn} is stateful or stateless")
    if group.type != STATEFUL:
        return group, None
    if ":aws-managed:" in group.arn:  # AWS managed rules are not published; the name says the order
        return group, next((order for suffix, order in MANAGED_SUFFIXES.items()
                            if (group.name or "").endswith(suffix)), None)
    body = described.get("RuleGroup")
    if body is None:
        return group, None
    return group, (body.get("StatefulRuleOptions") or {}).get("RuleOrder", DEFAULT_ACTION_ORDER)


def _policy_key(nfw, given: str) -> dict:
    """DescribeFirewallPolicy's identifying argument for an ARN, a name, or a policy id (looked up)."""
    if given.startswith("arn:"):
        return {"FirewallPolicyArn": given}
    if POLICY_ID.match(given):
        for page in nfw.get_paginator("list_firewall_policies").paginate():
            for entry in page["FirewallPolicies"]:
                response = _describe_policy(nfw, {"FirewallPolicyArn": entry["Arn"]})["FirewallPolicyResponse"]
                if response["FirewallPolicyId"] == given:
                    return {"FirewallPolicyArn": entry["Arn"]}
    return {"FirewallPolicyName": given}  # a name (names may look like ids too)


def _describe_policy(nfw, key: dict) -> dict:
    try:
        return nfw.describe_firewall_policy(**key)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise RemediationError(f"Firewall policy {next(iter(key.values()))} does not exist in this account and "
                                   "Region (no policy has that ARN, name or policy id); nothing changed") from None
        raise


def _reference(arn: str, priority: int | None) -> dict:
    return {"ResourceArn": arn} if priority is None else {"ResourceArn": arn, "Priority": priority}


def _label(reference: dict) -> str:
    priority = reference.get("Priority")
    return reference["ResourceArn"] + ("" if priority is None else f" at priority {priority}")


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
