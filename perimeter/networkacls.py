"""Network ACL model, and exactly which packets each entry decides.

Reads an ``AWS::EC2::NetworkAcl`` configuration (DescribeNetworkAcls in camelCase, or its PascalCase spelling).
Semantics (Amazon VPC User Guide, "Network ACL rules"): entries are evaluated "starting with the lowest numbered
rule. As soon as a rule matches traffic, it's applied regardless of any higher-numbered rule that might
contradict it"; inbound and outbound entries are separate lists; an IPv4 entry (``cidrBlock``) matches IPv4
packets only and an IPv6 entry (``ipv6CidrBlock``) IPv6 packets only; nothing matching means deny (the ``*``
entries, rule numbers 32767 and 32768). A packet (protocol, port, address) matches an entry when the entry's
protocol is ``-1`` or the packet's, its port range holds the port (tcp/udp; an entry without ``portRange`` holds
every port) and its CIDR holds the address.

``decided_ports`` answers "for which of these ports does this entry decide at least one address of this set?"
exactly, with interval arithmetic over ports and addresses (no sampling): the entry decides a packet when it
matches and no earlier entry of its family does. Pure stdlib.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple

from perimeter.cidrs import TrustedSources, address_range, public_ranges
from perimeter.items import field
from perimeter.intervals import intersection, merged, port_list_text, uncovered
from perimeter.ports import ALL_PORTS, MAX_PORT, PortRange
from perimeter.protocols import ALL_TRAFFIC, PORT_RANGE_PROTOCOLS, canonical as canonical_protocol

ALLOW, DENY = "allow", "deny"
PORT_PROTOCOLS = tuple(sorted(PORT_RANGE_PROTOCOLS))  # tcp, udp: the protocols whose entries carry portRange
MAX_RULE_NUMBER = 32766  # CreateNetworkAclEntry: "Constraints: Positive integer from 1 to 32766"
DEFAULT_DENY = {4: 32767, 6: 32768}  # the "*" entries of each family, listed with these numbers
FAMILY_SIZE = {4: 2**32, 6: 2**128}


class NetworkAclError(ValueError):
    """A network ACL configuration cannot be read; the message says which entry and field."""


class AddressRange(NamedTuple):
    """Inclusive integer interval of addresses of one family (perimeter.ports' interval arithmetic applies)."""

    first: int
    last: int


class AclEntry(NamedTuple):
    rule_number: int
    protocol: str  # "-1", "tcp", "udp", "icmp", "icmpv6" or another protocol number as text
    action: str  # ALLOW or DENY
    egress: bool
    cidr: str
    version: int  # 4 or 6
    addresses: AddressRange
    ports: PortRange | None  # tcp/udp only: the port range (every port without portRange)

    def reach(self, protocol: str) -> PortRange | None:
        """The ports of ``protocol`` (tcp/udp) this entry matches, or None when it does not match the protocol."""
        if self.protocol == ALL_TRAFFIC:
            return ALL_PORTS
        return self.ports if self.protocol == protocol else None

    def label(self) -> str:
        """``rule 100 allow tcp 22 from 0.0.0.0/0``."""
        if self.protocol == ALL_TRAFFIC:
            what = "all traffic"
        elif self.ports is not None:
            what = f"{self.protocol} {self.ports}"
        else:
            what = f"protocol {self.protocol}"
        return f"rule {self.rule_number} {self.action} {what} {'to' if self.egress else 'from'} {self.cidr}"


@dataclass(frozen=True)
class NetworkAcl:
    acl_id: str
    vpc_id: str | None
    is_default: bool
    ingress: tuple[AclEntry, ...]  # ascending rule number
    egress: tuple[AclEntry, ...]
    subnet_ids: tuple[str, ...]


def _rule_number(value: Any) -> int:
    if type(value) is float and value.is_integer():  # advanced-query exports write numbers as floats
        value = int(value)
    if type(value) is str and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if type(value) is not int or not 1 <= value <= DEFAULT_DENY[6]:
        raise NetworkAclError(f"ruleNumber {value!r} is not a rule number 1-{DEFAULT_DENY[6]}")
    return value


def _port(value: Any, name: str, where: str) -> int:
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is str and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if type(value) is not int or not 0 <= value <= MAX_PORT:
        raise NetworkAclError(f"{where}: portRange.{name} {value!r} is not a port 0-{MAX_PORT}")
    return value


def _port_range(entry: dict, protocol: str, where: str) -> PortRange | None:
    if protocol not in PORT_PROTOCOLS:
        return None  # all traffic, ICMP (type/code) and other protocols: no ports to read
    port_range = field(entry, "portRange")
    if port_range is None:
        return ALL_PORTS
    if not isinstance(port_range, dict):
        raise NetworkAclError(f"{where}: portRange must be an object, not {type(port_range).__name__}")
    first, last = field(port_range, "from"), field(port_range, "to")
    if first is None and last is None:
        return ALL_PORTS
    first = ALL_PORTS.first if first is None else _port(first, "from", where)
    last = ALL_PORTS.last if last is None else _port(last, "to", where)
    if first > last:
        raise NetworkAclError(f"{where}: portRange from {first} is above to {last}")
    return PortRange(first, last)


def _boolean(value: Any, name: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise NetworkAclError(f"{where}: {name} {value!r} is not true or false")


def entry_from_configuration(entry: Any) -> AclEntry:
    """One ``entries`` element."""
    if not isinstance(entry, dict):
        raise NetworkAclError(f"entries element {entry!r} is not an object")
    number = _rule_number(field(entry, "ruleNumber"))
    where = f"entry {number}"
    try:
        protocol = canonical_protocol(field(entry, "protocol"))
    except ValueError:
        raise NetworkAclError(f"{where}: protocol {field(entry, 'protocol')!r} is not -1 or a protocol number "
                              "0-255") from None
    action = field(entry, "ruleAction")
    if not isinstance(action, str) or action.strip().lower() not in (ALLOW, DENY):
        raise NetworkAclError(f"{where}: ruleAction {action!r} is not allow or deny")
    egress = _boolean(field(entry, "egress"), "egress", where)
    ipv4, ipv6 = field(entry, "cidrBlock"), field(entry, "ipv6CidrBlock")
    given = [value for value in (ipv4, ipv6) if value not in (None, "")]
    if len(given) != 1 or not isinstance(given[0], str):
        raise NetworkAclError(f"{where}: needs exactly one of cidrBlock and ipv6CidrBlock as text, has "
                              f"{ipv4!r} and {ipv6!r}")
    try:
        version, first, last = address_range(given[0])
    except ValueError as error:
        raise NetworkAclError(f"{where}: {error}") from None
    if (version == 4) != (ipv4 not in (None, "")):
        raise NetworkAclError(f"{where}: {given[0]!r} is not an IPv{4 if ipv4 else 6} CIDR")
    return AclEntry(number, protocol, action.strip().lower(), egress, given[0].strip(), version,
                    AddressRange(first, last), _port_range(entry, protocol, where))


def network_acl_from_configuration(configuration: dict) -> NetworkAcl:
    acl_id = field(configuration, "networkAclId")
    if not isinstance(acl_id, str) or not acl_id:
        raise NetworkAclError("networkAclId is missing")
    raw_entries = field(configuration, "entries")
    if raw_entries is None:
        raw_entries = []
    if not isinstance(raw_entries, list):
        raise NetworkAclError(f"entries must be a list, not {type(raw_entries).__name__}")
    entries = [entry_from_configuration(entry) for entry in raw_entries]
    for egress in (False, True):
        numbers = [entry.rule_number for entry in entries if entry.egress is egress]
        repeated = sorted({number for number in numbers if numbers.count(number) > 1})
        if repeated:
            raise NetworkAclError(f"{'outbound' if egress else 'inbound'} rule number {repeated[0]} appears twice")
    associations = field(configuration, "associations")
    if associations is None:
        associations = []
    if not isinstance(associations, list):
        raise NetworkAclError(f"associations must be a list, not {type(associations).__name__}")
    subnets = []
    for association in associations:
        subnet = field(association, "subnetId") if isinstance(association, dict) else None
        if not isinstance(subnet, str) or not subnet:
            raise NetworkAclError(f"associations element {association!r} has no subnetId")
        subnets.append(subnet)
    is_default = field(configuration, "isDefault")
    return NetworkAcl(
        acl_id=acl_id,
        vpc_id=field(configuration, "vpcId"),
        is_default=False if is_default is None else _boolean(is_default, "isDefault", acl_id),
        ingress=tuple(sorted((e for e in entries if not e.egress), key=lambda e: e.rule_number)),
        egress=tuple(sorted((e for e in entries if e.egress), key=lambda e: e.rule_number)),
        subnet_ids=tuple(subnets),
    )


# --- which packets an entry decides ------------------------------------------------------------------------------


def all_addresses(version: int) -> tuple[AddressRange, ...]:
    return (AddressRange(0, FAMILY_SIZE[version] - 1),)


def public_addresses(version: int) -> tuple[AddressRange, ...]:
    """Globally routable addresses (perimeter.cidrs.is_public's complement of the special-purpose blocks)."""
    return tuple(AddressRange(first, last) for first, last in public_ranges(version))


def decided_ports(entries: tuple[AclEntry, ...], index: int, protocol: str, ports: Iterable[PortRange],
                  addresses: Iterable[AddressRange]) -> tuple[PortRange, ...]:
    """The ports among ``ports`` of ``protocol`` (tcp/udp) for which ``entries[index]`` decides at least one
    address among ``addresses`` (of its family); ``entries`` in evaluation order, one direction.

    The ports are cut where any earlier entry's port range starts or ends, so within one piece every earlier
    entry matches all of it or none; a piece is decided when the entry's addresses (within ``addresses``) are not
    wholly covered by the CIDRs of the earlier entries of its family that match the piece.
    """
    entry = entries[index]
    reach = entry.reach(protocol)
    if reach is None:
        return ()
    wanted = intersection(reach, ports)
    targets = intersection(entry.addresses, addresses)
    if not wanted or not targets:
        return ()
    earlier = [(other.reach(protocol), other.addresses) for other in entries[:index]
               if other.version == entry.version and other.reach(protocol) is not None]
    cuts = sorted({bound for port_range, _ in earlier for bound in (port_range.first, port_range.last + 1)})
    decided = []
    for piece in wanted:
        starts = [piece.first] + [cut for cut in cuts if piece.first < cut <= piece.last]
        for first, following in zip(starts, starts[1:] + [piece.last + 1]):
            covering = [addresses for port_range, addresses in earlier if port_range.first <= first <= port_range.last]
            if any(uncovered(target, covering) for target in targets):
                decided.append(PortRange(first, following - 1))
    return merged(decided)


def packet_action(entries: Iterable[AclEntry], protocol: str, port: int | None, version: int, address: int) -> str:
    """What entries of one direction, in evaluation order, do with one packet: the first match's action, DENY when
    none matches. ``protocol`` as perimeter.protocols spells it; ``port`` only for tcp/udp."""
    for entry in entries:
        if entry.version != version or not entry.addresses.first <= address <= entry.addresses.last:
            continue
        if entry.protocol == ALL_TRAFFIC or (entry.protocol == protocol and (
                entry.ports is None or entry.ports.first <= port <= entry.ports.last)):
            return entry.action
    return DENY


class Finding(NamedTuple):
    """An allow entry that decides restricted ports of ``protocol`` for at least one in-scope address."""

    entry: AclEntry
    protocol: str
    ports: tuple[PortRange, ...]

    def label(self) -> str:
        """``tcp 22, 3389 from 0.0.0.0/0 (rule 100)``."""
        return f"{self.protocol} {port_list_text(self.ports)} from {self.entry.cidr} (rule {self.entry.rule_number})"


SCOPES = ("world", "public")


def trusted_addresses(trusted: TrustedSources, version: int) -> tuple[AddressRange, ...]:
    """The trusted CIDRs of one family as merged address ranges. Prefix lists and security groups in the list
    name no addresses a network ACL entry could hold: they never match an entry."""
    return merged(AddressRange(int(network.network_address), int(network.broadcast_address))
                  for network in trusted.networks if network.version == version)


def untrusted(addresses: Iterable[AddressRange], trusted: TrustedSources, version: int) -> tuple[AddressRange, ...]:
    """``addresses`` of one family without the trusted CIDRs'."""
    cover = trusted_addresses(trusted, version)
    return tuple(part for span in addresses for part in uncovered(span, cover))


def allowed_restricted(entries: tuple[AclEntry, ...], restricted: dict[str, tuple[PortRange, ...]],
                       scope: str, trusted: TrustedSources = TrustedSources()) -> list[Finding]:
    """Every allow entry deciding a restricted (protocol, port) for an in-scope address, in evaluation order.

    ``world``: only entries whose CIDR is a /0, for any address; ``public``: any entry, for globally routable
    addresses (the union of these findings is exactly what the ACL lets in from public addresses). An address
    inside a ``trusted`` CIDR is never in scope: an entry counts only for what it decides for the others.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    findings = []
    for index, entry in enumerate(entries):
        if entry.action != ALLOW:
            continue
        if scope == "world":
            if entry.addresses != all_addresses(entry.version)[0]:
                continue
            addresses = all_addresses(entry.version)
        else:
            addresses = public_addresses(entry.version)
        addresses = untrusted(addresses, trusted, entry.version)
        if not addresses:
            continue
        for protocol in PORT_PROTOCOLS:
            ports = decided_ports(entries, index, protocol, restricted.get(protocol, ()), addresses)
            if ports:
                findings.append(Finding(entry, protocol, ports))
    return findings
