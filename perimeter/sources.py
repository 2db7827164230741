"""Where a pack module's source file lives in the checkout.

The top-level ``rules/`` folder is installed as the package ``perimeter.rules`` (setup.py), so a module name does
not map to a path by its dots alone: ``perimeter.rules.x.rule`` is ``rules/x/rule.py``. Build tooling (runbook
bundling, the Lambda artifact) reads sources through this one mapping.
"""
from __future__ import annotations

from pathlib import Path

RULES_PACKAGE = "perimeter.rules"
RULES_FOLDER = "rules"


def module_base(module: str, root: Path) -> Path:
    """The path of ``module`` without suffix: a package folder or a module file's stem."""
    if module == RULES_PACKAGE or module.startswith(RULES_PACKAGE + "."):
        rest = module[len(RULES_PACKAGE):].lstrip(".")
        return Path(root, RULES_FOLDER, *(rest.split(".") if rest else ()))
    return Path(root, *module.split("."))


def module_name(path: Path, root: Path) -> str:
    """The dotted name of the source file ``path`` under ``root`` (the inverse of module_base)."""
    parts = list(Path(path).resolve().relative_to(Path(root).resolve()).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] == RULES_FOLDER:
        parts = RULES_PACKAGE.split(".") + parts[1:]
    return ".".join(parts)
