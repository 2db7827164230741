"""Stateful in-memory fake of the AWS Network Firewall APIs the pack calls: firewall policies, rule groups,
firewalls (protections, SyncStates) and logging configuration.

moto 5.2.x serves no policies or rule groups, and serves firewalls and logging configuration without their
contract (see _FirewallsAndLogging). This fake answers those operations for every botocore
client, including clients that the code under test creates itself (``boto3.client(...)``, ``boto3.Session().client(...)``) after activation::

    from tests.fakes.networkfirewall import FakeNetworkFirewall

    with FakeNetworkFirewall(region="us-east-1", account_id="123456789012") as nfw:
        group_arn = nfw.put_rule_group("block-ssh", "STATEFUL",
                                       rules="drop tcp any any -> any 22 (sid:1;)")
        nfw.put_firewall_policy("edge", {...FirewallPolicy...})
        nfw.fail_next("UpdateFirewallPolicy", "InvalidTokenException", times=2)
        run_code_under_test()
        assert [operation for operation, _ in nfw.calls] == [...]

or use the ``fake_network_firewall`` pytest fixture defined below (re-export it from a
conftest.py, or import it into a test module).

How it plugs in: importing this module appends two handlers to botocore's BUILTIN_HANDLERS
(as moto does), so every botocore session created afterwards carries them; they do nothing
while no fake is active. ``before-parameter-build`` keeps a copy of the caller's parameters
(by ``before-call`` the body is already CBOR) and ``before-call`` answers the call, the way
``botocore.stub.Stubber`` short-circuits: no HTTP request is built. ``before-call`` fires
before moto's ``before-send``, so the fake wins inside ``moto.mock_aws()``; operations the fake
does not implement (TagResource...) fall through to moto when moto is active and fail loudly
otherwise, so no call ever reaches the network.

Every request is checked against botocore's input shape (required members, types, min, plus
the max / pattern / enum constraints that botocore leaves to the server) and answered with
InvalidRequestException when it fails, as the service does. Every response the fake produces
is checked against the output shape; a mismatch raises FakeContractError, is kept in
``contract_errors`` and is raised again when the context manager exits, so code under test
that swallows exceptions cannot hide it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import functools
import hashlib
import itertools
import os
import random
import re
import sys
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterable, Iterator

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from botocore.validate import ParamValidator

SERVICE_ID = "network-firewall"  # botocore's hyphenised service id, the one in event names
MANAGED_ACCOUNT = "aws-managed"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs agree inside mock_aws
DEFAULT_ENCRYPTION = {"KeyId": "AWS_OWNED_KMS_KEY", "Type": "AWS_OWNED_KMS_KEY"}
DEFAULT_RULE_ORDER = "DEFAULT_ACTION_ORDER"
STRICT_ORDER = "STRICT_ORDER"

# The "must specify exactly one" standard actions of StatelessDefaultActions (FirewallPolicy docs).
STANDARD_STATELESS_ACTIONS = frozenset({"aws:pass", "aws:drop", "aws:forward_to_sfe"})
# The values FirewallPolicy.StatefulDefaultActions documents; they are valid only in STRICT_ORDER.
STATEFUL_DEFAULT_ACTIONS = frozenset({
    "aws:drop_strict", "aws:drop_established", "aws:alert_strict", "aws:alert_established",
    "aws:drop_established_app_layer", "aws:alert_established_app_layer",
    "aws:drop_established_app_layer_to_server", "aws:alert_established_app_layer_to_server",
})
# Rule-group types the fake models; the ARN resource type differs per type.
ARN_RESOURCE_TYPES = {"STATEFUL": "stateful-rulegroup", "STATELESS": "stateless-rulegroup"}
RULES_SOURCES = {
    "STATEFUL": ("RulesString", "RulesSourceList", "StatefulRules"),
    "STATELESS": ("StatelessRulesAndCustomActions",),
}
STATELESS_MATCH_SETTINGS = (
    "Sources", "Destinations", "SourcePorts", "DestinationPorts", "Protocols", "TCPFlags",
)
# AWS-managed stateful groups (Developer Guide, "AWS managed rule groups"): each comes as a
# StrictOrder and an ActionOrder variant, usable only in policies with the matching rule order.
MANAGED_FAMILIES = (
    ("ThreatSignaturesBotnet", "AWS_MANAGED_THREAT_SIGNATURES"),
    ("ThreatSignaturesBotnetWeb", "AWS_MANAGED_THREAT_SIGNATURES"),
    ("ThreatSignaturesMalware", "AWS_MANAGED_THREAT_SIGNATURES"),
    ("AbusedLegitMalwareDomains", "AWS_MANAGED_DOMAIN_LISTS"),
    ("MalwareDomains", "AWS_MANAGED_DOMAIN_LISTS"),
    ("BotNetCommandAndControlDomains", "AWS_MANAGED_DOMAIN_LISTS"),
)
MANAGED_ORDER_SUFFIXES = (("StrictOrder", STRICT_ORDER), ("ActionOrder", DEFAULT_RULE_ORDER))
MANAGED_CAPACITY = 200  # the real figure is AWS's business; it only feeds Consumed*Capacity

_PARAMS_KEY = "perimeter.fake_networkfirewall.params"
_FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_SERVER_FAULT_STATUS = {"InternalServerError": 500, "InsufficientCapacityException": 503}
_DEFAULT_FAULT_MESSAGES = {
    "ThrottlingException": "Rate exceeded",
    "InternalServerError": "An internal error occurred. Retry your request.",
    "InvalidTokenException": "The update token is stale. Describe the resource and try again.",
}


# --------------------------------------------------------------------------- errors


class NetworkFirewallError(Exception):
    """An error the service returns; the dispatcher turns it into the modeled ClientError."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return _SERVER_FAULT_STATUS.get(self.code, 400)


class FakeContractError(AssertionError):
    """The fake, or the test arranging it, broke botocore's model (or asked for the unmodeled).

    An AssertionError on purpose: ``except ClientError`` in code under test must not catch it.
    """


def _invalid(message: str) -> NetworkFirewallError:
    return NetworkFirewallError("InvalidRequestException", message)


def _not_found(message: str) -> NetworkFirewallError:
    return NetworkFirewallError("ResourceNotFoundException", message)


# --------------------------------------------------------------------------- model contract


@functools.lru_cache(maxsize=1)
def _service_model():
    return botocore.session.get_session().get_service_model(SERVICE_ID)


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct: leave that one check to the real service
        return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _constraint_violations(value: Any, shape, path: str = "") -> Iterator[str]:
    """Yield the max / pattern / enum violations that botocore's client validator leaves to
    the server (it checks only required, types and min). Assumes the types already passed."""
    kind = shape.type_name
    if kind == "structure" and not shape.is_document_type:
        for name, member in shape.members.items():
            if value.get(name) is not None:
                yield from _constraint_violations(value[name], member, _join(path, name))
    elif kind == "list":
        yield from _too_many(len(value), shape, path)
        for index, item in enumerate(value):
            yield from _constraint_violations(item, shape.member, f"{path}[{index}]")
    elif kind == "map":
        yield from _too_many(len(value), shape, path)
        for key, item in value.items():
            yield from _constraint_violations(key, shape.key, f"{path}.key")
            yield from _constraint_violations(item, shape.value, f"{path}[{key!r}]")
    elif kind == "string":
        yield from _string_violations(value, shape, path)
    elif kind in ("integer", "long") and value > shape.metadata.get("max", value):
        yield f"Value {value} at '{path}' failed to satisfy constraint: " \
              f"Member must have value less than or equal to {shape.metadata['max']}"


