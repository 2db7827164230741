"""Build the pack's one Lambda artifact: what the functions import, and rdklib, as a deterministic zip.

``python -m perimeter.package [--output build/perimeter-lambda.zip]`` (``make package``).

What goes in: the import closure of the functions' handlers (the modules the templates name as ``Handler``, and each
rule's module and declaration, which the registry imports by name), found with ``ast`` (perimeter.importgraph) in
the files git tracks, each at the path its module name gives (``perimeter/rules/...``); and rdklib's modules with its
licence files and METADATA, taken from the environment that runs the build. Build-only code (the template and
runbook renderers, the CLI and scans, this builder) is imported by no handler and stays out, and so does every file
git does not track: an untracked module a handler imports fails the build rather than ship unreviewed. boto3 and
botocore are left out: the Lambda Python runtime provides them, and rdklib needs nothing else. Byte-identical output
for identical inputs: entries sorted by name, a fixed timestamp, fixed permissions and a fixed compression level.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from perimeter.importgraph import PACKAGE_ROOT, ImportGraphError, Scope, import_graph
from perimeter.sources import RULES_FOLDER
from perimeter.registry import all_rules
from perimeter.templates.functions import handler

DEFAULT_OUTPUT = PACKAGE_ROOT / "build" / "perimeter-lambda.zip"
LOCAL_PACKAGES = ("perimeter",)  # perimeter.rules is the rules/ folder (perimeter.sources)
SOURCE_FOLDERS = ("perimeter", RULES_FOLDER)
VENDORED_DISTRIBUTION = "rdklib"
VENDORED_PACKAGES = ("rdklib",)  # the distribution also installs rdklibtest, which the Lambda does not need
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = frozenset({"boto3", "botocore"})
LAMBDA_SCOPE = Scope(
    local=LOCAL_PACKAGES,
    provided=RUNTIME_PACKAGES | frozenset(VENDORED_PACKAGES),
    refusal=lambda module: (f"which neither the Lambda Python runtime ({', '.join(sorted(RUNTIME_PACKAGES))}) nor "
                            f"the artifact ({', '.join(VENDORED_PACKAGES)}) provides"),
)
# The zip format's earliest date: a fixed stamp keeps the archive independent of checkout and install times.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 9
EXCLUDED_PARTS = frozenset({"__pycache__"})


class PackageError(Exception):
    """The artifact cannot be built: a missing or untracked module, a missing distribution file, no git."""


@dataclass(frozen=True)
class Entry:
    arcname: str  # the path inside the zip, POSIX separators
    source: Path


def entry_modules(specs=None) -> list[str]:
    """The modules the functions start from: every handler's module, and every rule's module, which the registry
    loads with importlib (out of ast's sight)."""
    specs = all_rules() if specs is None else specs
    handlers = {handler(spec).rpartition(".")[0] for spec in specs}
    declarations = {spec.module.__name__.rpartition(".")[0] + ".declaration" for spec in specs}
    return sorted(handlers | declarations | {spec.module.__name__ for spec in specs})


def tracked_files(root: Path) -> frozenset[str]:
    """The files git tracks under ``root``, relative to it, POSIX separators."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", *SOURCE_FOLDERS],
                                capture_output=True, check=True, timeout=60).stdout
    except FileNotFoundError as error:
        raise PackageError("git is not installed; the artifact is built from the files git tracks") from error
    except subprocess.CalledProcessError as error:
        message = error.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PackageError(f"{root} is not a git checkout ({message[-1] if message else 'git ls-files failed'}); "
                           "the artifact is built from the files git tracks") from error
    return frozenset(name for name in listed.decode("utf-8").split("\0") if name)


def source_entries(root: Path = PACKAGE_ROOT, specs=None) -> list[Entry]:
    """The handlers' import closure and the rules' data files, each one a file git tracks."""
    root = Path(root)
    specs = all_rules() if specs is None else specs
    try:
        graph = import_graph(root, LAMBDA_SCOPE, modules=entry_modules(specs))
    except ImportGraphError as error:
        raise PackageError(str(error)) from error
    modules = {imports.module.path.relative_to(root).as_posix(): imports.module for imports in graph.values()}
    untracked = sorted(set(modules) - tracked_files(root))
    if untracked:
        raise PackageError(f"the functions need files git does not track: {', '.join(untracked)}; "
                           "`git add` them (or drop the import) and build again")
    # In the zip a module sits where its name says: rules/x/rule.py is perimeter/rules/x/rule.py.
    return [Entry("/".join(module.name.split(".")) + ("/__init__.py" if module.is_package else ".py"), root / name)
            for name, module in sorted(modules.items())]


def vendored_entries(distribution: str = VENDORED_DISTRIBUTION) -> list[Entry]:
    """rdklib's modules, METADATA and licence files, as installed in the environment running the build."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as error:
        raise PackageError(f"{distribution} is not installed in {sys.prefix}: run `make package`") from error
    entries = []
    for file in dist.files or ():
        parts = PurePosixPath(str(file)).parts
        if not parts or EXCLUDED_PARTS & set(parts):
            continue
        top = parts[0]
        wanted = (
            (top in VENDORED_PACKAGES and file.suffix == ".py")
            or (top.endswith(".dist-info") and (parts[1:2] == ("licenses",) or parts[1:] == ("METADATA",)))
        )
        if wanted:
            path = Path(dist.locate_file(file))
            if not path.is_file():
                raise PackageError(f"{distribution}: {file} is listed in its RECORD but missing at {path}")
            entries.append(Entry(PurePosixPath(*parts).as_posix(), path))
    if not any(entry.arcname == f"{VENDORED_PACKAGES[0]}/__init__.py" for entry in entries):
        raise PackageError(f"{distribution}: no {VENDORED_PACKAGES[0]}/__init__.py among its installed files")
    return entries


def all_entries(root: Path = PACKAGE_ROOT, specs=None) -> list[Entry]:
    entries = source_entries(root, specs) + vendored_entries()
    names = [entry.arcname for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PackageError(f"two sources for the same zip entries: {', '.join(duplicates)}")
    return sorted(entries, key=lambda entry: entry.arcname)


def build(output: Path = DEFAULT_OUTPUT, root: Path = PACKAGE_ROOT, specs=None) -> Path:
    """Write the zip to ``output`` (parent folders created) and return its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        for entry in all_entries(root, specs):
            info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the building OS, so the mode bits mean the same everywhere
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, entry.source.read_bytes(), compresslevel=COMPRESS_LEVEL)
    temporary.replace(output)
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
    arguments = parser.parse_args(argv)
    try:
        path = build(arguments.output)
    except PackageError as error:
        print(f"perimeter.package: {error}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"{path}: {count} files, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
