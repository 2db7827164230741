"""Render a rule's SSM Automation runbook: runbook.yaml, its script step calling the rule's remediation function.

A rule folder holds ``runbook.yaml`` and ``remediation.py``. In the YAML an ``aws:executeScript`` step names its
script with ``ScriptFile: remediation.py`` (our convention, not an SSM input) and hands it data in ``InputPayload``.
The script does not travel in the document: inlined with the core modules it imports it made the SG document 52 KB
and the firewall one 60 KB of SSM's 64 KB, growing with every rule. It runs in the rule's remediation function
instead, a Lambda function of the pack's one artifact (``perimeter.remediation_entry``; the templates create it with
the rule's remediation permissions on its own role). Rendering replaces each such step by two:

1. ``<Name>Invoke``, ``aws:invokeLambdaFunction``: calls the rule's remediation function with the step's InputPayload
   (and the automation's execution id, handed to the script as its context);
2. ``<Name>``, a few lines of ``aws:executeScript`` (standard library only) that fail the step unless the function
   answered ``{"RuleId": <this rule>, "Result": {...}}``, naming the error the function raised otherwise, and return
   the Result: the step's outputs (``$.Payload.X``) and the document's outputs keep working unchanged.

Every jump to the original step (nextStep, a branch choice, onFailure / onCancel ``step:``) goes to its Invoke step.
Any other ``ScriptFile`` (say ``fail.py``, a step that fails the execution with a message) is a script of the
standard library, boto3 and botocore only, which the aws:executeScript runtime has: it is inlined as ``Script``. An
import of the pack's code there is refused: the rule's code runs in ``remediation.py``, in the function.

From the aws:invokeLambdaFunction reference (Systems Manager User Guide, automation-action-lamb.html):
- "Each aws:invokeLambdaFunction action can run up to a maximum duration of 300 seconds": the invoke step gets that
  timeout, and the remediation function a shorter one of its own (REMEDIATION_FUNCTION_TIMEOUT_SECONDS), so Lambda
  stops an overlong remediation and reports it (FunctionError) before SSM stops waiting for it.
- Input ``InputPayload`` (StringMap): "A YAML or JSON object that is passed to the first parameter of the handler
  ... more flexibility and support than the legacy Payload input". SSM builds the JSON from the typed parameter
  values, as it does for aws:executeScript's InputPayload, so the event is what the script received before. The
  legacy ``Payload`` is a JSON string into which ``{{ }}`` values are written as text: a String value holding a
  quote, a backslash or a newline would break it, and a StringList or Boolean would arrive as text. It is not used.
- Outputs ``FunctionError`` ("If present, it indicates that an error occurred ... Error details are included in the
  response payload") and ``Payload`` ("The JSON representation of the object returned by the Lambda function ...
  present only if the invocation type is RequestResponse"). FunctionError is absent on success, and what a
  reference to an output the step did not produce resolves to is not documented, so the check step reads only
  Payload: the entry point's answer shape tells success from Lambda's error object ``{"errorMessage", "errorType",
  ...}``, timeouts included.
"""
from __future__ import annotations

import ast
import copy
import json
from pathlib import Path
from typing import Any

import yaml

from perimeter.importgraph import PACKAGE_ROOT, ImportGraphError, Scope, import_graph

SCRIPT_FILE_KEY = "ScriptFile"
# What an inlined script may import besides the standard library: what the aws:executeScript runtime has.
SCRIPT_RUNTIME_PACKAGES = frozenset({"boto3", "botocore"})
INLINE_SCOPE = Scope(
    local=(),
    provided=SCRIPT_RUNTIME_PACKAGES,
    refusal=lambda module: (
        f"which an inlined aws:executeScript script cannot use: it may import only the standard library, "
        f"{', '.join(sorted(SCRIPT_RUNTIME_PACKAGES))}; the pack's code runs in remediation.py, in the rule's "
        f"remediation function"),
)
# The module and function the remediation entry point runs (perimeter.remediation_entry).
REMEDIATION_MODULE_FILE = "remediation.py"
REMEDIATION_HANDLER = "handler"
INVOKE_SUFFIX = "Invoke"
# The key under which the automation's execution id reaches the function (perimeter.remediation_entry).
EXECUTION_ID_KEY = "automation:EXECUTION_ID"
# aws:invokeLambdaFunction runs at most 300 seconds (see the module docstring).
INVOKE_TIMEOUT_SECONDS = 300
# The remediation functions' timeout (the templates set it): below the step's, so Lambda, not SSM, stops them.
REMEDIATION_FUNCTION_TIMEOUT_SECONDS = 240
# The SSM API rejects document content over 64 KB (MaxDocumentSizeExceeded), counting parameter values passed at run
# time; the pack keeps every document within 24 KB whatever the number of rules (issue 11).
SSM_MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DOCUMENT_BYTES = 24 * 1024
JUMP_PREFIX = "step:"

