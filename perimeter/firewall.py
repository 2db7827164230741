"""Network Firewall policy and rule-group models.

Recorded items spell fields in camelCase (``configuration.firewallPolicy``, ``firewallPolicyResponse``,
``configuration.ruleGroup``, ``ruleGroupResponse``); DescribeFirewallPolicy / DescribeRuleGroup and
CloudFormation exports spell them in PascalCase. Both are read, field by field. Pure stdlib.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from perimeter.items import field

STATEFUL = "STATEFUL"
STATELESS = "STATELESS"
STRICT_ORDER = "STRICT_ORDER"
DEFAULT_ACTION_ORDER = "DEFAULT_ACTION_ORDER"

# ARN resource prefixes that carry the rule group's type.
_ARN_TYPES = {"stateful-rulegroup": STATEFUL, "stateless-rulegroup": STATELESS}


class FirewallModelError(ValueError):
    """A firewall policy or rule group cannot be read; the message says which field."""


@dataclass(frozen=True)
class RuleGroupReference:
    arn: str
    priority: int | None
    override_action: str | None = None


@dataclass(frozen=True)
class FirewallPolicy:
    name: str | None
    arn: str | None
    stateless_references: tuple[RuleGroupReference, ...]
    stateful_references: tuple[RuleGroupReference, ...]
    stateless_default_actions: tuple[str, ...]
    stateless_fragment_default_actions: tuple[str, ...]
    stateful_default_actions: tuple[str, ...]
    rule_order: str  # STRICT_ORDER or DEFAULT_ACTION_ORDER (AWS's default when unset)


@dataclass(frozen=True)
class RuleGroup:
    name: str | None
    arn: str | None
    type: str | None  # STATEFUL, STATELESS, or None when nothing in the item says
    has_rules_source: bool  # False when the item carries no rulesSource at all (not read, not empty)
    stateless_rule_count: int
    stateful_rule_count: int  # statefulRules entries
    rules_string_lines: int  # Suricata lines that are neither blank nor comments
    domain_list_targets: int  # rulesSourceList targets


def _object(value: Any, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FirewallModelError(f"{name} must be an object, not {type(value).__name__}")
    return value


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FirewallModelError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _strings(value: Any, name: str) -> tuple[str, ...]:
    entries = _list(value, name)
    if not all(isinstance(entry, str) for entry in entries):
        raise FirewallModelError(f"{name} must be a list of strings")
    return tuple(entries)


def _priority(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FirewallModelError(f"{name} priority {value!r} is not an integer")
    return value


def _references(value: Any, name: str) -> tuple[RuleGroupReference, ...]:
    references = []
    for entry in _list(value, name):
        entry = _object(entry, f"{name} entry")
        arn = field(entry, "resourceArn")
        if not isinstance(arn, str) or not arn:
            raise FirewallModelError(f"{name} entry {entry!r} has no resourceArn")
        override = _object(field(entry, "override"), f"{name} override")
        references.append(RuleGroupReference(arn, _priority(field(entry, "priority"), name), field(override, "action")))
    return tuple(references)


def firewall_policy_from_configuration(configuration: dict) -> FirewallPolicy:
    """From an item's configuration or a DescribeFirewallPolicy response. A missing policy body,
    or missing reference lists, mean no rule groups."""
    body = _object(field(configuration, "firewallPolicy"), "firewallPolicy")
    response = _object(field(configuration, "firewallPolicyResponse"), "firewallPolicyResponse")
    engine = _object(field(body, "statefulEngineOptions"), "statefulEngineOptions")
    rule_order = field(engine, "ruleOrder") or DEFAULT_ACTION_ORDER
    if rule_order not in (STRICT_ORDER, DEFAULT_ACTION_ORDER):
        raise FirewallModelError(f"statefulEngineOptions.ruleOrder {rule_order!r} is unknown")
    return FirewallPolicy(
        name=field(response, "firewallPolicyName") or field(configuration, "firewallPolicyName"),
        arn=field(response, "firewallPolicyArn") or field(configuration, "firewallPolicyArn"),
        stateless_references=_references(field(body, "statelessRuleGroupReferences"), "statelessRuleGroupReferences"),
        stateful_references=_references(field(body, "statefulRuleGroupReferences"), "statefulRuleGroupReferences"),
        stateless_default_actions=_strings(field(body, "statelessDefaultActions"), "statelessDefaultActions"),
        stateless_fragment_default_actions=_strings(
            field(body, "statelessFragmentDefaultActions"), "statelessFragmentDefaultActions"
        ),
        stateful_default_actions=_strings(field(body, "statefulDefaultActions"), "statefulDefaultActions"),
        rule_order=rule_order,
    )


def rule_group_type_from_arn(arn: str | None) -> str | None:
    """``arn:aws:network-firewall:region:account:stateful-rulegroup/name`` -> STATEFUL."""
    if not isinstance(arn, str) or arn.count(":") < 5:
        return None
    resource = arn.split(":", 5)[5]
    return _ARN_TYPES.get(resource.split("/", 1)[0])


def _rule_lines(rules_string: Any) -> int:
    if rules_string is None:
        return 0
    if not isinstance(rules_string, str):
        raise FirewallModelError("rulesString must be a string")
    lines = (line.strip() for line in rules_string.splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


def _rule_group_type(configuration: dict, response: dict, arn: str | None) -> str | None:
    """The one type every source that states one agrees on; None when none states one."""
    found: dict[str, str] = {}
    for source, candidate in (
        ("ruleGroupResponse.type", field(response, "type")),
        ("type", field(configuration, "type")),
        ("the ARN", rule_group_type_from_arn(arn)),
    ):
        if candidate is None:
            continue
        if not isinstance(candidate, str) or candidate.upper() not in (STATEFUL, STATELESS):
            raise FirewallModelError(f"rule group {source} {candidate!r} is neither STATEFUL nor STATELESS")
        found[source] = candidate.upper()
    if len(set(found.values())) > 1:
        stated = ", ".join(f"{value} in {source}" for source, value in found.items())
        raise FirewallModelError(f"rule group type is contradictory: {stated}")
    return next(iter(found.values()), None)


def rule_group_from_configuration(configuration: dict, arn: str | None = None) -> RuleGroup:
    """From an item's configuration or a DescribeRuleGroup response; ``arn`` is the item's ARN."""
    response = _object(field(configuration, "ruleGroupResponse"), "ruleGroupResponse")
    body = _object(field(configuration, "ruleGroup"), "ruleGroup")
    arn = field(response, "ruleGroupArn") or field(configuration, "ruleGroupArn") or arn
    rules_source = field(body, "rulesSource")
    source = _object(rules_source, "rulesSource")
    stateless = _object(field(source, "statelessRulesAndCustomActions"), "statelessRulesAndCustomActions")
    domain_list = _object(field(source, "rulesSourceList"), "rulesSourceList")
    return RuleGroup(
        name=field(response, "ruleGroupName") or field(configuration, "ruleGroupName"),
        arn=arn,
        type=_rule_group_type(configuration, response, arn),
        has_rules_source=rules_source is not None,
        stateless_rule_count=len(_list(field(stateless, "statelessRules"), "statelessRules")),
        stateful_rule_count=len(_list(field(source, "statefulRules"), "statefulRules")),
        rules_string_lines=_rule_lines(field(source, "rulesString")),
        domain_list_targets=len(_strings(field(domain_list, "targets"), "rulesSourceList.targets")),
    )


def is_empty(group: RuleGroup) -> bool:
    """A rule group that inspects nothing. Callers check ``has_rules_source`` first."""
    if group.type == STATELESS:
        return group.stateless_rule_count == 0
    return group.stateful_rule_count + group.rules_string_lines + group.domain_list_targets == 0


# --- API responses as configuration items ---------------------------------------------------------------------
# Runbooks judge what they read with the rules' own code, which reads configuration items. Config records these
# resources under camelCase top-level keys (configuration.firewallPolicy / firewallPolicyResponse, ruleGroup /
# ruleGroupResponse); the members inside may stay in the APIs' PascalCase, which every reader above accepts.

FIREWALL_POLICY_RESOURCE_TYPE = "AWS::NetworkFirewall::FirewallPolicy"
RULE_GROUP_RESOURCE_TYPE = "AWS::NetworkFirewall::RuleGroup"


def firewall_policy_item(described: dict) -> dict:
    """A DescribeFirewallPolicy response as the configuration item Config would record for the policy."""
    response = described["FirewallPolicyResponse"]
    configuration = {"firewallPolicyResponse": response}
    if described.get("FirewallPolicy") is not None:
        configuration["firewallPolicy"] = described["FirewallPolicy"]
    return _described_item(FIREWALL_POLICY_RESOURCE_TYPE, response, "FirewallPolicy", configuration)


def rule_group_item(described: dict) -> dict:
    """A DescribeRuleGroup response as the configuration item Config would record for the group. A response without
    ``RuleGroup`` (AWS does not publish the rules of its managed groups) gives an item without rules, as recorded."""
    response = described["RuleGroupResponse"]
    configuration = {"ruleGroupResponse": response}
    if described.get("RuleGroup") is not None:
        configuration["ruleGroup"] = described["RuleGroup"]
    return _described_item(RULE_GROUP_RESOURCE_TYPE, response, "RuleGroup", configuration)


def _described_item(resource_type: str, response: dict, prefix: str, configuration: dict) -> dict:
    # Config's resource id for Network Firewall resources is the resource's id, not its ARN.
    return {
        "resourceType": resource_type,
        "resourceId": response[f"{prefix}Id"],
        "resourceName": response.get(f"{prefix}Name"),
        "ARN": response[f"{prefix}Arn"],
        "configurationItemStatus": "OK",
        "configuration": configuration,
    }



def firewall_policy_remediation(*more_permissions: dict) -> dict:
    """The declaration's ``remediation`` of a runbook that updates a firewall policy, declared once for the policy
    rules (perimeter.firewall_policy_remediation): the runbook parameter FirewallPolicy gets the resource id, the
    policy id Config records, which only ListFirewallPolicies (no resource-level permission: "*") turns into the ARN;
    the policy is then read and updated by ARN. ``more_permissions``: what a runbook calls besides."""
    return {
        "resourceIdParameter": "FirewallPolicy",
        "permissions": [
            {"actions": ["network-firewall:ListFirewallPolicies"], "resources": ["*"]},
            {"actions": ["network-firewall:DescribeFirewallPolicy", "network-firewall:UpdateFirewallPolicy"],
             "resources": ["arn:{partition}:network-firewall:{region}:{account}:firewall-policy/*"]},
            *more_permissions,
        ],
    }

# --- firewalls ------------------------------------------------------------------------------------------------
# Recorded AWS::NetworkFirewall::Firewall items: configuration.firewall{firewallArn, firewallId, firewallName,
# firewallPolicyArn, vpcId, subnetMappings[{subnetId}], deleteProtection, subnetChangeProtection,
# firewallPolicyChangeProtection} and possibly configuration.firewallStatus{syncStates{<zone>: {...}}}: the shape
# of DescribeFirewall, which spells the same members in PascalCase. A CloudFormation export carries the firewall's
# properties at the top of the configuration, without the ``firewall`` wrapper; both are read.

FIREWALL_RESOURCE_TYPE = "AWS::NetworkFirewall::Firewall"
LOGGING_CONFIGURATION_RESOURCE_TYPE = "AWS::NetworkFirewall::LoggingConfiguration"
# FirewallPolicy StatelessDefaultActions / StatelessFragmentDefaultActions: "you must specify one of the standard
# actions" (aws:pass, aws:drop, aws:forward_to_sfe), plus custom action names (API reference, FirewallPolicy).
STANDARD_STATELESS_ACTIONS = ("aws:pass", "aws:drop", "aws:forward_to_sfe")
# StatefulDefaultActions that drop what no rule passes (API reference, FirewallPolicy.StatefulDefaultActions).
STATEFUL_DROP_ACTIONS = ("aws:drop_strict", "aws:drop_established")
LOG_TYPES = ("ALERT", "FLOW", "TLS")
# LogDestinationConfig.LogDestination keys per LogDestinationType (API reference, LogDestinationConfig).
LOG_DESTINATION_KEYS = {"S3": "bucketName", "CloudWatchLogs": "logGroup", "KinesisDataFirehose": "deliveryStream"}
# Where a firewall item carries what other resources say about it (supplementaryConfiguration keys): the logging
# configuration (the configuration of its AWS::NetworkFirewall::LoggingConfiguration item), whether each log
# type's destination exists (only where an API was asked), and the zones of its subnets (from AWS::EC2::Subnet items).
LOGGING_KEY = "LoggingConfiguration"
DESTINATIONS_EXIST_KEY = "LogDestinationsExist"
SUBNET_ZONES_KEY = "SubnetAvailabilityZones"


@dataclass(frozen=True)
class Firewall:
    name: str | None
    arn: str | None
    id: str | None
    policy_arn: str | None
    subnet_ids: tuple[str, ...]
    delete_protection: bool
    subnet_change_protection: bool
    policy_change_protection: bool
    sync_zones: tuple[str, ...] | None  # the zones of firewallStatus.syncStates; None when the item has none


@dataclass(frozen=True)
class LogDestination:
    log_type: str
    destination_type: str
    name: str | None  # the bucket, log group or delivery stream; None when the destination map lacks it


def _flag(value: Any, name: str) -> bool:
    """A protection setting: true only when it says so; absent means off (the API's default is false)."""
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):  # exports may write text
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise FirewallModelError(f"{name} {value!r} is neither true nor false")
    return value


