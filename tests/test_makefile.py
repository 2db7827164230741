"""The Makefile a newcomer meets (issue 12, set-up): `make demo` installs only what the scan needs, and
`make deploy` / `make publish` without their arguments print the usage before building or installing anything."""
from __future__ import annotations

import subprocess
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
