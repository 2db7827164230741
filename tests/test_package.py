"""The Lambda artifact: deterministic; exactly the handlers' import closure from what git tracks, plus rdklib;
without what the runtime provides or build-only code; and every function's handler importable from it with
nothing but the Lambda Python runtime's own packages."""
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

from perimeter import package
from perimeter.registry import all_rules
from perimeter.templates import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
# What the Lambda Python runtime provides besides the standard library: boto3, botocore and their dependencies.
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
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

    assert {"perimeter/__init__.py", "perimeter/rule.py", "perimeter/rules/__init__.py", "perimeter/entry.py", "rdklib/__init__.py",
            "rdklib/evaluator.py"} <= names
    assert any(name.endswith("dist-info/licenses/LICENSE") for name in names)
    for spec in all_rules():
        assert f"perimeter/rules/{spec.folder.name}/rule.py" in names
        assert f"perimeter/rules/{spec.folder.name}/declaration.py" in names  # the registry imports it by name
    assert not tops & {"boto3", "botocore", "rdklibtest", "yaml"}
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def handlers() -> list[str]:
    """Every function's handler and rule, as ``handler=rule-id`` (the rule from its PERIMETER_RULE_ID)."""
    found = []
    for relative in BUILDERS:
        template = yaml.safe_load((ROOT / "templates" / relative).read_text(encoding="utf-8"))
        found += [f'{r["Properties"]["Handler"]}={r["Properties"]["Environment"]["Variables"]["PERIMETER_RULE_ID"]}'
                  for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return sorted(set(found))


def local_entries(archive_path: Path) -> set[str]:
    with zipfile.ZipFile(archive_path) as archive:
        return {name for name in archive.namelist() if name.split("/")[0] in LOCAL_PACKAGES}


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
    # The registry imports each rule module and its declaration by name (importlib), which no import statement
    # shows: roots too.
    rule_modules = {spec.module.__name__ for spec in all_rules()}
    roots = sorted({pair.partition("=")[0].rpartition(".")[0] for pair in handlers()} | rule_modules
                   | {name.rpartition(".")[0] + ".declaration" for name in rule_modules})
    expected = closure_by_modulefinder(roots, tmp_path / "layout")

    assert len(handlers()) == len(all_rules())
    assert local_entries(artifact) == expected


def test_build_only_code_stays_out_of_the_zip(artifact):
    names = local_entries(artifact)
    build_only = ["perimeter/templates/__init__.py", "perimeter/cli.py", "perimeter/live.py", "perimeter/scan.py",
                  "perimeter/runbooks.py", "perimeter/package.py", "perimeter/importgraph.py", "perimeter/catalog.py",
                  "perimeter/rdk.py"]

    assert all((ROOT / name).is_file() for name in build_only)
    assert not set(build_only) & names
    assert not any(name.startswith("perimeter/templates/") for name in names)
    assert not any(name.endswith(("remediation.py", "runbook.yaml")) for name in names)  # runbooks inline theirs


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
    rdklib = sys.modules["rdklib"]
    result[pair] = {
        "module_file": module.__file__,
        "rdklib_file": rdklib.__file__,
        "callable": callable(function),
        "rule_id": module.handler_for_environment().spec.rule_id,
        "rule_file": sys.modules[module.handler_for_environment().spec.module.__name__].__file__,
    }
print(json.dumps(result))
"""


def test_every_functions_handler_resolves_to_a_lambda_handler_in_the_zip(artifact, tmp_path):
    names = handlers()
    assert len(names) == len(all_rules())
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
    for pair in names:
        rule_id = pair.partition("=")[2]
        folder = rule_id.replace("-", "_")
        info = found[pair]
        assert info["callable"], pair
        assert info["module_file"] == f"{task}/perimeter/entry.py"
        assert info["rule_file"] == f"{task}/perimeter/rules/{folder}/rule.py"
        assert info["rdklib_file"].startswith(f"{task}/rdklib/")
        assert info["rule_id"] == rule_id


def test_package_command_writes_the_zip(tmp_path, capsys):
    output = tmp_path / "build" / "perimeter-lambda.zip"

    assert package.main(["--output", str(output)]) == 0
    assert zipfile.is_zipfile(output)
    assert "files" in capsys.readouterr().out
