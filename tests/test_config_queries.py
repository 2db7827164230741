"""templates/organization/aggregator.yaml (issue 12, items 8-9): the organization aggregator, its stored advanced
queries (each parsed with Config's documented grammar and resource schemas, tests/configquery.py, and run on
items to show it finds what its name says), and the optional Security Hub automation rules (validated against
botocore's CreateAutomationRule model, one per pack rule, with the rule's severity)."""
from __future__ import annotations

import json

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator

import configquery
from conftest import FIXTURES
from perimeter.inputs.documents import document_items
from perimeter.items import normalise_item
from perimeter.jsoninput import open_json_text
from perimeter.registry import all_rules
from perimeter.templates.aggregator import STORED_QUERIES
from test_templates import TEMPLATES
from tests.fakes.networkfirewall import _constraint_violations

TEMPLATE = yaml.safe_load((TEMPLATES / "organization" / "aggregator.yaml").read_text(encoding="utf-8"))
RESOURCES = TEMPLATE["Resources"]


def of_type(kind: str) -> dict:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _problems(value, shape) -> str:
    report = ParamValidator().validate(value, shape)
    return report.generate_report() if report.has_errors() else "; ".join(_constraint_violations(value, shape))


# --- the grammar checker itself ------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, message", [
    ("SELECT resourceId FROM x WHERE resourceType = 'AWS::EC2::SecurityGroup'", "unexpected 'FROM'"),
    ("SELECT resourceId WHERE resourceType LIKE 'AWS::EC2::%'", "expected =, IN or BETWEEN"),
    ("SELECT resourceId WHERE resourceType = 'AWS::EC2::SecurityGroup' AND configuration.ipPermission.fromPort = 22",
     "configuration.ipPermission.fromPort: not a property of AWS::EC2::SecurityGroup"),
    ("SELECT resourceId WHERE accountId = '111122223333'", "no resourceType in the condition"),
    ("SELECT resourceId WHERE resourceType = 'AWS::EC2::SecurityGroup", "unexpected text"),
    ("SELECT WHERE resourceType = 'AWS::EC2::SecurityGroup'", "expected name"),
    ("SELECT resourceId WHERE resourceType = 'AWS::EC2::SecurityGroup' AND", "expected name"),
])
def test_the_grammar_checker_refuses_what_config_does_not_document(expression, message):
    with pytest.raises(configquery.QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        configquery.parse(expression)


def test_the_grammar_checker_accepts_the_documented_examples():
    configquery.parse("SELECT resourceId WHERE resourceType='AWS::EC2::SecurityGroup'")
    configquery.parse("SELECT configuration.groupName, COUNT(*) WHERE resourceType = 'AWS::EC2::SecurityGroup' "
                      "GROUP BY configuration.groupName ORDER BY configuration.groupName DESC")


# --- stored queries ------------------------------------------------------------------------------------------


def test_every_stored_query_is_in_the_template_and_valid_for_put_stored_query():
    queries = of_type("AWS::Config::StoredQuery")
    shape = botocore.session.get_session().get_service_model("config").shape_for("StoredQuery")

    assert {q["Properties"]["QueryName"] for q in queries.values()} == set(STORED_QUERIES)
    for query in queries.values():
        properties = query["Properties"]
        stored = {"QueryName": properties["QueryName"], "Description": properties["QueryDescription"],
                  "Expression": properties["QueryExpression"]}
        assert _problems(stored, shape) == ""


@pytest.mark.parametrize("name", sorted(STORED_QUERIES))
def test_each_stored_query_parses_with_configs_documented_grammar(name):
    query = configquery.parse(STORED_QUERIES[name][1])

    assert configquery.resource_types(query) <= set(configquery.SCHEMA["resourceTypes"])


def _rows(*exports: str) -> list[dict]:
    """Items as advanced-query rows: top-level properties in the API spelling and the configuration object."""
    rows = []
    for name in exports:
        with open_json_text(FIXTURES / "exports" / name) as reader:
            for raw in document_items(reader):
                item = normalise_item(raw)
                rows.append({"resourceType": item["resourceType"], "resourceId": item["resourceId"],
                             "accountId": item.get("awsAccountId"), "configuration": item["configuration"]})
    return rows


def _found(name: str, rows: list[dict]) -> list[str]:
    query = configquery.parse(STORED_QUERIES[name][1])
    return [row["resourceId"] for row in rows if configquery.matches(query.where, row)]


def test_the_open_to_the_internet_query_finds_groups_open_to_0_0_0_0_or_any_ipv6():
    rows = _rows("ec2-describe-security-groups.json", "ec2-describe-network-acls.json")

    assert _found("perimeter-security-groups-open-to-the-internet", rows) == ["sg-0a11b22c33d44e55f",
                                                                             "sg-0f66e77d88c99b00a"]


def test_the_default_group_query_finds_only_default_groups_with_rules():
    rows = _rows("ec2-describe-security-groups.json")
    default = json.loads(json.dumps(rows[0]))
    default["resourceId"], default["configuration"]["groupName"] = "sg-default", "default"
    empty = json.loads(json.dumps(default))
    empty["resourceId"] = "sg-default-empty"
    empty["configuration"]["ipPermissions"] = empty["configuration"]["ipPermissionsEgress"] = []

    assert _found("perimeter-default-security-groups-with-rules", rows + [default, empty]) == ["sg-default"]


def test_the_network_acl_query_finds_an_acl_allowing_ssh_from_anywhere():
    rows = _rows("ec2-describe-network-acls.json", "ec2-describe-security-groups.json")

    assert _found("perimeter-network-acls-admin-ports-from-anywhere", rows) == ["acl-0a1b2c3d4e5f60718"]


def test_the_firewall_query_finds_firewalls_without_deletion_protection():
    rows = _rows("network-firewall-describe-firewall.json")
    protected = json.loads(json.dumps(rows[0]))
    protected["resourceId"], protected["configuration"]["firewall"]["deleteProtection"] = "protected", True

    assert _found("perimeter-firewalls-without-deletion-protection", rows + [protected]) == [rows[0]["resourceId"]]


# --- aggregator and Security Hub automation rules -----------------------------------------------------------


def test_the_aggregator_covers_the_organization_with_a_role_only_config_of_this_account_assumes():
    (aggregator,) = of_type("AWS::Config::ConfigurationAggregator").values()
    source = aggregator["Properties"]["OrganizationAggregationSource"]
    role = RESOURCES[source["RoleArn"]["Fn::GetAtt"][0]]["Properties"]

    assert source["AllAwsRegions"] is True
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "config.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"}]


