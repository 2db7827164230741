"""Run a rendered Automation document in-process, step by step, for tests (moto runs no automations).

Supported actions: aws:executeScript, aws:executeAwsApi, aws:assertAwsResourceProperty, aws:branch,
aws:invokeLambdaFunction; step options nextStep, isEnd, isCritical, onFailure (Abort / Continue / step:X) and
maxAttempts. Parameters are checked and typed as SSM does when an execution starts ({{ }} of a whole string keeps the
value's type; inside text it is written out). AWS calls use plain ``boto3.client(service, region_name=...)`` with
the ambient credentials, so moto and botocore-level fakes intercept them; the document's assumeRole is resolved and
reported, never assumed. A script cannot import the pack's packages, which the SSM runtime does not have. A Lambda
function runs from its code folder (tests/ssm/lambdas.py): by default the functions templates/perimeter.yaml creates,
from the artifact perimeter.package builds.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import re
import sys
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from tests.ssm import lambdas
from tests.ssm.validator import NON_API_INPUTS, REFERENCE_PATTERN

REGION = "us-east-1"
# What the SSM Python runtime lacks and a script might find in the test process: the pack's own packages.
PACK_PACKAGES = ("perimeter", "rdklib")
MAX_STEP_RUNS = 500  # a document that runs more steps than this is looping
SUCCESS, FAILED = "Success", "Failed"
STOP = object()  # what next_step returns to end the automation


class ParameterError(ValueError):
    """SSM would refuse to start the execution: a parameter is missing, unknown, mistyped or not allowed."""


class StepFailure(Exception):
    """The current step failed; the message is what SSM would show as its failure."""


@dataclass
class StepRun:
    name: str
    action: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    attempts: int = 1


@dataclass
class RunResult:
    status: str
    steps: list[StepRun]  # in execution order; a step run twice appears twice
    outputs: dict[str, Any]  # the document's outputs, keyed "Step.Output"
    failure_message: str | None
    assume_role: str | None

    @property
    def step_outputs(self) -> dict[str, dict[str, Any]]:
        return {run.name: run.outputs for run in self.steps if run.status == SUCCESS}

    @property
    def executed(self) -> list[str]:
        return [run.name for run in self.steps]

    def step(self, name: str) -> StepRun:
        """The last run of the named step."""
        return [run for run in self.steps if run.name == name][-1]


def outputs(result: RunResult) -> dict[str, Any]:
    """A successful run's outputs by their output names (the failure message shows when it did not succeed)."""
    assert result.status == SUCCESS, result.failure_message
    return {name.split(".", 1)[1]: value for name, value in result.outputs.items()}


def run_document(document: dict, parameters: dict[str, Any] | None = None, *, region: str = REGION,
                 execution_id: str | None = None,
                 functions: Mapping[str, lambdas.LambdaFunction] | None = None) -> RunResult:
    """Execute the document's mainSteps; raises ParameterError where SSM would refuse to start. ``functions``: the
    Lambda functions by name (default: the account stack's, lambdas.deployed_functions)."""
    return _Execution(document, parameters or {}, region, execution_id or str(uuid.uuid4()), functions).run()


