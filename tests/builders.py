"""Builders for configuration items in the shapes AWS produces, shared by the rule tests."""
from __future__ import annotations

import copy
import json

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def pascalise(value):
    """The PascalCase twin of a camelCase structure (keys only): the API / CloudFormation spelling."""
    if isinstance(value, dict):
        return {key[0].upper() + key[1:]: pascalise(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [pascalise(inner) for inner in value]
    return value


def recorded_item(resource_type: str, resource_id: str, configuration, *, status: str = "OK",
                  name: str = "test-resource", pascal: bool = False) -> dict:
    """A configuration item in the notification shape, as a change event carries it."""
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-20T11:02:17.456Z",
        "configurationStateId": 1763636537456,
        "awsAccountId": ACCOUNT_ID,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
        "ARN": resource_id,
        "awsRegion": REGION,
        "availabilityZone": "Regional",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": "2026-03-02T09:00:00.000Z",
        "tags": {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": pascalise(configuration) if pascal else configuration,
        "supplementaryConfiguration": {},
    }


def api_shape(item: dict) -> dict:
    """The same item as GetResourceConfigHistory / BatchGetResourceConfig return it."""
    renamed = {"awsAccountId": "accountId", "ARN": "arn", "configurationStateMd5Hash": "configurationItemMD5Hash",
               "configurationItemVersion": "version"}
    api = {renamed.get(key, key): value for key, value in copy.deepcopy(item).items()}
    api["configuration"] = json.dumps(api["configuration"])
    api["supplementaryConfiguration"] = {k: json.dumps(v) for k, v in api.get("supplementaryConfiguration", {}).items()}
    api["configurationStateId"] = str(api["configurationStateId"])
    return api


def sg_permission(protocol, from_port=None, to_port=None, *, ipv4=(), ipv6=(), prefix_lists=(), groups=()):
    """One recorded ``ipPermissions`` entry; the legacy ``ipRanges`` strings repeat ``ipv4``, as Config records."""
    entry = {"ipProtocol": protocol, "ipv4Ranges": [{"cidrIp": cidr} for cidr in ipv4], "ipRanges": list(ipv4),
             "ipv6Ranges": [{"cidrIpv6": cidr} for cidr in ipv6],
             "prefixListIds": [{"prefixListId": pl} for pl in prefix_lists],
             "userIdGroupPairs": [{"groupId": group, "userId": ACCOUNT_ID} for group in groups]}
    if from_port is not None:
        entry["fromPort"] = from_port
    if to_port is not None:
        entry["toPort"] = to_port
    return entry


def security_group_item(*ingress, egress=(), name="web", group_id="sg-0123456789abcdef0", **item_options) -> dict:
    return recorded_item("AWS::EC2::SecurityGroup", group_id, {
        "description": name, "groupName": name, "groupId": group_id, "ownerId": ACCOUNT_ID,
        "vpcId": "vpc-0a1b2c3d4e5f60718", "ipPermissions": list(ingress), "ipPermissionsEgress": list(egress),
        "tags": []}, name=name, **item_options)


def nacl_entry(number, protocol="6", action="allow", cidr="0.0.0.0/0", ports=None, *, egress=False) -> dict:
    """One recorded ``entries`` element of a network ACL (numbers as DescribeNetworkAcls gives them)."""
    entry = {"ruleNumber": number, "protocol": protocol, "ruleAction": action, "egress": egress}
    entry["ipv6CidrBlock" if ":" in cidr else "cidrBlock"] = cidr
    if ports is not None:
        entry["portRange"] = {"from": ports[0], "to": ports[1]}
    return entry


def network_acl_item(*entries, subnets=("subnet-0a1b2c3d4e5f60001",), default=False, acl_id="acl-0123456789abcdef0",
                     **item_options) -> dict:
    return recorded_item("AWS::EC2::NetworkAcl", acl_id, {
        "networkAclId": acl_id, "vpcId": "vpc-0a1b2c3d4e5f60718", "ownerId": ACCOUNT_ID, "isDefault": default,
        "entries": list(entries), "tags": [],
        "associations": [{"networkAclAssociationId": f"aclassoc-{index:017x}", "networkAclId": acl_id,
                          "subnetId": subnet} for index, subnet in enumerate(subnets)]}, **item_options)
