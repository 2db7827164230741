"""What the firewall-policy runbooks share: find the policy, read it, plan, update it with its UpdateToken, verify.

Used by the remediation scripts of netfw-policy-rule-group-associated, netfw-policy-default-action-full-packets,
netfw-policy-default-action-fragment-packets and netfw-policy-stateful-strict-order (remediation layer: boto3).

- ``policy_key``: DescribeFirewallPolicy's identifying argument for what the runbook was given: an ARN, a name, or
  the policy id Config passes as the resource id (looked up with ListFirewallPolicies).
- ``read_plan_update``: each attempt reads the policy, refuses an exempt one (its Tags come with every read), asks
  the caller's plan for the policy as it should be, and sends it with the UpdateToken it read. UpdateFirewallPolicy
  answers a stale token with InvalidTokenException (API reference, UpdateFirewallPolicy: "the token marks the state
  of the policy resource at the time of the request"): another writer changed the policy, so it is read and planned
  again, at most MAX_ATTEMPTS times, so the other writer's change is kept.
- ``update_request``: everything is sent back as read, the description and encryption configuration included: the
  API reference does not promise that an update omitting them keeps them.
- ``verify``: describe the policy again and judge it with the rule's own evaluate.
- ``remediate_action_list``: the handler of a runbook that rewrites one action list of the policy, given what to
  change (``ActionListRemedy``): the stateless default-action runbooks (``stateless_default_action_remedy``: full
  and fragmented packets differ only in the setting) and the strict-order runbook (StatefulDefaultActions).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Mapping, NamedTuple

from botocore.exceptions import ClientError

from perimeter.firewall import STANDARD_STATELESS_ACTIONS, firewall_policy_item, standard_stateless_action
from perimeter.remediation import (
    NFW_NOT_FOUND, NFW_STALE_TOKEN, InputError, RemediationError, boolean_input, client, error_code,
    exemption_refusal, network_firewall_key, outcome, rule_parameters, unless_gone,
)
from perimeter.verdicts import COMPLIANT, Verdict

MAX_ATTEMPTS = 5  # UpdateFirewallPolicy tries before giving up on a policy that keeps changing under us
STALE_TOKEN, NOT_FOUND = NFW_STALE_TOKEN, NFW_NOT_FOUND
# A plan: the policy as described -> (the described policy as it should be, or None to change nothing; detail).
Plan = Callable[[dict], "tuple[dict | None, Any]"]


class PolicyRun(NamedTuple):
    """How read_plan_update ended: the policy as last read, the plan for it, and whether it was updated."""

    described: dict
    planned: dict | None  # None: nothing to change (or exempt)
    detail: Any  # what the plan returned besides the policy
    attempts: int
    exempt: dict | None  # exemption_refusal's outputs when the policy is exempt
    updated: bool

    @property
    def policy_arn(self) -> str:
        return policy_arn(self.described)


def policy_arn(described: dict) -> str:
    return described["FirewallPolicyResponse"]["FirewallPolicyArn"]


def policy_key(nfw, given: str) -> dict:
    """DescribeFirewallPolicy's identifying argument for an ARN, a name, or a policy id (looked up)."""
    return network_firewall_key(
        given, "FirewallPolicyArn", "FirewallPolicyName",
        lambda: (entry["Arn"] for page in nfw.get_paginator("list_firewall_policies").paginate()
                 for entry in page["FirewallPolicies"]),
        lambda arn: nfw.describe_firewall_policy(FirewallPolicyArn=arn)["FirewallPolicyResponse"]["FirewallPolicyId"])


def describe_policy(nfw, key: dict) -> dict:
    return unless_gone(lambda: nfw.describe_firewall_policy(**key), lambda: RemediationError(
        f"Firewall policy {next(iter(key.values()))} does not exist in this account and Region (no policy has that "
        "ARN, name or policy id); nothing changed"))


def update_request(planned: dict) -> dict:
    response = planned["FirewallPolicyResponse"]
    request = {"UpdateToken": planned["UpdateToken"], "FirewallPolicyArn": response["FirewallPolicyArn"],
               "FirewallPolicy": planned["FirewallPolicy"]}
    # Sent back as read, so the update cannot clear or reset them.
    for name in ("Description", "EncryptionConfiguration"):
        if response.get(name):
            request[name] = response[name]
    return request


