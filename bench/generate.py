"""Deterministic inputs: security groups, firewalls, firewall policies and rule groups, in the shapes AWS produces.

- ``api_security_group``: one DescribeSecurityGroups entry (PascalCase), what moto serves and Cloud Custodian
  filters;
- ``security_group_item``: the same group as Config records it (camelCase, ``ipv4Ranges`` objects plus the
  legacy ``ipRanges`` strings, tags as a list inside ``configuration`` and a map outside), as in
  tests/fixtures/items;
- ``firewall_item``: a Network Firewall firewall as recorded (tests/fixtures/items/netfw-firewall.notification.json),
  with its sync states, varied over the protection flags and one to three zones;
- ``network_acl_item``: a network ACL as recorded (DescribeNetworkAcls in camelCase): default and custom ACLs,
  with and without subnets, allow entries for the world (SSH, RDP, web, ephemeral ports, all traffic) some behind
  deny entries, IPv6 entries, and the final ``*`` deny entries;
- ``firewall_policy_item`` / ``rule_group_item``: Network Firewall items as recorded, varied over the
  shapes the rules read (both / one kind / no references; stateless rules, Suricata text, domain lists,
  5-tuple rules, empty groups, a group recorded without its rules source);
- ``write_snapshot``: a Config snapshot file (compact JSON, as delivered to S3; ``.gz`` compressed).

Everything is a function of (seed, index): the same arguments give byte-identical files.

Security groups hold 1-50 inbound rules, a rule being one (protocol, port range, source) as in the pack's model
and in AWS's quota (60 inbound rules per group by default), drawn with weight 1/k for k rules: most groups are
small, as in real accounts, and every size up to 50 occurs (mean about 11). Rules with equal protocol and ports
share one permission entry, as DescribeSecurityGroups and Config list them.
"""
from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import random
from pathlib import Path
from typing import Iterator

ACCOUNT = "123456789012"
REGION = "us-east-1"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
FIREWALL_POLICY = "AWS::NetworkFirewall::FirewallPolicy"
RULE_GROUP = "AWS::NetworkFirewall::RuleGroup"
FIREWALL = "AWS::NetworkFirewall::Firewall"
NETWORK_ACL = "AWS::EC2::NetworkAcl"
CAPTURE_TIME = "2026-11-20T10:15:42.123Z"
STATE_ID = 1763633742123
MAX_ENTRIES = 50

_SIZES = range(1, MAX_ENTRIES + 1)
_SIZE_WEIGHTS = list(itertools.accumulate(1 / size for size in _SIZES))
_PROTOCOLS = ["tcp"] * 60 + ["udp"] * 14 + ["-1"] * 8 + ["icmp"] * 8 + ["icmpv6"] * 3 + ["50"] * 4 + ["47"] * 3
_COMMON_PORTS = [22, 25, 53, 80, 123, 443, 445, 1433, 3306, 3389, 5432, 5439, 6379, 8080, 8443, 9200, 11211, 27017]
_RANGES = [(0, 65535), (1024, 65535), (8000, 8100), (30000, 32767), (5000, 5010), (49152, 65535), (6000, 6007)]
_PRIVATE_V4 = ["10.0.0.0/8", "10.20.0.0/16", "172.16.0.0/12", "192.168.1.0/24", "100.64.0.0/10", "203.0.113.0/24"]
_V6 = ["::/0", "2001:db8::/32", "fd00::/8", "2600:1f18:4000::/40", "2a05:d018::/36"]
_HEX = 16**17


def _hex_id(prefix: str, index: int, salt: int) -> str:
    """A unique, valid-looking id (multiplying by an odd constant is a bijection modulo 16**17)."""
    return f"{prefix}-{((index + salt * 1_000_003) * 0x9E3779B97F4A7C15) % _HEX:017x}"