def firewall_from_configuration(configuration: dict) -> Firewall:
    """From an item's configuration, a DescribeFirewall response, or a CloudFormation export."""
    body = field(configuration, "firewall")
    body = configuration if body is None else _object(body, "firewall")
    status = _object(field(configuration, "firewallStatus"), "firewallStatus")
    sync_states = field(status, "syncStates")
    subnet_ids = []
    for entry in _list(field(body, "subnetMappings"), "subnetMappings"):
        subnet = field(_object(entry, "subnetMappings entry"), "subnetId")
        if not isinstance(subnet, str) or not subnet:
            raise FirewallModelError(f"subnetMappings entry {entry!r} has no subnetId")
        subnet_ids.append(subnet)
    return Firewall(
        name=field(body, "firewallName"),
        arn=field(body, "firewallArn"),
        id=field(body, "firewallId"),
        policy_arn=field(body, "firewallPolicyArn"),
        subnet_ids=tuple(subnet_ids),
        delete_protection=_flag(field(body, "deleteProtection"), "deleteProtection"),
        subnet_change_protection=_flag(field(body, "subnetChangeProtection"), "subnetChangeProtection"),
        policy_change_protection=_flag(field(body, "firewallPolicyChangeProtection"), "firewallPolicyChangeProtection"),
        sync_zones=None if sync_states is None else tuple(sorted(_object(sync_states, "firewallStatus.syncStates"))),
    )


