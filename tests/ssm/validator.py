"""Validate an Automation document (schemaVersion 0.3) the way SSM would, as far as can be done offline.

Checks, each reported as a Finding of its own kind:
- SCHEMA: the JSON schema shipped by the npm package aws-ssm-document-language-service (installed by `make test`
  into build/npm), with an overlay applied here for what it lacks or has outdated: current Python runtimes for
  aws:executeScript, a working aws:branch condition schema, aws:loop, onCancel, required output fields, the
  InputPayload input and 300-second timeout of aws:invokeLambdaFunction.
- AWS_API: Service / Api / parameters of aws:executeAwsApi and the assert/wait actions against botocore's models;
  the Lambda Invoke parameters of aws:invokeLambdaFunction (FunctionName, Qualifier, InvocationType, LogType,
  ClientContext, Payload) against botocore's lambda Invoke input shape, patterns and lengths included.
- HANDLER: each aws:executeScript Handler is a top-level function of its Script taking (events, context).
- REFERENCE: each {{ X }} names a parameter, an automation variable or an output of an earlier step; document
  outputs name declared step outputs.
- STEP_TARGET: nextStep, branch NextStep / Default, onFailure / onCancel step:X name a real step; names unique.
"""
from __future__ import annotations

import ast
import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import botocore.session
from botocore.exceptions import UnknownServiceError
from jsonschema import Draft7Validator

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PACKAGE = "aws-ssm-document-language-service"
SCHEMA_PATH = REPO_ROOT / "build" / "npm" / "node_modules" / SCHEMA_PACKAGE / "dist" / "schema.json"

SCHEMA, AWS_API, HANDLER, REFERENCE, STEP_TARGET = "schema", "aws-api", "handler", "reference", "step-target"

# The package lists python3.6/3.7 only; SSM no longer accepts 3.6-3.8 for new or updated runbooks. We accept the
# runtimes our code is written and tested for.
PYTHON_RUNTIMES = ("python3.11", "python3.12")
API_ACTIONS = ("aws:executeAwsApi", "aws:assertAwsResourceProperty", "aws:waitForAwsResourceProperty")
NON_API_INPUTS = {"Service", "Api", "PropertySelector", "DesiredValues"}
# Documented system and automation variables; `ssm:` names a Parameter Store parameter, resolved by SSM.
AUTOMATION_VARIABLES = {
    "automation:EXECUTION_ID", "global:ACCOUNT_ID", "global:AWS_PARTITION", "global:DATE", "global:DATE_TIME",
    "global:REGION",
}
LOOP_OUTPUTS = {"CurrentIteration", "CurrentIteratorValue"}
# Outputs an action has without declaring them (automation-action-lamb.html, "Output").
PREDEFINED_OUTPUTS = {"aws:invokeLambdaFunction": {"StatusCode", "FunctionError", "LogResult", "Payload"}}
# aws:invokeLambdaFunction: "Each aws:invokeLambdaFunction action can run up to a maximum duration of 300 seconds"
# (automation-action-lamb.html); its inputs besides Lambda's Invoke parameters: InputPayload, "A YAML or JSON object
# that is passed to the first parameter of the handler" (StringMap).
INVOKE_LAMBDA = "aws:invokeLambdaFunction"
INVOKE_MAX_SECONDS = 300
INVOKE_SSM_INPUTS = {"InputPayload"}
REFERENCE_PATTERN = re.compile(r"{{\s*([^{}\s]+)\s*}}")


class SchemaMissing(RuntimeError):
    """The npm package holding the schema is not installed."""


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"


def validate_document(document: Any, schema_path: Path = SCHEMA_PATH) -> list[Finding]:
    """Every finding about the document; an empty list means it is valid."""
    findings = schema_findings(document, load_schema(schema_path))
    if not isinstance(document, dict) or not isinstance(document.get("mainSteps"), list):
        return findings  # the schema already says what is wrong; the other checks need steps to look at
    return findings + api_findings(document) + handler_findings(document) + reference_findings(document) \
        + target_findings(document)


# --- SCHEMA -------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def load_schema(schema_path: Path = SCHEMA_PATH) -> dict:
    """The package's Automation schema with our overlay applied (the package file is never copied or changed)."""
    if not Path(schema_path).is_file():
        raise SchemaMissing(
            f"{schema_path} is missing: run `make test`, which installs the npm package {SCHEMA_PACKAGE} "
            "into build/npm (the SSM document validator needs its schema)"
        )
    return _overlay(json.loads(Path(schema_path).read_text(encoding="utf-8")))


