"""API responses as configuration items, in the notification shape the Lambdas receive from Config.

The EC2 and Network Firewall APIs (and the AWS CLI, which prints their parsed responses) spell fields in
PascalCase; Config records the same fields in camelCase. ``camel_case`` converts a response with botocore's own
output shape: member names get a lower-case first letter; map keys such as rule-variable names and tag keys are
data and stay as they are; timestamps become ISO 8601 text. The one place a plain conversion would differ from
Config is the security group's ``IpRanges``: Config records them as ``ipv4Ranges`` objects plus the legacy
``ipRanges`` list of CIDR strings, and so do we.

Shared by the live scan (boto3 responses) and the file scan (``aws ec2 describe-security-groups`` output and
the like); botocore's models are loaded only when such a shape is met.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
FIREWALL = "AWS::NetworkFirewall::Firewall"
FIREWALL_POLICY = "AWS::NetworkFirewall::FirewallPolicy"
RULE_GROUP = "AWS::NetworkFirewall::RuleGroup"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def config_timestamp(value: datetime) -> str:
    """``2026-11-20T10:15:42.123Z``, as Config writes times."""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def camel_case(value: Any, shape) -> Any:
    """A botocore-parsed value in Config's spelling, walking its botocore shape."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {
            _lower_first(name): camel_case(member, shape.members.get(name))
            for name, member in value.items()
            if name != "ResponseMetadata"
        }
    if kind == "list" and isinstance(value, list):
        return [camel_case(member, shape.member) for member in value]
    if kind == "map" and isinstance(value, dict):
        return {key: camel_case(member, shape.value) for key, member in value.items()}
    if kind == "timestamp" and isinstance(value, datetime):
        return config_timestamp(value)
    return value


@lru_cache(maxsize=None)
def _service_model(service: str):
    import botocore.session  # only when an API-shaped document is met: the model load costs ~0.1 s

    return botocore.session.get_session().get_service_model(service)


def output_shape(service: str, operation: str):
    return _service_model(service).operation_model(operation).output_shape


def tag_dict(tags: Any) -> dict:
    return {tag["Key"]: tag.get("Value", "") for tag in tags or [] if isinstance(tag, dict) and "Key" in tag}


def arn_parts(arn: Any) -> tuple[str | None, str | None, str | None]:
    """(partition, region, account) of an ARN; Nones for what it does not say."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) < 6 or parts[0] != "arn":
        return None, None, None
    return parts[1] or None, parts[3] or None, parts[4] or None


def config_item(
    resource_type: str,
    resource_id: str,
    *,
    name: str | None,
    arn: str | None,
    region: str | None,
    account: str | None,
    zone: str,
    configuration: dict,
    tags: dict,
    relationships: list,
    captured: datetime | None = None,
) -> dict:
    captured = captured or datetime.now(timezone.utc)
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": config_timestamp(captured),
        "configurationStateId": int(captured.timestamp() * 1000),
        "awsAccountId": account,
        "configurationItemStatus": "OK",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": zone,
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
        "tags": tags,
        "relatedEvents": [],
        "relationships": relationships,
        "configuration": configuration,
        "supplementaryConfiguration": {},
    }


def _vpc_relationship(vpc_id: Any) -> list:
    if not vpc_id:
        return []
    return [{"resourceId": vpc_id, "resourceName": None, "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"}]


def security_group_configuration(group: dict, shape=None) -> dict:
    """One DescribeSecurityGroups entry as Config records it (see the module docstring)."""
    shape = shape or output_shape("ec2", "DescribeSecurityGroups").members["SecurityGroups"].member
    configuration = camel_case(group, shape)
    for direction in ("ipPermissions", "ipPermissionsEgress"):
        permissions = configuration.get(direction) or []
        for permission in permissions:
            ipv4 = permission.pop("ipRanges", None) or []
            permission["ipv4Ranges"] = ipv4
            permission["ipRanges"] = [entry["cidrIp"] for entry in ipv4 if isinstance(entry, dict) and "cidrIp" in entry]
            for listed in ("ipv6Ranges", "prefixListIds", "userIdGroupPairs"):
                permission.setdefault(listed, [])
        configuration[direction] = permissions
    return configuration


def security_group_item(group: dict, *, region: str | None = None, account: str | None = None,
                        partition: str = "aws", shape=None) -> dict:
    """A DescribeSecurityGroups entry as a configuration item. Without a region (the CLI's output carries
    one only in ``SecurityGroupArn``) the item has none, and no ARN unless the entry has one."""
    group_id = group["GroupId"]
    arn = group.get("SecurityGroupArn")
    arn_partition, arn_region, arn_account = arn_parts(arn)
    region, account = region or arn_region, account or arn_account or group.get("OwnerId")
    if not arn and region and account:
        arn = f"arn:{partition}:ec2:{region}:{account}:security-group/{group_id}"
    return config_item(
        SECURITY_GROUP, group_id, name=group.get("GroupName"), arn=arn, region=region, account=account,
        zone="Not Applicable", configuration=security_group_configuration(group, shape),
        tags=tag_dict(group.get("Tags")), relationships=_vpc_relationship(group.get("VpcId")),
    )


def network_acl_item(acl: dict) -> dict:
    """A DescribeNetworkAcls entry as a configuration item (``entries[].portRange{from,to}``, as Config records)."""
    acl_id = acl["NetworkAclId"]
    shape = output_shape("ec2", "DescribeNetworkAcls").members["NetworkAcls"].member
    return config_item(
        NETWORK_ACL, acl_id, name=None, arn=None, region=None, account=acl.get("OwnerId"), zone="Not Applicable",
        configuration=camel_case(acl, shape), tags=tag_dict(acl.get("Tags")),
        relationships=_vpc_relationship(acl.get("VpcId")),
    )


# Describe* response of a Network Firewall resource -> (resource type, the response's resource member, and
# that member's id / name / ARN fields). Config's resource id is the resource's id, not its ARN.
FIREWALL_DESCRIPTIONS = {
    "DescribeFirewall": (FIREWALL, "Firewall", "FirewallId", "FirewallName", "FirewallArn"),
    "DescribeFirewallPolicy": (FIREWALL_POLICY, "FirewallPolicyResponse", "FirewallPolicyId", "FirewallPolicyName",
                               "FirewallPolicyArn"),
    "DescribeRuleGroup": (RULE_GROUP, "RuleGroupResponse", "RuleGroupId", "RuleGroupName", "RuleGroupArn"),
}


def firewall_item(operation: str, response: dict, resource_id: str | None = None) -> dict:
    """A Network Firewall Describe* response as a configuration item; its configuration is the whole response
    in camelCase (``firewall``/``firewallStatus``, ``firewallPolicy``/``firewallPolicyResponse``, ...)."""
    resource_type, member, id_field, name_field, arn_field = FIREWALL_DESCRIPTIONS[operation]
    described = response.get(member) or {}
    arn = described.get(arn_field)
    _, region, account = arn_parts(arn)
    return config_item(
        resource_type, resource_id or described.get(id_field) or arn, name=described.get(name_field), arn=arn,
        region=region, account=account, zone="Regional",
        configuration=camel_case(response, output_shape("network-firewall", operation)),
        tags=tag_dict(described.get("Tags")), relationships=[],
    )