# The check step's script: standard library only, the same for every rule.
CHECK_SCRIPT = '''\
import json


def handler(events, context):
    """The remediation function's result, or the step fails with the error the function reported."""
    payload, rule, function = events["Payload"], events["RuleId"], events["Function"]
    try:
        answer = json.loads(payload) if isinstance(payload, str) else payload
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "errorMessage" in answer:
        raise RuntimeError(f"remediation function {function} failed: {answer.get('errorType', 'Error')}: "
                           f"{answer['errorMessage']} (its log group has the traceback)")
    if not isinstance(answer, dict) or answer.get("RuleId") != rule:
        raise RuntimeError(f"{function} did not answer as the remediation function of {rule}: {str(payload)[:1000]}")
    if not isinstance(answer.get("Result"), dict):
        raise RuntimeError(f"the remediation of {rule} returned {json.dumps(answer.get('Result'))[:1000]}, not an object")
    return answer["Result"]
'''


class RunbookError(Exception):
    """A runbook that cannot be rendered: bad YAML, a script step the remediation function cannot run, too large."""


def default_function_name(rule_id: str) -> str:
    """The remediation function's name with the templates' default NamePrefix (what tests and `dump` use)."""
    from perimeter.templates.naming import DEFAULT_NAME_PREFIX, REMEDIATION_FUNCTION_SUFFIX, role_rule_part  # noqa

    return f"{DEFAULT_NAME_PREFIX}{role_rule_part(rule_id)}{REMEDIATION_FUNCTION_SUFFIX}"


