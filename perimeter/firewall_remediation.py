"""What the firewall runbooks share: find the firewall Config names, read it, update it with bounded retries of a
stale UpdateToken, and judge it afterwards with the rule's own evaluate.

Used by the remediation scripts of netfw-firewall-deletion-protection, netfw-firewall-change-protection (both through
``protection_handler``) and netfw-logging-enabled. Policy runbooks have their own module.

- Which firewall: Config's resource id of an AWS::NetworkFirewall::Firewall is the firewall's id (a UUID), and that is
  what a remediation configuration passes (RESOURCE_ID). DescribeFirewall takes only FirewallName or FirewallArn (API
  reference, DescribeFirewall), so an id is resolved by listing the firewalls (ListFirewalls, every page) and
  describing each until one has that FirewallId. An ARN or a name is used as given, for runs started by hand.
- UpdateToken: every Update*Protection call carries the token of the DescribeFirewall it was planned from; a
  concurrent writer makes it stale and the call fails with InvalidTokenException (API reference,
  UpdateFirewallDeleteProtection). The caller then re-reads, re-plans (the other writer may have done the work) and
  tries again, at most MAX_ATTEMPTS times in a row before failing with what it changed so far.
- A firewall deleted mid-run: every read and update answers ResourceNotFoundException, raised as FirewallGone.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from botocore.exceptions import ClientError

from perimeter.firewall import firewall_item
from perimeter.remediation import (
    NFW_NOT_FOUND, NFW_STALE_TOKEN, RemediationError, boolean_input, client, error_code, exemption_refusal,
    network_firewall_key, outcome, rule_parameters, unless_gone,
)
from perimeter.verdicts import COMPLIANT, Verdict

MAX_ATTEMPTS = 5  # calls refused with InvalidTokenException in a row before the run gives up
STALE_TOKEN, NOT_FOUND = NFW_STALE_TOKEN, NFW_NOT_FOUND
FIREWALL_PARAMETER = "Firewall"  # the runbooks' resourceIdParameter


class FirewallGone(RemediationError):
    """The firewall does not exist (any more): given wrong, or deleted while the run was working on it."""


def firewall_key(nfw, given: str) -> dict:
    """DescribeFirewall's identifying argument for an ARN, a name, or a firewall id (looked up, see above)."""
    return network_firewall_key(
        given.strip(), "FirewallArn", "FirewallName",
        lambda: (entry["FirewallArn"] for page in nfw.get_paginator("list_firewalls").paginate()
                 for entry in page["Firewalls"]),
        lambda arn: nfw.describe_firewall(FirewallArn=arn)["Firewall"].get("FirewallId"))


def describe_firewall(nfw, key: dict) -> dict:
    return unless_gone(lambda: nfw.describe_firewall(**key), lambda: FirewallGone(
        f"Firewall {next(iter(key.values()))} does not exist in this account and Region (no firewall has that ARN, "
        "name or firewall id, or it was deleted during the run)"))


def gone_if_not_found(error: ClientError, arn: str) -> Exception:
    """The error to raise for a failed call on the firewall: FirewallGone when it no longer exists."""
    if error_code(error) == NOT_FOUND:
        return FirewallGone(f"Firewall {arn} no longer exists: it was deleted during the run")
    return error


def retry_stale_token(state, read: Callable[[], object], write: Callable[[object], object], what: str):
    """``write(state)``; each time it is refused with InvalidTokenException, ``write(read())`` again, at most
    MAX_ATTEMPTS calls in all. ``write`` re-plans from what it is given and may find nothing left to do."""
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            state = read()
        try:
            return write(state)
        except ClientError as error:
            if error_code(error) != STALE_TOKEN:
                raise
    raise RemediationError(f"{what}: refused with {STALE_TOKEN} {MAX_ATTEMPTS} times in a row, each time after "
                           "re-reading the firewall: another writer keeps changing it. Run the remediation again "
                           "once it is done.")


def judge(rule_id: str, item: dict, parameters, evaluate: Callable[[dict, object], Verdict], arn: str,
          after: str) -> Verdict:
    """The rule's verdict on the firewall as read again; RemediationError unless COMPLIANT."""
    verdict = evaluate(item, parameters)
    if verdict.compliance != COMPLIANT:
        raise RemediationError(f"{after} but {rule_id} still judges {arn} {verdict.compliance} when read again: "
                               f"{verdict.annotation}")
    return verdict