def schema_findings(document: Any, schema: dict) -> list[Finding]:
    findings = []
    for error in Draft7Validator(schema).iter_errors(document):
        detail = _most_specific(error)
        findings.append(Finding(SCHEMA, _where(document, detail.absolute_path), detail.message))
    return sorted(findings, key=lambda finding: (finding.where, finding.message))


def _most_specific(error):
    """A oneOf/anyOf failure says only "not valid under any"; the deepest sub-error says why. Shallow ones, and
    "required" ones, usually come from the alternatives the author did not mean."""
    while error.context:
        error = max(error.context, key=lambda sub: (len(sub.absolute_path), sub.validator != "required"))
    return error


def _overlay(package_schema: dict) -> dict:
    """What package 1.0.0 lacks or has wrong: aws:loop, onCancel, required output fields, current runtimes, and a
    branch schema that checks something (the package's describes a `branchConditional` key no document has)."""
    schema = copy.deepcopy(package_schema)
    step = schema["properties"]["mainSteps"]["items"]
    properties = step["properties"]
    properties["action"]["enum"] = sorted(set(properties["action"]["enum"]) | {"aws:loop"})
    properties["onCancel"] = {"type": "string", "pattern": r"^(Abort|step:\w+)$"}
    properties["outputs"]["items"].update(required=["Name", "Selector", "Type"], additionalProperties=False)
    by_action = {rule["if"]["properties"]["action"]["const"]: rule for rule in step["allOf"]}
    by_action["aws:executeScript"] = _when("aws:executeScript", _execute_script_inputs(by_action))
    by_action["aws:branch"] = _when("aws:branch", BRANCH_INPUTS)
    by_action["aws:loop"] = _when("aws:loop", LOOP_INPUTS)
    by_action[INVOKE_LAMBDA] = _invoke_lambda(by_action)
    step["allOf"] = [by_action[action] for action in sorted(by_action)]
    schema.setdefault("definitions", {})["condition"] = _condition({})
    return schema


def _when(action: str, inputs: dict) -> dict:
    return {"if": {"properties": {"action": {"const": action}}}, "then": {"properties": {"inputs": inputs}}}


def _execute_script_inputs(by_action: dict) -> dict:
    inputs = copy.deepcopy(by_action["aws:executeScript"]["then"]["properties"]["inputs"])
    runtime_choices = inputs["properties"]["Runtime"]["oneOf"]
    runtime_choices[0] = {"enum": list(PYTHON_RUNTIMES)}  # the package's list of (retired) runtimes
    inputs["required"] = ["Runtime", "Handler"]
    inputs["additionalProperties"] = False  # catches a ScriptFile left in a document that was not rendered
    inputs["anyOf"] = [{"required": ["Script"]}, {"required": ["Attachment"]}]
    return inputs


def _invoke_lambda(by_action: dict) -> dict:
    """The package's inputs with the documented InputPayload, nothing else, and the action's 300-second limit."""
    rule = _when(INVOKE_LAMBDA, copy.deepcopy(by_action[INVOKE_LAMBDA]["then"]["properties"]["inputs"]))
    inputs = rule["then"]["properties"]["inputs"]
    inputs["properties"]["InputPayload"] = {"type": "object", "description": "Passed to the handler's first parameter."}
    inputs["properties"]["Payload"] = {"type": "string", "description": "A JSON string (legacy; InputPayload wins)."}
    inputs["properties"]["ClientContext"] = {"type": "string"}
    inputs["additionalProperties"] = False
    rule["then"]["properties"]["timeoutSeconds"] = {"anyOf": [{"type": "integer", "minimum": 1,
                                                               "maximum": INVOKE_MAX_SECONDS}, TEMPLATE]}
    return rule


CONDITION_REF = {"$ref": "#/definitions/condition"}
TEMPLATE = {"type": "string", "pattern": r"^{{\s*[^{}\s]+\s*}}$"}
CONDITION_OPERATORS = {
    **{name: {"type": "string"} for name in ("StringEquals", "EqualsIgnoreCase", "StartsWith", "EndsWith",
                                             "Contains")},
    **{name: {"anyOf": [{"type": "number"}, TEMPLATE]} for name in (
        "NumericEquals", "NumericGreater", "NumericLesser", "NumericGreaterOrEquals", "NumericLesserOrEquals")},
    "BooleanEquals": {"anyOf": [{"type": "boolean"}, TEMPLATE]},
}