def _too_many(count: int, shape, path: str) -> Iterator[str]:
    if count > shape.metadata.get("max", count):
        yield f"Value at '{path}' failed to satisfy constraint: " \
              f"Member must have length less than or equal to {shape.metadata['max']}"


def _string_violations(value: str, shape, path: str) -> Iterator[str]:
    prefix = f"Value {value!r} at '{path}' failed to satisfy constraint: Member must"
    if len(value) > shape.metadata.get("max", len(value)):
        yield f"{prefix} have length less than or equal to {shape.metadata['max']}"
    if shape.enum and value not in shape.enum:
        yield f"{prefix} satisfy enum value set: [{', '.join(shape.enum)}]"
    pattern = shape.metadata.get("pattern")
    compiled = _compiled(pattern) if pattern else None
    if compiled is not None and not compiled.search(value):
        yield f"{prefix} satisfy regular expression pattern: {pattern}"


class _ModelContract:
    """Checks requests and responses against botocore's network-firewall service model."""

    def __init__(self):
        self.service_model = _service_model()
        self._validator = ParamValidator()

    def operation(self, name: str):
        return self.service_model.operation_model(name)

    def check_request(self, operation_model, params: dict) -> None:
        report = self._problems(params, operation_model.input_shape)
        if report:
            raise _invalid(report)

    def check_response(self, operation_model, response: dict) -> None:
        report = self._problems(response, operation_model.output_shape)
        if report:
            raise FakeContractError(
                f"{operation_model.name} response does not match botocore's output shape:\n{report}"
            )

    def check_shape(self, value: Any, shape_name: str) -> None:
        report = self._problems(value, self.service_model.shape_for(shape_name))
        if report:
            raise FakeContractError(f"not a valid {shape_name}:\n{report}")

    def _problems(self, value: Any, shape) -> str:
        errors = self._validator.validate(value, shape)
        if errors.has_errors():
            return errors.generate_report()
        violations = list(_constraint_violations(value, shape))
        if violations:
            return f"{len(violations)} validation error(s) detected: " + "; ".join(violations)
        return ""


# --------------------------------------------------------------------------- botocore hooks

_active_fakes: list["FakeNetworkFirewall"] = []
_active_lock = threading.Lock()


def _current_fake() -> "FakeNetworkFirewall | None":
    with _active_lock:
        return _active_fakes[-1] if _active_fakes else None


def _remember_params(params, context, **_):
    """before-parameter-build: keep the caller's parameters for before-call."""
    if context is not None and _current_fake() is not None:
        context[_PARAMS_KEY] = copy.deepcopy(params)


def _answer_call(model, context, **_):
    """before-call: a (http_response, parsed) pair short-circuits the call; None lets it go on."""
    fake = _current_fake()
    return None if fake is None else fake._answer(model, context or {})


_EVENT_HANDLERS = (
    (f"before-parameter-build.{SERVICE_ID}", _remember_params),
    (f"before-call.{SERVICE_ID}", _answer_call),
)


def _install_builtin_handlers() -> None:
    for entry in _EVENT_HANDLERS:
        if entry not in BUILTIN_HANDLERS:
            BUILTIN_HANDLERS.append(entry)


def _hook_default_session() -> None:
    """boto3's default session may predate this module's import, and so lack the builtin
    handlers; it is the session code under test most likely shares. unique_id keeps this
    idempotent; a second registration in a session that has both is harmless (the first
    answer wins)."""
    session = boto3.DEFAULT_SESSION
    if session is not None:
        for event, handler in _EVENT_HANDLERS:
            session.events.register(event, handler, unique_id=f"perimeter-fake-nfw:{event}")


def _moto_is_serving() -> bool:
    stubber = getattr(sys.modules.get("moto.core.models"), "botocore_stubber", None)
    return bool(getattr(stubber, "enabled", False))


_install_builtin_handlers()


# --------------------------------------------------------------------------- resources


@dataclasses.dataclass
class _Resource:
    name: str
    arn: str
    id: str
    region: str
    token: str
    modified: datetime
    body: dict | None  # the FirewallPolicy or RuleGroup object; None for hidden managed rules
    description: str | None = None
    tags: list | None = None
    encryption: dict | None = None


@dataclasses.dataclass
class _Policy(_Resource):
    body_shape: ClassVar[str] = "FirewallPolicy"
    associations: int = 0  # firewalls using the policy; the fake has none, tests arrange it


@dataclasses.dataclass
class _RuleGroup(_Resource):
    body_shape: ClassVar[str] = "RuleGroup"
    type: str = "STATEFUL"
    capacity: int = 0
    managed_type: str | None = None  # set for AWS-managed groups only
    managed_rule_order: str | None = None
    source_metadata: dict | None = None
    summary_configuration: dict | None = None

    @property
    def managed(self) -> bool:
        return self.managed_type is not None

    @property
    def rule_order(self) -> str:
        if self.managed_rule_order:
            return self.managed_rule_order
        options = (self.body or {}).get("StatefulRuleOptions") or {}
        return options.get("RuleOrder", DEFAULT_RULE_ORDER)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _arn(region: str, account: str, resource: str) -> str:
    return f"arn:{_partition(region)}:network-firewall:{region}:{account}:{resource}"