def render_runbook(rule_dir: Path, function_name: Any = None, rule_id: str | None = None) -> dict:
    """Load ``rule_dir/runbook.yaml`` and turn every ``ScriptFile`` step into a call of the remediation function.

    ``function_name``: the function's name or ARN, text or a CloudFormation expression (the templates pass an
    ``Fn::Sub``); by default the name the templates give it with the default NamePrefix. ``rule_id``: the rule the
    function answers for (its PERIMETER_RULE_ID); by default the folder's (the registry holds every rule folder to
    its id, - for _).
    """
    rule_dir = Path(rule_dir)
    runbook_path = rule_dir / "runbook.yaml"
    try:
        document = yaml.safe_load(runbook_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RunbookError(f"{runbook_path}: cannot read the runbook: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("mainSteps"), list):
        raise RunbookError(f"{runbook_path}: not an Automation document (no mainSteps list)")
    rule_id = rule_dir.name.replace("_", "-") if rule_id is None else rule_id
    if function_name is None:
        function_name = default_function_name(rule_id)
    for step in _script_steps(document["mainSteps"]):
        if step["inputs"].get(SCRIPT_FILE_KEY) != REMEDIATION_MODULE_FILE:
            step["inputs"] = _inline_script(step, rule_dir, runbook_path)
    script_steps = _script_steps(document["mainSteps"])
    for step in script_steps:
        _check_script_step(step, rule_dir, runbook_path)
    invoked = {step["name"]: f"{step['name']}{INVOKE_SUFFIX}" for step in script_steps}
    taken = sorted(set(invoked.values()) & {step.get("name") for step in _all_steps(document["mainSteps"])})
    if taken:
        raise RunbookError(f"{runbook_path}: step names {taken} are needed for the remediation function's calls")
    _retarget(document["mainSteps"], invoked)
    document["mainSteps"] = _replace_script_steps(document["mainSteps"], rule_id, function_name)
    _check_size(json.dumps(document, separators=(",", ":")), f"{runbook_path} rendered as JSON", MAX_DOCUMENT_BYTES)
    return document


def dump_runbook(document: dict, fmt: str = "yaml") -> str:
    """The document as deployable text (``yaml`` or ``json``), refused when over the SSM size limit."""
    if fmt == "yaml":
        text = yaml.dump(document, Dumper=_BlockStringDumper, sort_keys=False, allow_unicode=True, width=120)
    elif fmt == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        raise ValueError(f"unknown format {fmt!r}: use 'yaml' or 'json'")
    _check_size(text, f"the {fmt.upper()} document", SSM_MAX_DOCUMENT_BYTES)
    return text


def _all_steps(steps: list) -> list[dict]:
    """Every step, aws:loop bodies included."""
    found = []
    for step in steps:
        if isinstance(step, dict):
            found.append(step)
            inputs = step.get("inputs")
            if step.get("action") == "aws:loop" and isinstance(inputs, dict) and isinstance(inputs.get("Steps"), list):
                found += _all_steps(inputs["Steps"])
    return found


def _is_script_step(step: dict) -> bool:
    return step.get("action") == "aws:executeScript" and isinstance(step.get("inputs"), dict) \
        and SCRIPT_FILE_KEY in step["inputs"]


def _script_steps(steps: list) -> list[dict]:
    """aws:executeScript steps naming a ScriptFile, including those nested in aws:loop."""
    return [step for step in _all_steps(steps) if _is_script_step(step)]


def _inline_script(step: dict, rule_dir: Path, runbook_path: Path) -> dict:
    """The step's inputs with its ScriptFile's text as Script, in place of the ScriptFile key."""
    inputs = step["inputs"]
    where = f"{runbook_path}: step {step.get('name')!r}"
    if "Script" in inputs or "Attachment" in inputs:
        raise RunbookError(f"{where}: give either {SCRIPT_FILE_KEY} or Script/Attachment, not both")
    file_name = str(inputs[SCRIPT_FILE_KEY])
    script_path = rule_dir / file_name
    if Path(file_name).name != file_name or not script_path.is_file():
        raise RunbookError(f"{where}: {SCRIPT_FILE_KEY} {file_name!r} must name a file in {rule_dir}")
    try:
        import_graph(PACKAGE_ROOT, INLINE_SCOPE, script=script_path)
    except ImportGraphError as error:
        raise RunbookError(f"{where}: {error}") from error
    script = script_path.read_text(encoding="utf-8")
    return {("Script" if key == SCRIPT_FILE_KEY else key): (script if key == SCRIPT_FILE_KEY else value)
            for key, value in inputs.items()}


def _check_script_step(step: dict, rule_dir: Path, runbook_path: Path) -> None:
    inputs = step["inputs"]
    where = f"{runbook_path}: step {step.get('name')!r}"
    if not isinstance(step.get("name"), str) or not step["name"]:
        raise RunbookError(f"{runbook_path}: a {SCRIPT_FILE_KEY} step has no name")
    if "Script" in inputs or "Attachment" in inputs:
        raise RunbookError(f"{where}: give either {SCRIPT_FILE_KEY} or Script/Attachment, not both")
    if not (rule_dir / REMEDIATION_MODULE_FILE).is_file():
        raise RunbookError(f"{where}: {SCRIPT_FILE_KEY} {REMEDIATION_MODULE_FILE!r} must name a file in {rule_dir}")
    if inputs.get("Handler") != REMEDIATION_HANDLER:
        raise RunbookError(f"{where}: Handler must be {REMEDIATION_HANDLER!r}, the function the remediation "
                           f"function runs, not {inputs.get('Handler')!r}")
    payload = inputs.get("InputPayload", {})
    if not isinstance(payload, dict):
        raise RunbookError(f"{where}: InputPayload must be a mapping of name -> value")
    if EXECUTION_ID_KEY in payload:
        raise RunbookError(f"{where}: InputPayload key {EXECUTION_ID_KEY!r} is reserved (the script's context)")
    script = rule_dir / REMEDIATION_MODULE_FILE
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except SyntaxError as error:
        raise RunbookError(f"{script}: does not parse: {error}") from error
    handlers = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == REMEDIATION_HANDLER]
    if not handlers or len(handlers[0].args.posonlyargs + handlers[0].args.args) != 2:
        raise RunbookError(f"{script}: needs a top-level {REMEDIATION_HANDLER}(events, context)")


def _retarget(steps: list, invoked: dict[str, str]) -> None:
    """Jumps to a script step now go to its Invoke step (which runs first)."""
    for step in _all_steps(steps):
        if step.get("nextStep") in invoked:
            step["nextStep"] = invoked[step["nextStep"]]
        for field in ("onFailure", "onCancel"):
            value = step.get(field)
            if isinstance(value, str) and value.startswith(JUMP_PREFIX) and value[len(JUMP_PREFIX):] in invoked:
                step[field] = JUMP_PREFIX + invoked[value[len(JUMP_PREFIX):]]
        inputs = step.get("inputs")
        if step.get("action") == "aws:branch" and isinstance(inputs, dict):
            for choice in inputs.get("Choices") or []:
                if isinstance(choice, dict) and choice.get("NextStep") in invoked:
                    choice["NextStep"] = invoked[choice["NextStep"]]
            if inputs.get("Default") in invoked:
                inputs["Default"] = invoked[inputs["Default"]]


def _replace_script_steps(steps: list, rule_id: str, function_name: Any) -> list:
    replaced = []
    for step in steps:
        if isinstance(step, dict) and _is_script_step(step):
            replaced += _call_and_check(step, rule_id, function_name)
            continue
        inputs = step.get("inputs") if isinstance(step, dict) else None
        if step.get("action") == "aws:loop" and isinstance(inputs, dict) and isinstance(inputs.get("Steps"), list):
            inputs["Steps"] = _replace_script_steps(inputs["Steps"], rule_id, function_name)
        replaced.append(step)
    return replaced


def _call_and_check(step: dict, rule_id: str, function_name: Any) -> list[dict]:
    """The Invoke step (the original's retries and failure handling) and the check step (its name, outputs, flow)."""
    name, inputs = step["name"], step["inputs"]
    invoke_name = f"{name}{INVOKE_SUFFIX}"
    invoke: dict[str, Any] = {"name": invoke_name, "action": "aws:invokeLambdaFunction"}
    if "description" in step:
        invoke["description"] = step["description"]
    invoke["timeoutSeconds"] = INVOKE_TIMEOUT_SECONDS
    invoke.update({key: step[key] for key in ("maxAttempts", "onFailure", "onCancel", "isCritical") if key in step})
    invoke["nextStep"] = name
    invoke["inputs"] = {
        "FunctionName": copy.deepcopy(function_name),
        "InvocationType": "RequestResponse",
        "InputPayload": {**copy.deepcopy(inputs.get("InputPayload", {})),
                         EXECUTION_ID_KEY: f"{{{{ {EXECUTION_ID_KEY} }}}}"},
    }
    check: dict[str, Any] = {"name": name, "action": "aws:executeScript",
                             "description": f"Fails unless {invoke_name} returned the remediation's result, which "
                                            f"becomes this step's output."}
    check.update({key: step[key] for key in ("onFailure", "onCancel", "isCritical", "nextStep", "isEnd") if key in step})
    check["inputs"] = {
        "Runtime": inputs.get("Runtime"),
        "Handler": "handler",
        "Script": CHECK_SCRIPT,
        "InputPayload": {"RuleId": rule_id, "Function": copy.deepcopy(function_name),
                         "Payload": f"{{{{ {invoke_name}.Payload }}}}"},
    }
    if "outputs" in step:
        check["outputs"] = step["outputs"]
    return [invoke, check]


def _check_size(text: str, what: str, limit: int) -> None:
    size = len(text.encode("utf-8"))
    if size > limit:
        raise RunbookError(f"{what} is {size} bytes; the pack allows at most {limit} bytes "
                           f"(SSM accepts {SSM_MAX_DOCUMENT_BYTES}). Shorten the description or the steps.")


class _BlockStringDumper(yaml.SafeDumper):
    """Writes multi-line strings (descriptions, the check script) as YAML literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStringDumper.add_representer(str, _represent_str)
