"""Remediation of netfw-logging-enabled: the handler of runbook.yaml's Remediate step.

Each required log type (the rule's logTypes, the runbook's LogTypes) without a destination gets the one given
(LogDestinationType and the bucket (+ prefix), log group or delivery stream), which must exist. A required type whose
destination does not exist (the rule's "which does not exist", judged by the same checks as the Lambda's,
perimeter.firewall_logging) is pointed at the given destination instead:
- same LogDestinationType: its LogDestination is replaced in place, one call ("Relocate");
- another type: it is deleted, then the given one created, two calls ("Remove", "Add"), because "You can't change
  the LogDestinationType or LogType in a LogDestinationConfig. To change these settings, delete the existing
  LogDestinationConfig object and create a new one, using two separate calls" (API reference,
  UpdateLoggingConfiguration). Between the two the type has no destination; it had none that existed before.
Every other destination (other log types, required types whose destination exists) stays exactly as read.

UpdateLoggingConfiguration: "You can perform only one of the following actions in any call: create a new log
destination object ..., delete a log destination object ..., change the LogDestination setting in a single
LogDestinationConfig" (API reference). So each change is its own call, planned from a fresh
DescribeLoggingConfiguration (re-read after every call), and a call refused with InvalidTokenException (the API
declares it: a concurrent change of the firewall) is re-read, re-planned and retried, at most MAX_ATTEMPTS times in a
row. The request takes no UpdateToken. Afterwards the firewall and its logging are read again and judged by the
rule's own evaluate, with the destinations' existence checked as the Lambda checks it.
"""
from __future__ import annotations

from typing import NamedTuple

from botocore.exceptions import ClientError

from perimeter.firewall import (
    DESTINATIONS_EXIST_KEY, LOG_DESTINATION_KEYS, LOG_TYPES, LOGGING_KEY, LogDestination, firewall_item,
)
from perimeter.firewall_logging import destination_exists, logging_supplement
from perimeter.firewall_remediation import (
    FIREWALL_PARAMETER, describe_firewall, firewall_key, gone_if_not_found, judge, retry_stale_token,
)
from perimeter.remediation import (
    InputError, RemediationError, boolean_input, client, exemption_refusal, outcome, rule_parameters,
)
from perimeter.rules.netfw_logging_enabled.rule import evaluate, parse_parameters

RULE = "netfw-logging-enabled"
RULE_PARAMETERS = {"LogTypes": "logTypes"}
TYPE_PARAMETER = "LogDestinationType"
NAME_PARAMETERS = {"S3": "LogBucketName", "CloudWatchLogs": "LogGroupName", "KinesisDataFirehose": "DeliveryStreamName"}
PREFIX_PARAMETER = "LogBucketPrefix"
MAX_CHANGES = 2 * len(LOG_TYPES)  # at most two calls (remove, add) per log type


class Change(NamedTuple):
    action: str  # Add, Relocate or Remove
    config: dict  # the LogDestinationConfig added, relocated to, or removed
    replaced: dict | None = None  # Relocate: the LogDestination it had

    def output(self) -> dict:
        entry = {"Action": self.action, **self.config}
        return entry if self.replaced is None else {**entry, "ReplacedLogDestination": self.replaced}


def handler(events, context):
    run = {"FirewallArn": "", "DryRun": True, "Changed": False, "Planned": [], "Changes": [], "Attempts": 0,
           "Message": ""}
    try:
        run["DryRun"] = boolean_input(events.get("DryRun", True), "DryRun")
        parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
        given = given_destination(events)
        nfw = client("network-firewall")
        described = describe_firewall(nfw, firewall_key(nfw, events[FIREWALL_PARAMETER]))
        arn = run["FirewallArn"] = described["Firewall"]["FirewallArn"]
        exempt = exemption_refusal(RULE, described["Firewall"].get("Tags"))
        if exempt:
            return outcome({**run, **exempt}, None)
        remediate(nfw, arn, parameters, given, run)
    except Exception as error:  # returned, not raised: the outputs must exist on failure too
        return outcome(run, error)
    return outcome(run, None)


