"""``perimeter report --aggregator NAME``: what the *deployed* rules reported to Config, across the organization,
as findings the report writers render; nothing is re-evaluated.

Calls (read-only, paginated, one page at a time): ``DescribeAggregateComplianceByConfigRules`` for every Config
rule's compliance per account and region, then, for each (rule, account, region) of a pack rule,
``GetAggregateComplianceDetailsByConfigRule`` for its evaluation results
(https://docs.aws.amazon.com/config/latest/APIReference/API_GetAggregateComplianceDetailsByConfigRule.html).

A Config rule is the pack's when its name holds ``<NamePrefix><rule id>`` as a whole hyphen-separated part: the
templates name rules so (``perimeter-sg-ingress-port-range-restricted``), and conformance packs add their own suffix
(``...-conformance-pack-abc123``). The prefix (``--name-prefix``, default the templates' ``perimeter-``) keeps out
AWS managed rules that share a pack rule's id and keep it as their name (``netfw-logging-enabled``, ...). Results carry no resource name or ARN (the API does not return
them); the annotation is the one the rule's Lambda wrote, and an active exemption it states becomes the finding's
``exemption`` (the dashboard lists those that end soon).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator

import boto3
import botocore.exceptions

from perimeter.live import CLIENT_CONFIG, LiveScanError, explain
from perimeter.registry import active_exemption_in
from perimeter.scan import Finding
from perimeter.verdicts import COMPLIANT

ACTIONS = {
    "DescribeAggregateComplianceByConfigRules": "config:DescribeAggregateComplianceByConfigRules",
    "GetAggregateComplianceDetailsByConfigRule": "config:GetAggregateComplianceDetailsByConfigRule",
}
NEEDS = ("the report needs config:DescribeAggregateComplianceByConfigRules and config:GetAggregateComplianceDetailsBy"
         "ConfigRule on the aggregator (README 'Reports and dashboards')")
DETAILS_PAGE = 100  # GetAggregateComplianceDetailsByConfigRule's Limit maximum
SUMMARY_PAGE = 1000  # DescribeAggregateComplianceByConfigRules' Limit maximum


DEFAULT_NAME_PREFIX = "perimeter-"  # the templates' NamePrefix default (tests/test_organization.py keeps them equal)


def pack_rule_of(config_rule_name: str, rule_ids: Iterable[str], name_prefix: str = DEFAULT_NAME_PREFIX) -> str | None:
    """The pack rule a deployed Config rule runs, by its name; the longest id wins (ids may share a prefix)."""
    for rule_id in sorted(rule_ids, key=len, reverse=True):
        if re.search(rf"(?:^|-){re.escape(name_prefix + rule_id)}(?:-|$)", config_rule_name):
            return rule_id
    return None


def _pages(call: Callable, arguments: dict, key: str) -> Iterator[dict]:
    arguments = dict(arguments)
    while True:
        page = call(**arguments)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        arguments["NextToken"] = page["NextToken"]


def deployed_findings(
    aggregator: str, rules: list, profile: str | None = None, region: str | None = None,
    progress: Callable[[Iterable], Iterable] = lambda items: items, name_prefix: str | None = None,
) -> Iterator[Finding]:
    specs = {spec.rule_id: spec for spec in rules}
    name_prefix = DEFAULT_NAME_PREFIX if name_prefix is None else name_prefix
    try:
        session = boto3.Session(profile_name=profile)
        client = session.client("config", region_name=region or session.region_name, config=CLIENT_CONFIG)
        summaries = _pages(client.describe_aggregate_compliance_by_config_rules,
                           {"ConfigurationAggregatorName": aggregator, "Limit": SUMMARY_PAGE},
                           "AggregateComplianceByConfigRules")
        places = {}
        for summary in summaries:
            rule_id = pack_rule_of(summary["ConfigRuleName"], specs, name_prefix)
            if rule_id:
                places[(summary["ConfigRuleName"], summary["AccountId"], summary["AwsRegion"])] = rule_id
        for (name, account, aws_region), rule_id in places.items():
            results = _pages(client.get_aggregate_compliance_details_by_config_rule,
                             {"ConfigurationAggregatorName": aggregator, "ConfigRuleName": name,
                              "AccountId": account, "AwsRegion": aws_region, "Limit": DETAILS_PAGE},
                             "AggregateEvaluationResults")
            for result in progress(_as_items(results)):
                qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
                annotation = result.get("Annotation", "")
                exempt = active_exemption_in(annotation) if result["ComplianceType"] == COMPLIANT else None
                yield Finding(rule_id, specs[rule_id].declaration["severity"], result.get("AccountId", account),
                              result.get("AwsRegion", aws_region), qualifier["ResourceType"], qualifier["ResourceId"],
                              None, None, result["ComplianceType"], annotation, exempt)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LiveScanError(" ".join(explain(error, region, profile, NEEDS, ACTIONS).split())) from error


def _as_items(results: Iterable[dict]) -> Iterator[dict]:
    """Results with the two keys the progress line counts by (region, resource type)."""
    for result in results:
        qualifier = result["EvaluationResultIdentifier"]["EvaluationResultQualifier"]
        result.setdefault("awsRegion", result.get("AwsRegion"))
        result.setdefault("resourceType", qualifier.get("ResourceType"))
        yield result
