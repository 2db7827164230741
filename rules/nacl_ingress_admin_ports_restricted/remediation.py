"""Remediation of nacl-ingress-admin-ports-restricted: the aws:executeScript handler of runbook.yaml.

The ACL as DescribeNetworkAcls returns it is judged by the rule's own ``evaluate``; the entries to insert in front
of each offending allow entry are planned whole first (perimeter.nacl_remediation: numbers, quota), then created in
ascending rule number, each trusted allow before the deny behind it. When AWS refuses one midway (a number taken
meanwhile: NetworkAclEntryAlreadyExists; the quota: NetworkAclEntryLimitExceeded; anything else), the entries
this run created are deleted again, newest first, and the run fails saying so. The ACL is then read and judged
again. Failures are returned with the outputs.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from perimeter.nacl_remediation import DEFAULT_ENTRY_QUOTA, PROTOCOL_NUMBERS, PlanError, PlannedEntry, plan_entries
from perimeter.networkacls import network_acl_from_configuration
from perimeter.remediation import (
    RemediationError, boolean_input, client, ec2_tags, error_code, int_input, rule_parameters, unless_exempt,
)
from perimeter.rules.nacl_ingress_admin_ports_restricted.rule import evaluate, findings, parse_parameters
from perimeter.verdicts import NON_COMPLIANT

RULE = "nacl-ingress-admin-ports-restricted"
RESOURCE_TYPE = "AWS::EC2::NetworkAcl"
# Runbook parameter -> the rule parameter it carries, with the same meaning and the same validation.
RULE_PARAMETERS = {"RestrictedTcpPorts": "restrictedTcpPorts", "RestrictedUdpPorts": "restrictedUdpPorts",
                   "SourceScope": "sourceScope", "TrustedSources": "trustedSources",
                   "EvaluateDefaultNetworkAcl": "evaluateDefaultNetworkAcl"}


class Run:
    """What this run judged, planned, added (and left) and rolled back (added, then deleted again)."""

    def __init__(self, acl_id: str):
        self.acl_id, self.findings, self.planned, self.added, self.rolled_back = acl_id, [], [], [], []

    def outputs(self) -> dict:
        return {"Findings": list(self.findings),
                **{name: [output_entry(self.acl_id, entry) for entry in entries] for name, entries in (
                    ("Planned", self.planned), ("Added", self.added), ("RolledBack", self.rolled_back))}}


def handler(events, context):
    run = Run(events.get("NetworkAclId", ""))
    return unless_exempt(RULE, "ec2", lambda ec2: ec2_tags(ec2, events["NetworkAclId"]),
                         lambda ec2: remediate(events, run, ec2), run.outputs)


def remediate(events: dict, run: Run, ec2=None) -> None:
    acl_id = events["NetworkAclId"]
    parameters = rule_parameters(events, RULE_PARAMETERS, parse_parameters)
    quota = int_input(events.get("InboundRuleQuota"), "InboundRuleQuota", DEFAULT_ENTRY_QUOTA, minimum=1)
    dry_run = boolean_input(events.get("DryRun", True), "DryRun")
    ec2 = ec2 or client("ec2")

    configuration = read_acl(ec2, acl_id)
    if evaluate(as_item(acl_id, configuration), parameters).compliance != NON_COMPLIANT:
        return  # compliant, or not judged (a default ACL, no subnet): nothing to change
    acl = network_acl_from_configuration(configuration)
    found = findings(acl, parameters)
    run.findings = [finding.label() for finding in found]
    try:
        run.planned = plan_entries(acl_id, acl.ingress, found, parameters.trusted, quota)
    except PlanError as error:
        raise RemediationError(str(error)) from None
    if dry_run:
        return
    apply(ec2, acl_id, run)
    verify(ec2, acl_id, parameters, run)


def read_acl(ec2, acl_id: str) -> dict:
    """The ACL as DescribeNetworkAcls returns it (PascalCase, which the core reads as it reads recorded items).

    AWS answers an unknown id with InvalidNetworkAclID.NotFound (moto 5.2.5 with InvalidRouteTableID.NotFound): any
    NotFound for the one id asked about means the ACL is gone.
    """
    try:
        acls = ec2.describe_network_acls(NetworkAclIds=[acl_id])["NetworkAcls"]
    except ClientError as error:
        if not error_code(error).endswith(".NotFound"):
            raise
        acls, why = [], f" ({error_code(error)})"
    else:
        why = ""
    if not acls:
        raise RemediationError(f"network ACL {acl_id} does not exist{why}; it may have been deleted after Config "
                               "evaluated it: nothing to remediate")
    return acls[0]


def as_item(acl_id: str, configuration: dict) -> dict:
    """The ACL as a configuration item, for the rule's evaluate."""
    return {"resourceType": RESOURCE_TYPE, "resourceId": acl_id, "configurationItemStatus": "OK",
            "configuration": configuration}


