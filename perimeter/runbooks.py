"""Render a rule's SSM Automation runbook: runbook.yaml plus its script module, bundled.

A rule folder holds ``runbook.yaml`` and ``remediation.py``. In the YAML an ``aws:executeScript`` step names its
script with ``ScriptFile: remediation.py`` (our convention, not an SSM input). ``aws:executeScript`` runs only the
script text inlined in the document, so rendering replaces ``ScriptFile`` by ``Script``: the ``perimeter.*``
modules the script imports (``perimeter.rules.*`` included) (pure by the pack's rule: a rule's ``rule.py`` imports no AWS library) (their transitive closure, found with ``ast``), each registered in ``sys.modules``
under its real name, followed by the script's own source. The runbook thus evaluates with exactly the code the
rule uses. The standard library, boto3 and botocore are left to the runtime, which has them; any other import
is an error, because the runtime would not have it.
"""
from __future__ import annotations

import ast
import io
import json
import tokenize
from pathlib import Path
from typing import Any

import yaml

# PACKAGE_ROOT: the bundle is built from the files there, not from imported modules.
from perimeter.importgraph import PACKAGE_ROOT, ImportGraphError, Scope, SourceModule, import_graph

CORE_PACKAGE = "perimeter"
# Packages whose modules are bundled: the core and the rules' pure evaluation modules.
BUNDLED_PACKAGES = (CORE_PACKAGE,)
SCRIPT_FILE_KEY = "ScriptFile"
# The SSM API rejects document content over 64 KB (MaxDocumentSizeExceeded); values passed as parameters at run
# time count towards the same quota, so a document near the limit can still fail to start.
MAX_DOCUMENT_BYTES = 64 * 1024
# What the aws:executeScript Python runtime provides besides the standard library.
RUNTIME_PACKAGES = frozenset({"boto3", "botocore"})

# What a script may import: the bundled packages (followed), the runtime's packages and the standard library.
SCRIPT_SCOPE = Scope(
    local=BUNDLED_PACKAGES,
    provided=RUNTIME_PACKAGES,
    refusal=lambda module: (
        f"which the aws:executeScript runtime does not have; a runbook script "
        f"may import only the standard library, {', '.join(sorted(RUNTIME_PACKAGES))} and "
        f"{' / '.join(f'{name}.*' for name in BUNDLED_PACKAGES)} (pure modules, which are bundled)"
    ),
)

BUNDLE_HEADER = '''\
# Bundled by perimeter.runbooks: aws:executeScript runs only this text, so the perimeter modules this script
# imports are inlined here and registered in sys.modules under their real names.
import sys as _sys
import types as _types


def _perimeter_register(name, is_package):
    module = _types.ModuleType(name)
    module.__package__ = name if is_package else name.rpartition(".")[0]
    if is_package:
        module.__path__ = []
    _sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(_sys.modules[parent], child, module)


def _perimeter_exec(name, is_package, source):
    filename = "<" + name.replace(".", "/") + ("/__init__.py>" if is_package else ".py>")
    exec(compile(source, filename, "exec", dont_inherit=True), _sys.modules[name].__dict__)

'''
BUNDLE_FOOTER = "# End of bundled perimeter modules; the script follows.\n\n"


class RunbookError(Exception):
    """A runbook that cannot be rendered: bad YAML, a script that cannot be bundled, a document too large."""


def render_runbook(rule_dir: Path, package_root: Path = PACKAGE_ROOT) -> dict:
    """Load ``rule_dir/runbook.yaml`` and inline every ``ScriptFile`` as a bundled ``Script``."""
    rule_dir = Path(rule_dir)
    runbook_path = rule_dir / "runbook.yaml"
    try:
        document = yaml.safe_load(runbook_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RunbookError(f"{runbook_path}: cannot read the runbook: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("mainSteps"), list):
        raise RunbookError(f"{runbook_path}: not an Automation document (no mainSteps list)")
    for step in _script_steps(document["mainSteps"]):
        step["inputs"] = _inline_script(step, rule_dir, package_root, runbook_path)
    _check_size(json.dumps(document, separators=(",", ":")), f"{runbook_path} rendered as JSON")
    return document


def dump_runbook(document: dict, fmt: str = "yaml") -> str:
    """The document as deployable text (``yaml`` or ``json``), refused when over the SSM size limit."""
    if fmt == "yaml":
        text = yaml.dump(document, Dumper=_BlockStringDumper, sort_keys=False, allow_unicode=True, width=120)
    elif fmt == "json":
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    else:
        raise ValueError(f"unknown format {fmt!r}: use 'yaml' or 'json'")
    _check_size(text, f"the {fmt.upper()} document")
    return text


def bundle_script(script_path: Path, package_root: Path = PACKAGE_ROOT) -> str:
    """The script's source preceded by the core modules it needs, in an order where each runs after its imports."""
    script_path = Path(script_path)
    modules = core_modules(script_path, package_root)
    script = script_path.read_text(encoding="utf-8")
    if not modules:
        return script
    future, script = _split_future_imports(script)
    parts = [future, BUNDLE_HEADER]
    # Register every module first so `import perimeter.x` finds it; then run them dependencies first.
    parts += [f"_perimeter_register({module.name!r}, {module.is_package})\n" for module in _by_name(modules)]
    for module in modules:
        source = _string_literal(code_only(module.source()))
        parts.append(f"\n_perimeter_exec({module.name!r}, {module.is_package}, {source})\n")
    parts += ["\n", BUNDLE_FOOTER, script]
    return "".join(parts)


def code_only(source: str) -> str:
    """The source without its docstrings and comments, each docstring or comment line left blank (and a trailing
    comment cut from its line) so that tracebacks still name the file's line numbers: the prose is a third of a core module, and a document holds at most 64 KB."""
    lines = source.splitlines(keepends=True)
    blank: set[int] = set()  # 0-based line numbers
    placeholders: set[int] = set()  # a body that was only a docstring gets `...` in its place
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not body:
            continue
        doc = body[0]
        if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str)):
            continue
        first, last = doc.lineno - 1, doc.end_lineno - 1
        alone = not lines[first][:doc.col_offset].strip() and lines[last][doc.end_col_offset:].strip()[:1] in ("", "#")
        if alone:  # not sharing a line with code (`def f(): "doc"`)
            blank.update(range(first, last + 1))
            if len(body) == 1 and not isinstance(node, ast.Module):
                placeholders.add(first)
    inline: dict[int, int] = {}  # 0-based line -> column where its trailing comment starts
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            if token.line[:token.start[1]].strip():
                inline[token.start[0] - 1] = token.start[1]
            else:
                blank.add(token.start[0] - 1)
    kept = []
    for number, line in enumerate(lines):
        if number in placeholders:
            kept.append(line[:len(line) - len(line.lstrip())] + "...\n")
        elif number in blank:
            kept.append("\n")
        elif number in inline:
            kept.append(line[:inline[number]].rstrip() + "\n")
        else:
            kept.append(line)
    return "".join(kept)