def _condition(extra: dict) -> dict:
    """A choice or loop condition: Variable plus one operator, or And / Or of conditions, or Not of one."""
    shapes = [  # (properties, required, how many keys)
        ({"Variable": {"type": "string"}, **CONDITION_OPERATORS}, ["Variable"], 2),
        ({"And": {"type": "array", "minItems": 1, "items": CONDITION_REF}}, ["And"], 1),
        ({"Or": {"type": "array", "minItems": 1, "items": CONDITION_REF}}, ["Or"], 1),
        ({"Not": CONDITION_REF}, ["Not"], 1),
    ]
    return {"type": "object", "oneOf": [
        {"properties": {**extra, **props}, "required": [*extra, *required], "additionalProperties": False,
         "minProperties": count + len(extra), "maxProperties": count + len(extra)}
        for props, required, count in shapes
    ]}


BRANCH_INPUTS = {
    "type": "object",
    "required": ["Choices"],
    "properties": {
        "Choices": {"type": "array", "minItems": 1, "items": _condition({"NextStep": {"type": "string"}})},
        "Default": {"type": "string"},
    },
    "additionalProperties": False,
}
LOOP_INPUTS = {
    "type": "object",
    "required": ["Steps"],
    "properties": {
        "Steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/properties/mainSteps/items"}},
        "Iterators": {"anyOf": [{"type": "array"}, TEMPLATE]},
        "IteratorDataType": {"enum": ["Boolean", "Integer", "String", "StringMap"]},
        "LoopCondition": CONDITION_REF,
        "MaxIterations": {"type": "integer", "minimum": 1, "maximum": 100},
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["Iterators"]}, {"required": ["LoopCondition"]}],
}


# --- AWS_API ------------------------------------------------------------------------------------------------

def api_findings(document: dict) -> list[Finding]:
    findings = []
    for where, step in walk_steps(document["mainSteps"]):
        inputs = step.get("inputs")
        if step.get("action") in API_ACTIONS and isinstance(inputs, dict):
            findings += _api_call_findings(where, inputs)
        if step.get("action") == INVOKE_LAMBDA and isinstance(inputs, dict):
            findings += _invoke_findings(where, inputs)
    return findings


def _invoke_findings(where: str, inputs: dict) -> list[Finding]:
    """The step's Lambda Invoke parameters against botocore's model; InputPayload is SSM's own input."""
    shape = _service_model("lambda").operation_model("Invoke").input_shape
    parameters = {key: value for key, value in inputs.items() if key not in INVOKE_SSM_INPUTS}
    return [Finding(AWS_API, f"{where}.inputs{path}", f"lambda.Invoke: {message}")
            for path, message in _shape_errors(shape, parameters, "", constraints=True)]


@functools.lru_cache(maxsize=None)
def _service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def _api_call_findings(where: str, inputs: dict) -> list[Finding]:
    service, api = inputs.get("Service"), inputs.get("Api")
    try:
        model = _service_model(str(service))
    except UnknownServiceError:
        return [Finding(AWS_API, where, f"unknown Service {service!r}; SSM spells it as boto3 does, e.g. 'ec2', "
                                        "'network-firewall'")]
    if api not in model.operation_names:
        pascal = {botocore.xform_name(name): name for name in model.operation_names}.get(str(api))
        hint = f"; write it in PascalCase: {pascal!r}" if pascal else ""
        return [Finding(AWS_API, where, f"{service} has no operation {api!r}{hint}")]
    input_shape = model.operation_model(api).input_shape
    parameters = {key: value for key, value in inputs.items() if key not in NON_API_INPUTS}
    if input_shape is None:
        return [Finding(AWS_API, f"{where}.inputs", f"{service}.{api} takes no parameters, got {sorted(parameters)}")
                ] if parameters else []
    return [Finding(AWS_API, f"{where}.inputs{path}", f"{service}.{api}: {message}")
            for path, message in _shape_errors(input_shape, parameters, "")]


PYTHON_TYPES = {"string": str, "boolean": bool, "integer": int, "long": int, "float": (int, float),
                "double": (int, float), "timestamp": str, "blob": str}