def apply(ec2, acl_id: str, run: Run) -> None:
    """Create the planned entries in order; when one fails, delete the ones created, newest first."""
    for entry in run.planned:
        try:
            ec2.create_network_acl_entry(**entry.api_entry(acl_id))
        except Exception as error:  # refused, or no answer: either way this run's entries go again
            refused = f"creating {entry.label()} failed ({error})"
            if isinstance(error, ClientError) and error_code(error) == "NetworkAclEntryAlreadyExists":
                refused += ": the number was taken after the ACL was read"
            roll_back(ec2, acl_id, run, refused)
        run.added.append(entry)


def roll_back(ec2, acl_id: str, run: Run, refused: str) -> None:
    """Delete what this run added, newest first, then raise RemediationError saying what happened."""
    while run.added:
        entry = run.added[-1]
        try:
            ec2.delete_network_acl_entry(NetworkAclId=acl_id, RuleNumber=entry.rule_number, Egress=False)
        except Exception as error:
            raise RemediationError(
                f"{refused}; rolling back, deleting rule {entry.rule_number} failed ({error}): delete the entries "
                f"listed in Added by hand (DeleteNetworkAclEntry, inbound)") from None
        run.rolled_back.append(run.added.pop())
    raise RemediationError(f"{refused}; the {len(run.rolled_back)} entries this run had added were deleted again "
                           "(RolledBack): the ACL is as it was. Run again")


def verify(ec2, acl_id: str, parameters, run: Run) -> None:
    """Read the ACL again: every added entry must be there as planned, and the rule must find nothing."""
    configuration = read_acl(ec2, acl_id)
    acl = network_acl_from_configuration(configuration)
    listed = {(entry.rule_number, entry.action, entry.protocol, entry.ports, entry.cidr) for entry in acl.ingress}
    missing = [entry for entry in run.added
               if (entry.rule_number, entry.action, entry.protocol, entry.ports, entry.cidr) not in listed]
    if missing:
        raise RemediationError(f"network ACL {acl_id} no longer holds entries this run added: "
                               f"{'; '.join(entry.label() for entry in missing)}")
    verdict = evaluate(as_item(acl_id, configuration), parameters)
    if verdict.compliance == NON_COMPLIANT:
        raise RemediationError(f"network ACL {acl_id} is still non-compliant after remediation: {verdict.annotation}")


def output_entry(acl_id: str, entry: PlannedEntry) -> dict:
    """An entry as the outputs report it: enough to delete it (DeleteNetworkAclEntry: NetworkAclId, RuleNumber,
    Egress) or to create it again."""
    reported = {"NetworkAclId": acl_id, "RuleNumber": entry.rule_number, "Egress": False,
                "RuleAction": entry.action, "Protocol": PROTOCOL_NUMBERS[entry.protocol], "FromPort": entry.ports.first,
                "ToPort": entry.ports.last, "InFrontOfRule": entry.in_front_of}
    reported["CidrBlock" if entry.version == 4 else "Ipv6CidrBlock"] = entry.cidr
    return reported

