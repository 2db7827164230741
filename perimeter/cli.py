"""The ``perimeter`` command. Exit status: 0 nothing non-compliant, 1 findings, 2 bad input or usage."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from perimeter.items import ItemError
from perimeter.parameters import ParameterError
from perimeter.registry import all_rules, rule_by_id
from perimeter.scan import Finding, ScanInputError, read_items, scan
from perimeter.verdicts import COMPLIANCE_TYPES, NON_COMPLIANT

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input or usage: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perimeter", description="AWS Config rule pack for network perimeter controls.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    scan_parser = commands.add_parser(
        "scan",
        help="evaluate a Config snapshot offline with the pack's rules",
        description="Evaluate configuration items offline with exactly the code the rules' Lambdas run.",
    )
    scan_parser.add_argument("path", type=Path, help="Config snapshot file, JSON array of items, or one item (.gz accepted)")
    scan_parser.add_argument("--rule", action="append", dest="rules", metavar="RULE_ID", help="only this rule (repeatable)")
    scan_parser.add_argument("--parameters", type=Path, metavar="FILE", help='JSON object {rule_id: {name: "value"}}')
    scan_parser.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def _read_parameters(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such parameters file") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise UsageError(f'{path}: expected a JSON object {{rule_id: {{name: "value"}}}}')
    for rule_id in document:
        _rule(rule_id)
    return document


def _rule(rule_id: str):
    try:
        return rule_by_id(rule_id)
    except KeyError as error:
        raise UsageError(error.args[0]) from None


def render_table(findings: list[Finding], rule_ids: Sequence[str]) -> str:
    counts = Counter((finding.rule, finding.complianceType) for finding in findings)
    width = max(len("Rule"), *(len(rule_id) for rule_id in rule_ids))
    header = f"{'Rule':<{width}}  {'Compliant':>9}  {'Non-compliant':>13}  {'Not applicable':>14}"
    lines = [header, "-" * len(header)]
    for rule_id in rule_ids:
        compliant, non_compliant, not_applicable = (counts[rule_id, kind] for kind in COMPLIANCE_TYPES)
        lines.append(f"{rule_id:<{width}}  {compliant:>9}  {non_compliant:>13}  {not_applicable:>14}")
    order = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    offenders = sorted(
        (finding for finding in findings if finding.complianceType == NON_COMPLIANT), key=lambda f: order[f.rule]
    )
    lines.append("")
    if not offenders:
        lines.append("No non-compliant resources.")
        return "\n".join(lines)
    lines.append(f"Non-compliant resources ({len(offenders)}):")
    for finding in offenders:
        lines.append(f"  {finding.rule}  {finding.resourceType}  {finding.resourceId}")
        lines.append(f"      {finding.annotation}")
    return "\n".join(lines)


def run_scan(arguments: argparse.Namespace) -> int:
    rules = [_rule(rule_id) for rule_id in dict.fromkeys(arguments.rules)] if arguments.rules else list(all_rules())
    parameters = _read_parameters(arguments.parameters)
    try:
        findings = list(scan(read_items(arguments.path), rules, parameters))
    except (ScanInputError, ItemError, ParameterError) as error:
        raise UsageError(str(error)) from None
    if arguments.format == "json":
        print(json.dumps([finding._asdict() for finding in findings], indent=2))
    else:
        print(render_table(findings, [spec.rule_id for spec in rules]))
    return EXIT_FINDINGS if any(f.complianceType == NON_COMPLIANT for f in findings) else EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
        return run_scan(arguments)
    except UsageError as error:
        print(f"perimeter: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `perimeter scan ... | head` is fine
        return EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
