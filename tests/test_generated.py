"""Committed generated files must match what the rule metadata renders today."""
from __future__ import annotations

from pathlib import Path

from perimeter.catalog import END, START, render_catalog

ROOT = Path(__file__).parent.parent


def test_readme_catalog_matches_rule_metadata():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    committed = readme[readme.index(START) : readme.index(END) + len(END)]

    assert committed == render_catalog(), "README catalog drifted from rules/*/declaration.py: run `make generate`"


def test_rdk_parameters_json_matches_each_declaration():
    from perimeter import rdk

    assert rdk.drifted() == [], "rules/*/parameters.json drifted from rules/*/declaration.py: run `make generate`"
