"""The import graph of the pack's own modules, read with ``ast`` (nothing is imported or run).

Build-time only: perimeter.runbooks bundles a remediation script with the modules it imports, and perimeter.package
puts into the Lambda artifact exactly the modules the functions' handlers import. Both start from some files and
follow every import of a *local* package (``perimeter``, whose ``perimeter.rules`` is the ``rules/`` folder), read from the source tree; an import of what
the target runtime provides (the standard library and the names the caller gives) ends there; any other import is
an error, because that runtime would not have it. Imports inside functions and ``try`` blocks count too.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from perimeter.sources import module_base

# The folder holding the local packages (this checkout): what the graphs read.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The relative-import message names the core package, as it always has.
CORE_PACKAGE = "perimeter"


class ImportGraphError(Exception):
    """A file that cannot be followed: unparsable, importing a module that does not exist or is not provided."""


@dataclass(frozen=True)
class SourceModule:
    name: str  # dotted name, e.g. "perimeter.ports"
    path: Path
    is_package: bool

    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Scope:
    """Which imports a graph follows, and what the runtime it is built for provides."""

    local: tuple[str, ...]  # top-level packages read from the source tree and followed
    provided: frozenset[str]  # top-level names the runtime has besides the standard library
    refusal: Callable[[str], str]  # the rest of the error for an import of ``module`` it has not


@dataclass(frozen=True)
class Imports:
    module: SourceModule | None  # None for a script (a file that is not a module)
    needs: frozenset[str]  # every local module the file makes Python load, parent packages included
    runs_after: frozenset[str]  # the modules whose contents it uses while it runs: the import targets


def import_graph(package_root: Path, scope: Scope, *, script: Path | None = None,
                 modules: Iterable[str] = ()) -> dict[str | None, Imports]:
    """Every local module reached from ``script`` (keyed None) and the named ``modules``, by module name.

    A named module brings its parent packages too, as importing it does.
    """
    package_root = Path(package_root)
    graph: dict[str | None, Imports] = {}
    pending: list[str] = []
    if script is not None:
        graph[None] = file_imports(None, Path(script), package_root, scope)
        pending += graph[None].needs
    for name in modules:
        if not exists(name, package_root):
            raise ImportGraphError(f"module {name} not found under {package_root}")
        pending += [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)]
    while pending:
        name = pending.pop()
        if name not in graph:
            graph[name] = file_imports(locate(name, package_root), None, package_root, scope)
            pending += graph[name].needs
    return graph


def file_imports(module: SourceModule | None, script_path: Path | None, package_root: Path, scope: Scope) -> Imports:
    """What one file imports: a local module, or a script (module None, read from script_path)."""
    path = module.path if module else script_path
    name = module.name if module else ""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError) as error:
        raise ImportGraphError(f"{path}: cannot parse: {error}") from error
    package = name if module and module.is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):  # imports inside functions and try blocks count too
        if isinstance(node, ast.Import):
            found = {alias.name for alias in node.names if _is_local(alias.name, path, node.lineno, scope)}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package or None, path)
            if not _is_local(base, path, node.lineno, scope):
                continue
            # `from perimeter import ports` loads the submodule perimeter.ports when there is one.
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            submodules = {sub for sub in submodules if exists(sub, package_root)}
            found = submodules if len(submodules) == len(node.names) else submodules | {base}
        else:
            continue
        for target in found:
            if not exists(target, package_root):
                raise ImportGraphError(f"{path}:{node.lineno}: imports {target}, not found under {package_root}")
        targets |= found
    needs = {".".join(target.split(".")[:i]) for target in targets for i in range(1, target.count(".") + 2)}
    needs.discard(name)
    targets.discard(name)
    return Imports(module, frozenset(needs), frozenset(targets))


def _absolute(node: ast.ImportFrom, package: str | None, path: Path) -> str:
    if not node.level:
        return node.module or ""
    if package is None:
        raise ImportGraphError(f"{path}:{node.lineno}: relative import in a script; import perimeter.* absolutely")
    parts = package.split(".")
    if node.level > len(parts):
        raise ImportGraphError(f"{path}:{node.lineno}: relative import goes above the {CORE_PACKAGE} package")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _is_local(module: str, path: Path, lineno: int, scope: Scope) -> bool:
    """True for a local module; False for what the runtime provides; an error for anything else."""
    top = module.split(".")[0]
    if top in scope.local:
        return True
    if top in sys.stdlib_module_names or top in scope.provided:
        return False
    raise ImportGraphError(f"{path}:{lineno}: imports {module}, {scope.refusal(module)}")


def locate(module: str, package_root: Path) -> SourceModule:
    base = module_base(module, Path(package_root))  # perimeter.rules.* lives in rules/
    if (base / "__init__.py").is_file():
        return SourceModule(module, base / "__init__.py", True)
    return SourceModule(module, base.with_suffix(".py"), False)


def exists(module: str, package_root: Path) -> bool:
    return locate(module, package_root).path.is_file()