def read_plan_update(nfw, key: dict, rule_id: str, plan: Plan, *, dry_run: bool, given: str,
                     outputs: dict | None = None) -> PolicyRun:
    """Read, refuse if exempt, plan, and (unless a dry run or nothing to change) update with the token read.

    ``outputs``, when given, is kept up to date with ``PolicyArn`` and ``Attempts`` for a run that fails later."""
    outputs = {} if outputs is None else outputs
    for attempt in range(1, MAX_ATTEMPTS + 1):
        outputs["Attempts"] = attempt
        described = describe_policy(nfw, key)
        outputs["PolicyArn"] = arn = policy_arn(described)
        # Each read brings the policy's Tags: exempt (even if tagged during retries) means unchanged, at no extra call.
        exempt = exemption_refusal(rule_id, described["FirewallPolicyResponse"].get("Tags"))
        if exempt:
            return PolicyRun(described, None, None, attempt, exempt, updated=False)
        planned, detail = plan(described)
        if planned is None or dry_run:
            return PolicyRun(described, planned, detail, attempt, None, updated=False)
        try:
            nfw.update_firewall_policy(**update_request(planned))
        except ClientError as error:
            if error_code(error) == STALE_TOKEN:
                continue  # another writer changed the policy since we read it: re-read and re-plan
            if error_code(error) == NOT_FOUND:
                raise RemediationError(f"Firewall policy {arn} was deleted after it was read: UpdateFirewallPolicy "
                                       f"answered {NOT_FOUND}. Nothing was changed.") from None
            raise
        return PolicyRun(described, planned, detail, attempt, None, updated=True)
    raise RemediationError(
        f"Firewall policy {given} kept changing while being updated: UpdateFirewallPolicy was refused with "
        f"{STALE_TOKEN} {MAX_ATTEMPTS} times in a row, each time after re-reading it. Nothing was changed; run the "
        "remediation again once the other writer is done."
    )


def judge(described: dict, evaluate: Callable[[dict, Any], Verdict], parameters: Any) -> Verdict:
    """The rule's verdict on a DescribeFirewallPolicy response, read as the item Config would record."""
    return evaluate(firewall_policy_item(described), parameters)


def verify(nfw, arn: str, rule_id: str, evaluate, parameters) -> tuple[dict, Verdict]:
    """The policy described again after the update, and the rule's COMPLIANT verdict on it; else a loud failure."""
    described = unless_gone(lambda: nfw.describe_firewall_policy(FirewallPolicyArn=arn), lambda: RemediationError(
        f"UpdateFirewallPolicy succeeded but {arn} no longer exists when described again: it was deleted meanwhile"))
    verdict = judge(described, evaluate, parameters)
    if verdict.compliance != COMPLIANT:
        raise RemediationError(f"UpdateFirewallPolicy succeeded but {rule_id} still judges {arn} "
                               f"{verdict.compliance} when described again: {verdict.annotation}")
    return described, verdict


# --- runbooks that rewrite one action list of the policy ----------------------------------------------------------
class ActionListRemedy(NamedTuple):
    """A runbook that rewrites one action list of the policy (StatelessDefaultActions, StatefulDefaultActions...).

    ``prepare(events, parameters)`` checks the runbook's own inputs before any call and returns what ``change``
    needs; ``change(described, actions, prepared)`` returns the list as it should be, or raises RemediationError to
    refuse. It is asked only about a policy the rule judges NON_COMPLIANT."""

    rule_id: str
    setting: str  # the FirewallPolicy member, API spelling
    twins: Mapping[str, str]  # runbook parameter -> the rule parameter it carries
    parse_parameters: Callable[[dict], Any]
    evaluate: Callable[[dict, Any], Verdict]
    prepare: Callable[[dict, Any], Any]
    change: Callable[[dict, list, Any], list]