def _split_future_imports(script: str) -> tuple[str, str]:
    """(the script's `from __future__` lines, the rest): Python accepts those only at the top of the bundle."""
    lines = script.splitlines(keepends=True)
    future_lines: set[int] = set()
    for node in ast.parse(script).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future_lines.update(range(node.lineno - 1, node.end_lineno))
    future = "".join(lines[i] for i in sorted(future_lines))
    rest = "".join(line for i, line in enumerate(lines) if i not in future_lines)
    return (future + "\n" if future else ""), rest


def core_modules(script_path: Path, package_root: Path = PACKAGE_ROOT) -> list[SourceModule]:
    """The core modules the script needs, each after the modules it imports from; ties broken by name."""
    try:
        graph = import_graph(Path(package_root), SCRIPT_SCOPE, script=Path(script_path))
    except ImportGraphError as error:
        raise RunbookError(str(error)) from error
    ordered: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name):] + [name])
            raise RunbookError(f"import cycle between core modules, which the bundle cannot order: {cycle}")
        visiting.append(name)
        for dependency in sorted(graph[name].runs_after):
            visit(dependency)
        visiting.pop()
        ordered.append(name)

    for name in sorted(name for name in graph if name is not None):
        visit(name)
    return [graph[name].module for name in ordered]


def _by_name(modules: list[SourceModule]) -> list[SourceModule]:
    # Parents sort before their submodules, so setattr on the parent package always finds it registered.
    return sorted(modules, key=lambda module: module.name.split("."))


def _string_literal(source: str) -> str:
    """A readable literal for the source: a raw triple-quoted string when that reproduces it exactly."""
    for quote in ("'''", '"""'):
        literal = f"r{quote}{source}{quote}"
        if quote not in source and not source.endswith("\\"):
            try:
                if ast.literal_eval(literal) == source:
                    return literal
            except (SyntaxError, ValueError):
                pass
    return repr(source)


def _script_steps(steps: list) -> list[dict]:
    """aws:executeScript steps naming a ScriptFile, including those nested in aws:loop."""
    found = []
    for step in steps:
        if not isinstance(step, dict):
            continue
        inputs = step.get("inputs")
        if not isinstance(inputs, dict):
            continue
        if step.get("action") == "aws:executeScript" and SCRIPT_FILE_KEY in inputs:
            found.append(step)
        if step.get("action") == "aws:loop" and isinstance(inputs.get("Steps"), list):
            found += _script_steps(inputs["Steps"])
    return found


def _inline_script(step: dict, rule_dir: Path, package_root: Path, runbook_path: Path) -> dict:
    inputs = step["inputs"]
    where = f"{runbook_path}: step {step.get('name')!r}"
    if "Script" in inputs or "Attachment" in inputs:
        raise RunbookError(f"{where}: give either {SCRIPT_FILE_KEY} or Script/Attachment, not both")
    file_name = inputs[SCRIPT_FILE_KEY]
    script_path = rule_dir / str(file_name)
    if Path(str(file_name)).name != file_name or not script_path.is_file():
        raise RunbookError(f"{where}: {SCRIPT_FILE_KEY} {file_name!r} must name a file in {rule_dir}")
    script = bundle_script(script_path, package_root)
    # Keep the key order of the YAML, with Script where ScriptFile was.
    return {("Script" if key == SCRIPT_FILE_KEY else key): (script if key == SCRIPT_FILE_KEY else value)
            for key, value in inputs.items()}


def _check_size(text: str, what: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        raise RunbookError(
            f"{what} is {size} bytes; SSM accepts at most {MAX_DOCUMENT_BYTES} bytes (64 KB) of document content. "
            "Bundle fewer core modules (import narrower ones) or shorten the script."
        )


class _BlockStringDumper(yaml.SafeDumper):
    """Writes multi-line strings (the bundled scripts) as YAML literal blocks, so the rendered file reads as code."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStringDumper.add_representer(str, _represent_str)