class Protection(NamedTuple):
    """A protection a rule's runbook turns on. Each rule's remediation.py defines its own, writing out the call, so
    that the IAM check of its runbook (tests/test_templates.py) sees exactly the calls that runbook makes."""

    setting: str  # the DescribeFirewall / Update*Protection member
    update: Callable  # (client, **request): the Update*Protection call
    label: str


class ProtectionRule(NamedTuple):
    """What protection_handler needs of a rule: its id, runbook -> rule parameter twins, its parser and evaluate,
    and the protections its parameters require."""

    rule_id: str
    twins: dict
    parse_parameters: Callable
    evaluate: Callable
    required: Callable[[object], list[Protection]]


def protection_handler(events: dict, rule: ProtectionRule) -> dict:
    """Turn on each protection the rule requires and the firewall lacks, one Update*Protection call each with the
    UpdateToken; then judge the firewall, described again, with the rule. Failures are returned with the outputs
    (perimeter.remediation.outcome): ``Enabled`` says what this run turned on before it failed."""
    run = {"FirewallArn": "", "DryRun": True, "Changed": False, "Planned": [], "Enabled": [], "Attempts": 0,
           "Message": ""}
    try:
        run["DryRun"] = boolean_input(events.get("DryRun", True), "DryRun")
        parameters = rule_parameters(events, rule.twins, rule.parse_parameters)
        nfw = client("network-firewall")
        described = describe_firewall(nfw, firewall_key(nfw, events[FIREWALL_PARAMETER]))
        arn = run["FirewallArn"] = described["Firewall"]["FirewallArn"]
        exempt = exemption_refusal(rule.rule_id, described["Firewall"].get("Tags"))
        if exempt:
            return outcome({**run, **exempt}, None)
        planned = [p for p in rule.required(parameters) if described["Firewall"].get(p.setting) is not True]
        run["Planned"] = [p.setting for p in planned]
        labels = " and ".join(p.label for p in planned)
        if not planned:
            verdict = judge(rule.rule_id, firewall_item(described), parameters, rule.evaluate, arn, "Nothing to do")
            run["Message"] = f"{rule.rule_id} already judges {arn} COMPLIANT ({verdict.annotation}); nothing changed"
        elif run["DryRun"]:
            run["Message"] = f"Dry run: would turn on {labels} of {arn}; nothing changed"
        else:
            for protection in planned:
                described = _enable(nfw, described, protection, run)
            verdict = judge(rule.rule_id, firewall_item(describe_firewall(nfw, {"FirewallArn": arn})), parameters,
                            rule.evaluate, arn, f"Turned on {labels}")
            ours = " and ".join(p.label for p in planned if p.setting in run["Enabled"])
            theirs = " and ".join(p.label for p in planned if p.setting not in run["Enabled"])
            done = (f"Turned on {ours} of {arn}" if ours else f"Nothing changed on {arn}") + \
                (f"; another writer turned on {theirs} meanwhile" if theirs else "")
            run["Message"] = f"{done}; {rule.rule_id} now judges it COMPLIANT ({verdict.annotation})"
    except Exception as error:  # returned, not raised: the outputs must exist on failure too
        return outcome(run, error)
    return outcome(run, None)


def _enable(nfw, described: dict, protection: Protection, run: dict) -> dict:
    """Turn ``protection`` on, planned from ``described``; the firewall as it is afterwards (its new UpdateToken)."""
    arn = described["Firewall"]["FirewallArn"]

    def write(current: dict) -> dict:
        if current["Firewall"].get(protection.setting) is True:
            return current  # turned on by someone else meanwhile: nothing left to do
        run["Attempts"] += 1
        try:
            response = protection.update(nfw, FirewallArn=arn, UpdateToken=current["UpdateToken"],
                                         **{protection.setting: True})
        except ClientError as error:
            raise gone_if_not_found(error, arn) from None
        run["Enabled"].append(protection.setting)
        run["Changed"] = True
        return {**current, "UpdateToken": response["UpdateToken"],
                "Firewall": {**current["Firewall"], protection.setting: True}}

    return retry_stale_token(described, lambda: describe_firewall(nfw, {"FirewallArn": arn}), write,
                             f"Turning on {protection.label}")
