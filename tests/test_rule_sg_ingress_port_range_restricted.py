"""sg-ingress-port-range-restricted: one test group per scenario S1..S20 of the rule's docstring.

Every verdict goes through the registry (parse_parameters -> evaluate), as the Lambda and the scan do,
so unknown parameters and NOT_APPLICABLE are judged by the same path.
"""
from __future__ import annotations

import re

import pytest

from perimeter.events import invoking_event, normalise_event
from perimeter.items import ItemError, normalise_item
from perimeter.parameters import ParameterError
from perimeter.ports import PortRange
from perimeter.registry import load_rule
from perimeter.verdicts import COMPLIANT, MAX_ANNOTATION, NON_COMPLIANT, NOT_APPLICABLE, Verdict, summarise

SPEC = load_rule("perimeter.rules.sg_ingress_port_range_restricted.rule")
ACCOUNT = "123456789012"
SG_TYPE = "AWS::EC2::SecurityGroup"

NONE_OPEN_ANY = "No inbound port range over 1 port(s) open to any source"
OPEN = "Inbound port ranges open: "


# --- builders: camelCase configuration items as AWS Config records them ---------------------------
def perm(protocol, from_port=None, to_port=None, *, ipv4=(), legacy=None, ipv6=(), prefix_lists=(), groups=()):
    """One ``ipPermissions`` entry. ``legacy`` (ipRanges strings) mirrors ``ipv4`` unless given."""
    entry = {
        "ipProtocol": protocol,
        "ipv6Ranges": [{"cidrIpv6": cidr} for cidr in ipv6],
        "prefixListIds": [{"prefixListId": pl} for pl in prefix_lists],
        "userIdGroupPairs": [{"groupId": group, "userId": ACCOUNT} for group in groups],
        "ipv4Ranges": [{"cidrIp": cidr} for cidr in ipv4],
        "ipRanges": list(ipv4 if legacy is None else legacy),
    }
    if from_port is not None:
        entry["fromPort"] = from_port
    if to_port is not None:
        entry["toPort"] = to_port
    return entry


def sg_item(*ingress, egress=(), status="OK", resource_type=SG_TYPE, group_id="sg-0123456789abcdef0"):
    return {
        "relatedEvents": [],
        "relationships": [],
        "configuration": {
            "description": "test group",
            "groupName": "test",
            "ipPermissions": list(ingress),
            "ownerId": ACCOUNT,
            "groupId": group_id,
            "ipPermissionsEgress": list(egress),
            "tags": [],
            "vpcId": "vpc-0a1b2c3d4e5f60718",
        },
        "supplementaryConfiguration": {},
        "tags": {},
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-20T10:15:42.123Z",
        "configurationStateId": 1763633742123,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": group_id,
        "resourceName": "test",
        "ARN": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group_id}",
        "awsRegion": "us-east-1",
        "availabilityZone": "Not Applicable",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": None,
    }


def judge(item, **raw_parameters) -> Verdict:
    return SPEC.evaluate(item, SPEC.parse_parameters(raw_parameters))


def world(protocol, from_port=None, to_port=None):
    return perm(protocol, from_port, to_port, ipv4=["0.0.0.0/0"])


# --- S1 no inbound permissions -------------------------------------------------------------------
def test_s01_no_inbound_permissions():
    assert judge(sg_item()) == Verdict(COMPLIANT, NONE_OPEN_ANY)


def test_s01_empty_ip_permissions_list():
    item = sg_item()
    assert item["configuration"]["ipPermissions"] == []
    assert judge(item) == Verdict(COMPLIANT, NONE_OPEN_ANY)


def test_s01_permission_without_any_source_opens_nothing():
    assert judge(sg_item(perm("tcp", 0, 65535))) == Verdict(COMPLIANT, NONE_OPEN_ANY)


# --- S2 each inbound permission opens one port ---------------------------------------------------
def test_s02_single_ports_tcp_443_udp_53():
    item = sg_item(world("tcp", 443, 443), perm("udp", 53, 53, ipv4=["10.0.0.0/8"], ipv6=["::/0"]))
    assert judge(item) == Verdict(COMPLIANT, NONE_OPEN_ANY)


def test_s02_compliant_fixture(fixture_item):
    assert judge(fixture_item("sg-compliant.notification")) == Verdict(COMPLIANT, NONE_OPEN_ANY)


@pytest.mark.parametrize("port", [0, 65535])
def test_s02_single_port_at_the_edges(port):
    assert judge(sg_item(world("tcp", port, port))) == Verdict(COMPLIANT, NONE_OPEN_ANY)


