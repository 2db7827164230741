"""perimeter.ports and perimeter.cidrs: port-list syntax and address classes."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perimeter import cidrs
from perimeter.cidrs import WORLD, is_public, is_world, parse_cidr
from perimeter.ports import ALL_PORTS, MAX_PORT, PortRange, covered_by_one, parse_port, parse_port_list

# --- ports ---------------------------------------------------------------------------------------


def test_port_range_count_contains_and_str():
    assert PortRange(80, 80).count == 1
    assert ALL_PORTS.count == 65536
    assert str(PortRange(80, 80)) == "80"
    assert str(PortRange(1024, 65535)) == "1024-65535"
    assert str(ALL_PORTS) == "0-65535"
    assert ALL_PORTS.contains(PortRange(0, 0)) and ALL_PORTS.contains(ALL_PORTS)
    assert PortRange(1000, 2000).contains(PortRange(1000, 2000))
    assert not PortRange(1000, 2000).contains(PortRange(999, 1500))
    assert not PortRange(1000, 2000).contains(PortRange(1500, 2001))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ()),
        ("   ", ()),
        ("443", (PortRange(443, 443),)),
        ("0", (PortRange(0, 0),)),
        ("65535", (PortRange(65535, 65535),)),
        ("443,1024-65535", (PortRange(443, 443), PortRange(1024, 65535))),
        (" 22 , 8000 - 8080 ", (PortRange(22, 22), PortRange(8000, 8080))),
        ("0-65535", (ALL_PORTS,)),
        ("5-5", (PortRange(5, 5),)),
    ],
)
def test_parse_port_list_valid(text, expected):
    assert parse_port_list(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("65536", "port 65536 is over 65535"),
        ("2000-1000", "range '2000-1000' is reversed"),
        ("1-2-3", "'2-3' is not a port number"),
        ("80,", "empty entry in '80,'"),
        (",80", "empty entry in ',80'"),
        ("80,,443", "empty entry in '80,,443'"),
        ("http", "'http' is not a port number"),
        ("-5", "'' is not a port number"),
        ("1.5", "'1.5' is not a port number"),
        ("²", "'²' is not a port number"),
        ("١٢", "'١٢' is not a port number"),
    ],
)
def test_parse_port_list_invalid(text, message):
    with pytest.raises(ValueError) as caught:
        parse_port_list(text)
    assert str(caught.value) == message


def test_parse_port():
    assert parse_port(" 8080 ") == 8080
    assert parse_port(str(MAX_PORT)) == MAX_PORT
    with pytest.raises(ValueError, match="port 99999 is over 65535"):
        parse_port("99999")


def test_covered_by_one():
    allowed = parse_port_list("443,1024-2047,2048-4095")
    assert covered_by_one(PortRange(443, 443), allowed)
    assert covered_by_one(PortRange(1024, 2047), allowed)
    assert covered_by_one(PortRange(3000, 3001), allowed)
    assert not covered_by_one(PortRange(2000, 2100), allowed)  # needs two ranges
    assert not covered_by_one(PortRange(442, 443), allowed)
    assert not covered_by_one(ALL_PORTS, ())
    assert covered_by_one(ALL_PORTS, (ALL_PORTS,))


port_ranges = st.tuples(st.integers(0, MAX_PORT), st.integers(0, MAX_PORT)).map(lambda p: PortRange(min(p), max(p)))


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(port_ranges, max_size=8))
def test_port_list_round_trips_through_str(ranges):
    text = ",".join(str(r) for r in ranges)
    assert parse_port_list(text) == tuple(ranges)


@settings(max_examples=200, deadline=None, database=None)
@given(port_ranges, port_ranges)
def test_contains_agrees_with_sets_of_ports(outer, inner):
    assert outer.contains(inner) == (outer.first <= inner.first and inner.last <= outer.last)
    assert inner.count == len(range(inner.first, inner.last + 1))
    assert covered_by_one(inner, (outer,)) == outer.contains(inner)


# --- cidrs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", " 0.0.0.0/0 "])
def test_is_world(cidr):
    assert is_world(cidr)


@pytest.mark.parametrize("cidr", ["0.0.0.0/1", "128.0.0.0/1", "8.8.8.0/24", "::/1", "2000::/3", "10.0.0.0/8"])
def test_is_not_world(cidr):
    assert not is_world(cidr)


def test_world_constant():
    assert WORLD == {"0.0.0.0/0", "::/0"}
    assert all(is_world(cidr) and is_public(cidr) for cidr in WORLD)


NOT_PUBLIC = [
    # RFC 1918
    "10.0.0.0/8",
    "10.20.30.0/24",
    "172.16.0.0/12",
    "172.31.255.255/32",
    "192.168.0.0/16",
    "192.168.1.10/32",
    # RFC 6598 shared address space
    "100.64.0.0/10",
    "100.127.0.0/16",
    # link-local
    "169.254.0.0/16",
    "169.254.169.254/32",
    "fe80::/10",
    "fe80::1/128",
    # loopback
    "127.0.0.0/8",
    "127.0.0.1/32",
    "::1/128",
    # unique-local
    "fc00::/7",
    "fd12:3456:789a::/48",
    # documentation
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "2001:db8::/32",
    "2001:db8:abcd::/48",
    # others with no globally routable address
    "0.0.0.0/8",
    "192.0.0.0/24",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "224.0.0.0/3",  # multicast + reserved together: still nothing routable
    "::/128",
    "::ffff:0:0/96",
    "100::/64",
    "ff00::/8",
]


@pytest.mark.parametrize("cidr", NOT_PUBLIC)
def test_non_global_blocks_are_not_public(cidr):
    assert not is_public(cidr)


PUBLIC = [
    "8.8.8.0/24",
    "8.8.8.8/32",
    "52.0.0.0/8",
    "10.0.0.0/7",  # 10/8 private + 11/8 public
    "192.168.0.0/15",  # 192.168/16 private + 192.169/16 public
    "172.0.0.0/8",
    "100.0.0.0/8",
    "169.0.0.0/8",
    "192.0.0.0/16",
    "0.0.0.0/0",
    "::/0",
    "2600:1f18::/36",
    "2001:db8::/31",  # documentation + a routable neighbour
    "fc00::/6",
]


@pytest.mark.parametrize("cidr", PUBLIC)
def test_public_blocks_and_straddling_supernets(cidr):
    assert is_public(cidr)


@pytest.mark.parametrize(
    "cidr, network",
    [("10.1.2.3/8", "10.0.0.0/8"), ("8.8.8.8/24", "8.8.8.0/24"), ("fd00::1/8", "fd00::/8"), (" 1.2.3.4/32 ", "1.2.3.4/32")],
)
def test_host_bits_are_tolerated(cidr, network):
    assert parse_cidr(cidr) == ipaddress.ip_network(network)
    assert is_public(cidr) == is_public(network)


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "256.0.0.0/8", "not-a-cidr", "", "fe80::/129", "10.0.0.0/8/8"])
def test_malformed_cidr_raises_value_error_with_the_text(cidr):
    with pytest.raises(ValueError) as caught:
        is_public(cidr)
    assert str(caught.value) == f"'{cidr}' is not a valid CIDR"
    with pytest.raises(ValueError, match="is not a valid CIDR"):
        is_world(cidr)


def test_non_text_cidr_raises_value_error():
    with pytest.raises(ValueError, match="'None' is not a valid CIDR"):
        parse_cidr(None)


_NON_GLOBAL_ROOTS = [ipaddress.ip_network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                      "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8",
                                                      "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                      "fc00::/7", "fe80::/10", "::1/128", "2001:db8::/32")]


@st.composite
def subnets_of_non_global_blocks(draw):
    root = draw(st.sampled_from(_NON_GLOBAL_ROOTS))
    prefix = draw(st.integers(root.prefixlen, root.max_prefixlen))
    offset = draw(st.integers(0, root.num_addresses - 1))
    address = root.network_address + offset
    host_bits = draw(st.booleans())  # AWS masks host bits; so must we
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return f"{address}/{prefix}" if host_bits else str(network)


@settings(max_examples=300, deadline=None, database=None)
@given(subnets_of_non_global_blocks())
def test_any_subnet_of_a_non_global_block_is_not_public(cidr):
    assert not is_public(cidr)
    assert not is_world(cidr)


_DOCUMENTED_V4 = [
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
]
# Addresses near the edges of the documented blocks, where a small CIDR may straddle one.
_EDGES = [int(b.network_address) for b in _DOCUMENTED_V4] + [int(b.broadcast_address) + 1 for b in _DOCUMENTED_V4]


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        st.integers(0, 2**32 - 1),
        st.builds(lambda edge, delta: max(0, min(2**32 - 1, edge + delta)), st.sampled_from(_EDGES), st.integers(-300, 300)),
    ),
    st.integers(24, 32),
)
def test_ipv4_public_iff_some_address_is_outside_every_documented_block(address, prefix):
    network = ipaddress.ip_network(f"{ipaddress.IPv4Address(address)}/{prefix}", strict=False)
    expected = any(not any(host in block for block in _DOCUMENTED_V4) for host in network)
    assert is_public(str(network)) == expected


# --- the usual IPv4 spelling read without ipaddress (perimeter.cidrs._ipv4_range) reads as ipaddress reads it ----
def _by_ipaddress(text: str):
    """(is_world, is_public) as ipaddress alone answers them, or the ValueError's text."""
    try:
        network = cidrs.parse_cidr.__wrapped__(text)
    except ValueError as error:
        return str(error)
    public = not any(network.version == block.version and network.subnet_of(block) for block in cidrs._NOT_GLOBAL)
    return network.prefixlen == 0, public


