"""Security-group model: the entries AWS lists (a protocol and port range with its sources), and one Permission per
(protocol, port range, source) made from them where a caller keeps one.

Reads the configuration item's camelCase spelling, the EC2 API's PascalCase spelling
(DescribeSecurityGroups) and the flat rules of DescribeSecurityGroupRules, so the rule, the live scan
and the remediation runbook all judge the same model. Pure stdlib.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
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


class Entry(NamedTuple):
    """One entry of ``ipPermissions`` as AWS lists it: a protocol and port range, and its sources, each once.

    The rules judge an entry's ports once and its sources only where the ports offend; a Permission is made only for
    what a caller keeps (``permission``): per source, that is most of what building the model used to cost.
    """

    protocol: str
    from_port: int | None
    to_port: int | None
    ports: PortRange | None  # as Permission.ports
    sources: tuple[Source, ...]
    origins: tuple  # per source: the Permission it came from (rules API), or the list element read (description)

    def permission(self, index: int) -> Permission:
        origin = self[5][index]
        if type(origin) is Permission:
            return origin
        description = (field(origin, "description") or "") if type(origin) is not str else ""
        return _new(Permission, (self[0], self[1], self[2], self[4][index], description, None))

    def permissions(self) -> tuple[Permission, ...]:
        return tuple(self.permission(index) for index in range(len(self[4])))


def _entry_ports(protocol: str, from_port: int | None, to_port: int | None) -> PortRange | None:
    if protocol in PORT_RANGE_PROTOCOLS:
        return _new(PortRange, (_FIRST_PORT if from_port is None else from_port,
                                _LAST_PORT if to_port is None else to_port))
    if protocol == ALL_TRAFFIC or protocol in ALL_PORTS_PROTOCOLS:
        return ALL_PORTS
    return None


def entries_of_permissions(permissions: Iterable[Permission]) -> tuple[Entry, ...]:
    """One Entry per Permission (the rules API lists each source as a rule of its own), keeping the Permission."""
    return tuple(_new(Entry, (permission[0], permission[1], permission[2], permission.ports, (permission[3],),
                              (permission,))) for permission in permissions)


def rule_count(entries: Iterable[Entry]) -> int:
    """How many (protocol, port range, source) rules the entries hold: as many Permissions as they make."""
    return sum(len(entry[4]) for entry in entries)


class SecurityGroup:
    """A group and its rules: ``ingress_entries``/``egress_entries`` as AWS lists them (what the rules judge), and
    ``ingress``/``egress``, one Permission per source, made when first asked for."""

    __slots__ = ("group_id", "group_name", "vpc_id", "ingress_entries", "egress_entries", "_ingress", "_egress")

    def __init__(self, group_id: str, group_name: str, vpc_id: str | None, ingress: Iterable[Permission] = (),
                 egress: Iterable[Permission] = (), *, ingress_entries: tuple[Entry, ...] | None = None,
                 egress_entries: tuple[Entry, ...] | None = None):
        self.group_id, self.group_name, self.vpc_id = group_id, group_name, vpc_id
        self._ingress = None if ingress_entries is not None else tuple(ingress)
        self._egress = None if egress_entries is not None else tuple(egress)
        self.ingress_entries = ingress_entries if ingress_entries is not None else entries_of_permissions(self._ingress)
        self.egress_entries = egress_entries if egress_entries is not None else entries_of_permissions(self._egress)

    @property
    def ingress(self) -> tuple[Permission, ...]:
        if self._ingress is None:
            self._ingress = tuple(permission for entry in self.ingress_entries for permission in entry.permissions())
        return self._ingress

    @property
    def egress(self) -> tuple[Permission, ...]:
        if self._egress is None:
            self._egress = tuple(permission for entry in self.egress_entries for permission in entry.permissions())
        return self._egress

    def _key(self) -> tuple:
        return self.group_id, self.group_name, self.vpc_id, self.ingress, self.egress

    def __eq__(self, other: object) -> bool:
        return type(other) is SecurityGroup and self._key() == other._key()

    __hash__ = None

    def __repr__(self) -> str:
        return (f"SecurityGroup(group_id={self.group_id!r}, group_name={self.group_name!r}, vpc_id={self.vpc_id!r}, "
                f"ingress={self.ingress!r}, egress={self.egress!r})")


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


_ABSENT = object()
_heads: dict = {}  # (ipProtocol, fromPort, toPort) as written -> what _read_head makes of them


def _entry_head(entry: dict, direction: str) -> tuple:
    """(protocol, from_port, to_port, ports) of an entry. A group repeats a few protocol and port spellings that
    every other group repeats too: read once each, when all three are text, whole numbers or null (a bool or a
    float equals a number as a key, and reads otherwise, so those are read each time)."""
    protocol = entry["ipProtocol"] if "ipProtocol" in entry else entry.get("IpProtocol")
    from_port = entry["fromPort"] if "fromPort" in entry else entry.get("FromPort")
    to_port = entry["toPort"] if "toPort" in entry else entry.get("ToPort")
    if type(protocol) is not str or type(from_port) not in _PLAIN_PORTS or type(to_port) not in _PLAIN_PORTS:
        return _read_head(protocol, from_port, to_port, direction)
    key = (protocol, from_port, to_port)
    head = _heads.get(key)
    if head is None:
        head = _read_head(protocol, from_port, to_port, direction)
        if len(_heads) >= MEMO_LIMIT:
            _heads.clear()
        _heads[key] = head
    return head


_PLAIN_PORTS = frozenset({int, type(None)})


def _read_head(protocol: Any, from_port: Any, to_port: Any, direction: str) -> tuple:
    protocol = normalise_protocol(protocol)
    from_port = _port(from_port, "fromPort", protocol)
    to_port = _port(to_port, "toPort", protocol)
    if protocol in PORT_RANGE_PROTOCOLS and None not in (from_port, to_port) and from_port > to_port:
        raise SecurityGroupError(f"{direction}: {protocol} fromPort {from_port} is above toPort {to_port}")
    return protocol, from_port, to_port, _entry_ports(protocol, from_port, to_port)


def permissions_from_entries(entries: Any, direction: str) -> tuple[Permission, ...]:
    """``ipPermissions``-style entries as one Permission per source, without duplicates (``entries_from_list``)."""
    return tuple(permission for entry in entries_from_list(entries, direction) for permission in entry.permissions())


def entries_from_list(entries: Any, direction: str) -> tuple[Entry, ...]:
    """Read ``ipPermissions``-style entries, each source once.

    The legacy ``ipRanges`` list repeats ``ipv4Ranges`` in most items; a source seen twice for the same protocol and
    ports counts once, also across two entries of the same protocol and ports (which AWS does not list, but a file
    may), where the later entry keeps only the sources new to it.
    """
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise SecurityGroupError(f"{direction} must be a list, not {type(entries).__name__}")
    read: list[Entry] = []
    seen_by_ports: dict[tuple, set] = {}
    for entry in entries:
        if type(entry) is not dict and not isinstance(entry, dict):
            raise SecurityGroupError(f"{direction} entry {entry!r} is not an object")
        protocol, from_port, to_port, ports = _entry_head(entry, direction)
        port_key = (protocol, from_port, to_port)
        seen = seen_by_ports.get(port_key)
        if seen is None:
            seen = seen_by_ports[port_key] = set()
        sources: list[Source] = []
        origins: list = []
        ipv4_values: list = []  # the raw cidrIp of each ipv4Ranges object, to know the legacy ipRanges list at once
        for kind, list_name, pascal_name, value_name in _SOURCE_LISTS:  # each non-empty source list, in AWS's order
            elements = entry.get(list_name, _ABSENT)
            if elements is _ABSENT:
                elements = entry.get(pascal_name)
            if not elements and (elements is None or elements == []):
                continue
            if type(elements) is not list:
                elements = _list(entry, list_name)  # raises for what is not a list
            if list_name == "ipRanges" and elements == ipv4_values:
                continue  # the legacy list repeating ipv4Ranges, whose every value is already read (and valid)
            for element in elements:
                # The common shapes inline (a legacy string; an object holding its value under the camelCase
                # key); anything else goes through _source_value, which also says what is wrong.
                if type(element) is str and (value := element.strip()):
                    pass
                elif type(element) is dict and type(raw := element.get(value_name)) is str and (value := raw.strip()):
                    if list_name == "ipv4Ranges":
                        ipv4_values.append(raw)
                else:
                    value = _source_value(element, kind, list_name, value_name)[0]
                    ipv4_values.append(_ABSENT)  # equal to no text: the legacy list is then read in full
                source = _new(Source, (kind, value))
                if source not in seen:
                    seen.add(source)
                    sources.append(source)
                    origins.append(element)
        read.append(_new(Entry, (protocol, from_port, to_port, ports, tuple(sources), tuple(origins))))
    return tuple(read)


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
    return shared("security group", configuration, lambda configuration: SecurityGroup(
        group.group_id, group.group_name, group.vpc_id, ingress_entries=group.ingress_entries,
        egress_entries=entries_from_list(field(configuration, "ipPermissionsEgress"), "ipPermissionsEgress")))


def _ingress_group(configuration: dict) -> SecurityGroup:
    group_id = field(configuration, "groupId")
    if not isinstance(group_id, str) or not group_id:
        raise SecurityGroupError("groupId is missing")
    ingress = field(configuration, "ipPermissions")
    if ingress is None:
        raise SecurityGroupError("ipPermissions is missing")
    return SecurityGroup(group_id, field(configuration, "groupName") or "", field(configuration, "vpcId"),
                         ingress_entries=entries_from_list(ingress, "ipPermissions"), egress_entries=())


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


MEMO_LIMIT = 4096  # answers a Judgements keeps of each kind before it forgets them all: memory stays flat


class Judgements:
    """What one rule's parameter set decides, remembered: whether a source is judged (sourceScope, trustedSources)
    and the rule's own verdict on a protocol and port range (``ports``, the rule's function of ``(protocol, ports)``).

    Both are pure functions of the parameters, and a scan meets the same sources and ports in group after group, so
    each is worked out once; a rule's Parameters holds one (outside its equality). Bounded by MEMO_LIMIT.
    """

    __slots__ = ("scope", "trusted", "_sources", "_ports")

    def __init__(self, scope: str, trusted):
        self.scope, self.trusted = scope, trusted
        self._sources: dict = {}
        self._ports: dict = {}

    def source(self, source: Source) -> bool:
        known = self._sources.get(source)
        if known is None:
            if len(self._sources) >= MEMO_LIMIT:
                self._sources.clear()
            known = self._sources[source] = judged(source, self.scope, self.trusted)
        return known

    def ports(self, entry: "Entry | Permission", judge) -> Any:
        """``judge(entry)``, remembered per (protocol, ports); ``judge`` is the rule's, the same on every call."""
        key = (entry[0], entry.ports)
        try:
            return self._ports[key]
        except KeyError:
            if len(self._ports) >= MEMO_LIMIT:
                self._ports.clear()
            value = self._ports[key] = judge(entry)
            return value


@dataclass(frozen=True)
class JudgingSources:
    """Base of the Parameters of a rule judging sources (``source_scope``, ``trusted``): their Judgements, made once
    per parameter set, outside its equality and repr."""

    judgements: Judgements = dataclass_field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "judgements", Judgements(self.source_scope, self.trusted))


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


def is_self(source: Source, group_id: str) -> bool:
    """The source is the group itself (the default group's "all traffic from itself")."""
    return source[0] == SECURITY_GROUP and source[1] == group_id
