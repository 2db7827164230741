"""Packaging: the top-level ``rules/`` folder installs as ``perimeter.rules``, never as a top-level ``rules``
package (which would collide with other distributions). Every rule folder with an ``__init__.py`` is a package,
so a new rule needs no edit here. Metadata and dependencies live in setup.cfg."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent
RULE_PACKAGES = ["perimeter.rules"] + sorted(
    f"perimeter.rules.{init.parent.name}" for init in (ROOT / "rules").glob("*/__init__.py")
)

setup(
    packages=find_packages(include=["perimeter", "perimeter.*"]) + RULE_PACKAGES,
    package_dir={"perimeter.rules": "rules"},
)
