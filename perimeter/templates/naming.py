"""Names: the rules' logical ids, their template parameters' names, and the physical names and ARNs of what the
templates create, all ``<NamePrefix><rule id><suffix>`` and within their services' length limits.

IAM is global: a role name fixed in a template collides when the template is deployed in a second region of the
account (EntityAlreadyExists). The only named roles, the automation roles (Config remediation and the conformance
packs name them by ARN), therefore carry the region: ``<NamePrefix><rule id>-<region>``. The functions' roles are
unnamed (CloudFormation makes each name unique), since nothing outside their stack names them."""
from __future__ import annotations

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
DOCUMENT_SUFFIX = "-remediation"
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


def remediation_parameter_name(logical: str, name: str) -> str:
    return f"{logical}Remediation{name}"


def max_prefix_length(specs) -> int:
    """The longest NamePrefix for which every named role and function stays within its service's limit."""
    longest = max(len(spec.rule_id) for spec in specs)
    return min(MAX_IAM_ROLE_NAME - longest - ROLE_SUFFIX_LENGTH, MAX_FUNCTION_NAME - longest)


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