def standard_stateless_action(actions: tuple[str, ...], setting: str) -> str:
    """The one standard action of a stateless default-action list; FirewallModelError when there is none."""
    standard = [action for action in actions if action in STANDARD_STATELESS_ACTIONS]
    if len(standard) != 1:
        found = "none" if not standard else ", ".join(standard)
        raise FirewallModelError(f"{setting} must hold exactly one of {', '.join(STANDARD_STATELESS_ACTIONS)} "
                                 f"(found {found})")
    return standard[0]


def judge_stateless_default_action(policy: FirewallPolicy, setting: str, allowed: tuple[str, ...]) -> tuple[bool, str]:
    """(compliant, annotation) for one of a policy's stateless default-action lists, ``statelessDefaultActions``
    (full packets) or ``statelessFragmentDefaultActions`` (fragmented packets): its one standard action must be
    among ``allowed``. Custom actions are named but do not decide: they only add metrics or flow capture, the
    standard action still says what happens to the packet (API reference, FirewallPolicy)."""
    actions = {"statelessDefaultActions": policy.stateless_default_actions,
               "statelessFragmentDefaultActions": policy.stateless_fragment_default_actions}[setting]
    standard = standard_stateless_action(actions, setting)
    packets = "full packets" if setting == "statelessDefaultActions" else "fragmented packets"
    custom = [action for action in actions if action != standard]
    with_custom = f" (with custom action {', '.join(custom)})" if custom else ""
    if standard in allowed:
        return True, f"Stateless default action for {packets} is {standard}{with_custom}"
    return False, (f"Stateless default action for {packets} is {standard}{with_custom}; "
                   f"allowed: {', '.join(allowed)}")


