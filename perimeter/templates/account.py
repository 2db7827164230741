"""``perimeter.yaml``: the pack in one account and region (deployable in every region of the account). Per rule:
the log group, the Lambda function and its own role, Config's invoke permission limited to this account, the alarm
on the function's errors, the Config rule; per rule with a runbook: the remediation function (its own role with
the rule's remediation permissions, log group and alarm), the SSM Automation document calling it, its automation
role (named for the region, allowed only to invoke that function) and the remediation configuration."""
from __future__ import annotations

from perimeter.templates.automation import automation_resources
from perimeter.templates.cfn import FORMAT_VERSION, arn_of, is_true, prune_conditions, ref
from perimeter.templates.config_rules import References, rules_and_remediations
from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.templates.functions import (
    alarm_conditions, function_arn, function_output, function_resources, remediation_function_resources,
)
from perimeter.templates.layout import ACCOUNT_CODE_PATH
from perimeter.templates.naming import NAME_PREFIX, input_parameter_name, remediation_parameter_name
from perimeter.templates.plan import RulePlan
from perimeter.templates.template_parameters import (
    ALARM_TOPIC, AUTOMATIC, LOG_RETENTION, REMEDIATION_SETTINGS, alarm_topic_parameter, log_retention_parameter,
    name_prefix_parameter, rule_and_remediation_parameters,
)

CREATE_RULES = "CreateConfigRules"
CREATE_RULES_CONDITION = "ConfigRulesCreated"

REFERENCES = References(
    function_arn=function_arn,
    document=lambda plan: ref(f"{plan.logical}RemediationDocument"),
    automation_role_arn=lambda plan: arn_of(f"{plan.logical}RemediationRole"),
    extra_inputs=lambda plan: {},
    rule_condition=CREATE_RULES_CONDITION,
    # Config checks at PutConfigRule that it may invoke the function.
    rule_depends_on=lambda plan: [f"{plan.logical}InvokePermission"],
    rule_name_in_remediation=lambda plan: ref(plan.logical),
    remediation_depends_on=lambda plan: [],
)


def parameter_groups(plans, with_runbooks: bool) -> list[dict]:
    """The console's grouping of the parameters: deployment, then one group per rule, then remediation."""
    groups = [{"Label": {"default": "Deployment"},
               "Parameters": [NAME_PREFIX, CREATE_RULES, LOG_RETENTION, ALARM_TOPIC]},
              {"Label": {"default": "Every rule"},
               "Parameters": [input_parameter_name("", name) for name in PACK_WIDE_PARAMETERS]}]
    for plan in plans:
        names = [input_parameter_name(plan.logical, name) for name in plan.spec.parameter_defaults
                 if name not in PACK_WIDE_PARAMETERS]
        names += [remediation_parameter_name(plan.logical, p.name) for p in plan.template_parameters()]
        if names:
            groups.append({"Label": {"default": plan.rule_id}, "Parameters": names})
    if with_runbooks:
        groups.append({"Label": {"default": "Remediation"},
                       "Parameters": [AUTOMATIC] + [setting[0] for setting in REMEDIATION_SETTINGS]})
    return groups


def evaluation_resources(plan: RulePlan, code) -> dict[str, dict]:
    """What runs a rule in one account and region: its function and what comes with it, and its remediation
    function, runbook document and automation role. The account stack and organization/member.yaml both deploy
    these."""
    return {**function_resources(plan, code), **remediation_function_resources(plan, code),
            **automation_resources(plan)}


def evaluation_outputs(plan: RulePlan) -> dict[str, dict]:
    outputs = function_output(plan)
    if plan.document is not None:
        outputs[f"{plan.logical}RemediationDocumentName"] = {
            "Description": f"SSM Automation document of {plan.rule_id}",
            "Value": ref(f"{plan.logical}RemediationDocument")}
    return outputs


def account_stack(plans) -> dict:
    parameters: dict[str, dict] = {
        NAME_PREFIX: name_prefix_parameter([plan.spec for plan in plans]),
        CREATE_RULES: {
            "Type": "String", "Default": "true", "AllowedValues": ["true", "false"],
            "Description": ("true: this stack creates the Config rules and remediation configurations. false: it "
                            "creates only the functions, documents and roles, for conformance-pack.yaml to use."),
        },
        LOG_RETENTION: log_retention_parameter(),
        ALARM_TOPIC: alarm_topic_parameter(),
    }
    parameters.update(rule_and_remediation_parameters(plans))
    conditions, rule_resources = rules_and_remediations(plans, REFERENCES)
    conditions = {CREATE_RULES_CONDITION: is_true(CREATE_RULES), **conditions, **alarm_conditions()}

    resources: dict[str, dict] = {}
    outputs: dict[str, dict] = {}
    for plan in plans:
        resources.update(evaluation_resources(plan, ACCOUNT_CODE_PATH))
        resources[plan.logical] = rule_resources[plan.logical]
        if plan.document is not None:
            resources[f"{plan.logical}Remediation"] = rule_resources[f"{plan.logical}Remediation"]
        outputs.update(evaluation_outputs(plan))
    template = {
        "AWSTemplateFormatVersion": FORMAT_VERSION,
        "Description": ("perimeter: AWS Config rule pack for network perimeter controls, one account and region "
                        "(Lambda functions, Config rules, SSM remediation runbooks)"),
        "Metadata": {"AWS::CloudFormation::Interface": {"ParameterGroups": parameter_groups(
            plans, any(plan.document is not None for plan in plans))}},
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": resources,
        "Outputs": outputs,
    }
    return prune_conditions(template)