def _arn_region(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 else None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _without_none(**values) -> dict:
    return {key: value for key, value in values.items() if value is not None}


# --------------------------------------------------------------------------- semantic checks


def _policy_rule_order(document: dict) -> str:
    return (document.get("StatefulEngineOptions") or {}).get("RuleOrder", DEFAULT_RULE_ORDER)


def _check_firewall_policy(document: dict, previous: dict | None,
                           find_group: Callable[[str], _RuleGroup | None]) -> None:
    rule_order = _policy_rule_order(document)
    _check_stateless_default_actions(document)
    _check_stateful_default_actions(document, rule_order)
    _check_stateless_references(document.get("StatelessRuleGroupReferences") or [], find_group)
    _check_stateful_references(document.get("StatefulRuleGroupReferences") or [],
                               rule_order, find_group)
    if previous is not None:
        _check_tls_configuration_kept(previous, document)


def _check_stateless_default_actions(document: dict) -> None:
    custom = {action["ActionName"] for action in document.get("StatelessCustomActions") or []}
    for setting in ("StatelessDefaultActions", "StatelessFragmentDefaultActions"):
        actions = document[setting]
        standard = [action for action in actions if action in STANDARD_STATELESS_ACTIONS]
        undefined = [a for a in actions if a not in STANDARD_STATELESS_ACTIONS and a not in custom]
        if len(standard) != 1 or undefined:
            raise _invalid(
                f"{setting} must contain exactly one of aws:pass, aws:drop or aws:forward_to_sfe, "
                f"plus only custom actions defined in StatelessCustomActions; got {actions}"
            )


def _check_stateful_default_actions(document: dict, rule_order: str) -> None:
    actions = document.get("StatefulDefaultActions")
    if not actions:
        return
    if rule_order != STRICT_ORDER:
        raise _invalid("StatefulDefaultActions are valid only when StatefulEngineOptions "
                       "RuleOrder is STRICT_ORDER")
    unknown = sorted(set(actions) - STATEFUL_DEFAULT_ACTIONS)
    if unknown:
        raise _invalid(f"Invalid StatefulDefaultActions: {unknown}")


def _check_stateless_references(references: list, find_group) -> None:
    for reference in references:
        _referenced_group(reference, "STATELESS", "StatelessRuleGroupReferences", find_group)
    _check_unique_priorities(references, "StatelessRuleGroupReferences")


def _check_stateful_references(references: list, rule_order: str, find_group) -> None:
    for reference in references:
        group = _referenced_group(reference, "STATEFUL", "StatefulRuleGroupReferences", find_group)
        _check_stateful_priority(reference, rule_order)
        if group.rule_order != rule_order:
            raise _invalid(
                f"Rule group {group.arn} uses rule order {group.rule_order} but the firewall "
                f"policy uses {rule_order}; a policy can only use rule groups of its own order"
            )
        if reference.get("Override") and not group.managed:
            raise _invalid(f"Override applies only to managed rule groups, not {group.arn}")
    _check_unique_priorities(references, "StatefulRuleGroupReferences")


def _referenced_group(reference: dict, expected_type: str, setting: str, find_group) -> _RuleGroup:
    arn = reference["ResourceArn"]
    group = find_group(arn)
    if group is None:
        raise _invalid(f"{setting} references rule group {arn}, which does not exist")
    if group.type != expected_type:
        raise _invalid(f"{setting} accepts only {expected_type} rule groups; {arn} is {group.type}")
    return group


def _check_stateful_priority(reference: dict, rule_order: str) -> None:
    has_priority = reference.get("Priority") is not None
    if rule_order == STRICT_ORDER and not has_priority:
        raise _invalid(f"Stateful rule group reference {reference['ResourceArn']} needs a "
                       f"Priority: the policy's rule order is STRICT_ORDER")
    if rule_order != STRICT_ORDER and has_priority:
        raise _invalid(f"Stateful rule group reference {reference['ResourceArn']} sets a "
                       f"Priority, which applies only to STRICT_ORDER policies")


def _check_unique_priorities(items: list, setting: str) -> None:
    priorities = [item["Priority"] for item in items if item.get("Priority") is not None]
    duplicated = sorted({priority for priority in priorities if priorities.count(priority) > 1})
    if duplicated:
        raise _invalid(f"Priorities in {setting} must be unique; duplicated: {duplicated}")


def _check_tls_configuration_kept(previous: dict, document: dict) -> None:
    # UpdateFirewallPolicy docs: a TLS inspection configuration can be replaced,
    # not added or removed.
    key = "TLSInspectionConfigurationArn"
    if bool(previous.get(key)) != bool(document.get(key)):
        raise _invalid("You can't add or remove a TLS inspection configuration after you "
                       "create a firewall policy")


def _rule_group_body(params: dict, group_type: str) -> dict:
    """The RuleGroup object a Create/UpdateRuleGroup request defines, from RuleGroup or Rules."""
    rule_group, rules = params.get("RuleGroup"), params.get("Rules")
    if (rule_group is None) == (rules is None):
        raise _invalid("You must provide either a RuleGroup or a Rules setting, but not both")
    if rules is None:
        return rule_group
    if group_type != "STATEFUL":
        raise _invalid("Rules (Suricata flat format) applies only to STATEFUL rule groups")
    # The service stores the string and answers Describe with a RuleGroup built from it.
    return {"RulesSource": {"RulesString": rules}}


def _check_rule_group_body(body: dict, group_type: str, capacity: int) -> None:
    source = body["RulesSource"]
    present = [key for key, value in source.items() if value is not None]
    if len(present) != 1:
        raise _invalid(f"RulesSource must specify exactly one rules source; "
                       f"got {present or 'none'}")
    if present[0] not in RULES_SOURCES[group_type]:
        raise _invalid(f"A {group_type} rule group can't use RulesSource.{present[0]}")
    if group_type == "STATELESS":
        _check_stateless_rule_group(body)
    consumed = _consumed_capacity(body, group_type)
    if consumed > capacity:
        raise _invalid(f"The rules need {consumed} capacity units but the rule group's "
                       f"capacity is {capacity}; capacity is fixed at creation")


def _check_stateless_rule_group(body: dict) -> None:
    for stateful_only in ("StatefulRuleOptions", "RuleVariables"):
        if body.get(stateful_only) is not None:
            raise _invalid(f"{stateful_only} can only be used in stateful rule groups")
    rules = body["RulesSource"]["StatelessRulesAndCustomActions"]["StatelessRules"]
    _check_unique_priorities(rules, "StatelessRules")


def _consumed_capacity(body: dict, group_type: str) -> int:
    """Capacity units per the CreateRuleGroup Capacity documentation."""
    source = body["RulesSource"]
    if group_type == "STATELESS":
        rules = source["StatelessRulesAndCustomActions"]["StatelessRules"]
        return sum(_stateless_rule_capacity(rule) for rule in rules)
    if source.get("StatefulRules") is not None:
        return len(source["StatefulRules"])
    if source.get("RulesSourceList") is not None:
        return len(source["RulesSourceList"]["Targets"])
    return _suricata_rule_count(source["RulesString"])


def _stateless_rule_capacity(rule: dict) -> int:
    # The product over match settings; an empty (or "any") setting counts 1.
    match = rule["RuleDefinition"]["MatchAttributes"]
    return functools.reduce(
        lambda product, setting: product * max(1, len(match.get(setting) or [])),
        STATELESS_MATCH_SETTINGS, 1,
    )


def _suricata_rule_count(rules: str) -> int:
    lines = (line.strip() for line in rules.splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


# --------------------------------------------------------------------------- pagination


def _encode_page_token(last_key: str) -> str:
    # Standard base64 fits the PaginationToken pattern [0-9A-Za-z:/+=]+.
    return base64.b64encode(last_key.encode()).decode()


def _decode_page_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid("The NextToken is not valid") from None


# --------------------------------------------------------------------------- replies


def _response_metadata(request_id: str, status: int) -> dict:
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id},
        "RetryAttempts": 0,
    }


def _success_reply(response: dict, request_id: str):
    parsed = {**response, "ResponseMetadata": _response_metadata(request_id, 200)}
    return AWSResponse(None, 200, {"x-amzn-requestid": request_id}, None), parsed


def _error_reply(error: NetworkFirewallError, request_id: str):
    # The shape botocore's parser gives a modeled error: Error plus the modeled Message member.
    parsed = {
        "Error": {"Code": error.code, "Message": error.message},
        "Message": error.message,
        "ResponseMetadata": _response_metadata(request_id, error.status),
    }
    return AWSResponse(None, error.status, {"x-amzn-requestid": request_id}, None), parsed


# --------------------------------------------------------------------------- firewalls and logging

# LogDestinationConfig.LogDestination: the key each destination type needs (API reference, LogDestinationConfig).
LOG_DESTINATION_KEYS = {"S3": "bucketName", "CloudWatchLogs": "logGroup", "KinesisDataFirehose": "deliveryStream"}


