"""Bytecode for the Lambda zip, compiled by the runtime's own Python, so that a cold start compiles nothing.

Lambda's code directory (/var/task) is read-only: from a zip of sources alone, every cold start compiles the pack
and rdklib and throws the result away (by instruction count that made a rule's cold start 1.17x ``import
rdklib``). So the zip carries, beside each module, the file the runtime's interpreter would have cached:
``__pycache__/<name>.cpython-312.pyc``, written by a Python of the runtime's version (the magic number and the
cache tag belong to the minor version: every 3.12.x reads what any 3.12 wrote). The pycs are *unchecked*
hash-based (PEP 552): the importer uses them without reading the source's timestamp, which a zip does not keep
faithfully anyway. A pyc the runtime does not accept (another magic number) is not an error: the importer falls
back to the source, as it does today.

Deterministic: hash-based pycs hold no timestamp; the code's file name is the path inside the zip (the importer
puts the real path in at load time); PYTHONHASHSEED is fixed, because set and frozenset constants are marshalled
in hash order; the modules are compiled in name order by one process.

The interpreter: ``--runtime-python`` (``make package RUNTIME_PYTHON=...``), else ``python3.N`` on PATH, else a
pyenv installation of 3.N. None found: the build goes on without bytecode and says so; the zip still works.
``python -m perimeter.bytecode`` prints the interpreter found for the rules' runtime (the bench's venv uses it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_RUNTIME = re.compile(r"^python(3)\.(\d+)$")
PROBE_TIMEOUT = 60
COMPILE_TIMEOUT = 300
# Run by the runtime's interpreter: argv[1] the sources' folder, argv[2] the output folder, stdin the module
# paths (JSON). Prints the cache tag, the magic number and where each pyc went.
_COMPILER = r"""
import importlib.util, json, os, py_compile, sys
source_root, output_root = sys.argv[1], sys.argv[2]
written = {}
for name in json.load(sys.stdin):
    cached = importlib.util.cache_from_source(name)
    py_compile.compile(os.path.join(source_root, name), cfile=os.path.join(output_root, cached), dfile=name,
                       doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    written[name] = cached
print(json.dumps({"cache_tag": sys.implementation.cache_tag, "magic": importlib.util.MAGIC_NUMBER.hex(),
                  "written": written}))
"""


class BytecodeError(Exception):
    """An interpreter that was named cannot compile for the runtime, or compiling failed."""


def runtime_version(runtime: str) -> tuple[int, int]:
    """``python3.12`` -> (3, 12)."""
    match = _RUNTIME.match(runtime)
    if not match:
        raise BytecodeError(f"{runtime!r} is not a python3.N Lambda runtime")
    return int(match.group(1)), int(match.group(2))


def declared_runtimes(specs) -> list[str]:
    """The Lambda runtimes the rules declare (one zip serves them all: it gets bytecode for each)."""
    return sorted({spec.declaration["runtime"] for spec in specs})


def interpreter_version(interpreter: str | Path) -> tuple[int, int] | None:
    """The (major, minor) an interpreter reports, or None when it does not run (a pyenv shim of a version that is
    not selected exits 127)."""
    try:
        done = subprocess.run([str(interpreter), "-S", "-c", "import sys; print(*sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT, env=_clean_environment())
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    major, minor = done.stdout.split()
    return int(major), int(minor)


def candidates(version: tuple[int, int]) -> list[Path]:
    """Where an interpreter of ``version`` may be: ``python3.N`` on PATH, then pyenv's 3.N.x, newest first."""
    name = f"python{version[0]}.{version[1]}"
    found = [Path(path) for path in [shutil.which(name)] if path]
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installed = versions.glob(f"{version[0]}.{version[1]}.*/bin/{name}")
    found += sorted(installed, key=lambda path: _patch_level(path.parent.parent.name), reverse=True)
    return found


def find_interpreter(runtime: str, explicit: str | Path | None = None) -> Path | None:
    """An interpreter of the runtime's version: ``explicit`` (refused if it is another version), else the first
    candidate that runs and reports that version, else None."""
    version = runtime_version(runtime)
    if explicit is not None:
        reported = interpreter_version(explicit)
        if reported != version:
            what = "does not run" if reported is None else f"is Python {reported[0]}.{reported[1]}"
            raise BytecodeError(f"runtime interpreter {explicit} {what}; the rules' runtime {runtime} needs "
                                f"Python {version[0]}.{version[1]}")
        return Path(explicit)
    return next((path for path in candidates(version) if interpreter_version(path) == version), None)


def compile_modules(sources: dict[str, bytes], interpreter: str | Path) -> dict[str, bytes]:
    """``{path of a .py inside the zip: source}`` -> ``{path of its pyc: bytes}``, compiled by ``interpreter``."""
    modules = sorted(name for name in sources if name.endswith(".py"))
    with tempfile.TemporaryDirectory(prefix="perimeter-bytecode-") as folder:
        source_root, output_root = Path(folder, "source"), Path(folder, "output")
        for name in modules:
            path = source_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(sources[name])
        try:
            done = subprocess.run([str(interpreter), "-S", "-c", _COMPILER, str(source_root), str(output_root)],
                                  input=json.dumps(modules), capture_output=True, text=True,
                                  timeout=COMPILE_TIMEOUT, env=_clean_environment())
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BytecodeError(f"compiling with {interpreter}: {error}") from error
        if done.returncode != 0:
            message = done.stderr.strip().splitlines()
            raise BytecodeError(f"compiling with {interpreter} failed: {message[-1] if message else done.returncode}")
        written = json.loads(done.stdout)["written"]
        return {cached: (output_root / cached).read_bytes() for cached in written.values()}


def _clean_environment() -> dict[str, str]:
    """Nothing from the caller's PYTHON* variables (a pycache prefix, a path, a random hash seed)."""
    return {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C.UTF-8"}


def _patch_level(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def main(argv=None) -> int:
    """Print the interpreter for the rules' runtime (exit 2 and say why when there is none)."""
    import argparse

    from perimeter.registry import all_rules

    argparse.ArgumentParser(prog="python -m perimeter.bytecode", description=main.__doc__).parse_args(argv)
    runtimes = declared_runtimes(all_rules())
    if len(runtimes) != 1:
        print(f"perimeter.bytecode: the rules declare several runtimes ({', '.join(runtimes)})", file=sys.stderr)
        return 2
    interpreter = find_interpreter(runtimes[0])
    if interpreter is None:
        print(f"perimeter.bytecode: no Python {'.'.join(map(str, runtime_version(runtimes[0])))} found for the "
              f"rules' runtime {runtimes[0]} (looked on PATH and in pyenv)", file=sys.stderr)
        return 2
    print(interpreter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
