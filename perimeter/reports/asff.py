"""Findings in the AWS Security Finding Format, for ``aws securityhub batch-import-findings``.

One finding per NON_COMPLIANT (rule, resource); compliant and not-applicable rows are not findings. The output is
a JSON array of AwsSecurityFinding objects (https://docs.aws.amazon.com/securityhub/1.0/APIReference/
API_AwsSecurityFinding.html); BatchImportFindings takes at most 100 a call (README "Reports and dashboards" shows
how to send them in batches).

- ``Id`` is ``perimeter/<rule>/<account>/<region>/<resource type>/<resource id>``: the same resource and rule give
  the same id on every run, so importing again updates the finding (Security Hub keys findings by ``Id`` and
  ``ProductArn``) instead of adding a duplicate.
- ``ProductArn`` is the account's default product, ``arn:<partition>:securityhub:<region>:<account>:product/
  <account>/default``, which Security Hub documents for findings a customer imports itself; so each finding needs
  its account and region, and a row without them (``describe-network-acls`` output says neither) is refused.
- ``Severity.Label`` is the rule's declared severity in upper case; ``Title`` the rule's title; ``Description``
  the rule's annotation for the resource; ``Compliance.RelatedRequirements`` the controls it maps to.
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable, TextIO

from perimeter.inputs.apishapes import arn_parts
from perimeter.reports.base import ReportContext, ReportError
from perimeter.scan import Finding
from perimeter.verdicts import NON_COMPLIANT

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
# Config resource type -> ASFF Resource.Type (the ASFF "Resources" reference); other types are "Other".
RESOURCE_TYPES = {
    "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
    "AWS::EC2::NetworkAcl": "AwsEc2NetworkAcl",
    "AWS::NetworkFirewall::Firewall": "AwsNetworkFirewallFirewall",
    "AWS::NetworkFirewall::FirewallPolicy": "AwsNetworkFirewallFirewallPolicy",
    "AWS::NetworkFirewall::RuleGroup": "AwsNetworkFirewallRuleGroup",
}
MAX_ID = 512  # AwsSecurityFinding.Id
MAX_TITLE, MAX_DESCRIPTION = 256, 1024
MAX_REQUIREMENTS = 32  # Compliance.RelatedRequirements


def _timestamp(context: ReportContext) -> str:
    return context.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{context.now.microsecond // 1000:03d}Z"


def finding_id(finding: Finding) -> str:
    """Stable across runs; resource ids too long for the limit are replaced by their SHA-256."""
    stable = f"perimeter/{finding.rule}/{finding.accountId}/{finding.awsRegion}/{finding.resourceType}/{finding.resourceId}"
    if len(stable) <= MAX_ID:
        return stable
    digest = hashlib.sha256(finding.resourceId.encode("utf-8")).hexdigest()
    return f"perimeter/{finding.rule}/{finding.accountId}/{finding.awsRegion}/{finding.resourceType}/sha256-{digest}"


def asff_finding(finding: Finding, spec, context: ReportContext) -> dict:
    if not finding.accountId or not finding.awsRegion:
        raise ReportError(
            f"{finding.resourceType} {finding.resourceId}: ASFF needs the resource's account and region, and the "
            "input does not say them (scan Config's items: a snapshot, an aggregator, select-resource-config)")
    partition = arn_parts(finding.arn)[0] or "aws"
    now = _timestamp(context)
    declaration = spec.declaration
    resource = {
        "Type": RESOURCE_TYPES.get(finding.resourceType, "Other"),
        "Id": finding.arn or finding.resourceId,
        "Partition": partition,
        "Region": finding.awsRegion,
        "Details": {"Other": {key: value for key, value in (("configResourceType", finding.resourceType),
                                                            ("configResourceId", finding.resourceId),
                                                            ("name", finding.resourceName)) if value}},
    }
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(finding),
        "ProductArn": f"arn:{partition}:securityhub:{finding.awsRegion}:{finding.accountId}:product/"
                      f"{finding.accountId}/default",
        "GeneratorId": f"perimeter/{finding.rule}",
        "AwsAccountId": finding.accountId,
        "Types": [FINDING_TYPE],
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": {"Label": finding.severity.upper()},
        "Title": declaration["title"][:MAX_TITLE],
        "Description": (finding.annotation or declaration["description"])[:MAX_DESCRIPTION],
        "Resources": [resource],
        "Compliance": {"Status": "FAILED", "RelatedRequirements": list(declaration["controls"])[:MAX_REQUIREMENTS]},
        "ProductFields": {"perimeter/RuleId": finding.rule, "perimeter/Severity": finding.severity},
        "RecordState": "ACTIVE",
    }


def write_asff(findings: Iterable[Finding], stream: TextIO, context: ReportContext) -> bool:
    """A JSON array of ASFF findings, one per line, for the non-compliant rows."""
    specs = {spec.rule_id: spec for spec in context.rules}
    separator = "[\n  "
    for finding in findings:
        if finding.complianceType != NON_COMPLIANT:
            continue
        stream.write(separator + json.dumps(asff_finding(finding, specs[finding.rule], context)))
        separator = ",\n  "
    stream.write("[]\n" if separator == "[\n  " else "\n]\n")
    return separator != "[\n  "