@pytest.mark.parametrize("protocol", ["tcp", "udp", "6", "17", "TCP", "Udp", 6, 17])
def test_s02_single_port_every_protocol_spelling(protocol):
    assert judge(sg_item(world(protocol, 22, 22))) == Verdict(COMPLIANT, NONE_OPEN_ANY)


# --- S3 tcp 0-65535 from 0.0.0.0/0 ---------------------------------------------------------------
def test_s03_tcp_all_ports_from_world(fixture_item):
    # The fixture repeats the source in ipv4Ranges and the legacy ipRanges: it is named once.
    assert judge(fixture_item("sg-open-range.notification")) == Verdict(
        NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"
    )


def test_s03_api_shape_gives_the_notification_verdict(fixture_item):
    api = normalise_item(fixture_item("sg-open-range.api"))
    notification = fixture_item("sg-open-range.notification")
    assert judge(api) == judge(notification) == Verdict(
        NON_COMPLIANT, "Inbound port ranges open: tcp 0-65535 from 0.0.0.0/0"
    )


def test_s03_snapshot_entry_gives_the_notification_verdict(fixture_item):
    snapshot = fixture_item("snapshot")
    verdicts = {
        entry["resourceId"]: judge(normalise_item(entry)) for entry in snapshot["configurationItems"]
    }
    assert verdicts["sg-0e1f2a3b4c5d6e7f8"] == Verdict(NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0")
    assert verdicts["sg-0c1d2e3f4a5b6c7d8"] == Verdict(COMPLIANT, NONE_OPEN_ANY)


@pytest.mark.parametrize(
    "protocol, name",
    [("tcp", "tcp"), ("6", "tcp"), ("TCP", "tcp"), (6, "tcp"), ("udp", "udp"), ("17", "udp"), ("UDP", "udp")],
)
def test_s03_every_spelling_of_tcp_and_udp(protocol, name):
    assert judge(sg_item(world(protocol, 0, 65535))) == Verdict(NON_COMPLIANT, f"{OPEN}{name} 0-65535 from 0.0.0.0/0")


def test_s03_two_port_range_at_the_top():
    assert judge(sg_item(world("tcp", 65534, 65535))) == Verdict(NON_COMPLIANT, OPEN + "tcp 65534-65535 from 0.0.0.0/0")


def test_s03_legacy_ipranges_strings_only(fixture_item):
    item = fixture_item("sg-legacy-ipranges.notification")
    assert "ipv4Ranges" not in item["configuration"]["ipPermissions"][0]
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 22-3389 from 0.0.0.0/0")


@pytest.mark.parametrize(
    "sources, named",
    [
        ({"ipv4": ["0.0.0.0/0"]}, "0.0.0.0/0"),
        ({"ipv4": [], "legacy": ["198.51.100.0/24"]}, "198.51.100.0/24"),
        ({"ipv6": ["::/0"]}, "::/0"),
        ({"prefix_lists": ["pl-0123abcd"]}, "pl-0123abcd"),
        ({"groups": ["sg-0abc1234"]}, "sg-0abc1234"),
    ],
    ids=["ipv4Ranges", "ipRanges", "ipv6Ranges", "prefixListIds", "userIdGroupPairs"],
)
def test_s03_each_source_kind(sources, named):
    item = sg_item(perm("tcp", 0, 65535, **sources))
    assert judge(item) == Verdict(NON_COMPLIANT, f"{OPEN}tcp 0-65535 from {named}")


def test_s03_duplicated_ipranges_and_ipv4ranges_named_once():
    item = sg_item(perm("tcp", 1000, 2000, ipv4=["203.0.113.0/24", "0.0.0.0/0"], legacy=["0.0.0.0/0", "203.0.113.0/24"]))
    assert judge(item) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 1000-2000 from 203.0.113.0/24; tcp 1000-2000 from 0.0.0.0/0"
    )


def test_s03_same_range_in_two_entries_named_once():
    item = sg_item(world("tcp", 0, 65535), world("6", 0, 65535))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0")


# --- S4 tcp/udp without fromPort and toPort: the whole range -----------------------------------
@pytest.mark.parametrize("protocol, name", [("tcp", "tcp"), ("udp", "udp"), ("6", "tcp"), ("17", "udp")])
def test_s04_tcp_udp_without_port_fields_open_everything(protocol, name):
    item = sg_item(perm(protocol, ipv4=["10.0.0.0/8"]))
    assert judge(item) == Verdict(NON_COMPLIANT, f"{OPEN}{name} 0-65535 from 10.0.0.0/8")


