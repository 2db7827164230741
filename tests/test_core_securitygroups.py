"""perimeter.securitygroups: one Permission per (protocol, port range, source), from every spelling AWS uses."""
from __future__ import annotations

import pytest

from perimeter.ports import ALL_PORTS, PortRange
from perimeter.securitygroups import (
    ALL_TRAFFIC,
    CIDR_IPV4,
    CIDR_IPV6,
    PREFIX_LIST,
    SECURITY_GROUP,
    SOURCE_SCOPES,
    Permission,
    SecurityGroupError,
    Source,
    in_scope,
    ingress_from_rules,
    normalise_protocol,
    permission_from_rule,
    permissions_from_entries,
    security_group_from_configuration,
)

CAMEL = {
    "groupId": "sg-0abc1234",
    "groupName": "app",
    "vpcId": "vpc-0a1b2c3d",
    "ownerId": "123456789012",
    "ipPermissions": [
        {
            "ipProtocol": "tcp",
            "fromPort": 1000,
            "toPort": 2000,
            "ipv4Ranges": [{"cidrIp": "203.0.113.0/24", "description": "partner"}],
            "ipRanges": ["203.0.113.0/24"],
            "ipv6Ranges": [{"cidrIpv6": "2600:1f18::/36"}],
            "prefixListIds": [{"prefixListId": "pl-0123abcd"}],
            "userIdGroupPairs": [{"groupId": "sg-0def5678", "userId": "123456789012"}],
        },
        {"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"]},
    ],
    "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}],
}

# The same group as DescribeSecurityGroups returns it.
PASCAL = {
    "GroupId": "sg-0abc1234",
    "GroupName": "app",
    "VpcId": "vpc-0a1b2c3d",
    "OwnerId": "123456789012",
    "IpPermissions": [
        {
            "IpProtocol": "tcp",
            "FromPort": 1000,
            "ToPort": 2000,
            "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "partner"}],
            "Ipv6Ranges": [{"CidrIpv6": "2600:1f18::/36"}],
            "PrefixListIds": [{"PrefixListId": "pl-0123abcd"}],
            "UserIdGroupPairs": [{"GroupId": "sg-0def5678", "UserId": "123456789012"}],
        },
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []},
    ],
    "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
}

EXPECTED_INGRESS = (
    Permission("tcp", 1000, 2000, Source(CIDR_IPV4, "203.0.113.0/24"), "partner"),
    Permission("tcp", 1000, 2000, Source(CIDR_IPV6, "2600:1f18::/36")),
    Permission("tcp", 1000, 2000, Source(PREFIX_LIST, "pl-0123abcd")),
    Permission("tcp", 1000, 2000, Source(SECURITY_GROUP, "sg-0def5678")),
    Permission(ALL_TRAFFIC, None, None, Source(CIDR_IPV4, "10.0.0.0/8")),
)


# --- configurations: camelCase and PascalCase ----------------------------------------------------


def test_camel_case_configuration():
    group = security_group_from_configuration(CAMEL)
    assert (group.group_id, group.group_name, group.vpc_id) == ("sg-0abc1234", "app", "vpc-0a1b2c3d")
    assert group.ingress == EXPECTED_INGRESS
    assert group.egress == (Permission(ALL_TRAFFIC, None, None, Source(CIDR_IPV4, "0.0.0.0/0")),)


def test_pascal_case_configuration_reads_alike():
    assert security_group_from_configuration(PASCAL) == security_group_from_configuration(CAMEL)


def test_fixture_configurations(fixture_item):
    legacy = security_group_from_configuration(fixture_item("sg-legacy-ipranges.notification")["configuration"])
    assert legacy.ingress == (Permission("tcp", 22, 3389, Source(CIDR_IPV4, "0.0.0.0/0")),)
    mixed = security_group_from_configuration(fixture_item("sg-mixed-sources.notification")["configuration"])
    assert [p.label() for p in mixed.ingress] == [
        "tcp 1000-2000 from 203.0.113.0/24",
        "tcp 1000-2000 from 2600:1f18::/36",
        "tcp 1000-2000 from pl-0123abcd",
        "tcp 1000-2000 from sg-0abc1234def567890",
        "all traffic from sg-0abc1234def567890",
        "protocol icmp from 0.0.0.0/0",
        "udp 53 from 10.0.0.0/8",
    ]