class _Execution:
    def __init__(self, document: dict, parameters: dict[str, Any], region: str, execution_id: str,
                 functions: Mapping[str, lambdas.LambdaFunction] | None = None):
        unsupported = sorted({step.get("action") for step in document["mainSteps"]} - set(ACTIONS))
        if unsupported:
            raise NotImplementedError(f"the test runner does not run {unsupported}; it runs {sorted(ACTIONS)}")
        self.document = document
        self.region = region
        self.execution_id = execution_id
        self.values = resolve_parameters(document.get("parameters") or {}, parameters)
        self.step_outputs: dict[str, dict[str, Any]] = {}
        self.clients: dict[str, Any] = {}
        self.functions = functions

    def run(self) -> RunResult:
        try:
            assume_role = self.substitute(self.document["assumeRole"]) if "assumeRole" in self.document else None
        except StepFailure as error:
            raise ParameterError(f"assumeRole: {error}") from error
        steps = self.document["mainSteps"]
        index_of = {step["name"]: index for index, step in enumerate(steps)}
        runs: list[StepRun] = []
        failure = None
        index = 0
        while 0 <= index < len(steps):
            if len(runs) == MAX_STEP_RUNS:
                raise RuntimeError(f"more than {MAX_STEP_RUNS} step runs: the document loops ({runs[-1].name})")
            step = steps[index]
            run, jump = self.attempt(step)
            runs.append(run)
            on_failure = step.get("onFailure", "Abort")
            if run.status == SUCCESS:
                self.step_outputs[run.name] = run.outputs
            elif on_failure == "Abort" or _flag(step.get("isCritical"), default=on_failure != "Continue"):
                failure = failure or f"Step {run.name} failed: {run.message}"
            target = self.next_step(step, run, jump)
            if target is STOP:
                break
            index = index + 1 if target is None else index_of[target]
        return RunResult(FAILED if failure else SUCCESS, runs, self.document_outputs(), failure, assume_role)

    def next_step(self, step: dict, run: StepRun, jump: str | None) -> Any:
        """The name of the step to run next, None for the following one, STOP to end the automation."""
        on_failure = step.get("onFailure", "Abort")
        if run.status == FAILED:
            if on_failure == "Abort":
                return STOP
            jump = on_failure[len("step:"):] if on_failure.startswith("step:") else None
        if jump is None and _flag(step.get("isEnd"), default=False):
            return STOP  # isEnd ends the automation whether the step succeeded or failed
        target = jump or step.get("nextStep")
        if target is not None and target not in {other["name"] for other in self.document["mainSteps"]}:
            raise ValueError(f"step {run.name} jumps to {target!r}, which is not a step")
        return target

    def document_outputs(self) -> dict[str, Any]:
        outputs = {}
        for reference in self.document.get("outputs") or []:
            step_name, _, name = reference.partition(".")
            if name in self.step_outputs.get(step_name, {}):
                outputs[reference] = self.step_outputs[step_name][name]
        return outputs

    def attempt(self, step: dict) -> tuple[StepRun, str | None]:
        """Run the step up to maxAttempts times; (its run, the step a branch chose)."""
        attempts = int(step.get("maxAttempts", 1))
        message = None
        for attempt in range(1, attempts + 1):
            try:
                outputs, jump = ACTIONS[step["action"]](self, step)
                return StepRun(step["name"], step["action"], SUCCESS, outputs, attempts=attempt), jump
            except StepFailure as error:
                message = str(error)
        return StepRun(step["name"], step["action"], FAILED, message=message, attempts=attempts), None

    # --- substitution ---

    def substitute(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.substitute(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if not isinstance(value, str):
            return value
        whole = REFERENCE_PATTERN.fullmatch(value.strip())
        if whole:
            return self.lookup(whole.group(1))
        return REFERENCE_PATTERN.sub(lambda match: as_text(self.lookup(match.group(1))), value)

    def lookup(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        variables = {
            "automation:EXECUTION_ID": lambda: self.execution_id,
            "global:REGION": lambda: self.region,
            "global:AWS_PARTITION": lambda: "aws",
            "global:ACCOUNT_ID": lambda: self.client("sts").get_caller_identity()["Account"],
            "global:DATE": lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
            "global:DATE_TIME": lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d_%H.%M.%S"),
        }
        if name in variables:
            return variables[name]()
        step, dot, output = name.partition(".")
        if dot and output in self.step_outputs.get(step, {}):
            return self.step_outputs[step][output]
        if dot:
            raise StepFailure(f"{{{{ {name} }}}}: step {step} has not produced output {output}")
        raise StepFailure(f"{{{{ {name} }}}} is neither a parameter nor an automation variable")

    def client(self, service: str):
        if service not in self.clients:
            self.clients[service] = boto3.client(service, region_name=self.region)
        return self.clients[service]

    # --- actions ---

    def execute_script(self, step: dict) -> tuple[dict, None]:
        inputs = step["inputs"]
        # The script text is code, not a template: only the other inputs are substituted.
        resolved = self.substitute({key: value for key, value in inputs.items() if key != "Script"})
        events = resolved.get("InputPayload", {})
        if isinstance(events, str):
            events = json.loads(events or "{}")
        # Published runbooks read context['automation:EXECUTION_ID']; nothing else in it is documented, so nothing
        # else is offered (a script relying on more would pass here and fail in SSM). The region comes from boto3's
        # environment there, as it does here under moto.
        context = {"automation:EXECUTION_ID": self.execution_id}
        namespace: dict[str, Any] = {"__name__": "__ssm_script__"}
        with pack_packages_unavailable():
            try:
                exec(compile(inputs["Script"], f"<{step['name']} Script>", "exec"), namespace)
                handler = namespace.get(resolved["Handler"])
                if not callable(handler):
                    raise StepFailure(f"the Script defines no function {resolved['Handler']}")
                payload = handler(events, context)
            except StepFailure:
                raise
            except Exception as error:  # the step fails with the script's traceback, as in SSM
                raise StepFailure("".join(traceback.format_exception(error)).strip()) from error
        try:
            payload = json.loads(json.dumps(payload))
        except (TypeError, ValueError) as error:
            raise StepFailure(f"the handler returned a value that is not JSON: {error}") from error
        return self.outputs(step, {"Payload": payload}), None

    def invoke_lambda(self, step: dict) -> tuple[dict, None]:
        """Invoke the function synchronously. Its predefined outputs are StatusCode, FunctionError (only when the
        function failed), Payload (the JSON text of its answer); declared outputs select from the same response."""
        inputs = self.substitute(step["inputs"])
        if inputs.get("InvocationType", "RequestResponse") != "RequestResponse":
            raise NotImplementedError("the test runner invokes functions with InvocationType RequestResponse only")
        # "If you define both InputPayload and Payload for the action, InputPayload takes precedence"
        # (automation-action-lamb.html).
        if "InputPayload" in inputs:
            event = inputs["InputPayload"]
        else:
            try:
                event = json.loads(inputs.get("Payload") or "{}")
            except ValueError as error:
                raise StepFailure(f"Payload is not JSON: {error}") from error
        functions = lambdas.deployed_functions() if self.functions is None else self.functions
        try:
            function = lambdas.function_named(functions, inputs["FunctionName"], self.region)
        except lambdas.FunctionNotFound as error:
            raise StepFailure(f"lambda.Invoke: ResourceNotFoundException: {error}") from error
        response = lambdas.invoke(function, event, region=self.region)
        predefined = {name: response[name] for name in ("StatusCode", "FunctionError", "Payload") if name in response}
        return {**predefined, **self.outputs(step, response)}, None

    def execute_aws_api(self, step: dict) -> tuple[dict, None]:
        return self.outputs(step, self.call_api(self.substitute(step["inputs"]))), None

    def assert_property(self, step: dict) -> tuple[dict, None]:
        inputs = self.substitute(step["inputs"])
        response = self.call_api(inputs)
        value = select(response, inputs["PropertySelector"])
        found = value if isinstance(value, list) else [] if value is MISSING else [value]
        desired = [str(item) for item in inputs["DesiredValues"]]
        # SSM compares text: a Boolean desired value is written True / False.
        if not found or any(str(item) not in desired for item in found):
            raise StepFailure(f"{inputs['PropertySelector']} is {as_text(value) if found else 'absent'}, "
                              f"expected one of {desired}")
        return {}, None

    def branch(self, step: dict) -> tuple[dict, str | None]:
        inputs = self.substitute(step["inputs"])
        for choice in inputs["Choices"]:
            if holds(choice):
                return {}, choice["NextStep"]
        return {}, inputs.get("Default")

    def call_api(self, inputs: dict) -> dict:
        parameters = {key: value for key, value in inputs.items() if key not in NON_API_INPUTS}
        try:
            method = getattr(self.client(inputs["Service"]), xform_name(inputs["Api"]))
            response = method(**parameters)
        except (BotoCoreError, ClientError) as error:
            raise StepFailure(f"{inputs['Service']}.{inputs['Api']}: {error}") from error
        return json.loads(json.dumps(response, default=str))  # SSM hands on JSON; timestamps become text

    def outputs(self, step: dict, response: Any) -> dict[str, Any]:
        values = {}
        for output in step.get("outputs") or []:
            value = select(response, output["Selector"])
            if value is MISSING:
                continue  # SSM leaves the output unset; a later reference to it fails
            if not OUTPUT_TYPES[output["Type"]](value):
                raise StepFailure(f"output {output['Name']}: {output['Selector']} is {as_text(value)}, "
                                  f"not a {output['Type']}")
            values[output["Name"]] = value
        return values


ACTIONS: dict[str, Callable[[_Execution, dict], tuple[dict, str | None]]] = {
    "aws:executeScript": _Execution.execute_script,
    "aws:executeAwsApi": _Execution.execute_aws_api,
    "aws:assertAwsResourceProperty": _Execution.assert_property,
    "aws:branch": _Execution.branch,
    "aws:invokeLambdaFunction": _Execution.invoke_lambda,
}
OUTPUT_TYPES: dict[str, Callable[[Any], bool]] = {
    "String": lambda value: isinstance(value, str),
    "Integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "Boolean": lambda value: isinstance(value, bool),
    "StringList": lambda value: isinstance(value, list) and all(isinstance(item, str) for item in value),
    "MapList": lambda value: isinstance(value, list) and all(isinstance(item, dict) for item in value),
    "StringMap": lambda value: isinstance(value, dict),
}


# --- parameters ---------------------------------------------------------------------------------------------

def resolve_parameters(declared: dict[str, dict], given: dict[str, Any]) -> dict[str, Any]:
    """Typed parameter values: the given ones, else defaults; checked against the declarations."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(f"parameters not declared by the document: {unknown}")
    values = {}
    for name, declaration in declared.items():
        if name in given:
            raw = given[name]
        elif "default" in declaration:
            raw = declaration["default"]
        else:
            raise ParameterError(f"parameter {name} is required (it has no default)")
        values[name] = _checked(name, declaration, _typed(name, declaration["type"], raw))
    return values


def _typed(name: str, kind: str, raw: Any) -> Any:
    """The value as SSM types it; strings are accepted where the API would carry them as text."""
    try:
        if kind == "Boolean" and isinstance(raw, str):
            return {"true": True, "false": False}[raw.lower()]
        if kind == "Integer" and isinstance(raw, str):
            return int(raw)
        if kind in ("MapList", "StringMap") and isinstance(raw, str):
            return json.loads(raw)
    except (KeyError, ValueError) as error:
        raise ParameterError(f"parameter {name}: {raw!r} is not a {kind}") from error
    if not OUTPUT_TYPES[kind](raw):
        raise ParameterError(f"parameter {name}: {raw!r} is not a {kind}")
    return raw


def _checked(name: str, declaration: dict, value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    if "allowedValues" in declaration and any(item not in declaration["allowedValues"] for item in items):
        raise ParameterError(f"parameter {name}: {value!r} is not one of {declaration['allowedValues']}")
    pattern = declaration.get("allowedPattern")
    # Checked on the whole value: an unanchored pattern is treated as anchored, the stricter reading.
    if pattern and any(not re.fullmatch(pattern, as_text(item)) for item in items):
        raise ParameterError(f"parameter {name}: {value!r} does not match allowedPattern {pattern}")
    limits = [("minItems", "maxItems", value)] if isinstance(value, list) else []
    limits += [("minChars", "maxChars", value)] if isinstance(value, str) else []
    for low, high, sized in limits:
        if not declaration.get(low, 0) <= len(sized) <= declaration.get(high, len(sized)):
            raise ParameterError(f"parameter {name}: length {len(sized)} outside {low}/{high}")
    return value


# --- conditions, selectors, values --------------------------------------------------------------------------

def holds(condition: dict) -> bool:
    """An aws:branch choice (or a nested condition), its Variable already substituted."""
    if "And" in condition:
        return all(holds(item) for item in condition["And"])
    if "Or" in condition:
        return any(holds(item) for item in condition["Or"])
    if "Not" in condition:
        return not holds(condition["Not"])
    (operator, operand), = [(key, value) for key, value in condition.items() if key not in ("NextStep", "Variable")]
    return OPERATORS[operator](condition["Variable"], operand)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise StepFailure(f"{value!r} is not a number") from error


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise StepFailure(f"{value!r} is not a Boolean")


OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": lambda variable, operand: as_text(variable) == operand,
    "EqualsIgnoreCase": lambda variable, operand: as_text(variable).lower() == str(operand).lower(),
    "StartsWith": lambda variable, operand: as_text(variable).startswith(operand),
    "EndsWith": lambda variable, operand: as_text(variable).endswith(operand),
    # On a StringList, Contains asks for a member; on a String, for a substring.
    "Contains": lambda variable, operand: (operand in [as_text(item) for item in variable]
                                           if isinstance(variable, list) else operand in as_text(variable)),
    "NumericEquals": lambda variable, operand: _number(variable) == _number(operand),
    "NumericGreater": lambda variable, operand: _number(variable) > _number(operand),
    "NumericLesser": lambda variable, operand: _number(variable) < _number(operand),
    "NumericGreaterOrEquals": lambda variable, operand: _number(variable) >= _number(operand),
    "NumericLesserOrEquals": lambda variable, operand: _number(variable) <= _number(operand),
    "BooleanEquals": lambda variable, operand: _boolean(variable) == _boolean(operand),
}

MISSING = object()
SELECTOR_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(-?\d+)\]|\[(\*)\]")


def select(root: Any, selector: str) -> Any:
    """The value at a JSONPath selector as SSM writes them: $.A.B[0].C, and [*] to collect from every item."""
    if not selector.startswith("$"):
        raise ValueError(f"selector {selector!r} must start with $")
    values, collecting, position = [root], False, 1
    while position < len(selector):
        token = SELECTOR_TOKEN.match(selector, position)
        if not token:
            raise ValueError(f"selector {selector!r}: cannot read {selector[position:]!r}")
        key, index, star = token.groups()
        if star:
            values, collecting = [item for value in values if isinstance(value, list) for item in value], True
        elif index is not None:
            values = [value[int(index)] for value in values
                      if isinstance(value, list) and -len(value) <= int(index) < len(value)]
        else:
            values = [value[key] for value in values if isinstance(value, dict) and key in value]
        position = token.end()
    if collecting:
        return values
    return values[0] if values else MISSING


def as_text(value: Any) -> str:
    """A value written into text, as SSM substitutes it into a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _flag(value: Any, default: bool) -> bool:
    return default if value is None else _boolean(value)


@contextlib.contextmanager
def pack_packages_unavailable() -> Iterator[None]:
    """While a script runs, the pack's packages cannot be imported, as in the SSM runtime (a script that needs the
    rule's code belongs in the rule's remediation function, perimeter.runbooks).

    The test process has the real packages imported; they are set aside so that an import fails instead of being
    found on disk, and put back afterwards.
    """
    def is_core(name: str) -> bool:
        return name.split(".")[0] in PACK_PACKAGES

    saved = {name: module for name, module in sys.modules.items() if is_core(name)}
    for name in saved:
        del sys.modules[name]
    blocker = _CoreImportBlocker(is_core)
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
        for name in [name for name in sys.modules if is_core(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


@dataclass
class _CoreImportBlocker:
    is_core: Callable[[str], bool]

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if self.is_core(name):
            raise ModuleNotFoundError(f"No module named {name!r}: the aws:executeScript runtime does not have it",
                                      name=name)
        return None