def test_s04_example_udp_from_private_block():
    item = sg_item(perm("udp", ipv4=["10.0.0.0/8"]))
    assert judge(item) == Verdict(NON_COMPLIANT, "Inbound port ranges open: udp 0-65535 from 10.0.0.0/8")


def test_s04_one_missing_bound_runs_to_the_end():
    item = sg_item(perm("tcp", from_port=1024, ipv4=["10.0.0.0/8"]))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 1024-65535 from 10.0.0.0/8")


# --- S5 all traffic from a referenced group -------------------------------------------------------
def test_s05_all_traffic_from_group():
    item = sg_item(perm("-1", groups=["sg-0abc"]))
    assert judge(item) == Verdict(NON_COMPLIANT, "Inbound port ranges open: all traffic from sg-0abc")


@pytest.mark.parametrize("protocol", ["-1", -1, "all"])
def test_s05_all_traffic_spellings_from_world(protocol):
    assert judge(sg_item(world(protocol))) == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


def test_s05_all_traffic_with_minus_one_port_fields():
    assert judge(sg_item(perm("-1", -1, -1, groups=["sg-0abc"]))) == Verdict(
        NON_COMPLIANT, OPEN + "all traffic from sg-0abc"
    )


# --- S6 ICMP type/code and other protocols carry no port range ---------------------------------
@pytest.mark.parametrize(
    "protocol, from_port, to_port",
    [
        ("icmp", -1, -1),
        ("icmpv6", -1, -1),
        ("1", -1, -1),
        ("58", -1, -1),
        ("ICMP", 3, -1),
        ("icmp", 0, 255),
        ("50", None, None),
        ("50", 0, 65535),
        ("47", None, None),
        ("47", 0, 65535),
        ("51", -1, -1),
        (47, 1000, 2000),
    ],
)
def test_s06_icmp_and_protocols_without_ports_are_not_port_ranges(protocol, from_port, to_port):
    item = sg_item(perm(protocol, from_port, to_port, ipv4=["0.0.0.0/0"], ipv6=["::/0"]))
    assert judge(item) == Verdict(COMPLIANT, NONE_OPEN_ANY)


# --- S7 several sources: each judged and named on its own, most open first ---------------------
def test_s07_each_source_named_most_open_first():
    item = sg_item(
        perm(
            "tcp",
            1000,
            2000,
            ipv4=["203.0.113.0/24"],
            legacy=["192.0.2.0/24"],
            ipv6=["2600:1f18::/36"],
            prefix_lists=["pl-0123abcd"],
            groups=["sg-0abc1234"],
        ),
        world("tcp", 0, 65535),
        perm("-1", groups=["sg-0abc1234"]),
        world("tcp", 443, 443),
    )
    verdict = judge(item)
    assert verdict == Verdict(
        NON_COMPLIANT,
        "Inbound port ranges open: all traffic from sg-0abc1234; tcp 0-65535 from 0.0.0.0/0; "
        "tcp 1000-2000 from 203.0.113.0/24; tcp 1000-2000 from 192.0.2.0/24; "
        "tcp 1000-2000 from 2600:1f18::/36; tcp 1000-2000 from pl-0123abcd; tcp 1000-2000 from sg-0abc1234",
    )
    assert len(verdict.annotation) <= MAX_ANNOTATION


def test_s07_mixed_sources_fixture(fixture_item):
    assert judge(fixture_item("sg-mixed-sources.notification")) == Verdict(
        NON_COMPLIANT,
        "Inbound port ranges open: all traffic from sg-0abc1234def567890; tcp 1000-2000 from 203.0.113.0/24; "
        "tcp 1000-2000 from 2600:1f18::/36; tcp 1000-2000 from pl-0123abcd; "
        "tcp 1000-2000 from sg-0abc1234def567890",
    )


# --- S8 more offenders than fit in 256 characters -------------------------------------------------
def test_s08_annotation_names_what_fits_and_counts_the_rest():
    labels = [f"tcp 1000-2000 from 10.0.{i}.0/24" for i in range(40)]
    item = sg_item(*(perm("tcp", 1000, 2000, ipv4=[f"10.0.{i}.0/24"]) for i in range(40)))
    verdict = judge(item)
    assert verdict.compliance == NON_COMPLIANT
    assert len(verdict.annotation) <= MAX_ANNOTATION
    match = re.fullmatch(r"Inbound port ranges open: (.*) \(\+(\d+) more\)", verdict.annotation)
    assert match, verdict.annotation
    shown = match.group(1).split("; ")
    assert shown == labels[: len(shown)]
    assert int(match.group(2)) == len(labels) - len(shown)
    # As many as fit: one more would overflow.
    one_more = OPEN + "; ".join(labels[: len(shown) + 1]) + f" (+{len(labels) - len(shown) - 1} more)"
    assert len(one_more) > MAX_ANNOTATION


