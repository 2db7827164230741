"""Network Firewall configuration items as Config records them, for the netfw family's tests.

Resource ids are what Config records: the firewall's and the policy's id (a UUID), not the ARN.
"""
from __future__ import annotations

import copy

from builders import ACCOUNT_ID, REGION, recorded_item

POLICY_TYPE = "AWS::NetworkFirewall::FirewallPolicy"
FIREWALL_TYPE = "AWS::NetworkFirewall::Firewall"
LOGGING_TYPE = "AWS::NetworkFirewall::LoggingConfiguration"
SUBNET_TYPE = "AWS::EC2::Subnet"
POLICY_ID = "2d8f4b7e-90a1-4c3b-8e5f-6a7b8c9d0e1f"
POLICY_ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT_ID}:firewall-policy/edge"
FIREWALL_ID = "7c1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
FIREWALL_ARN = f"arn:aws:network-firewall:{REGION}:{ACCOUNT_ID}:firewall/edge-fw"
SUBNETS = {"subnet-0a1a1a1a1a1a1a1a1": "us-east-1a", "subnet-0b2b2b2b2b2b2b2b2": "us-east-1b"}


def policy_body(*, stateless=("aws:forward_to_sfe",), fragments=("aws:forward_to_sfe",), stateful=None,
                rule_order=None, custom=()) -> dict:
    body = {"statelessDefaultActions": list(stateless), "statelessFragmentDefaultActions": list(fragments),
            "statelessRuleGroupReferences": [], "statefulRuleGroupReferences": []}
    if custom:
        body["statelessCustomActions"] = [{"actionName": name, "actionDefinition": {"publishMetricAction": {
            "dimensions": [{"value": name}]}}} for name in custom]
    if stateful is not None:
        body["statefulDefaultActions"] = list(stateful)
    if rule_order is not None:
        body["statefulEngineOptions"] = {"ruleOrder": rule_order}
    return body


def policy_item(body: dict | None, *, status="OK", resource_type=POLICY_TYPE, pascal=False) -> dict:
    configuration = {
        "firewallPolicy": body,
        "firewallPolicyResponse": {"firewallPolicyName": "edge", "firewallPolicyArn": POLICY_ARN,
                                   "firewallPolicyId": POLICY_ID, "firewallPolicyStatus": "ACTIVE"},
        "updateToken": "6f0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d",
    }
    if body is None:
        del configuration["firewallPolicy"]
    item = recorded_item(resource_type, POLICY_ID, configuration, status=status, name="edge", pascal=pascal)
    item["ARN"] = POLICY_ARN
    return item


def firewall_body(*, delete=True, subnet=True, policy=True, subnets=tuple(SUBNETS), arn=FIREWALL_ARN,
                  firewall_id=FIREWALL_ID, name="edge-fw") -> dict:
    return {"firewallName": name, "firewallArn": arn, "firewallId": firewall_id, "firewallPolicyArn": POLICY_ARN,
            "vpcId": "vpc-0c3c3c3c3c3c3c3c3", "subnetMappings": [{"subnetId": s, "ipAddressType": "IPV4"} for s in subnets],
            "deleteProtection": delete, "subnetChangeProtection": subnet, "firewallPolicyChangeProtection": policy}


def sync_states(*zones: str) -> dict:
    return {"status": "READY", "configurationSyncStateSummary": "IN_SYNC", "syncStates": {
        zone: {"attachment": {"subnetId": f"subnet-0{index}{index}", "endpointId": f"vpce-0{index}", "status": "READY"}}
        for index, zone in enumerate(zones)}}


def firewall_item(body: dict | None = None, *, status=None, item_status="OK", resource_type=FIREWALL_TYPE,
                  pascal=False, supplementary=None, **body_options) -> dict:
    body = firewall_body(**body_options) if body is None else body
    configuration = {"firewall": body}
    if status is not None:
        configuration["firewallStatus"] = status
    item = recorded_item(resource_type, body.get("firewallId") or FIREWALL_ID, configuration, status=item_status,
                         name=body.get("firewallName"), pascal=pascal)
    item["ARN"] = body.get("firewallArn")
    if supplementary:
        item["supplementaryConfiguration"] = copy.deepcopy(supplementary)
    return item


def destination(log_type: str, kind: str, name: str) -> dict:
    key = {"S3": "bucketName", "CloudWatchLogs": "logGroup", "KinesisDataFirehose": "deliveryStream"}[kind]
    return {"logType": log_type, "logDestinationType": kind, "logDestination": {key: name}}


def logging_configuration(*destinations: dict, arn: str = FIREWALL_ARN) -> dict:
    return {"firewallArn": arn, "loggingConfiguration": {"logDestinationConfigs": list(destinations)}}


def logging_item(*destinations: dict, arn: str = FIREWALL_ARN) -> dict:
    item = recorded_item(LOGGING_TYPE, arn, logging_configuration(*destinations, arn=arn), name=None)
    item["ARN"] = arn
    return item


def subnet_item(subnet_id: str, zone: str) -> dict:
    item = recorded_item(SUBNET_TYPE, subnet_id, {"subnetId": subnet_id, "availabilityZone": zone,
                                                   "vpcId": "vpc-0c3c3c3c3c3c3c3c3", "cidrBlock": "10.0.0.0/28"},
                         name=subnet_id)
    item["availabilityZone"] = zone
    return item
