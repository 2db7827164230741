"""perimeter.networkacls: reading network ACL configurations, and which packets an entry decides, exactly."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perimeter.cidrs import is_public
from perimeter.networkacls import (
    ALLOW, DENY, AddressRange, NetworkAclError, allowed_restricted, all_addresses, decided_ports,
    network_acl_from_configuration, public_addresses,
)
from perimeter.ports import ALL_PORTS, PortRange, parse_port_list


def entry(number, protocol="6", action="allow", cidr="0.0.0.0/0", ports=None, *, egress=False, **extra):
    spelled = {"ruleNumber": number, "protocol": protocol, "ruleAction": action, "egress": egress}
    spelled["ipv6CidrBlock" if ":" in cidr else "cidrBlock"] = cidr
    if ports is not None:
        spelled["portRange"] = {"from": ports[0], "to": ports[1]}
    return {**spelled, **extra}


def acl(*entries, **configuration):
    return network_acl_from_configuration({"networkAclId": "acl-1", "vpcId": "vpc-1", "isDefault": False,
                                           "entries": list(entries), "associations": [{"subnetId": "subnet-1"}],
                                           **configuration})


SSH_RDP = {"tcp": parse_port_list("22,3389"), "udp": parse_port_list("22,3389")}


def labels(network_acl, restricted=SSH_RDP, scope="world"):
    return [finding.label() for finding in allowed_restricted(network_acl.ingress, restricted, scope)]


# --- reading ------------------------------------------------------------------------------------------------------

def test_entries_are_split_by_direction_and_ordered_by_rule_number():
    read = acl(entry(200), entry(100, egress=True), entry(32767, "-1", DENY), entry(50, "17", ports=(53, 53)))
    assert [e.rule_number for e in read.ingress] == [50, 200, 32767]
    assert [e.rule_number for e in read.egress] == [100]
    assert read.subnet_ids == ("subnet-1",) and read.vpc_id == "vpc-1" and read.is_default is False


def test_protocol_numbers_are_read_as_names_and_ports_only_for_tcp_and_udp():
    read = acl(entry(1, "6", ports=(22, 22)), entry(2, "17"), entry(3, "1", icmpTypeCode={"type": -1, "code": -1},
                                                                      ports=(5, 6)), entry(4, "-1"), entry(5, "50"))
    assert [(e.protocol, e.ports) for e in read.ingress] == [
        ("tcp", PortRange(22, 22)), ("udp", ALL_PORTS), ("icmp", None), ("-1", None), ("50", None)]


def test_pascal_case_spelling_is_read_too():
    read = network_acl_from_configuration({"NetworkAclId": "acl-2", "IsDefault": True, "Entries": [
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0",
         "PortRange": {"From": 22, "To": 22}}], "Associations": [{"SubnetId": "subnet-2"}]})
    assert read.is_default and read.ingress[0].label() == "rule 100 allow tcp 22 from 0.0.0.0/0"


def test_whole_number_floats_and_number_text_are_numbers():
    read = acl(entry(100.0, ports=(22.0, "22")))
    assert read.ingress[0].rule_number == 100 and read.ingress[0].ports == PortRange(22, 22)


@pytest.mark.parametrize("change, message", [
    ({"ruleNumber": 0}, "ruleNumber 0 is not a rule number 1-32768"),
    ({"ruleNumber": "x"}, "ruleNumber 'x' is not a rule number"),
    ({"ruleNumber": True}, "ruleNumber True is not a rule number"),
    ({"protocol": "999"}, "entry 100: protocol '999' is not -1 or a protocol number 0-255"),
    ({"ruleAction": "permit"}, "entry 100: ruleAction 'permit' is not allow or deny"),
    ({"egress": "sometimes"}, "entry 100: egress 'sometimes' is not true or false"),
    ({"cidrBlock": "300.0.0.0/8"}, "entry 100: '300.0.0.0/8' is not a valid CIDR"),
    ({"cidrBlock": "::/0"}, "entry 100: '::/0' is not an IPv4 CIDR"),
    ({"ipv6CidrBlock": "::/0"}, "entry 100: needs exactly one of cidrBlock and ipv6CidrBlock"),
    ({"portRange": {"from": 30, "to": 20}}, "entry 100: portRange from 30 is above to 20"),
    ({"portRange": {"from": 0, "to": 70000}}, "entry 100: portRange.to 70000 is not a port 0-65535"),
    ({"portRange": [22]}, "entry 100: portRange must be an object, not list"),
])
def test_malformed_entries_name_the_entry_and_field(change, message):
    with pytest.raises(NetworkAclError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("[", r"\[")):
        acl({**entry(100, ports=(22, 22)), **change})


def test_a_repeated_rule_number_in_one_direction_is_malformed_and_across_directions_is_not():
    with pytest.raises(NetworkAclError, match="inbound rule number 100 appears twice"):
        acl(entry(100), entry(100, action=DENY))
    assert len(acl(entry(100), entry(100, egress=True)).ingress) == 1


@pytest.mark.parametrize("configuration, message", [
    ({"networkAclId": ""}, "networkAclId is missing"),
    ({"entries": {}}, "entries must be a list, not dict"),
    ({"associations": [{"networkAclId": "acl-1"}]}, "has no subnetId"),
    ({"associations": "subnet-1"}, "associations must be a list, not str"),
    ({"isDefault": "maybe"}, "isDefault 'maybe' is not true or false"),
])
def test_malformed_configuration_names_the_field(configuration, message):
    with pytest.raises(NetworkAclError, match=message):
        acl(**configuration)


# --- which packets an entry decides -------------------------------------------------------------------------------

def test_an_allow_alone_decides_its_ports():
    assert labels(acl(entry(100, ports=(0, 65535)))) == ["tcp 22, 3389 from 0.0.0.0/0 (rule 100)"]


def test_a_deny_ahead_closes_and_a_deny_behind_changes_nothing():
    assert labels(acl(entry(90, action=DENY, ports=(22, 22)), entry(100, ports=(22, 22)))) == []
    assert labels(acl(entry(110, action=DENY, ports=(22, 22)), entry(100, ports=(22, 22)))) == [
        "tcp 22 from 0.0.0.0/0 (rule 100)"]


def test_an_earlier_allow_decides_instead_and_is_the_one_named():
    assert labels(acl(entry(50, ports=(22, 22)), entry(100, ports=(22, 22)))) == ["tcp 22 from 0.0.0.0/0 (rule 50)"]


def test_union_of_denies_covering_every_address_and_port_shadows_exactly():
    covered = acl(entry(10, "-1", DENY, "0.0.0.0/1"), entry(20, "6", DENY, "128.0.0.0/1", ports=(0, 1000)),
                  entry(30, "6", DENY, "128.0.0.0/1", ports=(1001, 65535)), entry(40, "17", DENY, "128.0.0.0/1"),
                  entry(100, "-1"))
    assert labels(covered) == []
    # One address short: 255.255.255.255/32 stays open to tcp 3389 only.
    gap = acl(entry(10, "-1", DENY, "0.0.0.0/1"), entry(20, "6", DENY, "128.0.0.0/1", ports=(0, 1000)),
              entry(30, "6", DENY, "128.0.0.0/2", ports=(1001, 65535)), entry(31, "6", DENY, "192.0.0.0/3", ports=(1001, 65535)),
              entry(32, "6", DENY, "224.0.0.0/4", ports=(1001, 65535)), entry(33, "6", DENY, "240.0.0.0/5", ports=(1001, 65535)),
              entry(34, "6", DENY, "248.0.0.0/6", ports=(1001, 65535)), entry(35, "6", DENY, "252.0.0.0/7", ports=(1001, 65535)),
              entry(36, "6", DENY, "254.0.0.0/8", ports=(1001, 65535)), entry(37, "6", DENY, "255.0.0.0/9", ports=(1001, 65535)),
              entry(38, "6", DENY, "255.128.0.0/10", ports=(1001, 65535)), entry(39, "6", DENY, "255.192.0.0/11", ports=(1001, 65535)),
              entry(40, "17", DENY, "128.0.0.0/1"), entry(100, "-1"))
    assert labels(gap) == ["tcp 3389 from 0.0.0.0/0 (rule 100)"]


def test_families_never_shadow_each_other():
    assert labels(acl(entry(10, "-1", DENY, "0.0.0.0/0"), entry(100, "-1", cidr="::/0"))) == [
        "tcp 22, 3389 from ::/0 (rule 100)", "udp 22, 3389 from ::/0 (rule 100)"]


def test_public_scope_counts_any_entry_for_globally_routable_addresses_only():
    private = acl(entry(100, cidr="10.0.0.0/8", ports=(22, 22)))
    assert labels(private, scope="public") == []
    partner = acl(entry(100, cidr="8.8.8.0/24", ports=(22, 22)))
    assert labels(partner, scope="world") == [] and labels(partner, scope="public") == [
        "tcp 22 from 8.8.8.0/24 (rule 100)"]
    # 0.0.0.0/0 behind a deny for every public block: only private addresses reach it.
    denies = [entry(index + 1, "-1", DENY, str(network)) for index, network in enumerate(_public_networks())]
    assert labels(acl(*denies, entry(1000, "-1")), scope="public") == []
    assert labels(acl(*denies, entry(1000, "-1")), scope="world") != []


def _public_networks():
    for interval in public_addresses(4):
        yield from ipaddress.summarize_address_range(ipaddress.IPv4Address(interval.first),
                                                     ipaddress.IPv4Address(interval.last))


def test_public_addresses_agree_with_is_public():
    for interval in public_addresses(4) + public_addresses(6):
        version = 4 if interval.last < 2**32 else 6
        address = ipaddress.ip_address(interval.first) if version == 4 or interval.first >= 2**32 else None
        if address is not None:
            assert is_public(f"{address}/{address.max_prefixlen}")
    assert public_addresses(4)[0] == AddressRange(2**24, 10 * 2**24 - 1)  # 1.0.0.0 - 9.255.255.255


# --- exactness against brute force, on a universe small enough to enumerate ---------------------------------------

PORTS = range(0, 8)
BASE = int(ipaddress.IPv4Address("10.0.0.0"))
UNIVERSE = (AddressRange(BASE, BASE + 15),)  # 10.0.0.0/28, every address enumerated


@st.composite
def small_entries(draw):
    count = draw(st.integers(1, 6))
    numbers = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count, unique=True))
    drawn = []
    for number in numbers:
        prefix = draw(st.sampled_from([0, 28, 29, 30, 31, 32]))
        host = draw(st.integers(0, 15)) if prefix else 0
        network = ipaddress.ip_network(f"{ipaddress.IPv4Address(BASE + host)}/{prefix}", strict=False)
        protocol = draw(st.sampled_from(["6", "17", "-1", "1"]))
        first = draw(st.integers(0, 7))
        ports = (first, draw(st.integers(first, 7))) if draw(st.booleans()) else None
        drawn.append(entry(number, protocol, draw(st.sampled_from([ALLOW, DENY])), str(network), ports))
    return drawn


def brute_force(entries, index, protocol, wanted):
    """The ports of ``wanted`` for which entries[index] is the first match of at least one address."""
    decided = set()
    for port in wanted:
        for address in range(BASE, BASE + 16):
            first = next((i for i, e in enumerate(entries) if e.reach(protocol) is not None
                          and e.reach(protocol).first <= port <= e.reach(protocol).last
                          and e.addresses.first <= address <= e.addresses.last), None)
            if first == index:
                decided.add(port)
    return decided


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(drawn=small_entries(), restricted=st.sets(st.sampled_from(list(PORTS)), min_size=1))
def test_decided_ports_equal_brute_force_first_match(drawn, restricted):
    entries = acl(*drawn).ingress
    wanted = tuple(PortRange(port, port) for port in sorted(restricted))
    for index in range(len(entries)):
        for protocol in ("tcp", "udp"):
            exact = {port for r in decided_ports(entries, index, protocol, wanted, UNIVERSE)
                     for port in range(r.first, r.last + 1)}
            assert exact == brute_force(entries, index, protocol, restricted), (index, protocol)


def test_all_addresses_of_each_family():
    assert all_addresses(4) == (AddressRange(0, 2**32 - 1),) and all_addresses(6) == (AddressRange(0, 2**128 - 1),)


# --- the interval arithmetic the model relies on (perimeter.intervals, generic over (first, last) tuples) ---------------

def test_merged_unites_overlapping_and_adjacent_ranges():
    from perimeter.intervals import merged
    assert merged([PortRange(80, 80), PortRange(81, 81), PortRange(100, 200), PortRange(150, 300)]) == (
        PortRange(80, 81), PortRange(100, 300))


def test_uncovered_and_intersection():
    from perimeter.intervals import intersection, uncovered
    covering = [PortRange(0, 21), PortRange(23, 100)]
    assert uncovered(PortRange(0, 65535), covering) == (PortRange(22, 22), PortRange(101, 65535))
    assert uncovered(PortRange(30, 40), covering) == ()
    assert intersection(PortRange(20, 30), covering) == (PortRange(20, 21), PortRange(23, 30))


def test_address_ranges_keep_their_type():
    from perimeter.intervals import uncovered
    assert uncovered(AddressRange(0, 2**128 - 1), [AddressRange(0, 2**127 - 1)]) == (AddressRange(2**127, 2**128 - 1),)


def test_restricted_port_lists_refuses_both_empty():
    from perimeter.parameters import ParameterError, restricted_port_lists
    with pytest.raises(ParameterError, match="parameters a and b: both are empty"):
        restricted_port_lists({"a": (), "b": ()}, "a", "b")
    assert restricted_port_lists({"a": (PortRange(22, 22),), "b": ()}, "a", "b") == {"tcp": (PortRange(22, 22),), "udp": ()}
