"""The Security Hub automation rules of templates/organization/aggregator.yaml (issue 12, item 9) match the findings
the deployed Config rules produce, and only those.

How a Config rule's evaluation becomes a Security Hub finding is documented in the Security Hub User Guide, "AWS
Config" among the AWS service integrations, table "Interpreting AWS Config finding names in Security Hub":
ProductName is "Config"; Title (and ProductFields ``aws/config/ConfigRuleName``) is ``detail.configRuleName``, the
deployed rule's name; GeneratorId (and ``aws/config/ConfigRuleArn``) is the rule's ARN, whose last part is Config's
generated ``config-rule-<id>``, not the name; Compliance.Status is FAILED, PASSED, NOT_AVAILABLE or WARNING from the
evaluation's compliance type; Severity.Label is MEDIUM for every Config finding. ``documented_finding`` builds
findings that way.

An automation rule's Criteria (AutomationRulesFindingFilters, botocore's securityhub model and CloudFormation's
AWS::SecurityHub::AutomationRule schema alike) has no ProductFields filter, so the name can only be matched in the
Title; GeneratorId holds an id no template deployed elsewhere can know. The template matches Titles that contain
``${NamePrefix}<rule id>``, its NamePrefix parameter being the one the pack was deployed with. ``criteria_match``
resolves that Fn::Sub and applies the StringFilter semantics botocore documents: CONTAINS, EQUALS and PREFIX filters on one field are joined by OR; NOT_CONTAINS,
NOT_EQUALS and PREFIX_NOT_EQUALS by AND; different fields by AND.

The deployed names are read from the generated templates (``${NamePrefix}<rule id>``), with NamePrefix's default,
an empty one and a 14-character one (its AllowedPattern's longest); a conformance pack's rules carry Config's
``-conformance-pack-<id>`` suffix in addition.
"""
from __future__ import annotations

from functools import lru_cache

import botocore.session
import pytest
import yaml

from perimeter.registry import all_rules
from test_templates import TEMPLATES

AGGREGATOR = yaml.safe_load((TEMPLATES / "organization" / "aggregator.yaml").read_text(encoding="utf-8"))
AUTOMATION_RULES = {name: r["Properties"] for name, r in AGGREGATOR["Resources"].items()
                    if r["Type"] == "AWS::SecurityHub::AutomationRule"}
RULE_TEMPLATES = ["perimeter.yaml", "conformance-pack.yaml", "organization/conformance-pack.yaml"]
PACK_SUFFIX = "-conformance-pack-a1b2c3d4"  # Config names a conformance pack's rules <name>-conformance-pack-<id>
PREFIXES = ["perimeter-", "", "acme-prod-eu1-"]  # the default, none, 14 characters (the most)
COMPLIANCE_STATUSES = {"NON_COMPLIANT": "FAILED", "COMPLIANT": "PASSED", "NOT_APPLICABLE": "NOT_AVAILABLE",
                       "INSUFFICIENT_DATA": "WARNING"}

POSITIVE = {"EQUALS": lambda value, wanted: value == wanted,
            "PREFIX": lambda value, wanted: value.startswith(wanted),
            "CONTAINS": lambda value, wanted: wanted in value}
NEGATIVE = {"NOT_EQUALS": lambda value, wanted: value != wanted,
            "PREFIX_NOT_EQUALS": lambda value, wanted: not value.startswith(wanted),
            "NOT_CONTAINS": lambda value, wanted: wanted not in value}


def resolved(value, prefix: str) -> str:
    if isinstance(value, dict):
        (text,) = value.values()
        assert list(value) == ["Fn::Sub"] and text.count("${") == 1, value
        return text.replace("${NamePrefix}", prefix)
    return value


def criteria_match(criteria: dict, finding: dict, prefix: str = "perimeter-") -> bool:
    """Whether Security Hub applies an automation rule with these Criteria, deployed with NamePrefix ``prefix``."""
    for field, filters in criteria.items():
        value = finding.get(field)
        if value is None:
            return False
        filters = [{**f, "Value": resolved(f["Value"], prefix)} for f in filters]
        positive = [f for f in filters if f["Comparison"] in POSITIVE]
        negative = [f for f in filters if f["Comparison"] in NEGATIVE]
        assert len(positive) + len(negative) == len(filters), f"{field}: a comparison this test does not know"
        if positive and not any(POSITIVE[f["Comparison"]](value, f["Value"]) for f in positive):
            return False
        if not all(NEGATIVE[f["Comparison"]](value, f["Value"]) for f in negative):
            return False
    return True


def documented_finding(rule_name: str, compliance_type: str = "NON_COMPLIANT") -> dict:
    """The filterable fields of the finding Security Hub makes of a Config rule's evaluation (see the docstring)."""
    rule_arn = "arn:aws:config:eu-central-1:123456789012:config-rule/config-rule-mburzq"
    return {"ProductName": "Config", "CompanyName": "AWS", "GeneratorId": rule_arn, "Title": rule_name,
            "Description": f"This finding is created for a resource compliance change for config rule: {rule_name}",
            "ComplianceStatus": COMPLIANCE_STATUSES[compliance_type], "SeverityLabel": "MEDIUM",
            "ProductArn": "arn:aws:securityhub:eu-central-1::product/aws/config"}