def remediate_action_list(events: dict, remedy: ActionListRemedy) -> dict:
    """The runbook's handler: outputs ``Changed``, ``DryRun``, ``PolicyArn``, ``Setting``, ``Before`` / ``After`` (the
    list as read and as written: enough to restore it), ``Attempts``, ``Message``; returned with any failure
    (perimeter.remediation.outcome), which the document's Fail step raises."""
    setting = remedy.setting
    outputs = {"Changed": False, "DryRun": True, "PolicyArn": "", "Setting": setting, "Before": [], "After": [],
               "Attempts": 0, "Message": ""}
    try:
        outputs["DryRun"] = dry_run = boolean_input(events.get("DryRun", True), "DryRun")
        parameters = rule_parameters(events, remedy.twins, remedy.parse_parameters)
        prepared = remedy.prepare(events, parameters)
        given = str(events["FirewallPolicy"]).strip()
        nfw = client("network-firewall")

        def plan(described: dict):
            actions = list(described["FirewallPolicy"].get(setting) or [])
            outputs["Before"] = outputs["After"] = actions
            verdict = judge(described, remedy.evaluate, parameters)
            if verdict.compliance == COMPLIANT:
                return None, verdict
            planned = copy.deepcopy(described)
            planned["FirewallPolicy"][setting] = outputs["After"] = remedy.change(described, actions, prepared)
            return planned, judge(planned, remedy.evaluate, parameters)

        run = read_plan_update(nfw, policy_key(nfw, given), remedy.rule_id, plan, dry_run=dry_run, given=given,
                               outputs=outputs)
        if run.exempt:
            return outcome({**outputs, "Before": [], "After": [], **run.exempt}, None)
        arn, verdict = run.policy_arn, run.detail
        if run.planned is None:
            outputs["Message"] = f"{remedy.rule_id} judges {arn} COMPLIANT ({verdict.annotation}); nothing changed"
        elif dry_run:
            outputs["Message"] = (f"Dry run: would set {setting} of {arn} from {_listed(outputs['Before'])} to "
                                  f"{_listed(outputs['After'])}, after which {remedy.rule_id} would judge it "
                                  f"COMPLIANT ({verdict.annotation}); nothing changed")
        else:
            outputs["Changed"] = True
            described, verdict = verify(nfw, arn, remedy.rule_id, remedy.evaluate, parameters)
            outputs["After"] = described["FirewallPolicy"].get(setting) or []
            outputs["Message"] = (f"Set {setting} of {arn} from {_listed(outputs['Before'])} to "
                                  f"{_listed(outputs['After'])}; {remedy.rule_id} now judges it COMPLIANT "
                                  f"({verdict.annotation})")
    except Exception as error:  # returned, not raised: the outputs must exist on failure too
        return outcome(outputs, error)
    return outcome(outputs, None)


def _listed(actions: list) -> str:
    return "[" + ", ".join(actions) + "]"


# --- the stateless default-action runbooks (full packets, fragmented packets) ---------------------------------
DEFAULT_TARGET_ACTION = "aws:forward_to_sfe"


def stateless_default_action_remedy(rule_id: str, setting: str, rule_parameter: str, parse_parameters,
                                    evaluate) -> ActionListRemedy:
    """The runbook of a stateless default-action rule: the standard action of ``setting`` (StatelessDefaultActions
    or StatelessFragmentDefaultActions) becomes ``TargetAction``; custom actions stay, in their places. The runbook
    parameter carrying the rule's allowed actions is named like the setting (``statelessDefaultActions`` ->
    ``StatelessDefaultActions``)."""
    runbook_parameter = rule_parameter[:1].upper() + rule_parameter[1:]

    def prepare(events: dict, parameters) -> str:
        """TargetAction: a standard action that the rule's parameter allows, else the run is refused."""
        value = events.get("TargetAction", DEFAULT_TARGET_ACTION)
        target, allowed = str(value).strip(), parameters.allowed
        if target not in STANDARD_STATELESS_ACTIONS:
            raise InputError(f"parameter TargetAction: {value!r} is not one of "
                             f"{', '.join(STANDARD_STATELESS_ACTIONS)}")
        if target not in allowed:
            raise InputError(f"parameter TargetAction: {target} is not allowed by {runbook_parameter} (rule "
                             f"parameter {rule_parameter}: {', '.join(allowed)}); the policy would still be "
                             f"NON_COMPLIANT. Give one of {', '.join(allowed)}. Nothing changed.")
        return target

    def change(described: dict, actions: list, target: str) -> list:
        standard = standard_stateless_action(tuple(actions), setting)
        return [target if action == standard else action for action in actions]  # custom actions in place

    return ActionListRemedy(rule_id, setting, {runbook_parameter: rule_parameter}, parse_parameters, evaluate,
                            prepare, change)
