"""Build the pack's one Lambda artifact: the core, the rules and rdklib, as a deterministic zip.

``python -m perimeter.package [--output build/perimeter-lambda.zip]`` (``make package``).

What goes in: every ``.py`` file of the ``perimeter`` and ``rules`` packages plus each rule's ``parameters.json``
(the registry reads it at import), and rdklib's modules with its licence files and METADATA, taken from the
environment that runs the build. boto3 and botocore are left out: the Lambda Python runtime provides them, and
rdklib needs nothing else. Byte-identical output for identical inputs: entries sorted by name, a fixed timestamp,
fixed permissions and a fixed compression level, so two builds of the same tree compare equal.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from perimeter.runbooks import PACKAGE_ROOT
from perimeter.sources import RULES_FOLDER, module_name

DEFAULT_OUTPUT = PACKAGE_ROOT / "build" / "perimeter-lambda.zip"
SOURCE_PACKAGES = ("perimeter", RULES_FOLDER)
RULE_DATA_FILES = ("parameters.json",)
VENDORED_DISTRIBUTION = "rdklib"
VENDORED_PACKAGES = ("rdklib",)  # the distribution also installs rdklibtest, which the Lambda does not need
# The zip format's earliest date: a fixed stamp keeps the archive independent of checkout and install times.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
COMPRESS_LEVEL = 9
EXCLUDED_PARTS = frozenset({"__pycache__"})


class PackageError(Exception):
    """The artifact cannot be built: a missing package or distribution file."""


@dataclass(frozen=True)
class Entry:
    arcname: str  # the path inside the zip, POSIX separators
    source: Path


def source_entries(root: Path = PACKAGE_ROOT) -> list[Entry]:
    """The core and the rules: Python modules, and the rules' metadata files."""
    entries = []
    for package in SOURCE_PACKAGES:
        base = root / package
        if not (base / "__init__.py").is_file():
            raise PackageError(f"{base} is not a package (no __init__.py)")
        for path in base.rglob("*"):
            relative = path.relative_to(root)
            if not path.is_file() or EXCLUDED_PARTS & set(relative.parts):
                continue
            if path.suffix == ".py" or (package == RULES_FOLDER and path.name in RULE_DATA_FILES):
                entries.append(Entry(_arcname(path, root), path))
    return entries


def _arcname(path: Path, root: Path) -> str:
    """Where the file goes in the zip, by module name: rules/x/rule.py is perimeter/rules/x/rule.py."""
    if path.suffix == ".py":
        parts = module_name(path, root).split(".")
        return "/".join(parts) + ("/__init__.py" if path.name == "__init__.py" else ".py")
    return "/".join(module_name(path.parent / "__init__.py", root).split(".") + [path.name])


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


def all_entries(root: Path = PACKAGE_ROOT) -> list[Entry]:
    entries = source_entries(root) + vendored_entries()
    names = [entry.arcname for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PackageError(f"two sources for the same zip entries: {', '.join(duplicates)}")
    return sorted(entries, key=lambda entry: entry.arcname)


def build(output: Path = DEFAULT_OUTPUT, root: Path = PACKAGE_ROOT) -> Path:
    """Write the zip to ``output`` (parent folders created) and return its path."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as archive:
        for entry in all_entries(root):
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