@lru_cache(maxsize=None)
def template(relative: str) -> dict:
    return yaml.load((TEMPLATES / relative).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader",
                                                                                         yaml.SafeLoader))


def deployed_rule_names(relative: str, prefix: str) -> dict[str, str]:
    """rule id -> the name Config gives the rule that ``relative`` deploys with ``NamePrefix`` = ``prefix``."""
    names = {}
    for resource in template(relative)["Resources"].values():
        if resource["Type"] != "AWS::Config::ConfigRule":
            continue
        text = resource["Properties"]["ConfigRuleName"]["Fn::Sub"]
        assert text.startswith("${NamePrefix}") and "${" not in text[len("${NamePrefix}"):], text
        rule_id = text.removeprefix("${NamePrefix}")
        names[rule_id] = prefix + rule_id + (PACK_SUFFIX if "conformance-pack" in relative else "")
    return names


def automation_rule_of(rule_id: str) -> dict:
    (found,) = [r for r in AUTOMATION_RULES.values()
                if r["Actions"][0]["FindingFieldsUpdate"]["UserDefinedFields"]["perimeterRuleId"] == rule_id]
    return found


@pytest.mark.parametrize("relative", RULE_TEMPLATES)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_each_deployed_rules_failed_findings_match_its_own_automation_rule_and_no_other(relative, prefix):
    names = deployed_rule_names(relative, prefix)
    assert set(names) == {spec.rule_id for spec in all_rules()}

    for rule_id, name in names.items():
        matching = [r for r in AUTOMATION_RULES.values()
                    if criteria_match(r["Criteria"], documented_finding(name), prefix)]
        assert matching == [automation_rule_of(rule_id)], f"{name}: matched by {[r['RuleName'] for r in matching]}"


@pytest.mark.parametrize("compliance_type", ["COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"])
def test_findings_that_did_not_fail_keep_what_config_gave_them(compliance_type):
    for rule_id, name in deployed_rule_names("perimeter.yaml", "perimeter-").items():
        finding = documented_finding(name, compliance_type)
        assert not [r for r in AUTOMATION_RULES.values() if criteria_match(r["Criteria"], finding)], name


MANAGED_NAMES = ["netfw-logging-enabled", "netfw-policy-rule-group-associated", "restricted-ssh",
                 "netfw-policy-default-action-full-packets-conformance-pack-x1y2z3w4",
                 "vpc-default-security-group-closed", "securityhub-vpc-sg-open-only-to-authorized-ports-1a2b3c"]


@pytest.mark.parametrize("name", MANAGED_NAMES)
def test_other_config_rules_findings_are_left_alone_even_those_named_like_a_pack_rule(name):
    """AWS managed rules keep their identifier as default name, and four of them share a pack rule's id: the
    NamePrefix in the criteria keeps their findings out (with an empty NamePrefix it cannot)."""
    assert not [r for r in AUTOMATION_RULES.values() if criteria_match(r["Criteria"], documented_finding(name))]


def test_the_update_gives_the_rules_severity_and_title():
    for spec in all_rules():
        update = automation_rule_of(spec.rule_id)["Actions"][0]["FindingFieldsUpdate"]
        assert update["Severity"] == {"Label": spec.declaration["severity"].upper()}
        assert update["Note"]["Text"] == spec.declaration["title"]
        assert update["UserDefinedFields"]["perimeterTitle"] == spec.declaration["title"]


def test_thirty_rules_stay_well_inside_security_hubs_automation_rule_quota():
    """Security Hub supports at most 100 automation rules per administrator account and region (AWS Security
    Services Best Practices, Security Hub: "a maximum of 100 automation rules for an administrator account"), and
    RuleOrder runs from 1 to 1000 (CreateAutomationRule). At 30 pack rules the template creates 30, ordered 1-30."""
    from test_scale import template as at_thirty_rules

    rules = [r["Properties"] for r in at_thirty_rules("organization/aggregator.yaml")["Resources"].values()
             if r["Type"] == "AWS::SecurityHub::AutomationRule"]
    orders = sorted(r["RuleOrder"] for r in rules)

    assert len(rules) == 30 <= 100
    assert orders == list(range(1, 31))


def test_cfn_lint_knows_the_automation_rule_schema_that_the_template_lint_applies():
    """tests/test_templates.py lints every template with cfn-lint, which validates these resources against
    CloudFormation's AWS::SecurityHub::AutomationRule schema (it refuses, e.g., a ProductFields filter: E3002). The
    schema is there, for the regions the lint uses, and its filters are botocore's, without ProductFields."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::SecurityHub::AutomationRule").schema
    filters = set(schema["definitions"]["AutomationRulesFindingFilters"]["properties"])
    api = set(botocore.session.get_session().get_service_model("securityhub").shape_for(
        "AutomationRulesFindingFilters").members)

    assert "ProductFields" not in filters | api
    assert {"Title", "ProductName", "ComplianceStatus", "GeneratorId"} <= filters & api
    for rule in AUTOMATION_RULES.values():
        assert set(rule["Criteria"]) <= filters & api