def test_s08_exact_text_when_one_does_not_fit():
    offenders = ["x" * 100, "y" * 100, "z" * 100]
    assert summarise("Inbound port ranges open", offenders) == OPEN + "x" * 100 + "; " + "y" * 100 + " (+1 more)"


def test_s08_everything_named_when_it_fits():
    assert summarise("P", ["a", "b"]) == "P: a; b"


def test_s08_one_overlong_offender_is_cut_not_dropped():
    annotation = summarise("Inbound port ranges open", ["w" * 300, "v"])
    assert len(annotation) == MAX_ANNOTATION
    assert annotation.startswith(OPEN + "www")
    assert annotation.endswith("w… (+1 more)")


# --- S9 maxPorts ----------------------------------------------------------------------------------
def test_s09_max_ports_10_allows_10_ports():
    assert judge(sg_item(world("tcp", 8000, 8009)), maxPorts="10") == Verdict(
        COMPLIANT, "No inbound port range over 10 port(s) open to any source"
    )


def test_s09_max_ports_10_rejects_11_ports():
    assert judge(sg_item(world("tcp", 8000, 8010)), maxPorts="10") == Verdict(
        NON_COMPLIANT, "Inbound port ranges open: tcp 8000-8010 from 0.0.0.0/0"
    )


def test_s09_max_ports_2_allows_the_top_two_ports():
    assert judge(sg_item(world("tcp", 65534, 65535)), maxPorts="2") == Verdict(
        COMPLIANT, "No inbound port range over 2 port(s) open to any source"
    )


def test_s09_max_ports_covering_every_port_still_flags_all_traffic():
    assert judge(sg_item(world("tcp", 0, 65535)), maxPorts="65536") == Verdict(
        COMPLIANT, "No inbound port range over 65536 port(s) open to any source"
    )
    assert judge(sg_item(world("-1")), maxPorts="65536") == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


def test_s09_max_ports_with_whitespace():
    assert judge(sg_item(world("udp", 5000, 5001)), maxPorts=" 2 ") == Verdict(
        COMPLIANT, "No inbound port range over 2 port(s) open to any source"
    )


# --- S10 authorizedTcpPorts / authorizedUdpPorts --------------------------------------------------
def test_s10_range_inside_one_authorized_range():
    assert judge(sg_item(world("tcp", 1024, 65535)), authorizedTcpPorts="443,1024-65535") == Verdict(
        COMPLIANT, NONE_OPEN_ANY
    )


def test_s10_range_not_wholly_inside_one_authorized_range():
    assert judge(sg_item(world("tcp", 1000, 2000)), authorizedTcpPorts="443,1024-65535") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 1000-2000 from 0.0.0.0/0"
    )


def test_s10_two_adjacent_authorized_ranges_do_not_add_up():
    assert judge(sg_item(world("tcp", 1500, 2500)), authorizedTcpPorts="1000-1999,2000-2999") == Verdict(
        NON_COMPLIANT, OPEN + "tcp 1500-2500 from 0.0.0.0/0"
    )


def test_s10_tcp_list_does_not_exempt_udp():
    assert judge(sg_item(world("udp", 1024, 65535)), authorizedTcpPorts="443,1024-65535") == Verdict(
        NON_COMPLIANT, OPEN + "udp 1024-65535 from 0.0.0.0/0"
    )


def test_s10_udp_list_exempts_udp_by_number():
    assert judge(sg_item(world("17", 3000, 4000)), authorizedUdpPorts="3000-4000") == Verdict(
        COMPLIANT, NONE_OPEN_ANY
    )


# --- S11 all traffic and the authorized lists -----------------------------------------------------
def test_s11_all_traffic_not_exempt_when_both_lists_cover_everything():
    # All traffic opens every SCTP/DCCP/UDP-Lite port too, and neither list can authorize those.
    verdict = judge(sg_item(world("-1")), authorizedTcpPorts="0-65535", authorizedUdpPorts="0-65535")
    assert verdict == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


def test_s11_the_lists_still_exempt_tcp_and_udp_beside_all_traffic():
    item = sg_item(world("tcp", 0, 65535), world("udp", 0, 65535), perm("-1", groups=["sg-0abc"]))
    verdict = judge(item, authorizedTcpPorts="0-65535", authorizedUdpPorts="0-65535")
    assert verdict == Verdict(NON_COMPLIANT, OPEN + "all traffic from sg-0abc")


