"""Render the pack's CloudFormation templates and conformance packs from the rules' metadata.

``--write DIR`` writes every template under DIR (``make templates``: templates/); ``--check DIR`` exits 1 naming
the files that differ from what the metadata renders today. Exit status 2: the metadata cannot be rendered.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from perimeter.templates.errors import TemplateError
from perimeter.templates.render import drifted, render_all, write


def main(argv=None) -> int:
    # prog is explicit: run with -m, argparse would otherwise name the program after __main__.py.
    parser = argparse.ArgumentParser(prog="python -m perimeter.templates", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, metavar="DIR", help="write the templates under DIR (templates/)")
    mode.add_argument("--check", type=Path, metavar="DIR", help="exit 1 if the templates under DIR are out of date")
    arguments = parser.parse_args(argv)
    try:
        rendered = render_all()
    except TemplateError as error:
        print(f"perimeter.templates: {error}", file=sys.stderr)
        return 2
    if arguments.write is not None:
        for path in write(arguments.write, rendered):
            print(f"wrote {path}")
        return 0
    stale = drifted(arguments.check, rendered)
    if stale:
        print(f"out of date (run `make templates`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0
