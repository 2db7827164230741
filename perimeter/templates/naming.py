"""Names: the rules' logical ids, their template parameters' names, and the physical names and ARNs of what the
templates create, all ``<NamePrefix><rule id><suffix>`` and within their services' length limits.

IAM is global: a role name fixed in a template collides when the template is deployed in a second region of the
account (EntityAlreadyExists). The only named roles, the automation roles (Config remediation and the conformance
packs name them by ARN), therefore carry the region: ``<NamePrefix><rule id>-<region>`` (a long rule id shortened, see role_rule_part). The functions' roles are
unnamed (CloudFormation makes each name unique), since nothing outside their stack names them."""
from __future__ import annotations

import hashlib

from perimeter.exemptions import PACK_WIDE_PARAMETERS
from perimeter.registry import RuleSpec
from perimeter.templates.cfn import sub

MAX_IAM_ROLE_NAME = 64
MAX_FUNCTION_NAME = 64
# The longest region code (us-isof-south-1) in botocore's endpoint data; tests/test_templates.py keeps it so.
MAX_REGION_LENGTH = 15

NAME_PREFIX = "NamePrefix"
DEFAULT_NAME_PREFIX = "perimeter-"
# Suffixes after "<prefix><rule id>" of the named resources (Fn::Sub text).
REMEDIATION_ROLE_SUFFIX = "-${AWS::Region}"
# Rule ids run to 44 characters (netfw-policy-default-action-fragment-packets, after the AWS managed rule), and an
# automation role's name must hold the prefix, the rule and the region within IAM's 64: the rule part of a role
# name is the id itself up to this length, else a deterministic short form (role_rule_part).
ROLE_RULE_LENGTH = 34
DOCUMENT_SUFFIX = "-remediation"
# The rule's remediation function (Lambda), which its document calls; names of other services, so no clash.
REMEDIATION_FUNCTION_SUFFIX = "-remediation"
ALARM_SUFFIX = "-errors"
# The longest the role suffix gets once CloudFormation substitutes the region.
ROLE_SUFFIX_LENGTH = len("-") + MAX_REGION_LENGTH

# The deploying account, as Fn::Sub text (for ARNs of what the same account's stack created).
THIS_ACCOUNT = "${AWS::AccountId}"


def capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def logical_id(rule_id: str) -> str:
    """The rule's CloudFormation logical id: ``sg-ingress-port-range-restricted`` -> ``SgIngressPortRangeRestricted``."""
    return "".join(capitalised(part) for part in rule_id.split("-"))


def rule_parameter_name(logical: str, name: str) -> str:
    """``<RuleLogicalId>Param<Name>``, the conformance pack convention (maxPorts -> ...ParamMaxPorts)."""
    return f"{logical}Param{capitalised(name)}"


def frequency_parameter_name(logical: str) -> str:
    """The template parameter holding a periodic rule's MaximumExecutionFrequency."""
    return f"{logical}MaximumExecutionFrequency"


def input_parameter_name(logical: str, name: str) -> str:
    """The template parameter a rule parameter's value comes from. A parameter every rule has (maxExemptionDays)
    is one template parameter for the whole pack (``MaxExemptionDays``): a conformance pack takes at most 60
    input parameters, so one per rule would not fit. Every other one is the rule's own ``<Logical>Param<Name>``."""
    return capitalised(name) if name in PACK_WIDE_PARAMETERS else rule_parameter_name(logical, name)


def remediation_parameter_name(logical: str, name: str) -> str:
    return f"{logical}Remediation{name}"


def max_prefix_length(specs) -> int:
    """The longest NamePrefix for which every named role and function stays within its service's limit."""
    longest = max(len(spec.rule_id) for spec in specs)
    longest_role = max(len(role_rule_part(spec.rule_id)) for spec in specs)
    return min(MAX_IAM_ROLE_NAME - longest_role - ROLE_SUFFIX_LENGTH, MAX_FUNCTION_NAME - longest,
               MAX_FUNCTION_NAME - longest_role - len(REMEDIATION_FUNCTION_SUFFIX))


def role_rule_part(rule_id: str) -> str:
    """The rule's part of a name that also carries a suffix (its automation role, its remediation function): the
    id, or for a longer id its first characters and four hex digits of its SHA-256, so that two long ids sharing a
    beginning still get different names."""
    if len(rule_id) <= ROLE_RULE_LENGTH:
        return rule_id
    return f"{rule_id[:ROLE_RULE_LENGTH - 5]}-{hashlib.sha256(rule_id.encode()).hexdigest()[:4]}"


def remediation_role_text(spec: RuleSpec) -> str:
    """The automation role's name as Fn::Sub text: ``${NamePrefix}<rule part>-${AWS::Region}``."""
    return f"${{{NAME_PREFIX}}}{role_rule_part(spec.rule_id)}{REMEDIATION_ROLE_SUFFIX}"


def function_name_text(spec: RuleSpec, suffix: str = "") -> str:
    """A function's name as Fn::Sub text: the evaluation function ``${NamePrefix}<rule id>``, the remediation one
    ``${NamePrefix}<rule part><suffix>`` (Lambda names hold 64 characters)."""
    return f"${{{NAME_PREFIX}}}{role_rule_part(spec.rule_id) if suffix else spec.rule_id}{suffix}"


def named_text(spec: RuleSpec, suffix: str = "") -> str:
    """The physical name as Fn::Sub text: ``${NamePrefix}<rule id><suffix>``."""
    return f"${{{NAME_PREFIX}}}{spec.rule_id}{suffix}"


def named(spec: RuleSpec, suffix: str = "") -> dict:
    return sub(named_text(spec, suffix))


def role_arn_text(account: str, role_name: str) -> str:
    """A role's ARN as Fn::Sub text; ``account`` is Fn::Sub text too (or ``*``)."""
    return f"arn:${{AWS::Partition}}:iam::{account}:role/{role_name}"


def function_arn_text(account: str, function_name: str) -> str:
    """A Lambda function's ARN in the deployment's region, as Fn::Sub text; ``account`` is Fn::Sub text too."""
    return f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:{account}:function:{function_name}"