@pytest.mark.parametrize(
    "parameters",
    [
        {"authorizedTcpPorts": "0-65535"},
        {"authorizedUdpPorts": "0-65535"},
        {"authorizedTcpPorts": "0-65535", "authorizedUdpPorts": "1-65535"},
    ],
)
def test_s11_all_traffic_flagged_when_one_list_falls_short(parameters):
    assert judge(sg_item(world("-1")), **parameters) == Verdict(NON_COMPLIANT, OPEN + "all traffic from 0.0.0.0/0")


# --- S12 sourceScope public -----------------------------------------------------------------------
NONE_OPEN_PUBLIC = "No inbound port range over 1 port(s) open to public sources"


def test_s12_non_public_sources_are_compliant():
    item = sg_item(
        perm(
            "tcp",
            0,
            65535,
            ipv4=[
                "10.0.0.0/8",
                "172.16.5.0/24",
                "192.168.0.0/16",
                "100.64.0.0/10",
                "169.254.0.0/16",
                "127.0.0.1/32",
                "192.0.2.0/24",
                "198.51.100.0/24",
                "203.0.113.7/32",
            ],
            ipv6=["fd00:1234::/48", "fe80::/64", "::1/128", "2001:db8:1::/48"],
            prefix_lists=["pl-0123abcd"],
            groups=["sg-0abc1234"],
        ),
        perm("-1", groups=["sg-0abc1234"]),
    )
    assert judge(item, sourceScope="public") == Verdict(COMPLIANT, NONE_OPEN_PUBLIC)


@pytest.mark.parametrize("cidr", ["8.8.8.0/24", "10.0.0.0/7", "192.168.0.0/15", "0.0.0.0/0", "::/0", "2600:1f18::/36"])
def test_s12_public_cidr_is_non_compliant(cidr):
    item = sg_item(perm("tcp", 0, 65535, ipv4=[cidr] if ":" not in cidr else [], ipv6=[cidr] if ":" in cidr else []))
    assert judge(item, sourceScope="public") == Verdict(NON_COMPLIANT, f"{OPEN}tcp 0-65535 from {cidr}")


def test_s12_scope_is_case_insensitive():
    assert judge(sg_item(perm("tcp", 0, 65535, ipv4=["10.0.0.0/8"])), sourceScope="PUBLIC") == Verdict(
        COMPLIANT, NONE_OPEN_PUBLIC
    )


# --- S13 sourceScope world ------------------------------------------------------------------------
NONE_OPEN_WORLD = "No inbound port range over 1 port(s) open to the world"


def test_s13_public_but_not_world_is_compliant():
    item = sg_item(perm("tcp", 0, 65535, ipv4=["8.8.8.0/24"], prefix_lists=["pl-0123abcd"], groups=["sg-0abc"]))
    assert judge(item, sourceScope="world") == Verdict(COMPLIANT, NONE_OPEN_WORLD)


@pytest.mark.parametrize("field, cidr", [("ipv4", "0.0.0.0/0"), ("ipv6", "::/0")])
def test_s13_world_is_non_compliant(field, cidr):
    item = sg_item(perm("tcp", 0, 65535, **{field: [cidr]}))
    assert judge(item, sourceScope="world") == Verdict(NON_COMPLIANT, f"{OPEN}tcp 0-65535 from {cidr}")


# --- S14 invalid parameters -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, message",
    [
        ({"maxPorts": "abc"}, "parameter maxPorts: 'abc' is not an integer >= 1"),
        ({"maxPorts": "0"}, "parameter maxPorts: '0' is not an integer >= 1"),
        ({"maxPorts": "-1"}, "parameter maxPorts: '-1' is not an integer >= 1"),
        ({"maxPorts": "1.5"}, "parameter maxPorts: '1.5' is not an integer >= 1"),
        ({"maxPorts": "²"}, "parameter maxPorts: '²' is not an integer >= 1"),
        ({"maxPorts": 5}, "parameter maxPorts: value 5 must be a string"),
        (
            {"authorizedTcpPorts": "65536"},
            "parameter authorizedTcpPorts: '65536' is invalid: port 65536 is over 65535",
        ),
        (
            {"authorizedUdpPorts": "53,70000"},
            "parameter authorizedUdpPorts: '53,70000' is invalid: port 70000 is over 65535",
        ),
        (
            {"authorizedTcpPorts": "2000-1000"},
            "parameter authorizedTcpPorts: '2000-1000' is invalid: range '2000-1000' is reversed",
        ),
        (
            {"authorizedTcpPorts": "1-2-3"},
            "parameter authorizedTcpPorts: '1-2-3' is invalid: '2-3' is not a port number",
        ),
        ({"authorizedTcpPorts": "80,"}, "parameter authorizedTcpPorts: '80,' is invalid: empty entry in '80,'"),
        ({"authorizedUdpPorts": "dns"}, "parameter authorizedUdpPorts: 'dns' is invalid: 'dns' is not a port number"),
        ({"sourceScope": "everywhere"}, "parameter sourceScope: 'everywhere' is not one of any, public, world"),
        (
            {"maxPort": "5"},
            "unknown parameter(s) maxPort (value '5'); known parameters: "
            "ExecutionRoleName, authorizedTcpPorts, authorizedUdpPorts, includeSelfReferences, maxExemptionDays, "
            "maxPorts, sourceScope, trustedSources",
        ),
    ],
)
def test_s14_invalid_parameter_names_parameter_and_value(raw, message):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters(raw)
    assert str(caught.value) == message


