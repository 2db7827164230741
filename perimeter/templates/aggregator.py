"""``organization/aggregator.yaml``: what a security team deploys once, in the management account or Config's
delegated administrator, in the region it works from.

- an organization aggregator (``AWS::Config::ConfigurationAggregator``, all accounts, all regions) and the role it
  uses, which trusts ``config.amazonaws.com`` of this account and carries AWS's managed policy
  ``AWSConfigRoleForOrganizations`` (organizations:ListAccounts, DescribeOrganization, ListAWSServiceAccessFor-
  Organization: https://docs.aws.amazon.com/config/latest/developerguide/set-up-aggregator-cli.html). This is what
  ``perimeter scan --aggregator`` and ``perimeter report --aggregator`` read.
- stored advanced queries (``AWS::Config::StoredQuery``) a team runs daily from the console. Each is checked
  against Config's documented query grammar and resource schemas (tests/test_config_queries.py). Advanced queries
  match a condition against any element of an array, not one element for all conditions ("Multiple properties
  within an array", querying-AWS-resources.html), so these list candidates; the pack's rules give the verdicts.
- optional (``CreateSecurityHubAutomationRules``, default false): one Security Hub automation rule
  (``AWS::SecurityHub::AutomationRule``) per pack rule, giving the Config findings of that rule the rule's
  severity instead of Config's default, with the rule's title as the finding's note and in its user-defined
  fields. An automation rule cannot change a finding's Title (FINDING_FIELDS_UPDATE updates Note, Severity,
  VerificationState, Confidence, Criticality, Types, UserDefinedFields, Workflow, RelatedFindings:
  AutomationRulesFindingFieldsUpdate in the Security Hub API reference). Security Hub must be enabled, and the
  rules live in the administrator account of the region Security Hub aggregates findings to.
  What a rule matches, per the Security Hub User Guide ("AWS Config" integration, "Interpreting AWS Config finding
  names in Security Hub"): Security Hub makes each Config evaluation a finding whose ProductName is ``Config``,
  whose Title is the Config rule's name (as is ProductFields ``aws/config/ConfigRuleName``), whose GeneratorId is
  the rule's ARN (``config-rule/config-rule-<generated id>``: no template deployed elsewhere can know it), and
  whose Compliance.Status is FAILED for NON_COMPLIANT; every one is MEDIUM. Automation rule criteria have no
  ProductFields filter (AutomationRulesFindingFilters, in the API and in CloudFormation), so the rule matches the
  Title: it CONTAINS ``<NamePrefix><rule id>``, the name the pack's templates give the Config rule (a conformance
  pack's rules carry a ``-conformance-pack-<id>`` suffix as well, hence CONTAINS rather than EQUALS). The prefix
  keeps AWS's managed rules of the same name (``netfw-logging-enabled``, ...) out; only FAILED findings change.
  tests/test_securityhub_automation.py matches the criteria against findings built as the guide documents them.
"""
from __future__ import annotations

from perimeter.templates.cfn import FORMAT_VERSION, arn_of, is_true, ref, resource, sub
from perimeter.templates.naming import NAME_PREFIX, logical_id, named
from perimeter.templates.template_parameters import name_prefix_parameter

AGGREGATOR_NAME = "AggregatorName"
CREATE_AUTOMATION_RULES = "CreateSecurityHubAutomationRules"
AUTOMATION_CONDITION = "CreatesAutomationRules"
ORGANIZATIONS_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"

_PROTOCOLS = "'tcp', 'udp', 'icmp', 'icmpv6', '-1', '6', '17', '1', '58'"
# name -> (description, expression). Property names follow awslabs/aws-config-resource-schema.
STORED_QUERIES = {
    "perimeter-security-groups-open-to-the-internet": (
        "Security groups with an inbound permission from 0.0.0.0/0 or ::/0",
        "SELECT accountId, awsRegion, resourceId, resourceName, configuration.ipPermissions "
        "WHERE resourceType = 'AWS::EC2::SecurityGroup' "
        "AND (configuration.ipPermissions.ipv4Ranges.cidrIp = '0.0.0.0/0' "
        "OR configuration.ipPermissions.ipv6Ranges.cidrIpv6 = '::/0')",
    ),
    "perimeter-default-security-groups-with-rules": (
        "Default security groups that still have inbound or outbound permissions (Security Hub EC2.2)",
        "SELECT accountId, awsRegion, resourceId, configuration.vpcId, configuration.ipPermissions, "
        "configuration.ipPermissionsEgress "
        "WHERE resourceType = 'AWS::EC2::SecurityGroup' AND configuration.groupName = 'default' "
        f"AND (configuration.ipPermissions.ipProtocol IN ({_PROTOCOLS}) "
        f"OR configuration.ipPermissionsEgress.ipProtocol IN ({_PROTOCOLS}))",
    ),
    "perimeter-network-acls-admin-ports-from-anywhere": (
        "Network ACLs with an inbound allow entry from anywhere covering port 22 or 3389, or all traffic "
        "(candidates: confirm entry by entry)",
        "SELECT accountId, awsRegion, resourceId, configuration.vpcId, configuration.entries "
        "WHERE resourceType = 'AWS::EC2::NetworkAcl' AND configuration.entries.egress = false "
        "AND configuration.entries.ruleAction = 'allow' "
        "AND (configuration.entries.cidrBlock = '0.0.0.0/0' OR configuration.entries.ipv6CidrBlock = '::/0') "
        "AND (configuration.entries.protocol = '-1' OR configuration.entries.portRange.from BETWEEN 0 AND 22 "
        "OR configuration.entries.portRange.from BETWEEN 23 AND 3389)",
    ),
    "perimeter-firewalls-without-deletion-protection": (
        "Network Firewall firewalls that can be deleted without first turning protection off",
        "SELECT accountId, awsRegion, resourceId, resourceName, configuration.firewall.firewallArn "
        "WHERE resourceType = 'AWS::NetworkFirewall::Firewall' AND configuration.firewall.deleteProtection = false",
    ),
}