def log_destinations(logging_configuration: dict) -> tuple[LogDestination, ...]:
    """The destinations of an AWS::NetworkFirewall::LoggingConfiguration item's configuration (or a
    DescribeLoggingConfiguration response): ``loggingConfiguration.logDestinationConfigs``."""
    body = _object(field(logging_configuration, "loggingConfiguration"), "loggingConfiguration")
    destinations = []
    for entry in _list(field(body, "logDestinationConfigs"), "logDestinationConfigs"):
        entry = _object(entry, "logDestinationConfigs entry")
        log_type, kind = field(entry, "logType"), field(entry, "logDestinationType")
        if not isinstance(log_type, str) or log_type not in LOG_TYPES:
            raise FirewallModelError(f"logDestinationConfigs logType {log_type!r} is not one of {', '.join(LOG_TYPES)}")
        if not isinstance(kind, str) or kind not in LOG_DESTINATION_KEYS:
            raise FirewallModelError(f"logDestinationConfigs logDestinationType {kind!r} is not one of "
                                     f"{', '.join(LOG_DESTINATION_KEYS)}")
        # Map keys are data (bucketName, logGroup, deliveryStream): spelled as the API documents them.
        name = _object(field(entry, "logDestination"), "logDestination").get(LOG_DESTINATION_KEYS[kind])
        destinations.append(LogDestination(log_type, kind, name if isinstance(name, str) and name else None))
    return tuple(destinations)