def test_s14_parameters_must_be_an_object():
    with pytest.raises(ParameterError, match="rule parameters must be a JSON object"):
        SPEC.parse_parameters(["maxPorts"])


def test_s14_blank_values_mean_default():
    blank = SPEC.parse_parameters(
        {"maxPorts": "", "authorizedTcpPorts": " ", "authorizedUdpPorts": "", "sourceScope": "  "}
    )
    assert blank.own == SPEC.parse_parameters({}).own == SPEC.module.Parameters()
    assert blank.own.max_ports == 1 and blank.own.source_scope == "any"


def test_s14_defaults_from_metadata_parse():
    assert SPEC.parse_parameters(dict(SPEC.parameter_defaults)).own == SPEC.module.Parameters()


def test_s14_valid_values_parse():
    parsed = SPEC.parse_parameters(
        {
            "maxPorts": "10",
            "authorizedTcpPorts": "443, 1024-65535",
            "authorizedUdpPorts": "53",
            "sourceScope": "World",
            "ExecutionRoleName": "perimeter-config-rule",
        }
    )
    assert parsed.own == SPEC.module.Parameters(
        max_ports=10,
        authorized_tcp=(PortRange(443, 443), PortRange(1024, 65535)),
        authorized_udp=(PortRange(53, 53),),
        source_scope="world",
    )


def test_s14_lambda_edge_raises_invalid_parameters_error():
    from rdklib import InvalidParametersError

    from perimeter.rule import PackRule

    with pytest.raises(InvalidParametersError) as caught:
        PackRule(SPEC).evaluate_parameters({"maxPorts": "abc"})
    assert str(caught.value) == "sg-ingress-port-range-restricted: parameter maxPorts: 'abc' is not an integer >= 1"


# --- S15 NOT_APPLICABLE ---------------------------------------------------------------------------
def test_s15_deleted_item_with_null_configuration(fixture_item):
    item = fixture_item("sg-deleted.notification")
    assert item["configuration"] is None
    assert judge(item) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


@pytest.mark.parametrize("status", ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"])
def test_s15_gone_statuses(status):
    item = sg_item(world("tcp", 0, 65535), status=status)
    item["configuration"] = None
    assert judge(item) == Verdict(NOT_APPLICABLE, f"Resource status is {status}")


def test_s15_deleted_item_from_the_change_event(fixture_event):
    event = normalise_event(fixture_event("change-deleted"))
    item = invoking_event(event)["configurationItem"]
    assert judge(item) == Verdict(NOT_APPLICABLE, "Resource status is ResourceDeleted")


def test_s15_event_left_scope(fixture_event):
    event = fixture_event("change-open-range")
    event["eventLeftScope"] = True
    event = normalise_event(event)
    item = invoking_event(event)["configurationItem"]
    verdict = SPEC.evaluate(item, SPEC.parse_parameters({}), left_scope=event["eventLeftScope"])
    assert verdict == Verdict(NOT_APPLICABLE, "Resource left the scope of this rule")


def test_s15_other_resource_type():
    item = sg_item(world("tcp", 0, 65535), resource_type="AWS::EC2::VPC")
    assert judge(item) == Verdict(NOT_APPLICABLE, "Resource type AWS::EC2::VPC is not evaluated by this rule")


def test_s15_resource_discovered_is_evaluated():
    assert judge(sg_item(world("tcp", 0, 65535), status="ResourceDiscovered")) == Verdict(
        NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0"
    )


def test_s15_live_item_without_configuration_is_an_error_not_a_verdict():
    item = sg_item()
    item["configuration"] = None
    with pytest.raises(ItemError, match="AWS::EC2::SecurityGroup sg-0123456789abcdef0: configuration is missing"):
        judge(item)


def test_s15_unknown_status_is_an_error():
    with pytest.raises(ItemError, match="unknown configurationItemStatus 'Exploded'"):
        judge(sg_item(status="Exploded"))


def test_s15_malformed_group_names_item_and_field():
    with pytest.raises(ItemError) as caught:
        judge(sg_item(perm("tcp", "x", 80, ipv4=["0.0.0.0/0"])))
    assert str(caught.value) == "AWS::EC2::SecurityGroup sg-0123456789abcdef0: fromPort 'x' is not a number"


def test_s15_malformed_cidr_names_item():
    with pytest.raises(ItemError, match=r"sg-0123456789abcdef0: '10\.0\.0\.0/33' is not a valid CIDR"):
        judge(sg_item(perm("tcp", 0, 65535, ipv4=["10.0.0.0/33"])), sourceScope="public")


# --- S16 egress is out of scope -------------------------------------------------------------------
def test_s16_egress_only_ranges_are_compliant():
    item = sg_item(egress=[world("tcp", 0, 65535), world("-1"), perm("udp", ipv6=["::/0"])])
    assert judge(item) == Verdict(COMPLIANT, NONE_OPEN_ANY)


def test_s16_egress_does_not_hide_an_ingress_range():
    item = sg_item(world("udp", 1000, 1001), egress=[world("-1")])
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "udp 1000-1001 from 0.0.0.0/0")