def test_duplicate_sources_count_once_and_keep_the_description():
    entries = [
        {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": ["0.0.0.0/0"],
         "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "ssh"}]},
        {"ipProtocol": "6", "fromPort": 22, "toPort": 22, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]},
    ]
    assert permissions_from_entries(entries, "ipPermissions") == (
        Permission("tcp", 22, 22, Source(CIDR_IPV4, "0.0.0.0/0"), "ssh"),
    )


def test_group_pair_with_only_a_name():
    entries = [{"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "userIdGroupPairs": [{"groupName": "default"}]}]
    assert permissions_from_entries(entries, "ipPermissions")[0].source == Source(SECURITY_GROUP, "default")


def test_empty_permission_lists_and_missing_egress():
    group = security_group_from_configuration({"groupId": "sg-1", "ipPermissions": []})
    assert (group.ingress, group.egress, group.group_name, group.vpc_id) == ((), (), "", None)
    assert permissions_from_entries(None, "ipPermissionsEgress") == ()


@pytest.mark.parametrize("configuration", [{"groupId": "sg-1"}, {"groupId": "sg-1", "ipPermissions": None},
                                           {"GroupId": "sg-1", "IpPermissionsEgress": []}])
def test_configuration_without_ip_permissions_is_malformed_not_without_ingress(configuration):
    with pytest.raises(SecurityGroupError, match="^ipPermissions is missing$"):
        security_group_from_configuration(configuration)


# --- malformed fields ----------------------------------------------------------------------------


def _entry(**fields):
    return {"ipProtocol": "tcp", "fromPort": 80, "toPort": 80, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], **fields}


@pytest.mark.parametrize(
    "configuration, message",
    [
        ({"groupId": "sg-1", "ipPermissions": [_entry(fromPort="x")]}, "fromPort 'x' is not a number"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(toPort=80.5)]}, "toPort 80.5 is not a whole number"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(fromPort=22.5)]}, "fromPort 22.5 is not a whole number"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(fromPort=float("nan"))]}, "fromPort nan is not a whole number"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(toPort=70000.0)]}, "toPort 70000 for tcp is outside 0-65535"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(fromPort=True)]}, "fromPort True is not a number"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(toPort=70000)]}, "toPort 70000 for tcp is outside 0-65535"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(fromPort=-1)]}, "fromPort -1 for tcp is outside 0-65535"),
        (
            {"groupId": "sg-1", "ipPermissions": [_entry(fromPort=2000, toPort=1000)]},
            "ipPermissions: tcp fromPort 2000 is above toPort 1000",
        ),
        (
            {"groupId": "sg-1", "ipPermissions": [], "ipPermissionsEgress": [_entry(ipProtocol="udp", fromPort=9, toPort=8)]},
            "ipPermissionsEgress: udp fromPort 9 is above toPort 8",
        ),
        ({"groupId": "sg-1", "ipPermissions": {"ipProtocol": "tcp"}}, "ipPermissions must be a list, not dict"),
        ({"groupId": "sg-1", "ipPermissions": ["tcp"]}, "ipPermissions entry 'tcp' is not an object"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(ipv4Ranges="0.0.0.0/0")]}, "ipv4Ranges must be a list, not str"),
        (
            {"groupId": "sg-1", "ipPermissions": [_entry(ipv4Ranges=[{"description": "office"}])]},
            "ipv4Ranges entry {'description': 'office'} has no cidrIp",
        ),
        (
            {"groupId": "sg-1", "ipPermissions": [_entry(ipv6Ranges=[{"cidrIpv6": " "}])]},
            "ipv6Ranges entry {'cidrIpv6': ' '} has no cidrIpv6",
        ),
        ({"groupId": "sg-1", "ipPermissions": [_entry(prefixListIds=[7])]}, "prefixListIds entry 7 is not an object"),
        (
            {"groupId": "sg-1", "ipPermissions": [_entry(userIdGroupPairs=[{"userId": "123456789012"}])]},
            "userIdGroupPairs entry {'userId': '123456789012'} has no groupId",
        ),
        ({"groupId": "sg-1", "ipPermissions": [_entry(ipProtocol="tcpx")]}, "ipProtocol 'tcpx' is not a protocol name or number 0-255"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(ipProtocol="256")]}, "ipProtocol '256' is not a protocol name or number 0-255"),
        ({"groupId": "sg-1", "ipPermissions": [_entry(ipProtocol=None)]}, "ipProtocol None is not a protocol"),
        ({"groupName": "no-id"}, "groupId is missing"),
    ],
)
def test_malformed_fields_name_the_field(configuration, message):
    with pytest.raises(SecurityGroupError) as caught:
        security_group_from_configuration(configuration)
    assert str(caught.value) == message


