"""The Lambda artifact: deterministic; exactly the handlers' import closure from what git tracks, plus rdklib;
without what the runtime provides or build-only code; and every function's handler (the evaluation and the
remediation functions') importable from it with nothing but the Lambda Python runtime's own packages."""
from __future__ import annotations

import importlib.util
import json
import modulefinder
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from perimeter import bytecode, package
from perimeter.registry import all_rules
from perimeter.templates import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
# What the Lambda Python runtime provides besides the standard library: boto3, botocore and their dependencies.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
EVALUATION_ENTRY = "perimeter.entry.lambda_handler"
REMEDIATION_ENTRY = "perimeter.remediation_entry.lambda_handler"
REMEDIATED = [spec for spec in all_rules() if (spec.folder / "runbook.yaml").exists()]
LOCAL_PACKAGES = ("perimeter",)  # top-level packages in the zip (perimeter.rules included)
SOURCE_FOLDERS = ("perimeter", "rules")  # where they live in the checkout


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("artifact") / "perimeter-lambda.zip")


def test_two_builds_are_byte_identical(artifact, tmp_path):
    again = package.build(tmp_path / "again.zip")

    assert again.read_bytes() == artifact.read_bytes()


def test_entries_are_sorted_with_fixed_timestamps_and_modes(artifact):
    with zipfile.ZipFile(artifact) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]

    assert names == sorted(names)
    assert {info.date_time for info in infos} == {package.FIXED_DATE_TIME}
    assert {info.external_attr >> 16 for info in infos} == {package.FILE_MODE}
    assert {info.create_system for info in infos} == {3}


def test_holds_core_rules_and_rdklib_but_not_what_the_runtime_provides(artifact):
    with zipfile.ZipFile(artifact) as archive:
        names = set(archive.namelist())
    tops = {name.split("/")[0] for name in names}

    assert {"perimeter/__init__.py", "perimeter/rule.py", "perimeter/rules/__init__.py", "perimeter/entry.py",
            "perimeter/remediation_entry.py", "perimeter/remediation.py", "rdklib/__init__.py",
            "rdklib/evaluator.py"} <= names
    assert any(name.endswith("dist-info/licenses/LICENSE") for name in names)
    for spec in all_rules():
        assert f"perimeter/rules/{spec.folder.name}/rule.py" in names
        assert f"perimeter/rules/{spec.folder.name}/declaration.py" in names  # the registry imports it by name
    for spec in REMEDIATED:  # the remediation entry point imports it by name
        assert f"perimeter/rules/{spec.folder.name}/remediation.py" in names
    assert not tops & {"boto3", "botocore", "rdklibtest", "yaml"}