def remediate(nfw, arn: str, parameters, given: dict, run: dict) -> None:
    clients = {"network-firewall": nfw}

    def service(name: str):
        if name not in clients:
            clients[name] = client(name)
        return clients[name]

    def read() -> tuple[list, dict]:
        try:
            supplement = logging_supplement(service, arn, parameters.log_types)
        except ClientError as error:
            raise gone_if_not_found(error, arn) from None
        return supplement[LOGGING_KEY][LOGGING_KEY]["LogDestinationConfigs"], supplement[DESTINATIONS_EXIST_KEY]

    state = read()
    planned = plan(*state, parameters.log_types, given)
    run["Planned"] = [change.output() for change in planned]
    if planned:  # the given destination is used: it has to exist (a dangling one is what we are fixing)
        where = describe_destination(given)
        name = given["LogDestination"][LOG_DESTINATION_KEYS[given["LogDestinationType"]]]
        if not destination_exists(service, LogDestination("", given["LogDestinationType"], name)):
            raise RemediationError(f"The given destination, {where}, does not exist: create it first (or give "
                                   "another). Nothing changed.")
    if not planned:
        verdict = _verify(nfw, service, arn, parameters, "Nothing to do")
        run["Message"] = f"{RULE} already judges {arn} COMPLIANT ({verdict.annotation}); nothing changed"
        return
    summary = "; ".join(_label(change) for change in planned)
    if run["DryRun"]:
        run["Message"] = f"Dry run: would change the logging of {arn}: {summary}; nothing changed"
        return

    done: list[Change] = []

    def write(current: tuple[list, dict]) -> Change | None:
        step = next_change(*current, parameters.log_types, given)
        if step is None:
            return None
        change, wanted = step
        run["Attempts"] += 1
        try:
            nfw.update_logging_configuration(FirewallArn=arn, LoggingConfiguration={"LogDestinationConfigs": wanted})
        except ClientError as error:
            raise gone_if_not_found(error, arn) from None
        done.append(change)
        run["Changes"].append(change.output())
        run["Changed"] = True
        return change

    for _ in range(MAX_CHANGES):
        if retry_stale_token(state, read, write, f"Changing the logging configuration of {arn}") is None:
            break
        state = read()  # re-read after every call: the next change is planned from what AWS holds now
    else:
        raise RemediationError(f"The logging configuration of {arn} still needed changes after {MAX_CHANGES} calls: "
                               "another writer is changing it too")
    verdict = _verify(nfw, service, arn, parameters, "Changed the logging configuration")
    run["Message"] = f"Changed the logging of {arn}: {'; '.join(_label(change) for change in done)}; {RULE} now " \
                     f"judges it COMPLIANT ({verdict.annotation})"


def plan(configs: list, exist: dict, log_types, given: dict) -> list[Change]:
    """Every change, in order, that the run would make (pure; the given destination counts as existing)."""
    changes, exist = [], dict(exist)
    for _ in range(MAX_CHANGES):
        step = next_change(configs, exist, log_types, given)
        if step is None:
            break
        change, configs = step
        changes.append(change)
        if change.action == "Remove":
            exist.pop(change.config["LogType"], None)
        else:
            exist[change.config["LogType"]] = True
    return changes


def next_change(configs: list, exist: dict, log_types, given: dict) -> tuple[Change, list] | None:
    """The next change (one UpdateLoggingConfiguration call) and the LogDestinationConfigs it asks for, or None."""
    position = {config["LogType"]: index for index, config in enumerate(configs)}
    for log_type in log_types:
        if log_type not in position:
            config = {"LogType": log_type, **given}
            return Change("Add", config), [*configs, config]
        index = position[log_type]
        current = configs[index]
        if exist.get(log_type) is True:
            continue  # exists: kept as it is
        if current["LogDestinationType"] == given["LogDestinationType"]:
            config = {**current, "LogDestination": given["LogDestination"]}
            return Change("Relocate", config, current["LogDestination"]), \
                [*configs[:index], config, *configs[index + 1:]]
        return Change("Remove", current), [*configs[:index], *configs[index + 1:]]
    return None


def given_destination(events: dict) -> dict:
    """LogDestinationType and LogDestination from the runbook's parameters."""
    kind = str(events.get(TYPE_PARAMETER) or "").strip()
    if kind not in NAME_PARAMETERS:
        raise InputError(f"parameter {TYPE_PARAMETER}: {kind!r} is not one of {', '.join(NAME_PARAMETERS)}")
    name = str(events.get(NAME_PARAMETERS[kind]) or "").strip()
    if not name:
        raise InputError(f"parameter {NAME_PARAMETERS[kind]}: required with {TYPE_PARAMETER} {kind}")
    destination = {LOG_DESTINATION_KEYS[kind]: name}
    prefix = str(events.get(PREFIX_PARAMETER) or "").strip()
    if prefix and kind == "S3":
        destination["prefix"] = prefix
    return {"LogDestinationType": kind, "LogDestination": destination}


def describe_destination(config: dict) -> str:
    kind = config["LogDestinationType"]
    noun = {"S3": "S3 bucket", "CloudWatchLogs": "CloudWatchLogs log group",
            "KinesisDataFirehose": "KinesisDataFirehose delivery stream"}[kind]
    return f"{noun} {config['LogDestination'].get(LOG_DESTINATION_KEYS[kind], '(unnamed)')}"


def _label(change: Change) -> str:
    log_type = change.config["LogType"]
    if change.action == "Remove":
        return f"remove {log_type} logs' {describe_destination(change.config)}, which does not exist"
    return f"send {log_type} logs to {describe_destination(change.config)}" + \
        (" instead of one that does not exist" if change.action == "Relocate" else "")


def _verify(nfw, service, arn: str, parameters, after: str):
    """The rule's verdict on the firewall and its logging as read now, destinations checked as the Lambda does."""
    described = describe_firewall(nfw, {"FirewallArn": arn})
    try:
        supplement = logging_supplement(service, arn, parameters.log_types)
    except ClientError as error:
        raise gone_if_not_found(error, arn) from None
    item = {**firewall_item(described), "supplementaryConfiguration": supplement}
    return judge(RULE, item, parameters, evaluate, arn, after)