def _answers(text: str):
    try:
        return cidrs.is_world.__wrapped__(text), cidrs.is_public.__wrapped__(text)
    except ValueError as error:
        return str(error)


_OCTETS = st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "010", "0255", "1e2", "", "٣"]))
_PREFIXES = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["00", "08", "032", "", "-1", "٣"]))


@given(st.lists(_OCTETS, min_size=3, max_size=5), _PREFIXES, st.sampled_from(["", " ", "\t"]))
@settings(max_examples=400, derandomize=True, database=None)
def test_world_and_public_read_an_ipv4_cidr_as_ipaddress_reads_it(octets, prefix, space):
    text = f"{space}{'.'.join(octets)}/{prefix}{space}"
    assert _answers(text) == _by_ipaddress(text)


@pytest.mark.parametrize("text", ["0.0.0.0/0", "0.0.0.0/00", "10.1.2.3/0", "255.255.255.255/0", "8.8.8.0/24",
                                  "10.0.0.0/7", "10.0.0.0/8", "100.64.0.0/10", "100.63.255.255/10", "224.0.0.0/3",
                                  "203.0.113.128/25", "192.0.2.1/32", "1.2.3.4/33", "1.2.3.4", "::/0", "::/00",
                                  "2001:db8::/32", "2600:1f18::/40", "10.0.0.0/255.0.0.0", "01.2.3.4/8"])
def test_world_and_public_of_known_cidrs_are_ipaddress_answers(text):
    assert _answers(text) == _by_ipaddress(text)
