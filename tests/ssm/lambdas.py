"""Lambda functions for the step runner's aws:invokeLambdaFunction, run the way Lambda runs them.

moto's Lambda needs docker to invoke a function, which this environment lacks, so a function runs in-process: its
handler imported from its code folder (the pack's artifact as ``perimeter.package`` builds it, extracted as Lambda
extracts it into /var/task), with the function's environment variables and region, the test's moto or fake AWS
around it. While it runs, the packages its code holds (perimeter, rdklib) are importable only from that folder: a
module the artifact lacks fails to import, as it would in Lambda. The runtime's packages (boto3, botocore) are the
test environment's; tests/test_package.py checks in a separate interpreter that every handler imports from the
artifact with those alone. Like a warm Lambda execution environment, a function keeps its imported modules between
invocations. An exception the handler raises becomes ``FunctionError: Unhandled`` with the Python runtime's error
payload (errorMessage, errorType, requestId, stackTrace), as the Invoke API returns it.
"""
from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_TEMPLATE = REPO_ROOT / "templates" / "perimeter.yaml"
DEFAULT_NAME_PREFIX = "perimeter-"  # the account stack's NamePrefix default; the template says it too (checked)


@dataclass
class LambdaFunction:
    name: str
    handler: str  # module.function, as the function's Handler
    environment: dict[str, str]
    code: Path  # the folder Lambda would extract the function's zip into
    timeout: int = 3
    # The warm execution environment: the function's own modules, kept between invocations.
    modules: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def packages(self) -> frozenset[str]:
        """The top-level packages and modules of the function's code."""
        return frozenset(path.name if path.is_dir() else path.stem for path in self.code.iterdir()
                         if (path / "__init__.py").is_file() or path.suffix == ".py")


class FunctionNotFound(LookupError):
    """Lambda's ResourceNotFoundException: no function of that name in the region."""


def function_named(functions: Mapping[str, LambdaFunction], function_name: str, region: str) -> LambdaFunction:
    """The function a FunctionName (name or ARN, optionally qualified) names, in ``region``."""
    name = function_name
    if function_name.startswith("arn:"):
        parts = function_name.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            raise FunctionNotFound(f"{function_name} is not a Lambda function ARN")
        if parts[3] != region:
            raise FunctionNotFound(f"{function_name} is in {parts[3]}, not in the automation's region {region}")
        name = parts[6]
    if name not in functions:
        raise FunctionNotFound(f"Function not found: {function_name} (known: {', '.join(sorted(functions))})")
    return functions[name]


@lru_cache(maxsize=1)
def artifact_folder() -> Path:
    """The pack's Lambda zip, built from this checkout and extracted once per test session."""
    from perimeter import package

    folder = Path(tempfile.mkdtemp(prefix="perimeter-lambda-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    built = package.build(folder / "perimeter-lambda.zip")
    with zipfile.ZipFile(built) as archive:
        archive.extractall(folder / "task")
    return folder / "task"


@lru_cache(maxsize=1)
def deployed_functions() -> dict[str, LambdaFunction]:
    """The functions templates/perimeter.yaml creates, by name with the stack's default NamePrefix, each with its
    Handler, environment and timeout from the template and its code from the artifact."""
    template = yaml.safe_load(ACCOUNT_TEMPLATE.read_text(encoding="utf-8"))
    prefix = template["Parameters"]["NamePrefix"]["Default"]
    assert prefix == DEFAULT_NAME_PREFIX, f"{ACCOUNT_TEMPLATE}: NamePrefix default {prefix!r}"
    functions = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        name = properties["FunctionName"]["Fn::Sub"].replace("${NamePrefix}", prefix)
        functions[name] = LambdaFunction(name, properties["Handler"], properties["Environment"]["Variables"],
                                         artifact_folder(), properties["Timeout"])
    return functions


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Python runtime's context object a handler may read."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def invoke(function: LambdaFunction, event: Any, *, region: str, account: str = "123456789012") -> dict:
    """Invoke the function synchronously (RequestResponse): the Invoke API's response, Payload as JSON text."""
    request_id = str(uuid.uuid4())
    arn = f"arn:aws:lambda:{region}:{account}:function:{function.name}"
    context = LambdaContext(function.name, arn, request_id, time.monotonic() + function.timeout)
    started = time.monotonic()
    with _environment(function, region), _code_of(function):
        try:
            module_name, _, attribute = function.handler.rpartition(".")
            result = getattr(importlib.import_module(module_name), attribute)(json.loads(json.dumps(event)), context)
        except Exception as error:  # the Python runtime's answer to an unhandled exception
            return _error(request_id, type(error).__name__, str(error), traceback.format_tb(error.__traceback__))
    if time.monotonic() - started > function.timeout:
        return _error(request_id, "Sandbox.Timedout", f"Task timed out after {function.timeout:.2f} seconds", [])
    try:
        body = json.dumps(result)
    except (TypeError, ValueError) as error:
        return _error(request_id, "Runtime.MarshalError", f"Unable to marshal response: {error}", [])
    return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": body}


def _error(request_id: str, kind: str, message: str, stack: list[str]) -> dict:
    payload = {"errorMessage": message, "errorType": kind, "requestId": request_id, "stackTrace": stack}
    return {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "$LATEST",
            "Payload": json.dumps(payload)}


@contextlib.contextmanager
def _environment(function: LambdaFunction, region: str) -> Iterator[None]:
    """The function's variables and the ones Lambda sets (its region, its name), for the invocation only."""
    variables = {**function.environment, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                 "AWS_LAMBDA_FUNCTION_NAME": function.name, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout)}
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _code_of(function: LambdaFunction) -> Iterator[None]:
    """The function's packages from its code folder only (first on sys.path, as /var/task in Lambda); the test
    process's own copies set aside meanwhile."""
    packages = function.packages

    def ours(name: str) -> bool:
        return name.split(".")[0] in packages

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.modules.update(function.modules)
    finder = _CodeFolderOnly(str(function.code), ours)
    sys.meta_path.insert(0, finder)
    sys.path.insert(0, str(function.code))  # Lambda puts /var/task first on the path
    try:
        yield
    finally:
        sys.path.remove(str(function.code))
        sys.meta_path.remove(finder)
        function.modules.clear()
        function.modules.update({name: module for name, module in sys.modules.items() if ours(name)})
        for name in function.modules:
            del sys.modules[name]
        sys.modules.update(saved)


@dataclass
class _CodeFolderOnly(importlib.abc.MetaPathFinder):
    folder: str
    ours: Any

    def find_spec(self, name: str, path: Any = None, target: Any = None):
        if not self.ours(name):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, [self.folder] if "." not in name else path)
        if spec is None or not str(spec.origin or "").startswith(self.folder + os.sep):
            raise ModuleNotFoundError(f"No module named {name!r} in the function's code", name=name)
        return spec
