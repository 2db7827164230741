"""The Makefile a newcomer meets (issue 12, set-up): `make demo` installs only what the scan needs, and
`make deploy` / `make publish` without their arguments print the usage before building or installing anything."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def make(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *arguments], capture_output=True,
                          text=True, timeout=120)


def test_demo_installs_the_scan_without_the_test_tools(tmp_path):
    commands = make("-n", "demo", f"VENV={tmp_path / 'venv'}").stdout

    assert "install --quiet -e ." in commands
    assert "'.[test]'" not in commands and "-m pytest" not in commands


def test_test_installs_the_test_tools_on_top_of_the_scan(tmp_path):
    commands = make("-n", "test", f"VENV={tmp_path / 'venv'}").stdout

    assert commands.index("install --quiet -e .") < commands.index("install --quiet -e '.[test]'")


@pytest.mark.parametrize("target, usage", [
    ("deploy", "usage: make deploy STACK=name BUCKET=artifact-bucket"),
    ("publish", "usage: make publish ARTIFACT_BUCKET_PREFIX=prefix REGIONS="),
])
def test_deploy_and_publish_without_arguments_print_usage_before_building_anything(tmp_path, target, usage):
    venv = tmp_path / "venv"

    result = make(target, f"VENV={venv}", "STACK=", "BUCKET=", "ARTIFACT_BUCKET_PREFIX=", "REGIONS=")

    assert result.returncode == 2
    assert result.stderr.startswith(usage)
    assert not venv.exists()  # nothing was installed
    assert "venv" not in result.stdout and "zip" not in result.stdout  # nothing was built


def test_the_scan_runs_in_every_format_with_only_what_make_demo_installs():
    """`make demo` installs the package and boto3 only: the scan must not import a test tool, rdklib (the Lambda
    extra) or PyYAML (the build extra). A child interpreter refuses those imports and scans the demo's snapshot."""
    probe = r"""
import contextlib, importlib.abc, io, sys
EXTRAS = {"yaml", "rdklib", "moto", "hypothesis", "pytest", "jsonschema", "cfnlint", "_pytest"}
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in EXTRAS:
            raise ImportError(f"{name} is not installed by make demo")
sys.meta_path.insert(0, Refuse())
from perimeter.cli import main
for output in ("table", "json", "csv", "html", "asff"):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        status = main(["scan", "examples/config-snapshot.json", "--format", output])
    assert status == 1 and out.getvalue(), (output, status)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.stdout.strip() == "ok", result.stderr[-3000:]


def test_ci_installs_the_system_packages_the_readme_names():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Set-up"):readme.index("\n## ", readme.index("## Set-up") + 1)]

    for package in ("chromium", "npm"):
        assert f"missing+=({package})" in ci
        assert f"installs Debian's `{package}`" in setup
    assert "apt-get install -y \"${missing[@]}\"" in ci and ci.rstrip().endswith("make test")
    for prerequisite in ("`python3`", "`make`", "`git`", "`npm`", "Chromium"):
        assert prerequisite in setup