@dataclasses.dataclass
class _Firewall(_Resource):
    policy_arn: str = ""
    vpc_id: str = ""
    subnets: dict = dataclasses.field(default_factory=dict)  # subnet id -> availability zone
    delete_protection: bool = False
    subnet_change_protection: bool = False
    policy_change_protection: bool = False
    logging: list = dataclasses.field(default_factory=list)  # LogDestinationConfigs
    sync_states: bool = True  # False: FirewallStatus without SyncStates (a firewall still provisioning)


class _FirewallsAndLogging:
    """Firewalls and their logging configuration, served by the fake rather than moto.

    moto 5.2.x has these operations but not their contract: its DescribeFirewall omits the required FirewallId
    and SyncStates, its UpdateToken is a constant (so no stale-token conflict can be arranged), it defaults the
    three protections to true (CreateFirewall's documented default is false), it has no Update*Protection or
    DeleteFirewall, and it stores any UpdateLoggingConfiguration (the API allows one destination change a call).
    tests/test_fake_networkfirewall.py pins those gaps, so the fake can hand the operations back once moto closes
    them.
    """

    def _firewall_operations(self) -> dict:
        return {
            "CreateFirewall": self._create_firewall,
            "DescribeFirewall": self._describe_firewall,
            "ListFirewalls": self._list_firewalls,
            "DeleteFirewall": self._delete_firewall,
            "UpdateFirewallDeleteProtection": self._update_delete_protection,
            "UpdateSubnetChangeProtection": self._update_subnet_change_protection,
            "UpdateFirewallPolicyChangeProtection": self._update_policy_change_protection,
            "DescribeLoggingConfiguration": self._describe_logging_configuration,
            "UpdateLoggingConfiguration": self._update_logging_configuration,
        }

    # ----------------------------------------------------------------- arrange

    def put_firewall(self, name: str, policy_arn: str, subnets: dict[str, str], *, vpc_id: str = "vpc-0a1b2c3d",
                     delete_protection: bool = False, subnet_change_protection: bool = False,
                     policy_change_protection: bool = False, sync_states: bool = True,
                     logging: list | None = None, tags: list | None = None, region: str | None = None) -> str:
        """Create a firewall directly (not recorded in ``calls``); returns its ARN. ``subnets`` maps each subnet
        id to its availability zone (the zones DescribeFirewall's SyncStates report); ``sync_states=False``
        describes it without SyncStates; ``logging`` is its LogDestinationConfigs; ``tags`` its Tags."""
        self.subnet_zones.update(subnets)
        params = {"FirewallName": name, "FirewallPolicyArn": policy_arn, "VpcId": vpc_id,
                  "SubnetMappings": [{"SubnetId": subnet} for subnet in subnets],
                  "DeleteProtection": delete_protection, "SubnetChangeProtection": subnet_change_protection,
                  "FirewallPolicyChangeProtection": policy_change_protection, **_without_none(Tags=tags)}
        arn = self._arrange("CreateFirewall", params, region)["Firewall"]["FirewallArn"]
        record = self._firewalls[arn]
        record.sync_states = sync_states
        if logging:
            self._contract.check_shape({"LogDestinationConfigs": logging}, "LoggingConfiguration")
            _check_log_destinations(logging)
            record.logging = copy.deepcopy(logging)
        return arn

    def firewall(self, name_or_arn: str) -> _Firewall:
        """The stored firewall record (a name means the default region)."""
        return self._firewalls[name_or_arn if name_or_arn.startswith("arn:")
                               else self._firewall_arn(self.region, name_or_arn)]

    def bump_firewall_token(self, name_or_arn: str, **changes) -> str:
        """Act as a concurrent writer of a firewall: apply ``changes`` (record fields, e.g.
        ``delete_protection=True``) and issue a new UpdateToken (returned)."""
        with self._lock:
            record = self.firewall(name_or_arn)
            for key, value in changes.items():
                setattr(record, key, value)
            record.token, record.modified = self._new_uuid(), self._clock()
            return record.token

    def delete_firewall_now(self, name_or_arn: str) -> None:
        """Act as another actor deleting the firewall (protection and all)."""
        with self._lock:
            record = self._firewalls.pop(self.firewall(name_or_arn).arn)
            self._release_policy(record)

    # ----------------------------------------------------------------- lookups

    def _firewall_arn(self, region: str, name: str) -> str:
        return _arn(region, self.account_id, f"firewall/{name}")

    def _find_firewall(self, params: dict, region: str) -> _Firewall:
        name, arn = params.get("FirewallName"), params.get("FirewallArn")
        _require_name_or_arn(name, arn)
        record = self._firewalls.get(arn or self._firewall_arn(region, name))
        if record is None or record.region != region:
            raise _not_found(f"Firewall {arn or name} not found")
        _require_same_resource(record, name)
        return record

    def _release_policy(self, record: _Firewall) -> None:
        policy = self._policies.get(record.policy_arn)
        if policy is not None and policy.associations:
            policy.associations -= 1

    # ----------------------------------------------------------------- responses

    def _firewall_body(self, record: _Firewall) -> dict:
        return {
            "FirewallName": record.name, "FirewallArn": record.arn, "FirewallPolicyArn": record.policy_arn,
            "VpcId": record.vpc_id, "SubnetMappings": [{"SubnetId": subnet} for subnet in record.subnets],
            "DeleteProtection": record.delete_protection, "SubnetChangeProtection": record.subnet_change_protection,
            "FirewallPolicyChangeProtection": record.policy_change_protection, "FirewallId": record.id,
            "EncryptionConfiguration": record.encryption, **_without_none(Tags=record.tags),
        }

    def _firewall_status(self, record: _Firewall, status: str = "READY") -> dict:
        reply = {"Status": status, "ConfigurationSyncStateSummary": "IN_SYNC"}
        if not record.sync_states:
            return {**reply, "Status": "PROVISIONING", "ConfigurationSyncStateSummary": "PENDING"}
        policy = self._policies.get(record.policy_arn)
        synced = {policy.name: {"SyncStatus": "IN_SYNC", "UpdateToken": policy.token}} if policy else {}
        # One endpoint per subnet, keyed by its zone (DescribeFirewall, FirewallStatus.SyncStates).
        reply["SyncStates"] = {
            zone: {"Attachment": {"SubnetId": subnet, "EndpointId": "vpce-" + hashlib.sha256(subnet.encode()).hexdigest()[:17],
                                  "Status": "READY"}, "Config": synced}
            for subnet, zone in record.subnets.items()
        }
        return reply

    # ----------------------------------------------------------------- firewalls

    def _create_firewall(self, params: dict, region: str) -> dict:
        name = params["FirewallName"]
        arn = self._firewall_arn(region, name)
        if arn in self._firewalls:
            raise _invalid(f"A resource with the specified name already exists: {name}")
        policy = self._policies.get(params["FirewallPolicyArn"])
        if policy is None or policy.region != region:
            raise _invalid(f"Firewall policy {params['FirewallPolicyArn']} does not exist")
        mappings = params.get("SubnetMappings") or []
        unknown = [m["SubnetId"] for m in mappings if m["SubnetId"] not in self.subnet_zones]
        if not mappings or unknown or not params.get("VpcId"):
            raise _invalid(f"A firewall needs a VpcId and subnets of it; unknown subnets: {unknown}")
        zones = [self.subnet_zones[m["SubnetId"]] for m in mappings]
        if len(set(zones)) != len(zones):
            raise _invalid("You can specify at most one subnet for each Availability Zone")
        record = _Firewall(
            name=name, arn=arn, id=self._new_uuid(), region=region, token=self._new_uuid(), modified=self._clock(),
            body=None, description=params.get("Description"), tags=params.get("Tags"),
            encryption=params.get("EncryptionConfiguration", dict(DEFAULT_ENCRYPTION)),
            policy_arn=policy.arn, vpc_id=params["VpcId"],
            subnets={m["SubnetId"]: self.subnet_zones[m["SubnetId"]] for m in mappings},
            delete_protection=params.get("DeleteProtection", False),
            subnet_change_protection=params.get("SubnetChangeProtection", False),
            policy_change_protection=params.get("FirewallPolicyChangeProtection", False),
        )
        self._firewalls[arn] = record
        policy.associations += 1
        return {"Firewall": self._firewall_body(record), "FirewallStatus": self._firewall_status(record)}

    def _describe_firewall(self, params: dict, region: str) -> dict:
        record = self._find_firewall(params, region)
        return {"UpdateToken": record.token, "Firewall": self._firewall_body(record),
                "FirewallStatus": self._firewall_status(record)}

    def _list_firewalls(self, params: dict, region: str) -> dict:
        vpcs = params.get("VpcIds")
        mine = [r for r in self._firewalls.values() if r.region == region and (not vpcs or r.vpc_id in vpcs)]
        page, more = self._page(mine, params)
        return {"Firewalls": [{"FirewallName": r.name, "FirewallArn": r.arn} for r in page], **more}

    def _delete_firewall(self, params: dict, region: str) -> dict:
        record = self._find_firewall(params, region)
        if record.delete_protection:
            raise NetworkFirewallError("InvalidOperationException",
                                       f"Firewall {record.name} has delete protection enabled; disable it first")
        del self._firewalls[record.arn]
        self._release_policy(record)
        return {"Firewall": self._firewall_body(record), "FirewallStatus": self._firewall_status(record, "DELETING")}

    def _update_protection(self, params: dict, region: str, setting: str, attribute: str) -> dict:
        record = self._find_firewall(params, region)
        # UpdateToken is optional here; when given it must be current (API reference, UpdateFirewallDeleteProtection).
        if params.get("UpdateToken") is not None:
            _require_current_token(record, params["UpdateToken"], "firewall")
        setattr(record, attribute, params[setting])
        record.token, record.modified = self._new_uuid(), self._clock()
        return {"FirewallArn": record.arn, "FirewallName": record.name, setting: params[setting],
                "UpdateToken": record.token}

    def _update_delete_protection(self, params: dict, region: str) -> dict:
        return self._update_protection(params, region, "DeleteProtection", "delete_protection")

    def _update_subnet_change_protection(self, params: dict, region: str) -> dict:
        return self._update_protection(params, region, "SubnetChangeProtection", "subnet_change_protection")

    def _update_policy_change_protection(self, params: dict, region: str) -> dict:
        return self._update_protection(params, region, "FirewallPolicyChangeProtection", "policy_change_protection")

    # ----------------------------------------------------------------- logging

    def _describe_logging_configuration(self, params: dict, region: str) -> dict:
        record = self._find_firewall(params, region)
        return {"FirewallArn": record.arn, "LoggingConfiguration": {"LogDestinationConfigs": record.logging}}

    def _update_logging_configuration(self, params: dict, region: str) -> dict:
        record = self._find_firewall(params, region)
        wanted = (params.get("LoggingConfiguration") or {"LogDestinationConfigs": []})["LogDestinationConfigs"]
        _check_log_destinations(wanted)
        _check_one_logging_change(record.logging, wanted)
        record.logging = wanted
        return {"FirewallArn": record.arn, "FirewallName": record.name,
                "LoggingConfiguration": {"LogDestinationConfigs": wanted}}


