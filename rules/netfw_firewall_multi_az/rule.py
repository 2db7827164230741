"""netfw-firewall-multi-az: a firewall's endpoints must span several availability zones.

Read as AWS reads it (managed rule netfw-multi-az-enabled, Security Hub NetworkFirewall.1): a firewall with
endpoints in one zone stops inspecting (and, routed through it, stops the traffic) when that zone fails. A firewall
has one endpoint per subnet mapping, in the subnet's zone. The zones come, in this order of trust:
1. ``firewallStatus.syncStates``, whose keys are the zones of the firewall's endpoints (DescribeFirewall); when
   present it alone counts;
2. otherwise the Lambda calls DescribeFirewall (``complete_item``), and the live scan reads the same;
3. otherwise the offline scan looks the mapped subnets up among the AWS::EC2::Subnet items of the same input
   (``relate``, run by perimeter.scan).
Pure, except ``complete_item`` (the Lambda's one API call).

Scenarios (tests/test_rule_netfw_firewall_multi_az.py mirrors each one by its number):

S1  Given a firewall whose firewallStatus.syncStates has us-east-1a and us-east-1b
    When it is evaluated with the default minAvailabilityZones 2
    Then COMPLIANT "Firewall endpoints span 2 availability zones: us-east-1a, us-east-1b"
S2  Given syncStates with one zone
    Then NON_COMPLIANT "Firewall endpoints span 1 availability zone(s): us-east-1a; at least 2 required"
S3  Given syncStates with one zone and subnet mappings whose subnets lie in two zones (looked up)
    Then syncStates alone counts: NON_COMPLIANT as S2
S4  Given no syncStates, in the offline scan, with AWS::EC2::Subnet items in the input for the mapped subnets
    (before or after the firewall)
    Then the subnets' zones count: COMPLIANT for two zones, NON_COMPLIANT for one
S5  Given no syncStates and a mapped subnet that no AWS::EC2::Subnet item of the input describes, while the
    zones found fall short
    Then NON_COMPLIANT "Availability zones could not be determined from the item (no firewallStatus.syncStates;
    no AWS::EC2::Subnet item for subnet-...)"
S6  Given no syncStates, in the Lambda
    Then DescribeFirewall decides (its syncStates); a firewall gone meanwhile is NOT_APPLICABLE "Resource status
    is ResourceDeletedNotRecorded"
S7  Given minAvailabilityZones 3 and two zones
    Then NON_COMPLIANT "...span 2 availability zone(s): ...; at least 3 required"
S8  Given the PascalCase spelling of DescribeFirewall, a CloudFormation export, or the API shape
    Then the same verdicts as the camelCase recorded item
S9  Given syncStates that is not an object, or a subnet mapping without subnetId
    Then the item is malformed: a clear error naming the item and the field
S10 Given an invalid minAvailabilityZones (0, "two") or an unknown parameter name
    Then the invocation fails with InvalidParametersError naming the parameter and the value
S11 Given a deleted or not-recorded item, eventLeftScope, or another resource type
    Then NOT_APPLICABLE with the reason
"""
from __future__ import annotations

from dataclasses import dataclass

from perimeter.declarations import declared_values
from perimeter.firewall import SUBNET_ZONES_KEY, Firewall, firewall_from_configuration
from perimeter.items import configuration_of, field
from perimeter.rules.netfw_firewall_multi_az.declaration import DECLARATION
from perimeter.verdicts import COMPLIANT, NON_COMPLIANT, Verdict

SUBNET = "AWS::EC2::Subnet"
# The resource types perimeter.scan hands ``relate`` from the same input.
RELATED_RESOURCE_TYPES = (SUBNET,)
UNDETERMINED = "Availability zones could not be determined from the item"


@dataclass(frozen=True)
class Parameters:
    min_availability_zones: int = 2


def parse_parameters(raw: dict) -> Parameters:
    return Parameters(declared_values(DECLARATION, raw)["minAvailabilityZones"])


def _subnet_zones(item: dict) -> dict:
    supplementary = item.get("supplementaryConfiguration")
    zones = supplementary.get(SUBNET_ZONES_KEY) if isinstance(supplementary, dict) else None
    return zones if isinstance(zones, dict) else {}


def zones_of(item: dict, firewall: Firewall) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the zones found, the subnets whose zone is unknown)."""
    if firewall.sync_zones is not None:
        return firewall.sync_zones, ()
    known = _subnet_zones(item)
    zones = sorted({known[subnet] for subnet in firewall.subnet_ids if isinstance(known.get(subnet), str)})
    return tuple(zones), tuple(subnet for subnet in firewall.subnet_ids if not isinstance(known.get(subnet), str))


def evaluate(item: dict, parameters: Parameters) -> Verdict:
    firewall = firewall_from_configuration(configuration_of(item))
    zones, unknown = zones_of(item, firewall)
    wanted = parameters.min_availability_zones
    if len(zones) >= wanted:
        return Verdict(COMPLIANT, f"Firewall endpoints span {len(zones)} availability zones: {', '.join(zones)}")
    if unknown or not firewall.subnet_ids and firewall.sync_zones is None:
        missing = f"no AWS::EC2::Subnet item for {', '.join(unknown)}" if unknown else "no subnet mappings"
        return Verdict(NON_COMPLIANT, f"{UNDETERMINED} (no firewallStatus.syncStates; {missing})")
    return Verdict(NON_COMPLIANT, f"Firewall endpoints span {len(zones)} availability zone(s): "
                                  f"{', '.join(zones) or 'none'}; at least {wanted} required")


def relate(item: dict, related: list[dict]) -> dict:
    """The firewall item with the zones of its subnets, from AWS::EC2::Subnet items of the same input (the
    offline scan's stand-in for DescribeFirewall). The input item is not changed."""
    zones = {}
    for subnet in related:
        configuration = subnet.get("configuration")
        configuration = configuration if isinstance(configuration, dict) else {}
        subnet_id = field(configuration, "subnetId") or subnet.get("resourceId")
        zone = field(configuration, "availabilityZone") or subnet.get("availabilityZone")
        if isinstance(subnet_id, str) and isinstance(zone, str):
            zones[subnet_id] = zone
    supplementary = item.get("supplementaryConfiguration")
    supplementary = dict(supplementary) if isinstance(supplementary, dict) else {}
    return {**item, "supplementaryConfiguration": {**supplementary, SUBNET_ZONES_KEY: zones}}


def complete_item(item: dict, client_factory) -> dict:
    """A firewall recorded without syncStates, re-read with DescribeFirewall (the Lambda only)."""
    firewall = firewall_from_configuration(configuration_of(item))
    if firewall.sync_zones is not None:
        return item
    request = {"FirewallArn": firewall.arn} if firewall.arn else {"FirewallName": firewall.name}
    if not any(request.values()):  # nothing to ask with: judged as recorded (S5's message)
        return item
    client = client_factory.build_client("network-firewall")
    try:
        described = client.describe_firewall(**request)
    except client.exceptions.ResourceNotFoundException:
        return {**item, "configurationItemStatus": "ResourceDeletedNotRecorded", "configuration": None}
    configuration = {"firewall": described["Firewall"]}
    if described.get("FirewallStatus") is not None:
        configuration["firewallStatus"] = described["FirewallStatus"]
    return {**item, "configuration": configuration}