def test_one_optional_automation_rule_per_pack_rule_gives_its_findings_the_rules_severity_and_title():
    rules = of_type("AWS::SecurityHub::AutomationRule")
    by_rule = {r["Properties"]["Actions"][0]["FindingFieldsUpdate"]["UserDefinedFields"]["perimeterRuleId"]: r
               for r in rules.values()}

    assert set(by_rule) == {spec.rule_id for spec in all_rules()}
    assert TEMPLATE["Parameters"]["CreateSecurityHubAutomationRules"]["Default"] == "false"
    for spec in all_rules():
        rule = by_rule[spec.rule_id]
        update = rule["Properties"]["Actions"][0]["FindingFieldsUpdate"]
        assert rule["Condition"] == "CreatesAutomationRules"
        assert update["Severity"] == {"Label": spec.declaration["severity"].upper()}
        assert update["Note"]["Text"] == spec.declaration["title"]
        assert rule["Properties"]["Criteria"]["Title"] == [
            {"Comparison": "CONTAINS", "Value": {"Fn::Sub": "${NamePrefix}" + spec.rule_id}}]


def _with_prefix(value, prefix: str):
    """``value`` with each ``{"Fn::Sub": "${NamePrefix}..."}`` resolved as CloudFormation would."""
    if isinstance(value, dict):
        if list(value) == ["Fn::Sub"] and value["Fn::Sub"].startswith("${NamePrefix}"):
            return prefix + value["Fn::Sub"].removeprefix("${NamePrefix}")
        return {key: _with_prefix(inner, prefix) for key, inner in value.items()}
    if isinstance(value, list):
        return [_with_prefix(inner, prefix) for inner in value]
    return value


def test_automation_rules_are_valid_create_automation_rule_requests():
    shape = botocore.session.get_session().get_service_model("securityhub").operation_model(
        "CreateAutomationRule").input_shape
    orders = []
    for rule in of_type("AWS::SecurityHub::AutomationRule").values():
        # The Title filter's value is ${NamePrefix}<rule id>: validated as deployed with the default prefix.
        assert _problems(_with_prefix(rule["Properties"], "perimeter-"), shape) == ""
        orders.append(rule["Properties"]["RuleOrder"])
    assert len(set(orders)) == len(orders)


def test_no_pack_rule_id_contains_another_so_title_matching_is_unambiguous():
    ids = [spec.rule_id for spec in all_rules()]
    assert not [(a, b) for a in ids for b in ids if a != b and a in b]