def test_security_group_error_is_a_value_error():
    assert issubclass(SecurityGroupError, ValueError)


@pytest.mark.parametrize("value, port", [("80", 80), (" 80 ", 80), (80, 80), (0, 0), ("65535", 65535)])
def test_port_fields_as_numbers_or_text(value, port):
    (permission,) = permissions_from_entries([_entry(fromPort=value, toPort=value)], "ipPermissions")
    assert permission.ports == PortRange(port, port)


@pytest.mark.parametrize("value, port", [(22.0, 22), (0.0, 0), (65535.0, 65535)])
def test_whole_number_float_ports_from_advanced_query_exports_are_that_port(value, port):
    (permission,) = permissions_from_entries([_entry(fromPort=value, toPort=value)], "ipPermissions")
    assert (permission.from_port, permission.to_port, permission.ports) == (port, port, PortRange(port, port))
    assert type(permission.from_port) is int  # labels say "tcp 22", never "tcp 22.0"


def test_whole_number_float_icmp_type_and_code():
    (permission,) = permissions_from_entries([_entry(ipProtocol="icmp", fromPort=-1.0, toPort=-1.0)], "ipPermissions")
    assert (permission.from_port, permission.to_port) == (-1, -1)


def test_float_ports_from_the_rules_api():
    rule = {"SecurityGroupRuleId": "sgr-1", "IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0, "CidrIpv4": "0.0.0.0/0"}
    assert permission_from_rule(rule).ports == PortRange(22, 22)
    with pytest.raises(SecurityGroupError, match="FromPort 22.5 is not a whole number"):
        permission_from_rule(rule | {"FromPort": 22.5})


def test_icmp_type_and_code_keep_minus_one():
    (permission,) = permissions_from_entries([_entry(ipProtocol="icmp", fromPort=-1, toPort=-1)], "ipPermissions")
    assert (permission.from_port, permission.to_port, permission.ports) == (-1, -1, None)


# --- protocols -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, protocol",
    [
        ("tcp", "tcp"), ("TCP", "tcp"), ("6", "tcp"), (6, "tcp"), ("006", "tcp"),
        ("udp", "udp"), ("17", "udp"), ("icmp", "icmp"), ("1", "icmp"), ("icmpv6", "icmpv6"),
        ("58", "icmpv6"), ("50", "50"), ("-1", ALL_TRAFFIC), (-1, ALL_TRAFFIC), ("all", ALL_TRAFFIC),
        ("0", "0"), ("255", "255"), ("132", "132"), (33, "33"), ("0136", "136"),
    ],
)
def test_normalise_protocol(value, protocol):
    assert normalise_protocol(value) == protocol


@pytest.mark.parametrize("value", ["²", "-2", "", False, 1.0, "sctp"])
def test_normalise_protocol_rejects(value):
    with pytest.raises(SecurityGroupError, match="^ipProtocol "):
        normalise_protocol(value)


# --- DescribeSecurityGroupRules ------------------------------------------------------------------