def _check_log_destinations(configs: list) -> None:
    types = [config["LogType"] for config in configs]
    if len(set(types)) != len(types):
        raise _invalid(f"A logging configuration holds at most one destination per log type; got {types}")
    for config in configs:
        key = LOG_DESTINATION_KEYS[config["LogDestinationType"]]
        if not config["LogDestination"].get(key):
            raise _invalid(f"LogDestination for {config['LogDestinationType']} needs {key}")


def _check_one_logging_change(current: list, wanted: list) -> None:
    """UpdateLoggingConfiguration: "You can perform only one of the following actions in any call to
    UpdateLoggingConfiguration: create a new log destination object, delete a log destination object, change
    the location for a log destination object" (API reference)."""
    before = {config["LogType"]: config for config in current}
    after = {config["LogType"]: config for config in wanted}
    changed = [log_type for log_type in before.keys() | after.keys() if before.get(log_type) != after.get(log_type)]
    if len(changed) > 1:
        raise _invalid(f"You can change only one log destination in a call to UpdateLoggingConfiguration; "
                       f"this call changes {sorted(changed)}")
    # "You can't change the LogDestinationType or LogType in a LogDestinationConfig. To change these settings,
    # delete the existing LogDestinationConfig object and create a new one, using two separate calls" (ibid.).
    for log_type in changed:
        if log_type in before and log_type in after and \
                before[log_type]["LogDestinationType"] != after[log_type]["LogDestinationType"]:
            raise _invalid(f"You can't change the LogDestinationType of the {log_type} LogDestinationConfig; delete "
                           "it and create a new one in two calls to UpdateLoggingConfiguration")


# --------------------------------------------------------------------------- the fake