def _shape_errors(shape, value: Any, path: str, constraints: bool = False) -> Iterator[tuple[str, str]]:
    """Unknown or missing members and wrong literal types; values made of {{ }} references are typed at run time.
    With ``constraints``, literal strings are also held to the model's length limits and pattern."""
    if isinstance(value, str) and REFERENCE_PATTERN.search(value):
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            yield path, f"expects a structure ({shape.name}), got {type(value).__name__}"
            return
        for name in sorted(set(value) - set(shape.members)):
            yield f"{path}.{name}", f"unknown parameter {name!r} (valid: {', '.join(sorted(shape.members))})"
        for name in sorted(set(shape.required_members) - set(value)):
            yield path or ".", f"missing required parameter {name!r}"
        for name in sorted(set(value) & set(shape.members)):
            yield from _shape_errors(shape.members[name], value[name], f"{path}.{name}", constraints)
    elif kind == "list":
        if not isinstance(value, list):
            yield path, f"expects a list, got {type(value).__name__}"
            return
        for index, item in enumerate(value):
            yield from _shape_errors(shape.member, item, f"{path}[{index}]", constraints)
    elif kind == "map":
        if not isinstance(value, dict):
            yield path, f"expects a map, got {type(value).__name__}"
            return
        for key, item in value.items():
            yield from _shape_errors(shape.value, item, f"{path}.{key}", constraints)
    elif kind in PYTHON_TYPES:
        expected = PYTHON_TYPES[kind]
        if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
            yield path, f"expects {kind}, got {type(value).__name__} {value!r}"
        elif getattr(shape, "enum", None) and value not in shape.enum:
            yield path, f"{value!r} is not one of {shape.enum}"
        elif constraints and kind == "string":
            yield from _string_constraint_errors(shape, value, path)


def _string_constraint_errors(shape, value: str, path: str) -> Iterator[tuple[str, str]]:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max", len(value))
    if not low <= len(value) <= high:
        yield path, f"{value!r} has {len(value)} characters, outside {low}-{high}"
    pattern = shape.metadata.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        yield path, f"{value!r} does not match the pattern {pattern}"


# --- HANDLER ------------------------------------------------------------------------------------------------

def handler_findings(document: dict) -> list[Finding]:
    findings = []
    for where, step in walk_steps(document["mainSteps"]):
        inputs = step.get("inputs")
        if step.get("action") != "aws:executeScript" or not isinstance(inputs, dict):
            continue
        if "ScriptFile" in inputs:
            findings.append(Finding(HANDLER, where, "ScriptFile is not an SSM input: render the runbook first"))
        if isinstance(inputs.get("Script"), str) and str(inputs.get("Runtime", "")).startswith("python"):
            message = _handler_problem(inputs["Script"], inputs.get("Handler"))
            if message:
                findings.append(Finding(HANDLER, f"{where}.inputs.Handler", message))
    return findings


def _handler_problem(script: str, handler: Any) -> str | None:
    try:
        tree = ast.parse(script)
    except SyntaxError as error:
        return f"the Script does not parse: {error}"
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    if handler not in functions:
        return f"no top-level function {handler!r} in the Script (functions: {', '.join(sorted(functions))})"
    arguments = functions[handler].args
    if len(arguments.posonlyargs + arguments.args) != 2:
        return f"{handler} must take two parameters (events, context)"
    return None


# --- REFERENCE ----------------------------------------------------------------------------------------------

