"""examples/config-snapshot.json, what `make demo` scans (issues 13 and 14): realistic items that show every rule.

Each rule finds something to flag; the security-group and network-ACL family has a VPC's default group and two
ACLs, one whose SSH allow a deny ahead of it shadows and one whose allow is followed by a deny that changes nothing;
the Network Firewall family has firewalls, policies and rule groups under the ids Config records (not ARNs), and
logging configurations."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from perimeter.registry import all_rules
from perimeter.scan import read_items, scan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "config-snapshot.json"
ITEMS = json.loads(EXAMPLE.read_text(encoding="utf-8"))["configurationItems"]
FINAL_DENY = 32767
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


ID_OF = {  # where each Network Firewall item names its own id
    "AWS::NetworkFirewall::Firewall": lambda configuration: configuration["firewall"]["firewallId"],
    "AWS::NetworkFirewall::FirewallPolicy": lambda configuration: configuration["firewallPolicyResponse"][
        "firewallPolicyId"],
    "AWS::NetworkFirewall::RuleGroup": lambda configuration: configuration["ruleGroupResponse"]["ruleGroupId"],
}


@pytest.fixture(scope="module")
def verdicts() -> dict:
    """rule id -> resource id -> (compliance type, annotation)."""
    found = defaultdict(dict)
    for finding in scan(read_items(EXAMPLE), list(all_rules()), {}):
        found[finding.rule][finding.resourceId] = (finding.complianceType, finding.annotation)
    return found


@pytest.mark.parametrize("rule_id", [spec.rule_id for spec in all_rules()])
def test_the_demo_shows_each_rule_flagging_something(verdicts, rule_id):
    assert "NON_COMPLIANT" in {kind for kind, _ in verdicts[rule_id].values()}


def of_type(resource_type: str) -> list[dict]:
    return [item for item in ITEMS if item["resourceType"] == resource_type]


def test_a_vpc_default_group_with_its_self_reference_is_sg_default_closeds_alone(verdicts):
    (default,) = [i for i in of_type("AWS::EC2::SecurityGroup") if i["configuration"]["groupName"] == "default"]
    group_id = default["resourceId"]
    sources = [pair["groupId"] for permission in default["configuration"]["ipPermissions"]
               for pair in permission.get("userIdGroupPairs", [])]

    assert sources == [group_id]  # the default group's "all traffic from itself"
    assert verdicts["sg-default-closed"][group_id][0] == "NON_COMPLIANT"
    assert verdicts["sg-ingress-port-range-restricted"][group_id][0] == "COMPLIANT"  # includeSelfReferences false


def _inbound(acl: dict) -> list[dict]:
    return sorted((e for e in acl["configuration"]["entries"] if not e["egress"]), key=lambda e: e["ruleNumber"])


def _covers_ssh(entry: dict) -> bool:
    ports = entry.get("portRange")
    return entry["protocol"] in ("6", "-1") and (ports is None or ports["from"] <= 22 <= ports["to"])


def test_one_acl_has_its_ssh_allow_shadowed_by_a_deny_ahead_and_one_has_a_deny_behind_that_changes_nothing(verdicts):
    shadowed, open_ = [], []
    for acl in of_type("AWS::EC2::NetworkAcl"):
        if acl["configuration"]["isDefault"]:
            continue
        entries = [e for e in _inbound(acl) if _covers_ssh(e) and e.get("cidrBlock") == "0.0.0.0/0"
                   and e["ruleNumber"] != FINAL_DENY]
        actions = [e["ruleAction"] for e in entries]
        verdict = verdicts["nacl-ingress-admin-ports-restricted"][acl["resourceId"]][0]
        if actions[:1] == ["deny"] and "allow" in actions:
            shadowed.append((acl["resourceId"], verdict))
        elif actions[:1] == ["allow"] and "deny" in actions:
            open_.append((acl["resourceId"], verdict))

    assert [verdict for _, verdict in shadowed] == ["COMPLIANT"]
    assert [verdict for _, verdict in open_] == ["NON_COMPLIANT"]


def test_network_firewall_items_carry_the_ids_config_records_and_firewalls_have_logging_configurations(verdicts):
    for kind in ("AWS::NetworkFirewall::Firewall", "AWS::NetworkFirewall::FirewallPolicy",
                 "AWS::NetworkFirewall::RuleGroup"):
        assert of_type(kind), kind
        for item in of_type(kind):
            assert UUID.fullmatch(item["resourceId"]) and item["resourceId"] == ID_OF[kind](item["configuration"])
            assert item["resourceId"] != item["ARN"]
    firewalls = {item["ARN"]: item["resourceId"] for item in of_type("AWS::NetworkFirewall::Firewall")}
    logged = {item["configuration"]["firewallArn"] for item in of_type("AWS::NetworkFirewall::LoggingConfiguration")}

    assert logged and logged < set(firewalls)  # and one firewall without any: "No logging configuration recorded"
    logging = verdicts["netfw-logging-enabled"]
    assert {kind for kind, _ in logging.values()} == {"COMPLIANT", "NON_COMPLIANT"}
    (unlogged,) = set(firewalls) - logged
    assert logging[firewalls[unlogged]] == ("NON_COMPLIANT", "No logging configuration recorded")
