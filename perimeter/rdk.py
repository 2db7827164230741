"""Each rule folder's ``parameters.json`` in the RDK schema, generated from the rule's declaration.

RDK users (``rdk deploy``, ``rdk modify``) read that file; the pack itself reads only ``declaration.py``.
``python -m perimeter.rdk --write`` (part of ``make generate``) rewrites them; tests/test_generated.py fails when a
committed file differs from what the declaration renders.
"""
from __future__ import annotations

import argparse
import json
import sys

from perimeter.registry import RuleSpec, all_rules

FILE_NAME = "parameters.json"


def render(spec: RuleSpec) -> str:
    return json.dumps(spec.metadata, indent=2, ensure_ascii=False) + "\n"


def drifted(specs=None) -> list[str]:
    """The rule folders whose committed parameters.json differs from the declaration's rendering."""
    specs = all_rules() if specs is None else specs
    stale = []
    for spec in specs:
        path = spec.folder / FILE_NAME
        if not path.is_file() or path.read_text(encoding="utf-8") != render(spec):
            stale.append(f"rules/{spec.folder.name}/{FILE_NAME}")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite every rules/*/parameters.json")
    arguments = parser.parse_args(argv)
    if not arguments.write:
        stale = drifted()
        for name in stale:
            print(f"{name} differs from its declaration", file=sys.stderr)
        return 1 if stale else 0
    for spec in all_rules():
        (spec.folder / FILE_NAME).write_text(render(spec), encoding="utf-8")
        print(f"wrote rules/{spec.folder.name}/{FILE_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