# --- S17 port-carrying protocols other than tcp/udp: every port ----------------------------------
@pytest.mark.parametrize(
    "protocol, from_port, to_port, named",
    [
        ("132", 0, 65535, "sctp"),
        ("132", None, None, "sctp"),
        ("132", 22, 22, "sctp"),  # EC2 ignores the fields: every SCTP port is open
        (132, -1, -1, "sctp"),
        ("33", 5000, 5000, "protocol 33"),
        ("136", None, None, "protocol 136"),
    ],
)
def test_s17_sctp_dccp_udplite_open_every_port(protocol, from_port, to_port, named):
    assert judge(sg_item(world(protocol, from_port, to_port))) == Verdict(
        NON_COMPLIANT, f"{OPEN}{named} all ports from 0.0.0.0/0"
    )


def test_s17_sctp_all_ports_from_the_world_was_compliant():
    """The issue's reproduction: protocol 132 0-65535 from 0.0.0.0/0."""
    assert judge(sg_item(world("132", 0, 65535))).compliance == NON_COMPLIANT


def test_s17_tcp_and_udp_lists_do_not_cover_sctp():
    verdict = judge(sg_item(world("132", 0, 65535)), authorizedTcpPorts="0-65535", authorizedUdpPorts="0-65535")
    assert verdict == Verdict(NON_COMPLIANT, OPEN + "sctp all ports from 0.0.0.0/0")


def test_s17_max_ports_covering_every_port_allows_sctp_as_it_allows_tcp_0_65535():
    item = sg_item(world("132", 0, 65535), world("tcp", 0, 65535))
    assert judge(item, maxPorts="65536") == Verdict(COMPLIANT, "No inbound port range over 65536 port(s) open to any source")


def test_s17_sctp_from_a_private_block_under_public_scope():
    item = sg_item(perm("132", 0, 65535, ipv4=["10.0.0.0/8"]), perm("33", ipv6=["2600:1f18::/36"]))
    assert judge(item, sourceScope="public") == Verdict(NON_COMPLIANT, OPEN + "protocol 33 all ports from 2600:1f18::/36")


def test_s17_all_traffic_first_then_sctp_beside_tcp_0_65535_in_input_order():
    item = sg_item(world("132"), world("tcp", 0, 65535), perm("-1", groups=["sg-0abc"]), world("tcp", 80, 81))
    assert judge(item) == Verdict(
        NON_COMPLIANT,
        OPEN + "all traffic from sg-0abc; sctp all ports from 0.0.0.0/0; tcp 0-65535 from 0.0.0.0/0; "
        "tcp 80-81 from 0.0.0.0/0",
    )


# --- S18 malformed: no ipPermissions, a port that is not a whole number; 22.0 is port 22 -----------
@pytest.mark.parametrize("absent", ["deleted", "null"])
def test_s18_configuration_without_ip_permissions_is_malformed(absent):
    item = sg_item()
    if absent == "deleted":
        del item["configuration"]["ipPermissions"]
    else:
        item["configuration"]["ipPermissions"] = None
    with pytest.raises(ItemError) as caught:
        judge(item)
    assert str(caught.value) == "AWS::EC2::SecurityGroup sg-0123456789abcdef0: ipPermissions is missing"


