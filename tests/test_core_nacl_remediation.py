"""perimeter.nacl_remediation: which entries the ACL runbook inserts, at which rule numbers; pure."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perimeter.cidrs import TrustedSources, parse_trusted_sources
from perimeter.nacl_remediation import PlanError, PlannedEntry, check_quota, plan_entries, trusted_parts
from perimeter.networkacls import (
    ALLOW, DENY, allowed_restricted, entry_from_configuration, network_acl_from_configuration, packet_action,
)
from perimeter.ports import PortRange, parse_port_list

SSH_RDP = {"tcp": parse_port_list("22,3389"), "udp": parse_port_list("22,3389")}
SSH = {"tcp": parse_port_list("22")}


def entry(number, protocol="6", action="allow", cidr="0.0.0.0/0", ports=None):
    spelled = {"ruleNumber": number, "protocol": protocol, "ruleAction": action, "egress": False}
    spelled["ipv6CidrBlock" if ":" in cidr else "cidrBlock"] = cidr
    if ports is not None:
        spelled["portRange"] = {"from": ports[0], "to": ports[1]}
    return spelled


def ingress(*entries):
    return network_acl_from_configuration({"networkAclId": "acl-1", "entries": list(entries)}).ingress


def plan(entries, restricted=SSH, scope="world", trusted="", quota=20):
    trust = parse_trusted_sources(trusted.split(","))
    return plan_entries("acl-1", entries, allowed_restricted(entries, restricted, scope, trust), trust, quota)


def brief(planned):
    return [(p.rule_number, p.action, p.protocol, str(p.ports), p.cidr) for p in planned]


def with_planned(entries, planned):
    """The inbound entries once the plan is applied, in evaluation order."""
    added = [entry_from_configuration(entry(p.rule_number, {"tcp": "6", "udp": "17"}[p.protocol], p.action, p.cidr,
                                            tuple(p.ports))) for p in planned]
    return tuple(sorted(entries + tuple(added), key=lambda e: e.rule_number))


# --- numbers ------------------------------------------------------------------------------------------------------

def test_a_deny_goes_right_below_the_allow():
    assert brief(plan(ingress(entry(100, ports=(22, 22))))) == [(99, DENY, "tcp", "22", "0.0.0.0/0")]


def test_one_deny_per_restricted_protocol_and_range_the_entry_decides():
    planned = plan(ingress(entry(90, "6", "deny", ports=(3389, 3389)), entry(100, "-1")), SSH_RDP)
    assert sorted(brief(planned)) == [(97, DENY, "udp", "3389", "0.0.0.0/0"), (98, DENY, "udp", "22", "0.0.0.0/0"),
                                      (99, DENY, "tcp", "22", "0.0.0.0/0")]  # tcp 3389 is already closed by 90


def test_a_number_taken_by_an_entry_matching_other_packets_is_skipped():
    entries = ingress(entry(99, ports=(443, 443)), entry(98, "1"), entry(97, "6", "deny", "::/0", (22, 22)),
                      entry(100, ports=(22, 22)))
    assert brief(plan(entries)) == [(96, DENY, "tcp", "22", "0.0.0.0/0")]


def test_never_in_front_of_an_earlier_entry_matching_the_same_packets():
    entries = ingress(entry(99, cidr="10.0.0.0/8", ports=(22, 22)), entry(100, ports=(0, 1023)))
    with pytest.raises(PlanError, match=r"network ACL acl-1: no free rule number between rule 99 and rule 100 for "
                                        r"deny tcp 22 from 0.0.0.0/0 in front of rule 100 \(1 entries needed there\); "
                                        r"nothing changed"):
        plan(entries)


def test_rule_one_has_no_number_below_it():
    with pytest.raises(PlanError, match="between rule 0 and rule 1"):
        plan(ingress(entry(1, ports=(22, 22))))


def test_entries_for_several_allows_do_not_collide():
    entries = ingress(entry(3, "17", cidr="::/0"), entry(6, ports=(22, 22)), entry(9, "17"))
    planned = plan(entries, SSH_RDP)
    assert sorted(brief(planned)) == [(1, DENY, "udp", "3389", "::/0"), (2, DENY, "udp", "22", "::/0"),
                                      (5, DENY, "tcp", "22", "0.0.0.0/0"), (7, DENY, "udp", "3389", "0.0.0.0/0"),
                                      (8, DENY, "udp", "22", "0.0.0.0/0")]
    assert [p.rule_number for p in planned] == [1, 2, 5, 7, 8]  # the order to create them in
    assert not allowed_restricted(with_planned(entries, planned), SSH_RDP, "world")


# --- trusted parts ------------------------------------------------------------------------------------------------

def test_a_trusted_part_gets_an_allow_ahead_of_the_deny():
    planned = plan(ingress(entry(100, ports=(22, 22))), trusted="203.0.113.0/24,2001:db8::/32,pl-0123456789abcdef0")
    assert brief(planned) == [(98, ALLOW, "tcp", "22", "203.0.113.0/24"), (99, DENY, "tcp", "22", "0.0.0.0/0")]


def test_trusted_cidrs_are_merged_and_only_parts_the_entry_decides_are_kept():
    entries = ingress(entry(50, "6", "deny", "198.51.100.0/24"), entry(100, ports=(22, 22)))
    planned = plan(entries, trusted="203.0.113.0/25,203.0.113.128/25,203.0.113.7/32,198.51.100.0/25")
    assert brief(planned) == [(98, ALLOW, "tcp", "22", "203.0.113.0/24"), (99, DENY, "tcp", "22", "0.0.0.0/0")]


def test_trusted_parts_are_the_smaller_of_each_nested_pair():
    ipv4 = entry_from_configuration(entry(1, cidr="10.0.0.0/8"))
    assert trusted_parts(ipv4, parse_trusted_sources(["10.1.0.0/16", "0.0.0.0/0", "::/0"])) == ["10.0.0.0/8"]
    assert trusted_parts(ipv4, parse_trusted_sources(["10.1.0.0/16", "11.0.0.0/8"])) == ["10.1.0.0/16"]


def test_public_scope_denies_the_entrys_whole_cidr():
    planned = plan(ingress(entry(100, cidr="8.8.0.0/16", ports=(22, 22))), scope="public", trusted="8.8.8.0/24")
    assert brief(planned) == [(98, ALLOW, "tcp", "22", "8.8.8.0/24"), (99, DENY, "tcp", "22", "8.8.0.0/16")]


# --- the quota ----------------------------------------------------------------------------------------------------

def test_the_quota_counts_each_family_and_not_the_default_entries():
    ipv4 = [entry(n, ports=(80, 80), cidr=f"10.{n}.0.0/16") for n in range(1, 19)]
    ipv6 = [entry(n, ports=(80, 80), cidr="::/0") for n in range(200, 219)]
    defaults = [entry(32767, "-1", "deny"), entry(32768, "-1", "deny", "::/0")]
    entries = ingress(*ipv4, *ipv6, *defaults, entry(100, ports=(22, 22)))
    assert len(plan(entries)) == 1  # 19 IPv4 entries + 1 = 20; the 19 IPv6 entries do not count
    with pytest.raises(PlanError, match=r"network ACL acl-1 would need 21 inbound IPv4 entries \(19 now, 2 added\), "
                                        r"over the quota of 20; nothing changed.*L-2AEEBF1A.*InboundRuleQuota"):
        plan(entries, trusted="203.0.113.0/24")
    assert len(plan(entries, trusted="203.0.113.0/24", quota=21)) == 2


def test_an_acl_above_the_given_quota_shows_the_accounts_is_higher():
    entries = ingress(*[entry(n, ports=(80, 80)) for n in range(1, 31)])
    check_quota("acl-1", entries, [], 20)
    with pytest.raises(PlanError, match="would need 31 inbound IPv4 entries .* over the quota of 30"):
        check_quota("acl-1", entries, [PlannedEntry(99, DENY, "tcp", PortRange(22, 22), "0.0.0.0/0", 4, 100)], 20)


# --- the property: access only narrows, trusted addresses keep theirs, the rule finds nothing after --------------

CIDRS = ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "203.0.113.0/24", "8.8.8.0/24", "::/0", "2001:db8::/32"]
PROTOCOLS = ["-1", "6", "17", "1"]
PORTS = [None, (22, 22), (3389, 3389), (0, 1023), (1024, 65535), (20, 30)]
TRUSTED = ["", "203.0.113.0/24", "10.0.0.0/8,2001:db8::/32", "0.0.0.0/1"]
PACKET_ADDRESSES = ["1.2.3.4", "10.1.2.3", "203.0.113.9", "8.8.8.8", "200.0.0.1", "2001:db8::1", "2600::1"]


@st.composite
def acl_entries(draw):
    numbers = draw(st.lists(st.integers(1, 40), min_size=1, max_size=10, unique=True))
    return ingress(*[entry(number, draw(st.sampled_from(PROTOCOLS)), draw(st.sampled_from([ALLOW, DENY])),
                           draw(st.sampled_from(CIDRS)), draw(st.sampled_from(PORTS))) for number in numbers])


def decision(entries, protocol, port, address):
    parsed = ipaddress.ip_address(address)
    return packet_action(entries, protocol, port, parsed.version, int(parsed))


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(entries=acl_entries(), scope=st.sampled_from(["world", "public"]), trusted=st.sampled_from(TRUSTED))
def test_a_plan_only_narrows_keeps_trusted_access_and_leaves_nothing_to_find(entries, scope, trusted):
    trust = parse_trusted_sources(trusted.split(","))
    found = allowed_restricted(entries, SSH_RDP, scope, trust)
    try:
        planned = plan_entries("acl-1", entries, found, trust, quota=100)
    except PlanError:
        return  # refused before any change: nothing to check
    after = with_planned(entries, planned)
    assert not allowed_restricted(after, SSH_RDP, scope, trust)
    for protocol in ("tcp", "udp"):
        for port in (21, 22, 23, 3389, 8080):
            for address in PACKET_ADDRESSES:
                before_action, after_action = decision(entries, protocol, port, address), decision(after, protocol,
                                                                                                    port, address)
                assert after_action == DENY or before_action == ALLOW  # access only narrows
                if trust.covers(f"{address}/{32 if '.' in address else 128}"):
                    assert after_action == before_action  # trusted addresses keep their access


def test_trusted_sources_without_cidrs_change_nothing():
    entries = ingress(entry(100, ports=(22, 22)))
    assert plan_entries("acl-1", entries, allowed_restricted(entries, SSH, "world"), TrustedSources(
        ids=frozenset({"sg-0123456789abcdef0"}))) == plan(entries)