def _rule(**fields):
    base = {
        "SecurityGroupRuleId": "sgr-0123456789abcdef0",
        "GroupId": "sg-0abc1234",
        "GroupOwnerId": "123456789012",
        "IsEgress": False,
        "IpProtocol": "tcp",
        "FromPort": 1000,
        "ToPort": 2000,
        "CidrIpv4": "0.0.0.0/0",
        "Tags": [],
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def test_permission_from_rule_ipv4():
    assert permission_from_rule(_rule(Description="ci")) == Permission(
        "tcp", 1000, 2000, Source(CIDR_IPV4, "0.0.0.0/0"), "ci", "sgr-0123456789abcdef0"
    )


def test_permission_from_rule_all_traffic_drops_minus_one_ports():
    permission = permission_from_rule(_rule(IpProtocol="-1", FromPort=-1, ToPort=-1))
    assert (permission.protocol, permission.from_port, permission.to_port) == (ALL_TRAFFIC, None, None)
    assert permission.ports == ALL_PORTS
    assert permission.label() == "all traffic from 0.0.0.0/0"


def test_permission_from_rule_referenced_group():
    permission = permission_from_rule(
        _rule(CidrIpv4=None, ReferencedGroupInfo={"GroupId": "sg-0def5678", "UserId": "210987654321"})
    )
    assert permission.source == Source(SECURITY_GROUP, "sg-0def5678")
    assert permission.label() == "tcp 1000-2000 from sg-0def5678"


@pytest.mark.parametrize(
    "fields, source",
    [
        ({"CidrIpv4": None, "CidrIpv6": "::/0"}, Source(CIDR_IPV6, "::/0")),
        ({"CidrIpv4": None, "PrefixListId": "pl-0123abcd"}, Source(PREFIX_LIST, "pl-0123abcd")),
    ],
)
def test_permission_from_rule_other_sources(fields, source):
    assert permission_from_rule(_rule(**fields)).source == source


def test_permission_from_rule_icmp():
    permission = permission_from_rule(_rule(IpProtocol="icmpv6", FromPort=-1, ToPort=-1))
    assert (permission.from_port, permission.to_port, permission.ports) == (-1, -1, None)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"CidrIpv4": None}, "security group rule sgr-0123456789abcdef0 has no source"),
        ({"FromPort": "x"}, "FromPort 'x' is not a number"),
        ({"ToPort": 70000}, "ToPort 70000 for tcp is outside 0-65535"),
        (
            {"FromPort": 2000, "ToPort": 1000},
            "security group rule sgr-0123456789abcdef0: tcp FromPort 2000 is above ToPort 1000",
        ),
        ({"IpProtocol": "bogus"}, "ipProtocol 'bogus' is not a protocol name or number 0-255"),
    ],
)
def test_permission_from_rule_malformed(fields, message):
    with pytest.raises(SecurityGroupError) as caught:
        permission_from_rule(_rule(**fields))
    assert str(caught.value) == message


def test_ingress_from_rules_skips_egress_and_matches_the_configuration_model():
    rules = [
        _rule(SecurityGroupRuleId="sgr-1", CidrIpv4="203.0.113.0/24", Description="partner"),
        _rule(SecurityGroupRuleId="sgr-2", CidrIpv4=None, CidrIpv6="2600:1f18::/36"),
        _rule(SecurityGroupRuleId="sgr-3", CidrIpv4=None, PrefixListId="pl-0123abcd"),
        _rule(SecurityGroupRuleId="sgr-4", CidrIpv4=None, ReferencedGroupInfo={"GroupId": "sg-0def5678"}),
        _rule(SecurityGroupRuleId="sgr-5", IpProtocol="-1", FromPort=-1, ToPort=-1, CidrIpv4="10.0.0.0/8"),
        _rule(SecurityGroupRuleId="sgr-6", IsEgress=True, IpProtocol="-1", FromPort=-1, ToPort=-1),
    ]
    ingress = ingress_from_rules(rules)
    assert [p.rule_id for p in ingress] == ["sgr-1", "sgr-2", "sgr-3", "sgr-4", "sgr-5"]
    # Apart from the rule ids, the rules API gives the same model as the configuration item.
    without_ids = tuple(
        Permission(p.protocol, p.from_port, p.to_port, p.source, p.description) for p in ingress
    )
    assert without_ids == EXPECTED_INGRESS