def test_s18_whole_number_float_ports_are_those_ports():
    assert judge(sg_item(world("tcp", 22.0, 22.0))) == Verdict(COMPLIANT, NONE_OPEN_ANY)
    assert judge(sg_item(world("tcp", 0.0, 65535.0))) == Verdict(NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0")


@pytest.mark.parametrize("field", ["fromPort", "toPort"])
def test_s18_non_integral_port_is_malformed(field):
    entry = world("tcp", 22, 22)
    entry[field] = 22.5
    with pytest.raises(ItemError) as caught:
        judge(sg_item(entry))
    assert str(caught.value) == f"AWS::EC2::SecurityGroup sg-0123456789abcdef0: {field} 22.5 is not a whole number"


def test_s18_advanced_query_export_item_with_float_ports(fixture_item):
    item = normalise_item(fixture_item("sg-open-range.select-resource-config"))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "tcp 0-65535 from 0.0.0.0/0")


# --- S19 trustedSources ---------------------------------------------------------------------------
TRUSTED = "203.0.113.0/24, 2001:db8::/32,pl-0123456789abcdef0,sg-0123456789abcdef0"


def test_s19_trusted_sources_are_not_judged():
    item = sg_item(perm("tcp", 0, 65535, ipv4=["203.0.113.128/25", "203.0.113.0/24"], ipv6=["2001:db8:1::/48"],
                        prefix_lists=["pl-0123456789abcdef0"], groups=["sg-0123456789abcdef0"]))
    assert judge(item, trustedSources=TRUSTED) == Verdict(COMPLIANT, NONE_OPEN_ANY)
    assert judge(item).compliance == NON_COMPLIANT  # the same group without trusted sources


def test_s19_a_wider_cidr_or_another_group_is_still_judged():
    item = sg_item(perm("tcp", 0, 65535, ipv4=["203.0.113.0/25", "203.0.112.0/23"],
                        groups=["sg-0123456789abcdef0", "sg-0fedcba9876543210"]))
    assert judge(item, trustedSources=TRUSTED) == Verdict(
        NON_COMPLIANT, f"{OPEN}tcp 0-65535 from 203.0.112.0/23; tcp 0-65535 from sg-0fedcba9876543210")


def test_s19_an_ipv4_trusted_cidr_never_covers_ipv6_and_world_is_covered_only_by_world():
    item = sg_item(world("tcp", 0, 65535), perm("tcp", 0, 65535, ipv6=["::/0"]))
    assert judge(item, trustedSources="0.0.0.0/1,128.0.0.0/1").annotation == \
        f"{OPEN}tcp 0-65535 from 0.0.0.0/0; tcp 0-65535 from ::/0"
    assert judge(item, trustedSources="0.0.0.0/0").annotation == f"{OPEN}tcp 0-65535 from ::/0"


# --- S20 invalid trustedSources -------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["10.0.0.0/33", "office", "10.0.0.1", "pl-xyz", "sg-12", "2001:db8::/129"])
def test_s20_an_invalid_trusted_source_names_the_parameter_and_entry(entry):
    with pytest.raises(ParameterError) as caught:
        SPEC.parse_parameters({"trustedSources": f"10.0.0.0/8, {entry}"})
    assert str(caught.value) == (f"parameter trustedSources: '{entry}' is not a CIDR, pl- or sg- id")


# --- S21 self references --------------------------------------------------------------------------
SELF = "sg-0123456789abcdef0"  # sg_item's group id


@pytest.mark.parametrize("raw", [{}, {"includeSelfReferences": ""}, {"includeSelfReferences": "false"},
                                 {"includeSelfReferences": "FALSE"}])
def test_s21_all_traffic_from_the_group_itself_is_not_judged_by_default(raw):
    item = sg_item(perm("-1", groups=[SELF]))
    assert judge(item, **raw) == Verdict(COMPLIANT, NONE_OPEN_ANY)


def test_s21_self_references_are_judged_when_included():
    item = sg_item(perm("-1", groups=[SELF]))
    assert judge(item, includeSelfReferences="true") == Verdict(NON_COMPLIANT, OPEN + f"all traffic from {SELF}")


def test_s21_another_group_and_other_sources_of_the_same_permission_are_judged_either_way():
    item = sg_item(perm("-1", ipv4=["10.0.0.0/8"], groups=[SELF, "sg-0abc"]))
    assert judge(item) == Verdict(NON_COMPLIANT, OPEN + "all traffic from 10.0.0.0/8; all traffic from sg-0abc")


def test_s21_invalid_value_names_the_parameter():
    with pytest.raises(ParameterError, match="parameter includeSelfReferences: 'yes' is not true or false"):
        SPEC.parse_parameters({"includeSelfReferences": "yes"})
