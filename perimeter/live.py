"""Live scan: configuration items built from read-only API calls, in the notification shape the Lambdas receive.

Calls (and nothing else): ``sts:GetCallerIdentity`` once; per region ``ec2:DescribeSecurityGroups`` and
``ec2:DescribeNetworkAcls`` (paginated, ``MaxResults`` 1000), ``network-firewall:ListFirewallPolicies`` +
``DescribeFirewallPolicy`` and ``ListRuleGroups`` (``Scope`` ACCOUNT) + ``DescribeRuleGroup``, ``ListFirewalls`` +
``DescribeFirewall`` + ``DescribeLoggingConfiguration`` and, per log destination, ``s3:HeadBucket`` /
``logs:DescribeLogGroups`` / ``firehose:DescribeDeliveryStream`` (perimeter.firewall_logging), each only when a
selected rule evaluates that resource type. Network Firewall items carry the resource id Config records: the
resource's id, not its ARN. Items are yielded one at a time as pages arrive, so memory does not grow with the account.

The items carry Config's camelCase spelling, converted from the APIs' PascalCase with botocore's own output
shapes (member names get a lower-case first letter; map keys such as rule-variable names and tag keys are
data and stay as they are; timestamps become ISO 8601 text). The core models read PascalCase too, but an
item in the exact recorded shape is what the Lambdas see, what ``--format json`` consumers and any future
rule reading a field directly expect, and what a snapshot written from these items scans identically. The
one place a plain conversion would differ from Config is the security group's ``IpRanges``: Config records
them as ``ipv4Ranges`` objects plus the legacy ``ipRanges`` list of CIDR strings, and so do we.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

import boto3
import botocore.exceptions
from botocore.config import Config

from perimeter.inputs.apishapes import (
    FIREWALL_POLICY, RULE_GROUP, SECURITY_GROUP, camel_case, config_item, firewall_item, security_group_item, tag_dict,
)
from perimeter.scan import ScanInputError

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
NETWORK_ACL_PAGE_SIZE = 1000  # DescribeNetworkAcls' MaxResults ceiling
FIREWALL_POLICY = "AWS::NetworkFirewall::FirewallPolicy"
RULE_GROUP = "AWS::NetworkFirewall::RuleGroup"
FIREWALL = "AWS::NetworkFirewall::Firewall"
SECURITY_GROUP_PAGE_SIZE = 1000  # DescribeSecurityGroups' MaxResults ceiling
CLIENT_CONFIG = Config(retries={"mode": "standard"})  # throttling and 5xx retried with backoff, bounded

# The IAM action of every call the live scan makes (README: "Scanning a live account").
ACTIONS = {
    "GetCallerIdentity": "sts:GetCallerIdentity",
    "DescribeSecurityGroups": "ec2:DescribeSecurityGroups",
    "DescribeNetworkAcls": "ec2:DescribeNetworkAcls",
    "ListFirewallPolicies": "network-firewall:ListFirewallPolicies",
    "DescribeFirewallPolicy": "network-firewall:DescribeFirewallPolicy",
    "ListRuleGroups": "network-firewall:ListRuleGroups",
    "DescribeRuleGroup": "network-firewall:DescribeRuleGroup",
    "ListFirewalls": "network-firewall:ListFirewalls",
    "DescribeFirewall": "network-firewall:DescribeFirewall",
    "DescribeLoggingConfiguration": "network-firewall:DescribeLoggingConfiguration",
    "HeadBucket": "s3:ListBucket",
    "DescribeLogGroups": "logs:DescribeLogGroups",
    "DescribeDeliveryStream": "firehose:DescribeDeliveryStream",
}
LIVE_POLICY = "the live scan needs the read-only IAM policy in the README section 'Scanning a live account'"
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
_REJECTED = frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "SignatureDoesNotMatch"})


class LiveScanError(ScanInputError):
    """The live scan cannot go on: credentials, region, permissions or the API. One line saying what to do."""


# --- shapes -------------------------------------------------------------------------------------------


def _output_shape(client, operation: str):
    return client.meta.service_model.operation_model(operation).output_shape


# --- readers: one per resource type -------------------------------------------------------------------


class _Region:
    """What every reader of one region needs."""

    def __init__(self, session: boto3.Session, region: str, account: str):
        self.session = session
        self.name = region
        self.account = account
        self.partition = session.get_partition_for_region(region)
        self._clients: dict[str, Any] = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.name, config=CLIENT_CONFIG)
        return self._clients[service]


def security_group_items(region: _Region) -> Iterator[dict]:
    ec2 = region.client("ec2")
    shape = _output_shape(ec2, "DescribeSecurityGroups").members["SecurityGroups"].member
    pages = ec2.get_paginator("describe_security_groups").paginate(
        PaginationConfig={"PageSize": SECURITY_GROUP_PAGE_SIZE}
    )
    for page in pages:
        for group in page.get("SecurityGroups", []):
            yield security_group_item(group, region=region.name, account=region.account,
                                      partition=region.partition, shape=shape)


def network_acl_items(region: _Region) -> Iterator[dict]:
    """DescribeNetworkAcls in pages; each ACL as Config records it (entries, associations, isDefault, camelCase)."""
    ec2 = region.client("ec2")
    shape = _output_shape(ec2, "DescribeNetworkAcls").members["NetworkAcls"].member
    pages = ec2.get_paginator("describe_network_acls").paginate(PaginationConfig={"PageSize": NETWORK_ACL_PAGE_SIZE})
    for page in pages:
        for acl in page.get("NetworkAcls", []):
            acl_id = acl["NetworkAclId"]
            relationships = [{"resourceId": acl["VpcId"], "resourceName": None, "resourceType": "AWS::EC2::VPC",
                              "name": "Is contained in Vpc"}] if acl.get("VpcId") else []
            relationships += [{"resourceId": association["SubnetId"], "resourceName": None,
                               "resourceType": "AWS::EC2::Subnet", "name": "Is attached to Subnet"}
                              for association in acl.get("Associations", []) if association.get("SubnetId")]
            yield config_item(
                NETWORK_ACL,
                acl_id,
                name=None,
                arn=f"arn:{region.partition}:ec2:{region.name}:{region.account}:network-acl/{acl_id}",
                region=region.name,
                account=region.account,
                zone="Not Applicable",
                configuration=camel_case(acl, shape),
                tags=tag_dict(acl.get("Tags")),
                relationships=relationships,
            )


def _firewall_items(
    region: _Region, list_operation: str, list_key: str, list_arguments: dict, describe_operation: str,
    arn_parameter: str,
) -> Iterator[dict]:
    client = region.client("network-firewall")
    describe = getattr(client, botocore.xform_name(describe_operation))
    for page in client.get_paginator(botocore.xform_name(list_operation)).paginate(**list_arguments):
        for entry in page.get(list_key, []):
            try:
                response = describe(**{arn_parameter: entry["Arn"]})
            except client.exceptions.ResourceNotFoundException:
                continue  # deleted between the list and the describe: no longer there to judge
            item = firewall_item(describe_operation, response)  # Config's resource id: the resource's id, not its ARN
            item.update(awsRegion=region.name, awsAccountId=region.account)
            yield item


def firewall_policy_items(region: _Region) -> Iterator[dict]:
    return _firewall_items(
        region, "ListFirewallPolicies", "FirewallPolicies", {}, "DescribeFirewallPolicy", "FirewallPolicyArn",
    )


def rule_group_items(region: _Region) -> Iterator[dict]:
    return _firewall_items(
        region, "ListRuleGroups", "RuleGroups", {"Scope": "ACCOUNT"}, "DescribeRuleGroup", "RuleGroupArn",
    )


def firewall_items(region: _Region) -> Iterator[dict]:
    """Firewalls as Config records them (DescribeFirewall, with firewallStatus.syncStates), each with its logging
    configuration and whether its log destinations exist in ``supplementaryConfiguration`` (perimeter.firewall)."""
    from perimeter.firewall import LOGGING_KEY, firewall_item
    from perimeter.firewall_logging import logging_supplement

    client = region.client("network-firewall")
    shape = _output_shape(client, "DescribeFirewall")
    logging_shape = _output_shape(client, "DescribeLoggingConfiguration")
    for page in client.get_paginator("list_firewalls").paginate():
        for entry in page.get("Firewalls", []):
            try:
                response = client.describe_firewall(FirewallArn=entry["FirewallArn"])
                supplement = logging_supplement(region.client, entry["FirewallArn"])
            except client.exceptions.ResourceNotFoundException:
                continue  # deleted between the list and the describe: no longer there to judge
            item = firewall_item(response)
            supplement[LOGGING_KEY] = camel_case(supplement[LOGGING_KEY], logging_shape)
            yield config_item(
                FIREWALL,
                item["resourceId"],
                name=item["resourceName"],
                arn=item["ARN"],
                region=region.name,
                account=region.account,
                zone="Regional",
                configuration=camel_case(response, shape),
                tags=tag_dict(response["Firewall"].get("Tags")),
                relationships=[],
            ) | {"supplementaryConfiguration": supplement}


READERS: dict[str, Callable[[_Region], Iterator[dict]]] = {
    SECURITY_GROUP: security_group_items,
    NETWORK_ACL: network_acl_items,
    FIREWALL_POLICY: firewall_policy_items,
    RULE_GROUP: rule_group_items,
    FIREWALL: firewall_items,
}


# --- the scan -----------------------------------------------------------------------------------------


def live_items(
    resource_types: Iterable[str], regions: Iterable[str] = (), profile: str | None = None
) -> Iterator[dict]:
    """Items of ``resource_types`` in ``regions`` (default: the profile's region), lazily.

    Every credentials, region or API failure is raised as LiveScanError with one line saying what to do.
    """
    resource_types = tuple(dict.fromkeys(resource_types))
    unreadable = [kind for kind in resource_types if kind not in READERS]
    if unreadable:
        raise LiveScanError(f"the live scan cannot read {', '.join(unreadable)} yet; scan a Config snapshot instead")
    region_name = None
    try:
        session = boto3.Session(profile_name=profile)
        regions = list(dict.fromkeys(regions)) or [session.region_name]
        if not regions[0]:
            raise botocore.exceptions.NoRegionError()
        region_name = regions[0]
        sts = session.client("sts", region_name=region_name, config=CLIENT_CONFIG)
        account = sts.get_caller_identity()["Account"]
        for region_name in regions:
            region = _Region(session, region_name, account)
            for resource_type in resource_types:
                yield from READERS[resource_type](region)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LiveScanError(" ".join(explain(error, region_name, profile).split())) from error  # one line


def explain(error: Exception, region: str | None, profile: str | None, needs: str = LIVE_POLICY,
            actions: dict[str, str] = ACTIONS) -> str:
    """One line for a credentials, region, permission or API failure; ``needs`` says which permissions the
    reader's README section lists, ``actions`` names the IAM action of each operation it calls."""
    where = f" in {region}" if region else ""
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return f"AWS profile '{profile}' not found: check ~/.aws/config (or AWS_CONFIG_FILE) or drop --profile"
    if isinstance(error, botocore.exceptions.NoRegionError):
        return "no AWS region: pass --region R, or set AWS_REGION or a region in your AWS profile"
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return (
            "no AWS credentials found: run 'aws configure' or 'aws sso login', set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile"
        )
    if isinstance(error, botocore.exceptions.PartialCredentialsError):
        return f"incomplete AWS credentials: {error}"
    refresh_errors = (
        botocore.exceptions.TokenRetrievalError,
        botocore.exceptions.SSOError,
        botocore.exceptions.CredentialRetrievalError,
    )
    if isinstance(error, refresh_errors):
        return f"AWS credentials could not be refreshed ({error}): run 'aws sso login' (or renew them) and retry"
    if isinstance(error, botocore.exceptions.InvalidRegionError):
        return f"{error}: pass a region name such as us-east-1"
    if isinstance(error, botocore.exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        action = actions.get(error.operation_name, error.operation_name)
        if code in _EXPIRED:
            return (
                f"AWS credentials have expired ({code} calling {action}): renew them (e.g. 'aws sso login') and retry"
            )
        if code in _REJECTED:
            return (
                f"AWS credentials were rejected ({code} calling {action}): check the access key, or renew the session"
            )
        if "AccessDenied" in code or code in ("UnauthorizedOperation", "UnauthorizedAccess"):
            return (
                f"access denied: {action}{where} ({code}); {needs}"
            )
        return f"AWS error{where}: {action} failed: {code}: {message}"
    if isinstance(error, botocore.exceptions.ConnectionError):
        return f"cannot reach AWS{where}: {error}; check the network, the proxy and the region name"
    return f"AWS error{where}: {error}"