def reference_findings(document: dict) -> list[Finding]:
    parameters = set(document.get("parameters") or {})
    findings = [Finding(REFERENCE, "assumeRole", problem)
                for problem in _unresolved(document.get("assumeRole"), parameters, {})]
    all_outputs: dict[str, set[str]] = {}

    def check(steps: list, visible: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
        visible = dict(visible)
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            where, name = _step_where(prefix, index, step), step.get("name")
            inputs = step.get("inputs") if isinstance(step.get("inputs"), dict) else {}
            outputs = {output.get("Name") for output in step.get("outputs") or [] if isinstance(output, dict)}
            outputs |= PREDEFINED_OUTPUTS.get(step.get("action"), set())
            if step.get("action") == "aws:loop":
                outputs |= LOOP_OUTPUTS
                outer = {key: value for key, value in inputs.items() if key not in ("Steps", "LoopCondition")}
                findings.extend(_problems(where, outer, parameters, visible))
                inner = check(inputs.get("Steps") or [], {**visible, name: outputs}, f"{where}.inputs.Steps")
                findings.extend(_problems(where, inputs.get("LoopCondition"), parameters, inner))
            else:
                # SSM does not substitute inside the script text; the script gets its data via InputPayload.
                checked = {key: value for key, value in inputs.items() if key != "Script"}
                findings.extend(_problems(where, checked, parameters, visible))
            visible[name] = all_outputs[name] = outputs
        return visible

    check(document["mainSteps"], {}, "mainSteps")
    for index, output in enumerate(document.get("outputs") or []):
        step, _, name = str(output).partition(".")
        if name not in all_outputs.get(step, set()):
            findings.append(Finding(REFERENCE, f"outputs[{index}]", f"{output!r} is not a declared step output"))
    return findings


def _problems(where: str, value: Any, parameters: set[str], visible: dict) -> list[Finding]:
    return [Finding(REFERENCE, where, problem) for problem in _unresolved(value, parameters, visible)]


def _unresolved(value: Any, parameters: set[str], visible: dict[str, set[str]]) -> Iterator[str]:
    for text in _strings(value):
        for name in REFERENCE_PATTERN.findall(text):
            prefix, colon, _ = name.partition(":")
            step, dot, output = name.partition(".")
            if colon:
                if prefix != "ssm" and name not in AUTOMATION_VARIABLES:
                    yield f"{{{{ {name} }}}} is not an automation variable ({', '.join(sorted(AUTOMATION_VARIABLES))})"
            elif dot:
                if step not in visible:
                    yield f"{{{{ {name} }}}}: no earlier step named {step!r}"
                elif output not in visible[step]:
                    yield f"{{{{ {name} }}}}: step {step!r} declares no output {output!r}"
            elif name not in parameters:
                yield f"{{{{ {name} }}}} is not a declared parameter"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- STEP_TARGET --------------------------------------------------------------------------------------------

def target_findings(document: dict) -> list[Finding]:
    findings = []
    seen: set[str] = set()
    for where, step in walk_steps(document["mainSteps"]):
        if step.get("name") in seen:
            findings.append(Finding(STEP_TARGET, where, f"step name {step.get('name')!r} is used twice"))
        seen.add(step.get("name"))
    for siblings, prefix, names in _step_lists(document["mainSteps"], "mainSteps"):
        for index, step in enumerate(siblings):
            if not isinstance(step, dict):
                continue
            where = _step_where(prefix, index, step)
            for field, target in _jump_targets(step):
                if target not in names:
                    findings.append(Finding(STEP_TARGET, f"{where}.{field}", f"no step named {target!r}"))
    return findings


def _jump_targets(step: dict) -> Iterator[tuple[str, Any]]:
    if "nextStep" in step:
        yield "nextStep", step["nextStep"]
    for field in ("onFailure", "onCancel"):
        value = step.get(field)
        if isinstance(value, str) and value.startswith("step:"):
            yield field, value[len("step:"):]
    inputs = step.get("inputs")
    if step.get("action") == "aws:branch" and isinstance(inputs, dict):
        for index, choice in enumerate(inputs.get("Choices") or []):
            if isinstance(choice, dict) and "NextStep" in choice:
                yield f"inputs.Choices[{index}].NextStep", choice["NextStep"]
        if "Default" in inputs:
            yield "inputs.Default", inputs["Default"]


# --- steps --------------------------------------------------------------------------------------------------

def walk_steps(steps: list, prefix: str = "mainSteps") -> Iterator[tuple[str, dict]]:
    """(where, step) for every step, aws:loop bodies included."""
    for siblings, list_prefix, _ in _step_lists(steps, prefix):
        for index, step in enumerate(siblings):
            if isinstance(step, dict):
                yield _step_where(list_prefix, index, step), step


def _step_lists(steps: list, prefix: str, enclosing: frozenset = frozenset()) -> Iterator[tuple[list, str, frozenset]]:
    """Each list of sibling steps (mainSteps, then the Steps of every aws:loop, depth first), with the names its
    steps can jump to: their own list's and the enclosing lists' (whether SSM lets a loop body jump out of its
    loop is not documented, so it is not reported)."""
    names = enclosing | {step.get("name") for step in steps if isinstance(step, dict)}
    yield steps, prefix, names
    for index, step in enumerate(steps):
        inputs = step.get("inputs") if isinstance(step, dict) else None
        if _is_loop(step) and isinstance(inputs.get("Steps"), list):
            yield from _step_lists(inputs["Steps"], f"{_step_where(prefix, index, step)}.inputs.Steps", names)


def _is_loop(step: Any) -> bool:
    return isinstance(step, dict) and step.get("action") == "aws:loop" and isinstance(step.get("inputs"), dict)


def _step_where(prefix: str, index: int, step: dict) -> str:
    return f"{prefix}[{index}]({step.get('name')})"


def _where(document: Any, path) -> str:
    """A schema error's path written like the other findings: mainSteps[2](Fix).inputs.Runtime."""
    text, node = "", document
    for part in path:
        child = node[part] if isinstance(node, (dict, list)) else None
        if isinstance(part, int):
            name = child.get("name") if isinstance(child, dict) and "action" in child else None
            text += f"[{part}]({name})" if name else f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        node = child
    return text or "(document)"
