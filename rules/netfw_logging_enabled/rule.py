"""netfw-logging-enabled: every firewall sends each required log type to a destination that exists.

Read as AWS reads it (managed rule netfw-logging-enabled, Security Hub NetworkFirewall.2), which asks only that
logging be configured; this rule also asks that every required log type (``logTypes``) have a destination, and,
where an API can say, that the destination exist (S3 bucket, CloudWatch Logs log group, Firehose delivery stream).

The pack's first periodic rule. A firewall's logging configuration is its own resource in Config
(AWS::NetworkFirewall::LoggingConfiguration), so a change-triggered rule on firewalls would not see it change.
``periodic_listing`` lists every firewall of the account and region (ListFirewalls to the end: a complete listing)
with its logging configuration and the existence of each required destination; each is judged by the pure
``evaluate`` and reported on the firewall (AWS::NetworkFirewall::Firewall, its id). Firewalls reported earlier
and gone since are reported NOT_APPLICABLE once by the base (perimeter.periodic); nothing else is touched. The
offline scan attaches the input's LoggingConfiguration items to firewalls by ARN, in whatever order they come
(``relate``), and cannot judge whether destinations exist.

Scenarios (tests/test_rule_netfw_logging_enabled.py mirrors each one by its number):

S1  Given a firewall whose logging configuration sends ALERT to an S3 bucket and FLOW to a CloudWatch Logs log
    group, both existing
    When it is evaluated with the default logTypes "ALERT,FLOW"
    Then COMPLIANT "Logging ALERT to S3 bucket <b>; FLOW to CloudWatchLogs log group <g>"
S2  Given a logging configuration without a FLOW destination (or with none at all)
    Then NON_COMPLIANT "Logging incomplete: FLOW logs have no destination"
S3  Given a destination that an API says does not exist
    Then NON_COMPLIANT "Logging incomplete: ALERT logs go to S3 bucket <b>, which does not exist"
S4  Given a firewall with no logging configuration at all (none recorded in the input, or none attached)
    Then NON_COMPLIANT "No logging configuration recorded"
S5  Given logTypes "ALERT,FLOW,TLS" and no TLS destination
    Then NON_COMPLIANT naming TLS; with logTypes "ALERT" a FLOW gap does not count
S6  Given the offline scan with AWS::NetworkFirewall::LoggingConfiguration items before or after their firewalls,
    matched by firewallArn
    Then each firewall is judged with its own configuration, without judging whether destinations exist
S7  Given the Lambda's periodic run over several firewalls
    Then each listed firewall gets a verdict under AWS::NetworkFirewall::Firewall and its firewall id; a firewall
    deleted since the last run is reported NOT_APPLICABLE "Resource no longer exists" once
S8  Given a change notification (the rule is not change-triggered)
    Then the firewall in it is judged like any listed one (no logging configuration attached: S4)
S9  Given a log destination entry with an unknown logType or logDestinationType, or a logging configuration that
    is not an object
    Then the item is malformed: a clear error naming the item and the field
S10 Given an invalid logTypes value (e.g. "DEBUG") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S11 Given a deleted or not-recorded item, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.firewall import (
    DESTINATIONS_EXIST_KEY, LOGGING_CONFIGURATION_RESOURCE_TYPE, LOGGING_KEY,
    FirewallModelError, firewall_from_configuration, firewall_item, log_destinations,
)
from perimeter.items import configuration_of, field
from perimeter.periodic import PeriodicListing
from perimeter.rules.netfw_logging_enabled.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict, summarise

# The resource types perimeter.scan hands ``relate`` from the same input.
RELATED_RESOURCE_TYPES = (LOGGING_CONFIGURATION_RESOURCE_TYPE,)
NOT_RECORDED = "No logging configuration recorded"
_KINDS = {"S3": "S3 bucket", "CloudWatchLogs": "CloudWatchLogs log group",
          "KinesisDataFirehose": "KinesisDataFirehose delivery stream"}


@dataclass(frozen=True)
class Parameters:
    log_types: tuple[str, ...] = ("ALERT", "FLOW")


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)["logTypes"])


def _supplement(item: dict, key: str):
    supplementary = item.get("supplementaryConfiguration")
    return supplementary.get(key) if isinstance(supplementary, dict) else None


def _existence(item: dict) -> dict:
    exist = _supplement(item, DESTINATIONS_EXIST_KEY)
    if exist is None:
        return {}
    if not isinstance(exist, dict):
        raise FirewallModelError(f"supplementaryConfiguration.{DESTINATIONS_EXIST_KEY} must be an object")
    return exist


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    firewall_from_configuration(configuration_of(item))  # a malformed firewall is an error, logged or not
    logging = _supplement(item, LOGGING_KEY)
    if logging is None:
        return Verdict(NON_COMPLIANT, NOT_RECORDED)
    if not isinstance(logging, dict):
        raise FirewallModelError(f"supplementaryConfiguration.{LOGGING_KEY} must be an object")
    by_type = {destination.log_type: destination for destination in log_destinations(logging)}
    exist = _existence(item)
    gaps, used = [], []
    for log_type in parameters.log_types:
        destination = by_type.get(log_type)
        if destination is None:
            gaps.append(f"{log_type} logs have no destination")
            continue
        where = f"{_KINDS[destination.destination_type]} {destination.name or '(unnamed)'}"
        if destination.name is None or exist.get(log_type) is False:
            gaps.append(f"{log_type} logs go to {where}, which does not exist")
        else:
            used.append(f"{log_type} to {where}")
    if gaps:
        return Verdict(NON_COMPLIANT, summarise("Logging incomplete", gaps))
    return Verdict(COMPLIANT, "Logging " + "; ".join(used))


def relate(item: dict, related: list[dict]) -> dict:
    """The firewall item with its logging configuration from the input's LoggingConfiguration items (matched by
    firewallArn), unless it already carries one (the live scan attaches it). The input item is not changed."""
    if _supplement(item, LOGGING_KEY) is not None:
        return item
    try:
        arn = firewall_from_configuration(configuration_of(item)).arn or item.get("ARN")
    except ValueError:  # malformed: evaluate says what is wrong, naming the item
        return item
    for candidate in related:
        configuration = candidate.get("configuration")
        if isinstance(configuration, dict) and arn and field(configuration, "firewallArn") == arn:
            supplementary = item.get("supplementaryConfiguration")
            supplementary = dict(supplementary) if isinstance(supplementary, dict) else {}
            return {**item, "supplementaryConfiguration": {**supplementary, LOGGING_KEY: configuration}}
    return item


def periodic_listing(client_factory, parameters: Parameters) -> PeriodicListing:
    """Every firewall of the account and region, with its logging configuration and whether the required log
    types' destinations exist. Complete: ListFirewalls is paged to the end (an error fails the run)."""
    from perimeter.firewall_logging import logging_supplement

    clients: dict = {}

    def client(service: str):
        if service not in clients:
            clients[service] = client_factory.build_client(service)
        return clients[service]

    nfw = client("network-firewall")
    items = []
    for page in nfw.get_paginator("list_firewalls").paginate():
        for entry in page.get("Firewalls", []):
            try:
                item = firewall_item(nfw.describe_firewall(FirewallArn=entry["FirewallArn"]))
                supplement = logging_supplement(client, entry["FirewallArn"], parameters.log_types)
            except nfw.exceptions.ResourceNotFoundException:
                continue  # deleted since it was listed: gone, so the complete listing retires it
            items.append({**item, "supplementaryConfiguration": supplement})
    return PeriodicListing(items, complete=True)
