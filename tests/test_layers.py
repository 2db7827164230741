"""Layers you can see: which part of the pack may import which (issue 11).

- model: the pure semantics (items, events, parameters, declarations, protocols, ports, CIDRs, SG/NACL/firewall
  models, verdicts, the registry) and every rule's declaration and rule module. Standard library only, so the
  same code runs in the evaluation and remediation functions and the scans.
- lambda: the Lambda edge (rdklib, boto3) around the model.
- remediation: the rules' remediation scripts, their helpers and the remediation functions' entry point (boto3;
  run in the rule's remediation function, which its runbook invokes).
- scan: the offline and live scans, report writers.
- command: the command line (perimeter.cli): the scans, and `perimeter pack`, which renders with the build tooling.
- build: the tooling that renders templates, runbooks, the RDK metadata, the catalog and the Lambda artifact; it
  never ships in the Lambda zip (tests/test_package.py).
A module of a layer imports only its own layer and the layers listed for it. A new module must be given a layer
here: the test names it.
"""
from __future__ import annotations

import ast
import fnmatch
import sys
from pathlib import Path

import pytest

from perimeter.sources import module_name

ROOT = Path(__file__).resolve().parent.parent

# (layer, module name patterns), first match wins.
LAYER_OF = (
    ("remediation", ("perimeter.remediation", "perimeter.remediation_entry", "perimeter.firewall_policy_remediation",
                     "perimeter.firewall_remediation", "perimeter.sg_remediation", "perimeter.sg_replacement",
                     "perimeter.rules.*.remediation")),
    ("model", ("perimeter", "perimeter.cidrs", "perimeter.sg_permissions", "perimeter.ports", "perimeter.intervals",
               "perimeter.protocols",
               "perimeter.parameters",
               "perimeter.declarations", "perimeter.declaration_schema", "perimeter.items", "perimeter.events", "perimeter.verdicts",
               "perimeter.securitygroups", "perimeter.networkacls", "perimeter.nacl_remediation", "perimeter.firewall", "perimeter.firewall_logging",
               "perimeter.periodic",
               "perimeter.exemptions", "perimeter.registry", "perimeter.sources", "perimeter.rules",
               "perimeter.rules.*")),
    ("lambda", ("perimeter.rule", "perimeter.entry", "perimeter.oversized")),
    ("command", ("perimeter.cli",)),
    ("scan", ("perimeter.scan", "perimeter.parallel", "perimeter.live", "perimeter.jsoninput", "perimeter.reports",
              "perimeter.reports.*", "perimeter.inputs", "perimeter.inputs.*")),
    ("build", ("perimeter.templates", "perimeter.templates.*", "perimeter.runbooks", "perimeter.package",
               "perimeter.rdk", "perimeter.catalog", "perimeter.importgraph", "perimeter.bytecode", "perimeter.build",
               "perimeter.build.*")),
)
# What each layer may import besides itself: pack layers and third-party top-level packages.
ALLOWED = {
    "model": set(),
    "lambda": {"model", "boto3", "botocore", "rdklib"},
    "remediation": {"model", "boto3", "botocore"},
    "scan": {"model", "boto3", "botocore", "ijson"},
    "command": {"model", "scan", "build"},
    "build": {"model", "yaml"},
}


def layer_of(name: str) -> str | None:
    for layer, patterns in LAYER_OF:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
            return layer
    return None


def sources() -> list[Path]:
    return sorted(p for folder in ("perimeter", "rules") for p in (ROOT / folder).rglob("*.py")
                  if "__pycache__" not in p.parts)


def imports(path: Path) -> set[str]:
    """Absolute names of everything the file imports (relative imports resolved), at any depth."""
    name = module_name(path, ROOT)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return found


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_what_its_layer_allows(path):
    name = module_name(path, ROOT)
    layer = layer_of(name)
    assert layer, f"{name} has no layer: add it to LAYER_OF in {Path(__file__).name}"
    for target in sorted(imports(path)):
        top = target.split(".")[0]
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        if top == "perimeter":
            target_layer = layer_of(target)
            if target_layer is None:  # `from perimeter.x import name`: the name is not a module
                target_layer = layer_of(target.rpartition(".")[0])
            assert target_layer in ({layer} | ALLOWED[layer]), (
                f"{name} ({layer}) imports {target} ({target_layer}); {layer} may import "
                f"{', '.join(sorted({layer} | ALLOWED[layer]))}")
        else:
            assert top in ALLOWED[layer], f"{name} ({layer}) imports {top}; {layer} may import " \
                                          f"{', '.join(sorted(ALLOWED[layer])) or 'only the standard library'}"


def test_the_layer_table_matches_real_modules_of_every_layer():
    names = {module_name(path, ROOT) for path in sources()}
    for layer in ALLOWED:
        assert any(layer_of(name) == layer for name in names), f"no module in layer {layer}"