def firewall_item(described: dict) -> dict:
    """A DescribeFirewall response as the configuration item Config would record for the firewall."""
    firewall = described["Firewall"]
    configuration = {"firewall": firewall}
    if described.get("FirewallStatus") is not None:
        configuration["firewallStatus"] = described["FirewallStatus"]
    return _described_item(FIREWALL_RESOURCE_TYPE, firewall, "Firewall", configuration)


# --- the firewall runbooks' permissions (declared once; perimeter.firewall_remediation makes the calls) ----------
FIREWALL_ARNS = "arn:{partition}:network-firewall:{region}:{account}:firewall/*"


def firewall_remediation(*actions: str, extra: tuple[dict, ...] = ()) -> dict:
    """The ``remediation`` block of a firewall rule's declaration. Its runbook takes the firewall as ``Firewall``
    (Config's resource id, a firewall id, which only ListFirewalls can resolve), reads it with DescribeFirewall and
    calls ``actions`` on it; ``extra``: further statements."""
    return {
        "resourceIdParameter": "Firewall",
        "permissions": [
            {"actions": ["network-firewall:ListFirewalls"], "resources": ["*"]},
            {"actions": ["network-firewall:DescribeFirewall", *actions], "resources": [FIREWALL_ARNS]},
            *extra,
        ],
    }