class FakeNetworkFirewall(_FirewallsAndLogging):
    """In-memory Network Firewall policies and rule groups for one account, any region.

    Resources live in the region of the client that created them (ARNs carry it); name
    lookups and lists are scoped to the calling client's region. ``region`` is the default
    for the arrange helpers. Ids and tokens are UUIDs drawn from ``random.Random(seed)``.
    """

    def __init__(self, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID, *,
                 seed: int = 0, clock: Callable[[], datetime] = _utc_now,
                 default_max_results: int = 100):
        self.region = region
        self.account_id = account_id
        self.calls: list[tuple[str, dict]] = []
        self.contract_errors: list[FakeContractError] = []
        self._contract = _ModelContract()
        self._random = random.Random(seed)
        self._request_numbers = itertools.count(1)
        self._clock = clock
        self._default_max_results = default_max_results
        self._policies: dict[str, _Policy] = {}
        self._groups: dict[str, _RuleGroup] = {}
        self._managed: dict[str, _RuleGroup] = {}  # built on first use so ids/tokens stay stable
        self._faults: dict[str, list[tuple[str, str]]] = {}
        self._canned: dict[str, list[dict]] = {}
        self._env_set: dict[str, str] = {}
        self._lock = threading.RLock()
        self._operations = {
            "CreateFirewallPolicy": self._create_firewall_policy,
            "DescribeFirewallPolicy": self._describe_firewall_policy,
            "UpdateFirewallPolicy": self._update_firewall_policy,
            "DeleteFirewallPolicy": self._delete_firewall_policy,
            "ListFirewallPolicies": self._list_firewall_policies,
            "CreateRuleGroup": self._create_rule_group,
            "DescribeRuleGroup": self._describe_rule_group,
            "UpdateRuleGroup": self._update_rule_group,
            "DeleteRuleGroup": self._delete_rule_group,
            "ListRuleGroups": self._list_rule_groups,
            **self._firewall_operations(),
        }
        self._firewalls: dict[str, _Firewall] = {}
        self.subnet_zones: dict[str, str] = {}  # subnet id -> availability zone, for CreateFirewall

    # ----------------------------------------------------------------- activation

    def __enter__(self) -> "FakeNetworkFirewall":
        self._set_missing_credentials()
        _hook_default_session()
        with _active_lock:
            _active_fakes.append(self)
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        with _active_lock:
            _active_fakes.remove(self)
        self._restore_environment()
        if exc_type is None and self.contract_errors:
            raise self.contract_errors[0]
        return False

    def _set_missing_credentials(self) -> None:
        # Without credentials botocore would probe the instance metadata service over the network.
        for key, value in _FAKE_CREDENTIALS.items():
            if key not in os.environ:
                os.environ[key] = self._env_set[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._env_set.items():
            if os.environ.get(key) == value:
                del os.environ[key]
        self._env_set.clear()

    # ----------------------------------------------------------------- test hooks

    def calls_to(self, operation: str) -> list[dict]:
        """The parameters of every call of ``operation`` that reached the fake, in order."""
        return [params for name, params in self.calls if name == operation]

    def fail_next(self, operation: str, code: str, *, times: int = 1,
                  message: str | None = None) -> None:
        """Answer the next ``times`` valid calls of ``operation`` with error ``code``, which must
        be one the model declares for that operation. State is left untouched, as when the
        service rejects a call. Injected errors are not retried by botocore: they stand for
        what the caller sees once any retries are spent."""
        declared = {shape.name for shape in self._served_operation(operation).error_shapes}
        if code not in declared:
            raise ValueError(f"{operation} does not declare {code}; it declares {sorted(declared)}")
        fault = (code, message or _DEFAULT_FAULT_MESSAGES.get(code, code))
        self._faults.setdefault(operation, []).extend([fault] * times)

    def throttle_next(self, operation: str, *, times: int = 1) -> None:
        self.fail_next(operation, "ThrottlingException", times=times)

    def reply_next(self, operation: str, response: dict) -> None:
        """Answer the next valid call of ``operation`` with ``response`` instead of the state.
        It is still checked against the output shape, so a malformed one fails loudly."""
        self._served_operation(operation)
        self._canned.setdefault(operation, []).append(copy.deepcopy(response))

    def put_rule_group(self, name: str, group_type: str = "STATEFUL", *,
                       rules: str | None = None, rule_group: dict | None = None,
                       capacity: int = 100, description: str | None = None,
                       tags: list | None = None, region: str | None = None) -> str:
        """Create a rule group directly (not recorded in ``calls``); returns its ARN."""
        params = _without_none(RuleGroupName=name, Type=group_type, Capacity=capacity,
                               Rules=rules, RuleGroup=rule_group, Description=description,
                               Tags=tags)
        response = self._arrange("CreateRuleGroup", params, region)
        return response["RuleGroupResponse"]["RuleGroupArn"]

    def put_firewall_policy(self, name: str, firewall_policy: dict, *,
                            description: str | None = None, tags: list | None = None,
                            associations: int = 0, semantic_checks: bool = True,
                            region: str | None = None) -> str:
        """Create a firewall policy directly (not recorded in ``calls``); returns its ARN.

        ``associations`` is the number of firewalls said to use it (blocks deletion).
        ``semantic_checks=False`` skips the checks of references, priorities and actions, to
        arrange states the service would refuse (a dangling reference, say); the shape is
        still checked."""
        params = _without_none(FirewallPolicyName=name, FirewallPolicy=firewall_policy,
                               Description=description, Tags=tags)
        operation = self._create_firewall_policy if semantic_checks else self._create_unchecked
        response = self._arrange("CreateFirewallPolicy", params, region, operation)
        arn = response["FirewallPolicyResponse"]["FirewallPolicyArn"]
        self._policies[arn].associations = associations
        return arn

    def set_firewall_associations(self, name_or_arn: str, count: int) -> None:
        self._arranged(name_or_arn).associations = count

    def bump_token(self, name_or_arn: str, change: Callable[[dict], None] | None = None) -> str:
        """Act as a concurrent writer: optionally apply ``change`` to a copy of the stored
        FirewallPolicy / RuleGroup object (checked against its shape only), then issue a new
        UpdateToken (returned). A name means a policy in the default region; rule groups are
        named by ARN."""
        with self._lock:
            record = self._arranged(name_or_arn)
            body = copy.deepcopy(record.body)
            if change is not None:
                change(body)
                self._contract.check_shape(body, record.body_shape)
            record.body, record.token, record.modified = body, self._new_uuid(), self._clock()
            return record.token

    def delete_policy_now(self, name_or_arn: str) -> None:
        """Act as another actor deleting the firewall policy (whatever firewalls are said to use it)."""
        with self._lock:
            record = self._arranged(name_or_arn)
            if not isinstance(record, _Policy):
                raise KeyError(f"{name_or_arn!r} is a rule group, not a firewall policy")
            del self._policies[record.arn]

    def firewall_policy(self, name_or_arn: str) -> dict:
        """A copy of the stored FirewallPolicy object (a name means the default region)."""
        return copy.deepcopy(self._arranged(name_or_arn).body)

    def rule_group(self, arn: str) -> dict:
        """A copy of the stored RuleGroup object."""
        return copy.deepcopy(self._arranged(arn).body)

    def update_token(self, name_or_arn: str) -> str:
        return self._arranged(name_or_arn).token

    def _served_operation(self, operation: str):
        if operation not in self._operations:
            raise ValueError(f"FakeNetworkFirewall does not serve {operation}; it serves "
                             f"{sorted(self._operations)}")
        return self._contract.operation(operation)

    def _arranged(self, name_or_arn: str) -> _Resource:
        if name_or_arn.startswith("arn:"):
            record = self._policies.get(name_or_arn) or self._groups.get(name_or_arn)
        else:
            record = self._policies.get(self._policy_arn(self.region, name_or_arn))
        if record is None:
            raise KeyError(f"no firewall policy or rule group {name_or_arn!r} in the fake")
        return record

    def _arrange(self, operation: str, params: dict, region: str | None,
                 handler: Callable | None = None) -> dict:
        model = self._contract.operation(operation)
        params = copy.deepcopy(params)  # the test's own dicts must not alias the store
        with self._lock:
            try:
                self._contract.check_request(model, params)
                response = (handler or self._operations[operation])(params, region or self.region)
            except NetworkFirewallError as error:
                raise FakeContractError(f"cannot arrange {operation}: {error}") from error
            self._contract.check_response(model, response)
        return response

    # ----------------------------------------------------------------- dispatch

    def _answer(self, model, context: dict):
        operation = model.name
        if operation not in self._operations:
            if _moto_is_serving():
                return None  # moto serves firewalls, logging configuration and the rest
            self._contract_failure(
                f"{operation} is not implemented by FakeNetworkFirewall and moto.mock_aws is "
                "not active, so the call would go to the real AWS endpoint")
        if _PARAMS_KEY not in context:
            self._contract_failure(f"{operation}: the call's parameters were not captured")
        params = context[_PARAMS_KEY]
        with self._lock:
            self.calls.append((operation, copy.deepcopy(params)))
            try:
                response = self._serve(model, params, context["client_region"])
            except NetworkFirewallError as error:
                return _error_reply(error, self._request_id())
            return _success_reply(response, self._request_id())

    def _serve(self, model, params: dict, region: str) -> dict:
        self._contract.check_request(model, params)
        self._raise_injected_fault(model.name)
        canned = self._canned.get(model.name)
        try:
            response = canned.pop(0) if canned else self._operations[model.name](params, region)
            self._contract.check_response(model, response)
        except FakeContractError as error:
            self.contract_errors.append(error)  # kept in case the code under test swallows it
            raise
        # Handlers answer with live state; the copy keeps callers from editing the store.
        return copy.deepcopy(response)

    def _raise_injected_fault(self, operation: str) -> None:
        faults = self._faults.get(operation)
        if faults:
            raise NetworkFirewallError(*faults.pop(0))

    def _contract_failure(self, message: str):
        error = FakeContractError(message)
        self.contract_errors.append(error)
        raise error

    def _new_uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _request_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._request_numbers):012d}"

    # ----------------------------------------------------------------- lookups

    def _policy_arn(self, region: str, name: str) -> str:
        return _arn(region, self.account_id, f"firewall-policy/{name}")

    def _rule_group_arn(self, region: str, group_type: str, name: str) -> str | None:
        resource_type = ARN_RESOURCE_TYPES.get(group_type)
        return resource_type and _arn(region, self.account_id, f"{resource_type}/{name}")

    def _find_policy(self, params: dict, region: str) -> _Policy:
        name, arn = params.get("FirewallPolicyName"), params.get("FirewallPolicyArn")
        _require_name_or_arn(name, arn)
        record = self._policies.get(arn or self._policy_arn(region, name))
        if record is None or record.region != region:
            raise _not_found(f"Firewall policy {arn or name} not found")
        _require_same_resource(record, name)
        return record

    def _find_rule_group(self, params: dict, region: str, *, to_change: bool = False) -> _RuleGroup:
        name, arn = params.get("RuleGroupName"), params.get("RuleGroupArn")
        group_type = params.get("Type")
        _require_name_or_arn(name, arn)
        if arn is None and group_type is None:
            raise _invalid("Type is required for requests that do not include the RuleGroupArn")
        record = self._group_by_arn(arn or self._rule_group_arn(region, group_type, name), region)
        if record is None:
            raise _not_found(f"Rule group {arn or name} not found")
        _require_same_resource(record, name)
        if group_type is not None and group_type != record.type:
            raise _invalid(f"Rule group {record.arn} is of type {record.type}, not {group_type}")
        if to_change and record.managed:
            raise _invalid(f"{record.arn} is an AWS managed rule group; it can't be changed")
        return record

    def _group_finder(self, region: str) -> Callable[[str], _RuleGroup | None]:
        return functools.partial(self._group_by_arn, region=region)

    def _group_by_arn(self, arn: str | None, region: str) -> _RuleGroup | None:
        if arn is None or _arn_region(arn) != region:
            return None
        if arn.split(":")[4] == MANAGED_ACCOUNT:
            return self._managed_group(arn)
        return self._groups.get(arn)

    def _managed_group(self, arn: str) -> _RuleGroup | None:
        self._managed_catalog(_arn_region(arn))
        return self._managed.get(arn)

    def _managed_catalog(self, region: str) -> list[_RuleGroup]:
        """The region's AWS-managed groups, built once so their ids and tokens stay stable."""
        arns = []
        for family, managed_type in MANAGED_FAMILIES:
            for suffix, rule_order in MANAGED_ORDER_SUFFIXES:
                name = f"{family}{suffix}"
                arn = _arn(region, MANAGED_ACCOUNT, f"stateful-rulegroup/{name}")
                if arn not in self._managed:
                    self._managed[arn] = self._new_managed_group(
                        arn, region, name, managed_type, rule_order)
                arns.append(arn)
        return [self._managed[arn] for arn in arns]

    def _new_managed_group(self, arn, region, name, managed_type, rule_order) -> _RuleGroup:
        # The managed rules themselves are not published, so Describe returns no RuleGroup.
        return _RuleGroup(
            name=name, arn=arn, id=self._new_uuid(), region=region, token=self._new_uuid(),
            modified=self._clock(), body=None, description=f"AWS managed {name}",
            type="STATEFUL", capacity=MANAGED_CAPACITY, managed_type=managed_type,
            managed_rule_order=rule_order,
        )

    def _policies_referencing(self, group_arn: str) -> list[_Policy]:
        return [policy for policy in self._policies.values()
                if group_arn in _referenced_arns(policy.body)]

    def _reserved_capacity(self, references: Iterable[dict], region: str) -> int:
        groups = (self._group_by_arn(reference["ResourceArn"], region) for reference in references)
        return sum(group.capacity for group in groups if group is not None)

    # ----------------------------------------------------------------- responses

    def _policy_response(self, record: _Policy, status: str = "ACTIVE") -> dict:
        body = record.body
        response = {
            "FirewallPolicyName": record.name,
            "FirewallPolicyArn": record.arn,
            "FirewallPolicyId": record.id,
            "FirewallPolicyStatus": status,
            "ConsumedStatelessRuleCapacity": self._reserved_capacity(
                body.get("StatelessRuleGroupReferences") or [], record.region),
            "ConsumedStatefulRuleCapacity": self._reserved_capacity(
                body.get("StatefulRuleGroupReferences") or [], record.region),
            "NumberOfAssociations": record.associations,
            "EncryptionConfiguration": record.encryption,
            "LastModifiedTime": record.modified,
        }
        return {**response, **_without_none(Description=record.description, Tags=record.tags)}

    def _rule_group_response(self, record: _RuleGroup, status: str = "ACTIVE") -> dict:
        response = {
            "RuleGroupArn": record.arn,
            "RuleGroupName": record.name,
            "RuleGroupId": record.id,
            "Type": record.type,
            "Capacity": record.capacity,
            "RuleGroupStatus": status,
            "NumberOfAssociations": len(self._policies_referencing(record.arn)),
            "LastModifiedTime": record.modified,
        }
        consumed = None if record.managed else _consumed_capacity(record.body, record.type)
        optional = _without_none(
            Description=record.description, Tags=record.tags, ConsumedCapacity=consumed,
            EncryptionConfiguration=record.encryption, SourceMetadata=record.source_metadata,
            SummaryConfiguration=record.summary_configuration,
        )
        return {**response, **optional}

    def _page(self, records: list[_Resource], params: dict) -> tuple[list[_Resource], dict]:
        """One page of ``records`` ordered by ARN. NextToken names the last ARN returned, so a
        resource deleted between pages makes nothing else skip or repeat."""
        after = _decode_page_token(params.get("NextToken"))
        remaining = sorted((r for r in records if after is None or r.arn > after),
                           key=lambda record: record.arn)
        size = params.get("MaxResults", self._default_max_results)
        page = remaining[:size]
        more = {"NextToken": _encode_page_token(page[-1].arn)} if len(remaining) > size else {}
        return page, more

    # ----------------------------------------------------------------- firewall policies

    def _create_firewall_policy(self, params: dict, region: str) -> dict:
        _check_firewall_policy(params["FirewallPolicy"], None, self._group_finder(region))
        return self._create_unchecked(params, region)

    def _create_unchecked(self, params: dict, region: str) -> dict:
        name = params["FirewallPolicyName"]
        arn = self._policy_arn(region, name)
        if arn in self._policies:
            raise _invalid(f"A resource with the specified name already exists: {name}")
        record = _Policy(
            name=name, arn=arn, id=self._new_uuid(), region=region, token=self._new_uuid(),
            modified=self._clock(), body=params["FirewallPolicy"],
            description=params.get("Description"), tags=params.get("Tags"),
            encryption=params.get("EncryptionConfiguration", dict(DEFAULT_ENCRYPTION)),
        )
        if not params.get("DryRun"):
            self._policies[arn] = record
        return {"UpdateToken": record.token,
                "FirewallPolicyResponse": self._policy_response(record)}

    def _describe_firewall_policy(self, params: dict, region: str) -> dict:
        record = self._find_policy(params, region)
        return {
            "UpdateToken": record.token,
            "FirewallPolicyResponse": self._policy_response(record),
            "FirewallPolicy": record.body,
        }

    def _update_firewall_policy(self, params: dict, region: str) -> dict:
        record = self._find_policy(params, region)
        _require_current_token(record, params["UpdateToken"], "firewall policy")
        _check_firewall_policy(params["FirewallPolicy"], record.body, self._group_finder(region))
        updated = dataclasses.replace(
            record, body=params["FirewallPolicy"], token=self._new_uuid(), modified=self._clock(),
            description=params.get("Description", record.description),
            encryption=params.get("EncryptionConfiguration", record.encryption),
        )
        if not params.get("DryRun"):
            self._policies[record.arn] = updated
        return {"UpdateToken": updated.token,
                "FirewallPolicyResponse": self._policy_response(updated)}

    def _delete_firewall_policy(self, params: dict, region: str) -> dict:
        record = self._find_policy(params, region)
        if record.associations:
            raise NetworkFirewallError(
                "InvalidOperationException",
                f"Firewall policy {record.name} is in use by {record.associations} firewall(s)")
        del self._policies[record.arn]
        # Deletion is asynchronous in the service: the reply says DELETING.
        return {"FirewallPolicyResponse": self._policy_response(record, status="DELETING")}

    def _list_firewall_policies(self, params: dict, region: str) -> dict:
        mine = [record for record in self._policies.values() if record.region == region]
        page, more = self._page(mine, params)
        return {"FirewallPolicies": [{"Name": r.name, "Arn": r.arn} for r in page], **more}

    # ----------------------------------------------------------------- rule groups

    def _create_rule_group(self, params: dict, region: str) -> dict:
        group_type, name = params["Type"], params["RuleGroupName"]
        if group_type not in ARN_RESOURCE_TYPES:
            raise FakeContractError(f"FakeNetworkFirewall models STATEFUL and STATELESS rule "
                                    f"groups only, not {group_type}")
        arn = self._rule_group_arn(region, group_type, name)
        if arn in self._groups:
            raise _invalid(f"A resource with the specified name already exists: {name}")
        body = _rule_group_body(params, group_type)
        _check_rule_group_body(body, group_type, params["Capacity"])
        record = _RuleGroup(
            name=name, arn=arn, id=self._new_uuid(), region=region, token=self._new_uuid(),
            modified=self._clock(), body=body, description=params.get("Description"),
            tags=params.get("Tags"),
            encryption=params.get("EncryptionConfiguration", dict(DEFAULT_ENCRYPTION)),
            type=group_type, capacity=params["Capacity"],
            source_metadata=params.get("SourceMetadata"),
            summary_configuration=params.get("SummaryConfiguration"),
        )
        if not params.get("DryRun"):
            self._groups[arn] = record
        return {"UpdateToken": record.token, "RuleGroupResponse": self._rule_group_response(record)}

    def _describe_rule_group(self, params: dict, region: str) -> dict:
        record = self._find_rule_group(params, region)
        response = {"UpdateToken": record.token,
                    "RuleGroupResponse": self._rule_group_response(record)}
        return {**response, **_without_none(RuleGroup=record.body)}

    def _update_rule_group(self, params: dict, region: str) -> dict:
        record = self._find_rule_group(params, region, to_change=True)
        _require_current_token(record, params["UpdateToken"], "rule group")
        body = _rule_group_body(params, record.type)
        _check_rule_group_body(body, record.type, record.capacity)
        updated = dataclasses.replace(
            record, body=body, token=self._new_uuid(), modified=self._clock(),
            description=params.get("Description", record.description),
            encryption=params.get("EncryptionConfiguration", record.encryption),
            source_metadata=params.get("SourceMetadata", record.source_metadata),
            summary_configuration=params.get("SummaryConfiguration", record.summary_configuration),
        )
        if not params.get("DryRun"):
            self._groups[record.arn] = updated
        return {"UpdateToken": updated.token,
                "RuleGroupResponse": self._rule_group_response(updated)}

    def _delete_rule_group(self, params: dict, region: str) -> dict:
        record = self._find_rule_group(params, region, to_change=True)
        users = sorted(policy.name for policy in self._policies_referencing(record.arn))
        if users:
            raise NetworkFirewallError(
                "InvalidOperationException",
                f"Rule group {record.name} is in use by firewall policies: {', '.join(users)}")
        del self._groups[record.arn]
        return {"RuleGroupResponse": self._rule_group_response(record, status="DELETING")}

    def _list_rule_groups(self, params: dict, region: str) -> dict:
        if params.get("Scope") == "MANAGED":
            candidates = self._managed_catalog(region)
        else:
            candidates = [group for group in self._groups.values() if group.region == region]
        wanted = _without_none(type=params.get("Type"), managed_type=params.get("ManagedType"))
        matching = [group for group in candidates
                    if all(getattr(group, key) == value for key, value in wanted.items())]
        if params.get("SubscriptionStatus"):
            matching = []  # only partner-managed groups have a subscription; the fake has none
        page, more = self._page(matching, params)
        return {"RuleGroups": [{"Name": g.name, "Arn": g.arn} for g in page], **more}


def _require_name_or_arn(name: str | None, arn: str | None) -> None:
    if not name and not arn:
        raise _invalid("You must specify the ARN or the name, and you can specify both")


def _require_same_resource(record: _Resource, name: str | None) -> None:
    if name is not None and name != record.name:
        raise _invalid(f"The name {name} and the ARN {record.arn} don't identify the same resource")


def _require_current_token(record: _Resource, token: str, kind: str) -> None:
    if token != record.token:
        raise NetworkFirewallError(
            "InvalidTokenException",
            f"The update token for {kind} {record.name} is stale: describe the {kind} to get "
            "its current token, reapply your changes and try again")


def _referenced_arns(document: dict) -> set[str]:
    references = itertools.chain(document.get("StatelessRuleGroupReferences") or [],
                                 document.get("StatefulRuleGroupReferences") or [])
    return {reference["ResourceArn"] for reference in references}


@pytest.fixture
def fake_network_firewall():
    """An active FakeNetworkFirewall in us-east-1 for account 123456789012."""
    with FakeNetworkFirewall() as fake:
        yield fake
