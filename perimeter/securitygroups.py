"""Security-group model: one Permission per (protocol, port range, source).

Reads the configuration item's camelCase spelling, the EC2 API's PascalCase spelling
(DescribeSecurityGroups) and the flat rules of DescribeSecurityGroupRules, so the rule, the live scan
and the remediation runbook all judge the same model. Pure stdlib.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, NamedTuple

from perimeter.cidrs import is_public, is_world
from perimeter.items import field, shared
from perimeter.ports import ALL_PORTS, MAX_PORT, PortRange
from perimeter.protocols import ALL_PORTS_PROTOCOLS, ALL_TRAFFIC, PORT_RANGE_PROTOCOLS, canonical, display_name

# Source kinds, spelled as DescribeSecurityGroupRules / AuthorizeSecurityGroupIngress spell them.
CIDR_IPV4 = "CidrIpv4"
CIDR_IPV6 = "CidrIpv6"
PREFIX_LIST = "PrefixListId"
SECURITY_GROUP = "ReferencedGroupId"


_new = tuple.__new__  # a NamedTuple built without its generated __new__: the same tuple, a third of the cost
_FIRST_PORT, _LAST_PORT = ALL_PORTS


class SecurityGroupError(ValueError):
    """A security-group configuration cannot be read; the message says which field."""


# NamedTuples rather than frozen dataclasses: as immutable and hashable, and several times cheaper to build,
# which is most of a snapshot scan's time (one Permission per rule and source, ~20 per group).
class Source(NamedTuple):
    kind: str
    value: str


class Permission(NamedTuple):
    """One ingress or egress permission for exactly one source."""

    protocol: str  # "tcp", "udp", "icmp", "icmpv6", "-1" or another protocol number as text (perimeter.protocols)
    from_port: int | None
    to_port: int | None
    source: Source
    description: str = ""
    rule_id: str | None = None  # SecurityGroupRuleId, known only from the rules API

    @property
    def ports(self) -> PortRange | None:
        """The ports this permission opens; None where the protocol carries no ports (ICMP, GRE, ESP, ...).

        All traffic (-1) opens every port of every protocol, and so does a port-carrying protocol other
        than tcp/udp (SCTP, DCCP, UDP-Lite), whatever its fields say (see perimeter.protocols). A tcp/udp
        permission with a missing bound opens the whole range.
        """
        protocol = self[0]
        if protocol in PORT_RANGE_PROTOCOLS:  # the common case first; the three sets are disjoint
            first, last = self[1], self[2]
            return _new(PortRange, (_FIRST_PORT if first is None else first, _LAST_PORT if last is None else last))
        if protocol == ALL_TRAFFIC or protocol in ALL_PORTS_PROTOCOLS:
            return ALL_PORTS
        return None

    def label(self) -> str:
        """``tcp 0-65535 from 0.0.0.0/0`` / ``all traffic from sg-0abc`` / ``sctp all ports from ::/0``."""
        if self.protocol == ALL_TRAFFIC:
            what = "all traffic"
        elif self.protocol in ALL_PORTS_PROTOCOLS:
            what = f"{display_name(self.protocol)} all ports"
        elif self.ports is not None:
            what = f"{self.protocol} {self.ports}"
        else:
            what = f"protocol {self.protocol}"
        return f"{what} from {self.source.value}"


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    group_name: str
    vpc_id: str | None
    ingress: tuple[Permission, ...]
    egress: tuple[Permission, ...]


def normalise_protocol(value: Any) -> str:
    try:
        return canonical(value)
    except ValueError as error:
        raise SecurityGroupError(str(error)) from None


def _port(value: Any, name: str, protocol: str) -> int | None:
    if value is None:
        return None
    if type(value) is float:  # Config's advanced-query exports (SelectResourceConfig) write 22 as 22.0
        if not value.is_integer():
            raise SecurityGroupError(f"{name} {value!r} is not a whole number")
        value = int(value)
    if type(value) is int and (protocol not in PORT_RANGE_PROTOCOLS or 0 <= value <= MAX_PORT):
        return value  # the common case, without the text round trip below (bool is not int here)
    text = str(value).strip()
    # One optional minus, then ASCII digits: "²".isdigit() is True and "--5" would pass a lstrip; int() refuses both.
    numeric = text.isascii() and text.removeprefix("-").isdigit()
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not numeric:
        raise SecurityGroupError(f"{name} {value!r} is not a number")
    number = int(text)
    if protocol not in PORT_RANGE_PROTOCOLS:
        return number  # ICMP type/code or ignored: -1 is a legitimate "all"
    if not 0 <= number <= MAX_PORT:
        raise SecurityGroupError(f"{name} {number} for {protocol} is outside 0-{MAX_PORT}")
    return number


def _list(entry: dict, camel: str) -> list:
    value = field(entry, camel)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SecurityGroupError(f"{camel} must be a list, not {type(value).__name__}")
    return value


# (kind, camelCase list, its PascalCase twin, value key) in the order AWS lists sources.
_SOURCE_LISTS = (
    (CIDR_IPV4, "ipv4Ranges", "Ipv4Ranges", "cidrIp"),
    (CIDR_IPV4, "ipRanges", "IpRanges", "cidrIp"),  # legacy strings in items; dicts in the EC2 API
    (CIDR_IPV6, "ipv6Ranges", "Ipv6Ranges", "cidrIpv6"),
    (PREFIX_LIST, "prefixListIds", "PrefixListIds", "prefixListId"),
    (SECURITY_GROUP, "userIdGroupPairs", "UserIdGroupPairs", "groupId"),
)


def _source_value(element: Any, kind: str, list_name: str, value_name: str) -> tuple[str, str]:
    """(value, description) of one element of a source list: a legacy string or an object."""
    if type(element) is str:
        value = element.strip()
        if not value:  # as an object entry without its CIDR is
            raise SecurityGroupError(f"{list_name} entry {element!r} is empty")
        return value, ""
    if not isinstance(element, dict):
        raise SecurityGroupError(f"{list_name} entry {element!r} is not an object")
    value = field(element, value_name)
    if value is None and kind == SECURITY_GROUP:
        value = field(element, "groupName")  # default-VPC references may carry only a name
    if not isinstance(value, str) or not value.strip():
        raise SecurityGroupError(f"{list_name} entry {element!r} has no {value_name}")
    return value.strip(), field(element, "description") or ""


def permissions_from_entries(entries: Any, direction: str) -> tuple[Permission, ...]:
    """Split ``ipPermissions``-style entries into one Permission per source, without duplicates.

    The legacy ``ipRanges`` list repeats ``ipv4Ranges`` in most items; a source seen twice counts once.
    """
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise SecurityGroupError(f"{direction} must be a list, not {type(entries).__name__}")
    permissions: dict[tuple, Permission] = {}
    for entry in entries:
        if type(entry) is not dict and not isinstance(entry, dict):
            raise SecurityGroupError(f"{direction} entry {entry!r} is not an object")
        protocol = normalise_protocol(entry["ipProtocol"] if "ipProtocol" in entry else entry.get("IpProtocol"))
        from_port = _port(entry["fromPort"] if "fromPort" in entry else entry.get("FromPort"), "fromPort", protocol)
        to_port = _port(entry["toPort"] if "toPort" in entry else entry.get("ToPort"), "toPort", protocol)
        if protocol in PORT_RANGE_PROTOCOLS and None not in (from_port, to_port) and from_port > to_port:
            raise SecurityGroupError(f"{direction}: {protocol} fromPort {from_port} is above toPort {to_port}")
        for kind, list_name, pascal_name, value_name in _SOURCE_LISTS:  # each non-empty source list, in AWS's order
            elements = entry[list_name] if list_name in entry else entry.get(pascal_name)
            if elements is None or elements == []:
                continue
            if type(elements) is not list:
                elements = _list(entry, list_name)  # raises for what is not a list
            for element in elements:
                # The common shapes inline (a legacy string; an object holding its value under the camelCase
                # key); anything else goes through _source_value, which also says what is wrong.
                if type(element) is str and (value := element.strip()):
                    description = ""
                elif type(element) is dict and type(value := element.get(value_name)) is str \
                        and (value := value.strip()):
                    description = element["description"] if "description" in element else element.get("Description")
                    description = description or ""
                else:
                    value, description = _source_value(element, kind, list_name, value_name)
                key = (protocol, from_port, to_port, kind, value)
                if key not in permissions:
                    permissions[key] = _new(Permission, (protocol, from_port, to_port, _new(Source, (kind, value)),
                                                         description, None))
    return tuple(permissions.values())




def security_group_from_configuration(configuration: dict, *, egress: bool = True) -> SecurityGroup:
    """From an item's ``configuration`` or one DescribeSecurityGroups entry.

    ``egress=False`` leaves the outbound permissions unread (an empty tuple), for callers that judge ingress only.
    Config records ``ipPermissions`` for every group, as an empty list when it has no inbound rule; a
    configuration without it is malformed, not a group without ingress. Read once for all the rules that judge
    one item in a scan (perimeter.items.shared).
    """
    group = shared("security group, ingress", configuration, _ingress_group)
    if not egress:
        return group
    return shared("security group", configuration, lambda configuration: replace(
        group, egress=permissions_from_entries(field(configuration, "ipPermissionsEgress"), "ipPermissionsEgress")))


def _ingress_group(configuration: dict) -> SecurityGroup:
    group_id = field(configuration, "groupId")
    if not isinstance(group_id, str) or not group_id:
        raise SecurityGroupError("groupId is missing")
    ingress = field(configuration, "ipPermissions")
    if ingress is None:
        raise SecurityGroupError("ipPermissions is missing")
    return SecurityGroup(
        group_id=group_id,
        group_name=field(configuration, "groupName") or "",
        vpc_id=field(configuration, "vpcId"),
        ingress=permissions_from_entries(ingress, "ipPermissions"),
        egress=(),
    )


def permission_from_rule(rule: dict) -> Permission:
    """One DescribeSecurityGroupRules entry, which already holds exactly one source."""
    protocol = normalise_protocol(rule.get("IpProtocol"))
    referenced = rule.get("ReferencedGroupInfo") or {}
    for kind, value in (
        (CIDR_IPV4, rule.get("CidrIpv4")),
        (CIDR_IPV6, rule.get("CidrIpv6")),
        (PREFIX_LIST, rule.get("PrefixListId")),
        (SECURITY_GROUP, referenced.get("GroupId")),
    ):
        if value:
            break
    else:
        raise SecurityGroupError(f"security group rule {rule.get('SecurityGroupRuleId')} has no source")
    # The rules API reports -1/-1 for all-traffic; those are not ports, and the model keeps none.
    has_fields = protocol != ALL_TRAFFIC
    from_port = _port(rule.get("FromPort"), "FromPort", protocol) if has_fields else None
    to_port = _port(rule.get("ToPort"), "ToPort", protocol) if has_fields else None
    if protocol in PORT_RANGE_PROTOCOLS and None not in (from_port, to_port) and from_port > to_port:
        rule_id = rule.get("SecurityGroupRuleId")
        raise SecurityGroupError(
            f"security group rule {rule_id}: {protocol} FromPort {from_port} is above ToPort {to_port}"
        )
    return Permission(
        protocol=protocol,
        from_port=from_port,
        to_port=to_port,
        source=Source(kind, value),
        description=rule.get("Description") or "",
        rule_id=rule.get("SecurityGroupRuleId"),
    )


SOURCE_SCOPES = ("any", "public", "world")


# The trustedSources parameter, declared once for every rule that judges security-group sources (each rule's
# declaration.py uses this dict) and parsed by perimeter.cidrs.parse_trusted_sources.
TRUSTED_SOURCES_PARAMETER = {
    "type": "list",
    "default": "",
    "description": "CIDRs, pl- and sg- ids never judged nor revoked; a CIDR inside a listed one is trusted.",
}


def source_scope_parameter(default: str) -> dict:
    """The sourceScope parameter of a rule that judges security-group sources (SOURCE_SCOPES), declared once."""
    return {
        "type": "choice",
        "values": list(SOURCE_SCOPES),
        "default": default,
        "description": "any (every source, prefix lists and groups included), public (only CIDRs holding a globally "
                       "routable address), world (only 0.0.0.0/0 and ::/0).",
    }


def judged(source: Source, scope: str, trusted) -> bool:
    """Does this source count: in the scope, and not trusted (``trusted``: a perimeter.cidrs.TrustedSources)?"""
    if scope != "any" and not in_scope(source, scope):  # "any" inline: every rule judges every source so
        return False
    return not trusted.covers(source[1])


def in_scope(source: Source, scope: str) -> bool:
    """Does this source count under the scope? ``public`` and ``world`` only ever count CIDRs."""
    if scope == "any":
        return True
    if source.kind not in (CIDR_IPV4, CIDR_IPV6):
        return False
    return is_world(source.value) if scope == "world" else is_public(source.value)


def ingress_from_rules(rules: Iterable[dict]) -> tuple[Permission, ...]:
    return tuple(permission_from_rule(rule) for rule in rules if not rule.get("IsEgress"))


# --- shared by the security-group rules ---------------------------------------------------------------------------

# How annotations name each sourceScope: "No restricted port open to the world".
SCOPE_WORDS = {"any": "any source", "public": "public sources", "world": "the world"}


def is_self_reference(permission: Permission, group_id: str) -> bool:
    """The source is the group itself (the default group's "all traffic from itself")."""
    return permission.source.kind == SECURITY_GROUP and permission.source.value == group_id