def handlers() -> list[str]:
    """Every function's handler and rule, as ``handler=rule-id`` (the rule from its PERIMETER_RULE_ID)."""
    found = []
    for relative in BUILDERS:
        template = yaml.safe_load((ROOT / "templates" / relative).read_text(encoding="utf-8"))
        found += [f'{r["Properties"]["Handler"]}={r["Properties"]["Environment"]["Variables"]["PERIMETER_RULE_ID"]}'
                  for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return sorted(set(found))


def local_entries(archive_path: Path) -> set[str]:
    """The pack's modules in the zip (their bytecode aside)."""
    with zipfile.ZipFile(archive_path) as archive:
        return {name for name in archive.namelist()
                if name.split("/")[0] in LOCAL_PACKAGES and "__pycache__" not in name.split("/")}


def closure_by_modulefinder(modules: list[str], layout: Path) -> set[str]:
    """The local files these modules make Python load, by the standard library's own finder (not our code), in
    ``layout``: the checkout's files laid out by module name, rules/ as perimeter/rules/, as installed."""
    for folder in SOURCE_FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            target = layout / ("perimeter/rules" if folder == "rules" else folder) / path.relative_to(ROOT / folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    finder = modulefinder.ModuleFinder(path=[str(layout), *sys.path], excludes=["boto3", "botocore", "rdklib"])
    for name in modules:
        finder.import_hook(name)
    files = {Path(module.__file__) for name, module in finder.modules.items()
             if name.split(".")[0] in LOCAL_PACKAGES and module.__file__}
    return {path.relative_to(layout).as_posix() for path in files}


def test_zip_holds_exactly_the_handlers_import_closure(artifact, tmp_path):
    # The registry imports each rule module and its declaration by name (importlib), and the remediation entry point
    # each rule's remediation module, which no import statement shows: roots too.
    rule_modules = {spec.module.__name__ for spec in all_rules()}
    remediations = {spec.module.__name__.rpartition(".")[0] + ".remediation" for spec in REMEDIATED}
    roots = sorted({pair.partition("=")[0].rpartition(".")[0] for pair in handlers()} | rule_modules
                   | {name.rpartition(".")[0] + ".declaration" for name in rule_modules} | remediations)
    expected = closure_by_modulefinder(roots, tmp_path / "layout")

    assert len(handlers()) == len(all_rules()) + len(REMEDIATED)
    assert local_entries(artifact) == expected


def test_build_only_code_stays_out_of_the_zip(artifact):
    names = local_entries(artifact)
    build_only = ["perimeter/templates/__init__.py", "perimeter/cli.py", "perimeter/live.py", "perimeter/scan.py",
                  "perimeter/runbooks.py", "perimeter/package.py", "perimeter/importgraph.py", "perimeter/catalog.py",
                  "perimeter/rdk.py"]

    assert all((ROOT / name).is_file() for name in build_only)
    assert not set(build_only) & names
    assert not any(name.startswith("perimeter/templates/") for name in names)
    assert not any(name.endswith("runbook.yaml") for name in names)  # the templates carry the documents


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A git checkout of this tree's tracked perimeter/ and rules/ files, staged (git ls-files lists the index)."""
    root = tmp_path / "checkout"
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", *SOURCE_FOLDERS],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, root / name)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def test_an_untracked_module_does_not_get_into_the_zip(checkout, tmp_path):
    (checkout / "perimeter" / "scratch_creds.py").write_text('AWS_SECRET_ACCESS_KEY = "not-for-the-zip"\n')

    built = package.build(tmp_path / "out.zip", root=checkout)

    assert "perimeter/scratch_creds.py" not in local_entries(built)
    assert "perimeter/rule.py" in local_entries(built)


def test_an_untracked_module_a_handler_imports_fails_the_build_naming_it(checkout, tmp_path):
    (checkout / "perimeter" / "scratch_creds.py").write_text("TOKEN = 'x'\n")
    with (checkout / "perimeter" / "rule.py").open("a") as rule:
        rule.write("\nimport perimeter.scratch_creds  # noqa\n")

    with pytest.raises(package.PackageError, match="git does not track: perimeter/scratch_creds.py"):
        package.build(tmp_path / "out.zip", root=checkout)


def test_a_tree_outside_git_fails_the_build_clearly(checkout, tmp_path):
    shutil.rmtree(checkout / ".git")

    with pytest.raises(package.PackageError, match="not a git checkout"):
        package.build(tmp_path / "out.zip", root=checkout)


def test_a_handler_importing_what_lambda_lacks_fails_the_build(checkout, tmp_path):
    with (checkout / "perimeter" / "rule.py").open("a") as rule:
        rule.write("\nimport yaml  # noqa\n")

    with pytest.raises(package.PackageError, match="imports yaml, which neither the Lambda Python runtime"):
        package.build(tmp_path / "out.zip", root=checkout)


def runtime_path(directory: Path) -> Path:
    """A folder holding only the runtime's packages (symlinks into this environment)."""
    directory.mkdir()
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed"
        source = Path(spec.origin)
        if source.name == "__init__.py":
            source = source.parent
        (directory / source.name).symlink_to(source)
    return directory


PROBE = r"""
import importlib, json, os, sys
artifact = sys.argv[1]
result = {}
for pair in sys.argv[2:]:
    handler, _, rule_id = pair.partition("=")
    os.environ["PERIMETER_RULE_ID"] = rule_id
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name)
    found = module.handler_for_environment()
    if isinstance(found, tuple):  # the remediation entry point: (rule id, the rule's remediation handler)
        rule_id, code = found[0], sys.modules[found[1].__module__].__file__
    else:  # the evaluation entry point: the rule's lambda handler, which imports rdklib
        rule_id, code = found.spec.rule_id, sys.modules[found.spec.module.__name__].__file__
    rdklib = sys.modules.get("rdklib")
    result[pair] = {
        "module_file": module.__file__,
        "rdklib_file": rdklib.__file__ if rdklib else None,
        "callable": callable(function),
        "rule_id": rule_id,
        "code_file": code,
    }
print(json.dumps(result))
"""


def test_every_functions_handler_resolves_to_a_lambda_handler_in_the_zip(artifact, tmp_path):
    names = handlers()
    assert len(names) == len(all_rules()) + len(REMEDIATED)
    # Lambda extracts the zip into /var/task and puts it first on sys.path: do the same.
    task = tmp_path / "task"
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)
    runtime = runtime_path(tmp_path / "runtime")
    # -S: no site-packages, so nothing of this environment but the runtime's packages; a cwd outside the repo.
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(task), *names],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{task}{os.pathsep}{runtime}",
             "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]

    found = json.loads(result.stdout)
    assert {f"{REMEDIATION_ENTRY}={spec.rule_id}" for spec in REMEDIATED} <= set(found)
    for pair in names:
        handler, _, rule_id = pair.partition("=")
        folder = rule_id.replace("-", "_")
        info = found[pair]
        assert info["callable"], pair
        assert info["rule_id"] == rule_id
        if handler == EVALUATION_ENTRY:
            assert info["module_file"] == f"{task}/perimeter/entry.py"
            assert info["code_file"] == f"{task}/perimeter/rules/{folder}/rule.py"
            assert info["rdklib_file"].startswith(f"{task}/rdklib/")
        else:
            assert handler == REMEDIATION_ENTRY, pair
            assert info["module_file"] == f"{task}/perimeter/remediation_entry.py"
            assert info["code_file"] == f"{task}/perimeter/rules/{folder}/remediation.py"