def _public_pool(seed: int) -> list[str]:
    """2,000 distinct public /24s: a large account's worth of partner and office addresses."""
    rng = random.Random(seed * 7919 + 1)
    pool: set[str] = set()
    while len(pool) < 2000:
        first = rng.choice([3, 13, 18, 34, 44, 52, 54, 63, 81, 91, 104, 142, 151, 185, 212])
        pool.add(f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.0/24")
    return sorted(pool)


class Generator:
    def __init__(self, seed: int = 7):
        self.seed = seed
        self.public = _public_pool(seed)

    def rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{index}")

    # --- security groups ---------------------------------------------------------------------------

    def api_security_group(self, index: int, rules: int | None = None) -> dict:
        """One DescribeSecurityGroups entry; ``rules``: about this many inbound rules instead of a drawn number
        (a drawn source may repeat one already there: ``inbound_rules`` counts what came out)."""
        rng = self.rng("sg", index)
        group_id = _hex_id("sg", index, 1)
        vpc_id = _hex_id("vpc", index % 40, 2)
        entries: dict[tuple, dict] = {}
        wanted = rng.choices(_SIZES, cum_weights=_SIZE_WEIGHTS)[0]
        wanted = rules or wanted  # drawn all the same, so that the generator's other draws do not move
        for _ in range(wanted * 4):  # bounded: a drawn source may already be there
            if _rule_count(entries) >= wanted:
                break
            if entries and rng.random() < 0.35:  # another source for an existing protocol and port range
                entry = rng.choice(list(entries.values()))
            else:
                protocol, first, last = self._ports(rng)
                entry = entries.setdefault((protocol, first, last), self._entry(protocol, first, last))
            self._add_source(rng, entry, index)
        entries = {key: entry for key, entry in entries.items() if _rule_count({key: entry})}
        name = f"{rng.choice(['web', 'app', 'db', 'batch', 'build', 'cache', 'edge', 'ops'])}-{index}"
        egress = self._entry("-1", None, None)
        egress["IpRanges"].append({"CidrIp": "0.0.0.0/0"})
        if rng.random() < 0.3:
            egress["Ipv6Ranges"].append({"CidrIpv6": "::/0"})
        return {
            "Description": f"{name} security group",
            "GroupName": name,
            "IpPermissions": list(entries.values()),
            "OwnerId": ACCOUNT,
            "GroupId": group_id,
            "IpPermissionsEgress": [egress],
            "Tags": [{"Key": "Name", "Value": name}],
            "VpcId": vpc_id,
        }

    @staticmethod
    def _entry(protocol: str, first: int | None, last: int | None) -> dict:
        entry: dict = {"IpProtocol": protocol}
        if first is not None:
            entry.update(FromPort=first, ToPort=last)
        entry.update(IpRanges=[], Ipv6Ranges=[], PrefixListIds=[], UserIdGroupPairs=[])
        return entry

    @staticmethod
    def _ports(rng: random.Random) -> tuple[str, int | None, int | None]:
        protocol = rng.choice(_PROTOCOLS)
        if protocol in ("tcp", "udp"):
            if rng.random() < 0.65:
                port = rng.choice(_COMMON_PORTS) if rng.random() < 0.8 else rng.randrange(1024, 65536)
                return protocol, port, port
            if rng.random() < 0.7:
                return (protocol, *rng.choice(_RANGES))
            first = rng.randrange(1024, 60000)
            return protocol, first, first + rng.randrange(1, 200)
        if protocol in ("icmp", "icmpv6"):
            return (protocol, *rng.choice([(-1, -1), (-1, -1), (8, 0), (3, 4)]))
        return protocol, None, None  # all traffic and other protocols carry no ports

    def _add_source(self, rng: random.Random, entry: dict, index: int) -> None:
        described = {"Description": rng.choice(["office", "partner", "vpn", "temporary", "lb"])} if rng.random() < 0.3 else {}
        kind = rng.random()
        if kind < 0.6:
            roll = rng.random()
            cidr = "0.0.0.0/0" if roll < 0.2 else rng.choice(_PRIVATE_V4) if roll < 0.6 else rng.choice(self.public)
            if all(existing["CidrIp"] != cidr for existing in entry["IpRanges"]):
                entry["IpRanges"].append({"CidrIp": cidr, **described})
        elif kind < 0.7:
            cidr = rng.choice(_V6)
            if all(existing["CidrIpv6"] != cidr for existing in entry["Ipv6Ranges"]):
                entry["Ipv6Ranges"].append({"CidrIpv6": cidr, **described})
        elif kind < 0.8:
            prefix_list = _hex_id("pl", rng.randrange(8), 3)
            if all(existing["PrefixListId"] != prefix_list for existing in entry["PrefixListIds"]):
                entry["PrefixListIds"].append({"PrefixListId": prefix_list, **described})
        else:
            peer = _hex_id("sg", max(0, index - rng.randrange(1, 50)), 1)
            if all(existing["GroupId"] != peer for existing in entry["UserIdGroupPairs"]):
                entry["UserIdGroupPairs"].append({"GroupId": peer, "UserId": ACCOUNT, **described})

    def security_group_item(self, index: int) -> dict:
        return security_group_item(self.api_security_group(index))

    # --- network ACLs ----------------------------------------------------------------------------

    def network_acl_item(self, index: int) -> dict:
        rng = self.rng("nacl", index)
        acl_id = _hex_id("acl", index, 4)
        vpc_id = _hex_id("vpc", index % 40, 2)
        default = rng.random() < 0.2
        entries = []
        if default:  # as EC2 creates it: allow everything, then the final deny
            entries.append(_acl_entry(100, "-1", "allow", "0.0.0.0/0"))
        else:
            number = 100
            for _ in range(rng.randint(1, 12)):
                protocol, first, last = rng.choice(_ACL_ALLOWS)
                action = "deny" if rng.random() < 0.25 else "allow"
                cidr = "0.0.0.0/0" if rng.random() < 0.6 else rng.choice(_PRIVATE_V4 + self.public[:50])
                entries.append(_acl_entry(number, protocol, action, cidr, first, last))
                if rng.random() < 0.15:
                    entries.append(_acl_entry(number + 1, protocol, action, "::/0", first, last))
                number += rng.choice([10, 10, 50, 100])
        entries += [_acl_entry(100, "-1", "allow", "0.0.0.0/0", egress=True),
                    _acl_entry(32767, "-1", "deny", "0.0.0.0/0"), _acl_entry(32767, "-1", "deny", "0.0.0.0/0", egress=True)]
        subnets = [_hex_id("subnet", index * 4 + n, 5) for n in range(rng.choice([0, 1, 1, 2, 3]))]
        configuration = {
            "associations": [{"networkAclAssociationId": _hex_id("aclassoc", index * 4 + n, 6), "networkAclId": acl_id,
                              "subnetId": subnet} for n, subnet in enumerate(subnets)],
            "entries": entries,
            "isDefault": default,
            "networkAclId": acl_id,
            "tags": [],
            "vpcId": vpc_id,
            "ownerId": ACCOUNT,
        }
        relationships = [{"resourceId": vpc_id, "resourceName": None, "resourceType": "AWS::EC2::VPC",
                          "name": "Is contained in Vpc"}] + [
            {"resourceId": subnet, "resourceName": None, "resourceType": "AWS::EC2::Subnet",
             "name": "Is attached to Subnet"} for subnet in subnets]
        arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{acl_id}"
        return _item(NETWORK_ACL, acl_id, None, arn, "Not Applicable", configuration, {}, relationships)

    # --- Network Firewall ------------------------------------------------------------------------

    def recorded_item(self, resource_type: str, index: int) -> dict:
        """Item ``index`` of a resource type the pack evaluates, as Config records it."""
        makers = {SECURITY_GROUP: self.security_group_item, NETWORK_ACL: self.network_acl_item,
                  FIREWALL: self.firewall_item, FIREWALL_POLICY: self.firewall_policy_item,
                  RULE_GROUP: self.rule_group_item}
        return makers[resource_type](index)

    def firewall_item(self, index: int) -> dict:
        rng = self.rng("firewall", index)
        name = f"firewall-{index}"
        arn = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall/{name}"
        vpc_id = _hex_id("vpc", index % 40, 2)
        zones = [f"{REGION}{letter}" for letter in "abc"[: rng.randint(1, 3)]]
        subnets = [_hex_id("subnet", index * 3 + number, 4) for number in range(len(zones))]
        configuration = {
            "firewall": {
                "firewallName": name, "firewallArn": arn, "firewallId": _uuid(rng),
                "firewallPolicyArn": f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall-policy/policy-{index}",
                "vpcId": vpc_id, "subnetMappings": [{"subnetId": subnet, "ipAddressType": "IPV4"} for subnet in subnets],
                "deleteProtection": rng.random() < 0.6, "subnetChangeProtection": rng.random() < 0.6,
                "firewallPolicyChangeProtection": rng.random() < 0.6,
            },
            "firewallStatus": {
                "status": "READY", "configurationSyncStateSummary": "IN_SYNC",
                "syncStates": {zone: {"attachment": {"subnetId": subnet, "endpointId": _hex_id("vpce", index * 3 + n, 5),
                                                     "status": "READY"}}
                               for n, (zone, subnet) in enumerate(zip(zones, subnets))},
            },
        }
        relationships = [{"resourceId": vpc_id, "resourceName": None, "resourceType": "AWS::EC2::VPC",
                          "name": "Is associated with Vpc"}]
        return _item(FIREWALL, configuration["firewall"]["firewallId"], name, arn, "Regional", configuration, {},
                     relationships)

    def firewall_policy_item(self, index: int) -> dict:
        rng = self.rng("policy", index)
        name = f"policy-{index}"
        arn = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:firewall-policy/{name}"
        kinds = rng.choice(["both", "both", "stateful", "stateless", "none"])
        stateless = [
            {"resourceArn": f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateless-rulegroup/sl-{index}-{n}",
             "priority": 10 * (n + 1)}
            for n in range(rng.randint(1, 3) if kinds in ("both", "stateless") else 0)
        ]
        stateful = [
            {"resourceArn": f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:stateful-rulegroup/sf-{index}-{n}"}
            for n in range(rng.randint(1, 4) if kinds in ("both", "stateful") else 0)
        ]
        policy: dict = {
            "statelessDefaultActions": [rng.choice(["aws:forward_to_sfe", "aws:pass", "aws:drop"])],
            "statelessFragmentDefaultActions": ["aws:forward_to_sfe"],
        }
        if stateless:
            policy["statelessRuleGroupReferences"] = stateless
        if stateful or rng.random() < 0.5:
            policy["statefulRuleGroupReferences"] = stateful
        configuration = {
            "firewallPolicy": policy,
            "firewallPolicyResponse": {
                "firewallPolicyName": name, "firewallPolicyArn": arn,
                "firewallPolicyId": _uuid(rng), "firewallPolicyStatus": "ACTIVE",
                "tags": [{"key": "team", "value": "network"}], "numberOfAssociations": rng.randint(0, 3),
                "lastModifiedTime": CAPTURE_TIME,
            },
            "updateToken": _uuid(rng),
        }
        return _item(FIREWALL_POLICY, arn, name, arn, "Regional", configuration, {"team": "network"}, [])

    def rule_group_item(self, index: int) -> dict:
        rng = self.rng("group", index)
        shape = rng.choice(["stateless", "suricata", "suricata-comments", "domains", "five-tuple", "empty-stateless",
                            "no-source"])
        group_type = "STATELESS" if shape in ("stateless", "empty-stateless") else "STATEFUL"
        name = f"group-{index}"
        arn = f"arn:aws:network-firewall:{REGION}:{ACCOUNT}:{group_type.lower()}-rulegroup/{name}"
        source: dict | None
        if shape == "stateless":
            source = {"statelessRulesAndCustomActions": {"statelessRules": [
                {"priority": n + 1, "ruleDefinition": {
                    "actions": [rng.choice(["aws:forward_to_sfe", "aws:drop", "aws:pass"])],
                    "matchAttributes": {"sources": [{"addressDefinition": "0.0.0.0/0"}],
                                        "destinations": [{"addressDefinition": "10.0.0.0/8"}],
                                        "destinationPorts": [{"fromPort": port, "toPort": port}], "protocols": [6]}}}
                for n, port in enumerate(rng.sample(_COMMON_PORTS, rng.randint(1, 8)))
            ], "customActions": []}}
        elif shape == "empty-stateless":
            source = {"statelessRulesAndCustomActions": {"statelessRules": [], "customActions": []}}
        elif shape in ("suricata", "suricata-comments"):
            lines = ["# managed by the network team", ""]
            if shape == "suricata":
                lines += [f'drop tcp $HOME_NET any -> $EXTERNAL_NET {port} (msg:"block {port}"; sid:{1000000 + n}; rev:1;)'
                          for n, port in enumerate(rng.sample(_COMMON_PORTS, rng.randint(1, 10)))]
            source = {"rulesString": "\n".join(lines) + "\n"}
        elif shape == "domains":
            source = {"rulesSourceList": {"targets": rng.sample([".amazonaws.com", "github.com", ".pypi.org", "example.com"],
                                                                 rng.randint(0, 3)),
                                          "targetTypes": ["TLS_SNI", "HTTP_HOST"], "generatedRulesType": "ALLOWLIST"}}
        elif shape == "five-tuple":
            source = {"statefulRules": [
                {"action": "DROP", "header": {"protocol": "TCP", "source": "ANY", "sourcePort": "ANY", "direction": "FORWARD",
                                               "destination": "ANY", "destinationPort": str(port)},
                 "ruleOptions": [{"keyword": "sid", "settings": [str(100 + n)]}]}
                for n, port in enumerate(rng.sample(_COMMON_PORTS, rng.randint(1, 5)))
            ]}
        else:  # recorded without its rules source (large Suricata strings)
            source = None
        rule_group: dict = {"rulesSource": source} if source is not None else {}
        if group_type == "STATEFUL":
            rule_group["statefulRuleOptions"] = {"ruleOrder": "DEFAULT_ACTION_ORDER"}
        configuration = {
            "ruleGroup": rule_group,
            "ruleGroupResponse": {
                "ruleGroupArn": arn, "ruleGroupName": name, "ruleGroupId": _uuid(rng), "type": group_type,
                "capacity": 100, "ruleGroupStatus": "ACTIVE", "numberOfAssociations": 1, "lastModifiedTime": CAPTURE_TIME,
            },
            "updateToken": _uuid(rng),
        }
        return _item(RULE_GROUP, arn, name, arn, "Regional", configuration, {}, [])

    # --- a snapshot --------------------------------------------------------------------------------

    def snapshot_items(self, count: int) -> Iterator[dict]:
        """``count`` items: about 85% security groups, 5% each firewall policies, rule groups and network ACLs,
        interleaved."""
        for index in range(count):
            yield self.recorded_item(snapshot_type(index), index)


def snapshot_type(index: int) -> str:
    """The resource type of a snapshot's item ``index``."""
    slot = index % 20
    return NETWORK_ACL if slot == 11 else FIREWALL_POLICY if slot == 7 else RULE_GROUP if slot == 15 else SECURITY_GROUP


def inbound_rules(group: dict) -> int:
    """A DescribeSecurityGroups entry's inbound rules, as AWS counts them against its quota."""
    return _rule_count(dict(enumerate(group["IpPermissions"])))


def _rule_count(entries: dict) -> int:
    """Inbound rules as AWS counts them against its quota: one per (protocol, port range, source)."""
    return sum(len(entry[kind]) for entry in entries.values()
               for kind in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs"))


# (protocol, from, to) of network ACL entries: what real ACLs hold, restricted ports among them.
_ACL_ALLOWS = [("6", 22, 22), ("6", 3389, 3389), ("6", 80, 80), ("6", 443, 443), ("6", 1024, 65535),
               ("17", 1024, 65535), ("17", 53, 53), ("-1", None, None), ("6", None, None), ("1", None, None)]


def _acl_entry(number: int, protocol: str, action: str, cidr: str, first: int | None = None, last: int | None = None,
               *, egress: bool = False) -> dict:
    entry = {"ruleNumber": number, "protocol": protocol, "ruleAction": action, "egress": egress,
             ("ipv6CidrBlock" if ":" in cidr else "cidrBlock"): cidr}
    if first is not None:
        entry["portRange"] = {"from": first, "to": last}
    return entry


def _uuid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _item(resource_type: str, resource_id: str, name: str, arn: str, zone: str, configuration: dict, tags: dict,
          relationships: list) -> dict:
    """The envelope of a recorded configuration item, in the field order of tests/fixtures/items/snapshot.json."""
    return {
        "relationships": relationships,
        "configuration": configuration,
        "supplementaryConfiguration": {},
        "tags": tags,
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": CAPTURE_TIME,
        "configurationStateId": STATE_ID,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": "OK",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
        "ARN": arn,
        "awsRegion": REGION,
        "availabilityZone": zone,
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
    }


def _camel_sources(entry: dict) -> dict:
    permission: dict = {"ipProtocol": entry["IpProtocol"]}
    permission["ipv6Ranges"] = [_camel(source) for source in entry.get("Ipv6Ranges", [])]
    permission["prefixListIds"] = [_camel(source) for source in entry.get("PrefixListIds", [])]
    permission["userIdGroupPairs"] = [_camel(source) for source in entry.get("UserIdGroupPairs", [])]
    permission["ipv4Ranges"] = [_camel(source) for source in entry.get("IpRanges", [])]
    permission["ipRanges"] = [source["CidrIp"] for source in entry.get("IpRanges", [])]
    if "FromPort" in entry:
        permission["fromPort"] = entry["FromPort"]
        permission["toPort"] = entry["ToPort"]
    return permission


def _camel(mapping: dict) -> dict:
    return {key[:1].lower() + key[1:]: value for key, value in mapping.items()}


def security_group_item(group: dict) -> dict:
    """A DescribeSecurityGroups entry as Config records it."""
    configuration = {
        "description": group["Description"],
        "groupName": group["GroupName"],
        "ipPermissions": [_camel_sources(entry) for entry in group["IpPermissions"]],
        "ownerId": group["OwnerId"],
        "groupId": group["GroupId"],
        "ipPermissionsEgress": [_camel_sources(entry) for entry in group["IpPermissionsEgress"]],
        "tags": [_camel(tag) for tag in group.get("Tags", [])],
        "vpcId": group["VpcId"],
    }
    relationships = [{"resourceId": group["VpcId"], "resourceName": None, "resourceType": "AWS::EC2::VPC",
                      "name": "Is contained in Vpc"}]
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group['GroupId']}"
    tags = {tag["Key"]: tag["Value"] for tag in group.get("Tags", [])}
    return _item(SECURITY_GROUP, group["GroupId"], group["GroupName"], arn, "Not Applicable", configuration, tags,
                 relationships)


def write_snapshot(path: Path, count: int, seed: int = 7) -> Path:
    """Write a snapshot of ``count`` items (gzip when the name ends in .gz), item by item.

    A file already there from the same generator, count and seed is kept (a stamp beside it says which).
    """
    return _generated_once(path, count, seed, _write_snapshot)


def _write_snapshot(path: Path, count: int, seed: int) -> None:
    generator = Generator(seed)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as out:
        out.write('{"fileVersion":"1.0","configSnapshotId":"%s","configurationItems":[' % _uuid(random.Random(seed)))
        for index, item in enumerate(generator.snapshot_items(count)):
            if index:
                out.write(",")
            out.write(json.dumps(item, separators=(",", ":")))
        out.write("]}")


def write_security_groups(path: Path, count: int, seed: int = 7) -> Path:
    """``count`` DescribeSecurityGroups entries as one JSON array (the peer comparison's input)."""
    return _generated_once(path, count, seed, _write_security_groups)


def _write_security_groups(path: Path, count: int, seed: int) -> None:
    generator = Generator(seed)
    path.write_text(json.dumps([generator.api_security_group(index) for index in range(count)]), encoding="utf-8")


def _generated_once(path: Path, count: int, seed: int, write) -> Path:
    """Write with ``write(path, count, seed)`` unless a file from the same generator, count and seed is there
    (a stamp beside it says which)."""
    stamp = path.with_name(path.name + ".stamp")
    key = f"{count}:{seed}:{_source_digest()}"
    if path.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == key:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, count, seed)
    stamp.write_text(key, encoding="utf-8")
    return path


def _source_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
