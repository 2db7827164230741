"""The declaration schema (perimeter.declarations): each violation is refused naming the file and the field, and
declared parameters parse the same for every rule."""
from __future__ import annotations

import copy

import pytest

from perimeter.declaration_schema import DeclarationError, validate
from perimeter.declarations import declared_values
from perimeter.parameters import ParameterError
from perimeter.ports import PortRange
from perimeter.registry import all_rules

WHERE = "rules/example_rule/declaration.py"


def example() -> dict:
    return {
        "id": "example-rule",
        "title": "An example",
        "description": "What it checks.",
        "severity": "Low",
        "frameworks": [],
        "controls": ["Security Hub EC2.19"],
        "resourceTypes": ["AWS::EC2::SecurityGroup"],
        "trigger": {"change": True, "periodic": None},
        "runtime": "python3.12",
        "parameters": {
            "maxPorts": {"type": "integer", "minimum": 1, "default": "1", "description": "At most this many."},
            "tcpPorts": {"type": "ports", "default": "22,3389", "description": "Ports."},
            "sourceScope": {"type": "choice", "values": ["any", "world"], "default": "world", "description": "Scope."},
            "strict": {"type": "boolean", "default": "false", "description": "Strict."},
            "logTypes": {"type": "list", "values": ["ALERT", "FLOW"], "default": "ALERT,FLOW", "description": "Logs."},
        },
        "lambdaPermissions": [{"actions": ["ec2:DescribeSecurityGroups"], "resources": ["*"]}],
        "remediation": {"resourceIdParameter": "GroupId", "permissions": [
            {"actions": ["ec2:RevokeSecurityGroupIngress"],
             "resources": ["arn:{partition}:ec2:{region}:{account}:security-group/*"]}]},
    }


@pytest.mark.parametrize("spec", all_rules(), ids=lambda spec: spec.rule_id)
def test_every_rule_declaration_is_valid(spec):
    validate(spec.declaration, f"rules/{spec.folder.name}/declaration.py")


def test_the_example_is_valid():
    validate(example(), WHERE)


def change(path: str, value) -> dict:
    declaration = copy.deepcopy(example())
    *parents, last = path.split(".")
    target = declaration
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return declaration


@pytest.mark.parametrize("path, value, field, problem", [
    ("owner", "me", "DECLARATION.owner", "unknown key"),
    ("title", KeyError, "DECLARATION.title", "is required"),
    ("severity", 3, "severity", "must be str, not int"),
    ("severity", "Urgent", "severity", "is not one of Informational"),
    ("id", "Example_Rule", "id", "is not a kebab-case rule id"),
    ("description", "x" * 257, "description", "257 characters; Config allows 256"),
    ("resourceTypes", ["EC2 SecurityGroup"], "resourceTypes[0]", "does not match"),
    ("trigger", {"change": False, "periodic": None}, "trigger", "change-triggered, periodic, or both"),
    ("trigger", {"change": True, "periodic": "Daily"}, "trigger.periodic", "is not one of One_Hour"),
    ("runtime", "nodejs20.x", "runtime", "is not a python3.N Lambda runtime"),
    ("parameters.maxPorts.description", KeyError, "parameters.maxPorts.description", "is required"),
    ("parameters.maxPorts.description", " ", "parameters.maxPorts.description", "must not be empty"),
    ("parameters.maxPorts.default", 1, "parameters.maxPorts.default", "must be str, not int"),
    ("parameters.maxPorts.default", "0", "parameters.maxPorts.default", "fails its own rule: parameter maxPorts: "
     "'0' is not an integer >= 1"),
    ("parameters.maxPorts.values", ["1"], "parameters.maxPorts.values", "unknown key"),
    ("parameters.maxPorts.type", "float", "parameters.maxPorts.type", "is not one of integer"),
    ("parameters.tcpPorts.default", "22-", "parameters.tcpPorts.default", "fails its own rule"),
    ("parameters.sourceScope.default", "public", "parameters.sourceScope.default", "is not one of any, world"),
    ("parameters.sourceScope.values", KeyError, "parameters.sourceScope.values", "is required"),
    ("parameters.logTypes.default", "ALERT,TLS", "parameters.logTypes.default", "'TLS' is not one of ALERT, FLOW"),
    ("parameters.strict.default", "yes", "parameters.strict.default", "is not true or false"),
    ("lambdaPermissions", [{"actions": ["DescribeSecurityGroups"], "resources": ["*"]}],
     "lambdaPermissions[0].actions[0]", "does not match"),
    ("lambdaPermissions", [{"actions": ["ec2:X"], "resources": ["arn:${AWS::Region}"]}],
     "lambdaPermissions[0].resources[0]", "the only placeholders are {partition}, {region}, {account}"),
    ("remediation.resourceIdParameter", "groupId", "remediation.resourceIdParameter", "is not a runbook parameter"),
    ("remediation.permissions", KeyError, "remediation.permissions", "is required"),
])
def test_a_declaration_outside_the_schema_is_refused_naming_file_and_field(path, value, field, problem):
    with pytest.raises(DeclarationError) as raised:
        validate(change(path, value), WHERE)

    message = str(raised.value)
    assert message.startswith(f"{WHERE}: {field}: "), message
    assert problem in message


def test_declared_values_parse_each_type_and_blank_means_the_default():
    values = declared_values(example(), {"maxPorts": " ", "strict": "TRUE", "sourceScope": "ANY"})

    assert values == {"maxPorts": 1, "tcpPorts": (PortRange(22, 22), PortRange(3389, 3389)), "sourceScope": "any",
                      "strict": True, "logTypes": ("ALERT", "FLOW")}


def test_the_word_none_means_no_ports():
    assert declared_values(example(), {"tcpPorts": "none"})["tcpPorts"] == ()


@pytest.mark.parametrize("raw, message", [
    ({"maxPorts": "abc"}, "parameter maxPorts: 'abc' is not an integer >= 1"),
    ({"tcpPorts": "70000"}, "parameter tcpPorts: '70000' is invalid"),
    ({"logTypes": "ALERT,DEBUG"}, "parameter logTypes: 'DEBUG' is not one of ALERT, FLOW"),
    ({"maxPorts": 3}, "parameter maxPorts: value 3 must be a string"),
    ({"other": "1"}, "unknown parameter(s) other (value '1')"),
])
def test_invalid_values_name_the_parameter_and_the_value(raw, message):
    with pytest.raises(ParameterError) as raised:
        declared_values(example(), raw)
    assert message in str(raised.value)