def test_package_command_writes_the_zip(tmp_path, capsys):
    output = tmp_path / "build" / "perimeter-lambda.zip"

    assert package.main(["--output", str(output)]) == 0
    assert zipfile.is_zipfile(output)
    assert "files" in capsys.readouterr().out


# --- Bytecode for the runtime (perimeter.bytecode): a cold start from the read-only code directory compiles nothing


@pytest.fixture(scope="module")
def runtime_python() -> Path:
    """An interpreter of the rules' runtime version, found as the build finds it."""
    (runtime,) = bytecode.declared_runtimes(all_rules())
    interpreter = bytecode.find_interpreter(runtime)
    if interpreter is None:
        pytest.skip(f"no Python for the runtime {runtime} on this machine: the build ships no bytecode")
    return interpreter


def run_python(interpreter: Path, code: str, *args: str, env: dict | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run([str(interpreter), "-S", "-c", code, *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env if env is not None else {"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


HEADERS = r"""
import importlib.util, json, sys
print(json.dumps({"magic": importlib.util.MAGIC_NUMBER.hex(), "tag": sys.implementation.cache_tag,
                  "hashes": {name: importlib.util.source_hash(open(name, "rb").read()).hex() for name in sys.argv[1:]}}))
"""


def test_every_module_carries_unchecked_bytecode_of_its_own_source_for_the_runtime(artifact, runtime_python, tmp_path):
    task = tmp_path / "task"
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(task)
        names = archive.namelist()
    sources = sorted(name for name in names if name.endswith(".py"))
    compiled = sorted(name for name in names if "__pycache__" in name.split("/"))
    runtime = json.loads(run_python(runtime_python, HEADERS, *sources, cwd=task))

    assert compiled == sorted(importlib.util.cache_from_source(name).replace(sys.implementation.cache_tag, runtime["tag"])
                              for name in sources)
    assert runtime["tag"] == "cpython-%d%d" % bytecode.runtime_version(all_rules()[0].declaration["runtime"])
    for source in sources:
        pyc = (task / importlib.util.cache_from_source(source).replace(sys.implementation.cache_tag, runtime["tag"]))
        header = pyc.read_bytes()[:16]
        assert header[:4].hex() == runtime["magic"], source  # the runtime's magic number, not the builder's
        assert int.from_bytes(header[4:8], "little") == 0b01, source  # hash-based, unchecked (PEP 552)
        assert header[8:16].hex() == runtime["hashes"][source], source  # compiled from the very source shipped


# Imports every handler and resolves every rule as a cold start does, with a spy on the one method through which
# the importer compiles source (SourceLoader.source_to_code): prints what it compiled from the task folder.
COLD_START = r"""
import importlib, importlib._bootstrap_external as external, json, os, sys
task = sys.argv[1]
compiled = []
compile_source = external.SourceLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    if path.startswith(task + os.sep):
        compiled.append(os.path.relpath(path, task))
    return compile_source(self, data, path, *args, **kwargs)
external.SourceLoader.source_to_code = spy
import perimeter.entry
for rule_id in sys.argv[2:]:
    os.environ["PERIMETER_RULE_ID"] = rule_id
    perimeter.entry.handler_for_environment()
loaded = sorted(os.path.relpath(module.__file__, task) for module in list(sys.modules.values())
                if getattr(module, "__file__", None) and module.__file__.startswith(task + os.sep))
print(json.dumps({"compiled": sorted(compiled), "loaded": loaded}))
"""


def cold_start(interpreter: Path, archive_path: Path, tmp_path: Path) -> dict:
    """A cold start of every rule under ``interpreter`` from the unpacked zip, read-only, writing no bytecode."""
    task = tmp_path / "task"
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(task)
    for path in [task, *task.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)  # as /var/task (root writes anyway: the next line stops that)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "AWS_REGION": "us-east-1",
           "PYTHONPATH": f"{task}{os.pathsep}{runtime_path(tmp_path / 'runtime')}", "AWS_DEFAULT_REGION": "us-east-1"}
    before = sorted(path.relative_to(task).as_posix() for path in task.rglob("*"))
    result = json.loads(run_python(interpreter, COLD_START, str(task), *(spec.rule_id for spec in all_rules()),
                                   env=env, cwd=tmp_path))
    assert sorted(path.relative_to(task).as_posix() for path in task.rglob("*")) == before  # nothing written
    return result


def test_a_cold_start_under_the_runtime_from_the_read_only_zip_compiles_nothing(artifact, runtime_python, tmp_path):
    result = cold_start(runtime_python, artifact, tmp_path)

    assert {"perimeter/entry.py", "perimeter/rule.py", "rdklib/__init__.py"} <= set(result["loaded"])
    assert {f"perimeter/rules/{spec.folder.name}/rule.py" for spec in all_rules()} <= set(result["loaded"])
    assert result["compiled"] == []


def test_a_cold_start_from_a_zip_without_bytecode_compiles_every_module_it_loads(runtime_python, tmp_path):
    # The spy's control: the same cold start from sources alone, as the zip was before.
    sources_only = package.build(tmp_path / "sources.zip", bytecode=False)

    result = cold_start(runtime_python, sources_only, tmp_path)

    assert result["compiled"] == result["loaded"] != []


def test_without_the_runtimes_python_the_zip_ships_sources_and_the_build_says_so(tmp_path, monkeypatch, capsys):
    tools = tmp_path / "bin"  # git, which the build needs, and no python3.N
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))

    built = package.build(tmp_path / "out.zip")

    with zipfile.ZipFile(built) as archive:
        assert not [name for name in archive.namelist() if name.endswith(".pyc")]
        assert "perimeter/entry.py" in archive.namelist()
    runtime = all_rules()[0].declaration["runtime"]
    assert f"no Python for the rules' runtime {runtime}" in capsys.readouterr().err


def test_a_runtime_python_of_another_version_is_refused(tmp_path):
    other = sys.executable  # the build's own Python
    runtime = all_rules()[0].declaration["runtime"]
    if "python%d.%d" % sys.version_info[:2] == runtime:
        pytest.skip("the build runs under the runtime's own version")

    with pytest.raises(package.PackageError, match=rf"is Python {sys.version_info[0]}\.{sys.version_info[1]}; "
                                                    rf"the rules' runtime {runtime} needs"):
        package.build(tmp_path / "out.zip", runtime_python=other)


def test_the_bytecode_command_names_the_runtimes_python(runtime_python, capsys):
    # `make bench-runtime-venv` builds the bench's runtime venv with the interpreter this prints.
    assert bytecode.main([]) == 0

    printed = Path(capsys.readouterr().out.strip())
    assert bytecode.interpreter_version(printed) == bytecode.runtime_version(all_rules()[0].declaration["runtime"])