def _automation_rule(order: int, plan) -> dict:
    declaration = plan.spec.declaration
    return resource("AWS::SecurityHub::AutomationRule", {
        "RuleName": f"perimeter {declaration['id']}",
        "RuleOrder": order,
        "RuleStatus": "ENABLED",
        "IsTerminal": False,
        "Description": (f"Config findings of the perimeter rule {declaration['id']}: severity "
                        f"{declaration['severity'].upper()}, the rule's title as note")[:1024],
        "Criteria": {
            "ProductName": [{"Comparison": "EQUALS", "Value": "Config"}],
            "Title": [{"Comparison": "CONTAINS", "Value": named(plan.spec)}],
            "ComplianceStatus": [{"Comparison": "EQUALS", "Value": "FAILED"}],
        },
        "Actions": [{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {
            "Severity": {"Label": declaration["severity"].upper()},
            "Note": {"Text": declaration["title"][:512], "UpdatedBy": "perimeter"},
            "UserDefinedFields": {"perimeterRuleId": declaration["id"], "perimeterTitle": declaration["title"][:1024]},
        }}],
    }, condition=AUTOMATION_CONDITION)


def org_aggregator(plans) -> dict:
    resources: dict[str, dict] = {
        "AggregatorRole": resource("AWS::IAM::Role", {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}]},
            "ManagedPolicyArns": [sub(ORGANIZATIONS_POLICY)],
            "Description": "AWS Config reads the organization's accounts for the perimeter aggregator",
        }),
        "Aggregator": resource("AWS::Config::ConfigurationAggregator", {
            "ConfigurationAggregatorName": ref(AGGREGATOR_NAME),
            "OrganizationAggregationSource": {"RoleArn": arn_of("AggregatorRole"), "AllAwsRegions": True},
        }),
    }
    for name, (description, expression) in STORED_QUERIES.items():
        resources[logical_id(name.removeprefix("perimeter-")) + "Query"] = resource("AWS::Config::StoredQuery", {
            "QueryName": name, "QueryDescription": description, "QueryExpression": expression})
    for order, plan in enumerate(plans, start=1):
        resources[logical_id(plan.spec.rule_id) + "AutomationRule"] = _automation_rule(order, plan)
    return {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter, organization: the organization aggregator perimeter scan/report --aggregator "
                        "read, stored advanced queries, and optional Security Hub automation rules giving each "
                        "pack rule's Config findings its severity (management or delegated administrator account)"),
        "Parameters": {
            NAME_PREFIX: {**name_prefix_parameter([plan.spec for plan in plans]), "Description": (
                "The NamePrefix the pack's stack, StackSet or conformance pack was deployed with: the automation "
                "rules match the findings of the Config rules named <prefix><rule id>.")},
            AGGREGATOR_NAME: {"Type": "String", "Default": "perimeter-organization", "AllowedPattern": "^[\\w\\-]{1,256}$",
                              "Description": "The aggregator's name: give it to perimeter scan/report --aggregator."},
            CREATE_AUTOMATION_RULES: {"Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                                      "Description": ("true: create one Security Hub automation rule per pack rule "
                                                      "(Security Hub must be enabled in this account and region).")},
        },
        "Conditions": {AUTOMATION_CONDITION: is_true(CREATE_AUTOMATION_RULES)},
        "Resources": resources,
        "Outputs": {"AggregatorName": {"Description": "perimeter scan --aggregator / perimeter report --aggregator",
                                       "Value": ref("Aggregator")}},
    }