# --- scopes --------------------------------------------------------------------------------------

SOURCES = {
    "world4": Source(CIDR_IPV4, "0.0.0.0/0"),
    "world6": Source(CIDR_IPV6, "::/0"),
    "public4": Source(CIDR_IPV4, "8.8.8.0/24"),
    "public6": Source(CIDR_IPV6, "2600:1f18::/36"),
    "straddling": Source(CIDR_IPV4, "10.0.0.0/7"),
    "private4": Source(CIDR_IPV4, "10.0.0.0/8"),
    "ula6": Source(CIDR_IPV6, "fd00::/8"),
    "prefix_list": Source(PREFIX_LIST, "pl-0123abcd"),
    "group": Source(SECURITY_GROUP, "sg-0def5678"),
}

IN_SCOPE = {
    "any": set(SOURCES),
    "public": {"world4", "world6", "public4", "public6", "straddling"},
    "world": {"world4", "world6"},
}


@pytest.mark.parametrize("scope", SOURCE_SCOPES)
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_in_scope(scope, name):
    assert in_scope(SOURCES[name], scope) is (name in IN_SCOPE[scope])


def test_scopes_in_default_order():
    assert SOURCE_SCOPES == ("any", "public", "world")


def test_in_scope_malformed_cidr():
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not a valid CIDR"):
        in_scope(Source(CIDR_IPV4, "10.0.0.0/33"), "public")


# --- Permission.ports and label ------------------------------------------------------------------


@pytest.mark.parametrize(
    "permission, ports, label",
    [
        (Permission("tcp", 0, 65535, Source(CIDR_IPV4, "0.0.0.0/0")), ALL_PORTS, "tcp 0-65535 from 0.0.0.0/0"),
        (Permission("udp", 53, 53, Source(CIDR_IPV6, "::/0")), PortRange(53, 53), "udp 53 from ::/0"),
        (Permission("tcp", None, None, Source(CIDR_IPV4, "10.0.0.0/8")), ALL_PORTS, "tcp 0-65535 from 10.0.0.0/8"),
        (Permission("tcp", 1024, None, Source(PREFIX_LIST, "pl-1")), PortRange(1024, 65535), "tcp 1024-65535 from pl-1"),
        (Permission("udp", None, 1023, Source(PREFIX_LIST, "pl-1")), PortRange(0, 1023), "udp 0-1023 from pl-1"),
        (Permission(ALL_TRAFFIC, None, None, Source(SECURITY_GROUP, "sg-0abc")), ALL_PORTS, "all traffic from sg-0abc"),
        (Permission("icmp", -1, -1, Source(CIDR_IPV4, "0.0.0.0/0")), None, "protocol icmp from 0.0.0.0/0"),
        (Permission("icmpv6", 128, 0, Source(CIDR_IPV6, "::/0")), None, "protocol icmpv6 from ::/0"),
        (Permission("50", None, None, Source(CIDR_IPV4, "192.0.2.0/24")), None, "protocol 50 from 192.0.2.0/24"),
        (Permission("47", 0, 65535, Source(CIDR_IPV4, "0.0.0.0/0")), None, "protocol 47 from 0.0.0.0/0"),
        (Permission("132", None, None, Source(CIDR_IPV4, "0.0.0.0/0")), ALL_PORTS, "sctp all ports from 0.0.0.0/0"),
        (Permission("132", 22, 22, Source(CIDR_IPV6, "::/0")), ALL_PORTS, "sctp all ports from ::/0"),
        (Permission("33", 5000, 5001, Source(PREFIX_LIST, "pl-1")), ALL_PORTS, "protocol 33 all ports from pl-1"),
        (Permission("136", -1, -1, Source(SECURITY_GROUP, "sg-0abc")), ALL_PORTS, "protocol 136 all ports from sg-0abc"),
    ],
)
def test_permission_ports_and_label(permission, ports, label):
    assert permission.ports == ports
    assert permission.label() == label
