"""Replacement rules for the security-group runbooks that narrow a rule rather than only revoke it
(sg-ingress-port-range-restricted, sg-ingress-authorized-ports-only): authorize what stays open, with room under the
rules quota, and take back a replacement whose rule was not revoked. Apart from perimeter.sg_remediation so that the
runbooks that only revoke neither call nor need ec2:AuthorizeSecurityGroupIngress (the declared permissions are the
calls each runbook's modules make, tests/test_templates.py).
"""
from __future__ import annotations

from typing import Callable

from botocore.exceptions import ClientError

from perimeter.remediation import RemediationError, error_code
from perimeter.securitygroups import ALL_TRAFFIC, Permission, SecurityGroup
from perimeter.sg_remediation import (
    DUPLICATE, FAMILIES, INGRESS, NO_ROOM, Run, _direction_rules, _settled, key, labels, read_group, revoke_exactly,
)


# --- room under the rules quota -----------------------------------------------------------------------------------
def rule_counts(permissions) -> dict[str, int]:
    counts = {"IPv4": 0, "IPv6": 0}
    for permission in permissions:
        for family in FAMILIES[permission.source.kind]:
            counts[family] += 1
    return counts


def needs_revoke_first(group_id: str, ingress, removals, additions, quota: int) -> bool:
    """Whether the replacements fit only once the ranges are gone; RemediationError when they never fit.

    Every rule counts as one here; a customer-managed prefix list counts as its maximum entries (Amazon VPC
    quotas), so AWS may still refuse: before any change when the replacements go in first.
    """
    now, out, new = rule_counts(ingress), rule_counts(removals), rule_counts(additions)
    revoke_first = False
    for family in now:
        limit = max(quota, now[family])  # a group above the given quota shows that the account's is higher
        after = now[family] - out[family] + new[family]
        if after > limit:
            raise RemediationError(
                f"security group {group_id} would need {after} inbound {family} rules ({now[family]} now, "
                f"{out[family]} revoked, {new[family]} replacement rules added), over the quota of {limit}; "
                "nothing changed. Keep fewer ports open through replacements, or raise the quota 'Inbound or "
                "outbound rules per security group' (L-0EA8095F) and pass it as InboundRuleQuota")
        revoke_first = revoke_first or now[family] + new[family] > limit
    return revoke_first


def allows(existing: Permission, wanted: Permission) -> bool:
    """Does ``existing`` allow everything the tcp/udp rule, or the ICMP rule for all types, ``wanted`` allows (same
    source)?"""
    if existing.source != wanted.source or existing.protocol not in (wanted.protocol, ALL_TRAFFIC):
        return False
    if wanted.ports is None:  # ICMP, every type and code: all traffic, or the same protocol for every type
        return existing.protocol == ALL_TRAFFIC or existing.from_port in (-1, None)
    return existing.ports is not None and existing.ports.contains(wanted.ports)


def held(wanted: Permission, permissions) -> bool:
    return any(allows(existing, wanted) for existing in permissions)


# --- changing -----------------------------------------------------------------------------------------------------
def replace_offenders(ec2, group_id: str, run: Run, offending: Callable[[SecurityGroup], list],
                      replacing: Callable[[list, list], list], quota: int, dry_run: bool) -> bool:
    """Read the group's inbound rules, then revoke ``offending(group)`` and authorize ``replacing(removals, kept)``,
    rules each of which some removal holds; False when there was nothing to change or only a dry run (``run`` then
    lists what would change).

    The additions go in first, so their ports stay reachable throughout; only when the group has no room for them
    yet are the removals revoked first. An addition whose range was not revoked after all (gone meanwhile, or the
    revoke failed) is revoked again (``run.undone``): it would widen access.
    """
    group, run.owners = read_group(ec2, group_id)
    removals = offending(group)
    additions = replacing(removals, [permission for permission in group.ingress if permission not in removals])
    revoke_first = needs_revoke_first(group_id, group.ingress, removals, additions, quota)
    if dry_run or not removals:
        run.removed, run.added = removals, additions
        return False
    if revoke_first:
        run.removed, run.skipped = revoke_exactly(ec2, group_id, removals, run.owners)
        wanted = [added for added in additions if held(added, run.removed)]
        try:
            run.added = authorize(ec2, group_id, wanted, run.owners)
        except ClientError as error:
            raise RemediationError(f"the ranges were revoked, but adding the replacement rules failed ({error}); "
                                   f"add them when there is room: {labels(wanted)}") from None
    else:
        try:
            run.added = authorize(ec2, group_id, additions, run.owners)
        except ClientError as error:
            if error_code(error) != NO_ROOM:
                raise
            raise RemediationError(f"no room for the replacement rules ({error}); nothing changed. A customer-managed "
                                   "prefix list counts as its maximum entries; check InboundRuleQuota") from None
        try:
            run.removed, run.skipped = revoke_exactly(ec2, group_id, removals, run.owners)
        finally:
            withdraw_strays(ec2, group_id, run)
    return True



def authorize(ec2, group_id: str, additions: list, owners: dict) -> list[Permission]:
    """Authorize the inbound rules, leaving out any that someone added meanwhile (InvalidPermission.Duplicate)."""
    pending, _, response = _settled(ec2, group_id, additions, owners, DUPLICATE, present=False, direction=INGRESS,
                                    call=lambda entries: ec2.authorize_security_group_ingress(
                                        GroupId=group_id, IpPermissions=entries))
    ids = {key(rule): rule.rule_id for rule in _direction_rules(response.get("SecurityGroupRules") or [], INGRESS)}
    return [added._replace(rule_id=ids.get(key(added))) for added in pending]


def withdraw_strays(ec2, group_id: str, run: Run) -> None:
    """Revoke the replacements that no range revoked by this run held: they would widen access."""
    strays = [added for added in run.added if not held(added, run.removed)]
    if strays:
        run.added = [added for added in run.added if added not in strays]
        try:
            run.undone = revoke_exactly(ec2, group_id, strays, run.owners)[0]
        except Exception:
            run.added += strays  # still open as far as this run knows
            raise RemediationError(f"revoke these replacement rules, whose ranges stay: {labels(strays)}")
