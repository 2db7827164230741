"""Planning the nacl-ingress-admin-ports-restricted remediation: which inbound entries to insert, at which numbers.

For each offending allow entry (a perimeter.networkacls.Finding: the restricted ports of one protocol it decides
for an in-scope, untrusted address) the plan inserts, for each of those port ranges, a ``deny`` for exactly that
protocol, ports and the entry's CIDR, numbered below the allow entry, so the first match is the deny. Where a
trusted CIDR lies inside the entry's CIDR, an ``allow`` for exactly that part and those ports goes ahead of the deny
(a lower number: "rules are evaluated starting with the lowest numbered rule", Amazon VPC User Guide, "Network ACL
rules"), for the ports the entry decides for it, so trusted addresses keep what they had.

Where: an inserted entry is placed after every earlier inbound entry of its family that matches some packet it
matches, and before the allow entry. Then the packets it matches reach it exactly when they would have reached
the allow entry: it changes only traffic that entry decided, and access only narrows. Among such numbers the
highest free ones are taken, denies first. No free number, or more entries than the quota "Rules per network ACL"
(L-2AEEBF1A, 20 by default, per direction and separately for IPv4 and IPv6; the ``*`` entries do not count),
raise PlanError: the plan is made whole before anything changes. Pure.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable, NamedTuple

from perimeter.cidrs import TrustedSources
from perimeter.networkacls import (
    ALLOW, DENY, MAX_RULE_NUMBER, AclEntry, AddressRange, Finding, decided_ports,
)
from perimeter.ports import PortRange

PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17"}  # CreateNetworkAclEntry's Protocol: "-1" or a protocol number
DEFAULT_ENTRY_QUOTA = 20  # Amazon VPC quota "Rules per network ACL" (L-2AEEBF1A)


class PlanError(ValueError):
    """The remediation cannot be planned; the message says why and what to do. Nothing has changed."""


class PlannedEntry(NamedTuple):
    """An inbound entry to create: ``protocol`` tcp/udp, ``ports`` one range, in front of rule ``in_front_of``."""

    rule_number: int
    action: str  # ALLOW (a trusted part) or DENY
    protocol: str
    ports: PortRange
    cidr: str
    version: int
    in_front_of: int

    def label(self) -> str:
        """``rule 99 deny tcp 22 from 0.0.0.0/0``."""
        return f"rule {self.rule_number} {self.action} {self.protocol} {self.ports} from {self.cidr}"

    def api_entry(self, acl_id: str) -> dict:
        """The CreateNetworkAclEntry request that creates it."""
        request = {"NetworkAclId": acl_id, "RuleNumber": self.rule_number, "Egress": False,
                   "Protocol": PROTOCOL_NUMBERS[self.protocol], "RuleAction": self.action,
                   "PortRange": {"From": self.ports.first, "To": self.ports.last}}
        request["CidrBlock" if self.version == 4 else "Ipv6CidrBlock"] = self.cidr
        return request

    def addresses(self) -> AddressRange:
        network = ipaddress.ip_network(self.cidr)
        return AddressRange(int(network.network_address), int(network.broadcast_address))


def overlaps(entry: AclEntry, protocol: str, ports: PortRange, version: int, addresses: AddressRange) -> bool:
    """Does ``entry`` match some packet of ``protocol`` (tcp/udp), ``ports`` and ``addresses`` of ``version``?"""
    reach = entry.reach(protocol)
    return (entry.version == version and reach is not None and reach.first <= ports.last
            and ports.first <= reach.last and entry.addresses.first <= addresses.last
            and addresses.first <= entry.addresses.last)


def trusted_parts(entry: AclEntry, trusted: TrustedSources) -> list[str]:
    """The parts of the entry's CIDR inside trusted CIDRs of its family, as CIDRs (two CIDRs are nested or disjoint,
    so each part is the smaller of an overlapping pair); overlapping trusted CIDRs are merged first."""
    network = ipaddress.ip_network(entry.cidr, strict=False)
    family = [candidate for candidate in trusted.networks if candidate.version == entry.version]
    parts = []
    for candidate in ipaddress.collapse_addresses(family):
        if candidate.overlaps(network):
            parts.append(str(candidate if candidate.prefixlen >= network.prefixlen else network))
    return parts


def _wanted(entries: tuple[AclEntry, ...], index: int, found: Iterable[Finding],
            trusted: TrustedSources) -> tuple[list, list]:
    """(allows, denies) to insert in front of ``entries[index]``, without numbers: (protocol, ports, cidr)."""
    entry = entries[index]
    allows, denies = [], []
    for finding in found:
        for ports in finding.ports:
            for part in trusted_parts(entry, trusted):
                network = ipaddress.ip_network(part)
                span = AddressRange(int(network.network_address), int(network.broadcast_address))
                allows += [(finding.protocol, kept, part)
                           for kept in decided_ports(entries, index, finding.protocol, (ports,), (span,))]
            denies.append((finding.protocol, ports, entry.cidr))
    return allows, denies


def _lower_bound(entries: tuple[AclEntry, ...], index: int, protocol: str, ports: PortRange, cidr: str) -> int:
    """The highest number of an earlier entry the inserted one must come after (0: none)."""
    entry = entries[index]
    network = ipaddress.ip_network(cidr)
    addresses = AddressRange(int(network.network_address), int(network.broadcast_address))
    return max((other.rule_number for other in entries[:index]
                if overlaps(other, protocol, ports, entry.version, addresses)), default=0)


def plan_entries(acl_id: str, entries: tuple[AclEntry, ...], findings: list[Finding], trusted: TrustedSources,
                 quota: int = DEFAULT_ENTRY_QUOTA) -> list[PlannedEntry]:
    """The entries to insert, in ascending rule number (the order to create them in: each trusted allow before the
    deny behind it). ``entries``: the ACL's inbound entries in ascending rule number; ``findings`` the rule's."""
    taken = {entry.rule_number for entry in entries}
    index_of = {entry.rule_number: index for index, entry in enumerate(entries)}
    planned: list[PlannedEntry] = []
    for number in sorted({finding.entry.rule_number for finding in findings}):
        index = index_of[number]
        entry = entries[index]
        allows, denies = _wanted(entries, index, [f for f in findings if f.entry.rule_number == number], trusted)
        # Denies take the highest numbers, the trusted allows the next ones down, each kind the highest first for
        # what must come latest (greatest lower bound); every allow is thus ahead of every deny of its entry.
        queue = [(DENY, wanted) for wanted in sorted(denies, key=lambda w: -_lower_bound(entries, index, *w))]
        queue += [(ALLOW, wanted) for wanted in sorted(allows, key=lambda w: -_lower_bound(entries, index, *w))]
        free = (candidate for candidate in range(min(number, MAX_RULE_NUMBER + 1) - 1, 0, -1) if candidate not in taken)
        for action, (protocol, ports, cidr) in queue:
            bound = _lower_bound(entries, index, protocol, ports, cidr)
            candidate = next(free, 0)
            if candidate <= bound:
                raise PlanError(
                    f"network ACL {acl_id}: no free rule number between rule {bound} and rule {number} for "
                    f"{action} {protocol} {ports} from {cidr} in front of rule {number} ({len(queue)} entries "
                    f"needed there); nothing changed. Renumber the inbound entries to leave room below rule {number}")
            taken.add(candidate)
            planned.append(PlannedEntry(candidate, action, protocol, ports, cidr, entry.version, number))
    check_quota(acl_id, entries, planned, quota)
    return sorted(planned)


def check_quota(acl_id: str, entries: tuple[AclEntry, ...], planned: list[PlannedEntry], quota: int) -> None:
    """PlanError when the inbound entries of a family would exceed the quota. An ACL already above ``quota`` shows
    that the account's is higher: its current count is the limit then."""
    for version in (4, 6):
        now = sum(1 for entry in entries if entry.version == version and entry.rule_number <= MAX_RULE_NUMBER)
        added = sum(1 for entry in planned if entry.version == version)
        limit = max(quota, now)
        if added and now + added > limit:
            raise PlanError(
                f"network ACL {acl_id} would need {now + added} inbound IPv{version} entries ({now} now, {added} "
                f"added), over the quota of {limit}; nothing changed. Raise the Amazon VPC quota 'Rules per network "
                "ACL' (L-2AEEBF1A) and pass it as InboundRuleQuota, or merge entries")

