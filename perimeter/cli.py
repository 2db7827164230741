"""The ``perimeter`` command. Exit status: 0 nothing non-compliant (``pack``: the body was written), 1 findings
(whatever becomes of stdout, when the whole report was made), 2 anything that stops the scan or the pack (one line
on stderr, never a traceback; JSON and CSV rows written before it stay written), 130 interrupted, 141 the reader of
JSON or CSV rows went away before the scan ended (the scan stops there; 128 + SIGPIPE, as shells report a
command ended by a closed pipe)."""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TextIO

from perimeter.exemptions import ACTIVE, evaluation_date
from perimeter.inputs.locations import S3_SCHEME, STDIN, Filters, location_items, location_units
from perimeter.items import ItemError
from perimeter.jsoninput import JSONInputError, read_json_value
from perimeter.parallel import Rows, scan_in_parallel, usable_cores
from perimeter.parameters import ParameterError
from perimeter.registry import all_rules, rule_by_id
from perimeter.reports import WRITERS, ReportContext, ReportError, write_json  # noqa: F401 (write_json: API)
from perimeter.reports.tabular import ROW_FORMATS, RowWriter
from perimeter.scan import Finding, ScanInputError, scan
from perimeter.verdicts import COMPLIANCE_TYPES, NON_COMPLIANT

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
EXIT_READER_GONE = 141  # 128 + SIGPIPE, as shells report a command ended by writing to a closed pipe
SCAN_ERRORS = (ScanInputError, ItemError, ParameterError, ReportError)  # LiveScanError is a ScanInputError


class UsageError(Exception):
    """Bad input or usage: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        raise UsageError(f"{message} (see '{self.prog} --help')")


SCAN_FORMATS = ("table", "json", "csv", "html", "asff")
REPORT_FORMATS = ("html", "table", "json", "csv")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perimeter", description="AWS Config rule pack for network perimeter controls.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    scan_parser = commands.add_parser(
        "scan",
        help="evaluate configuration items (files, directories, stdin, S3, a Config aggregator, the live account)",
        description="Evaluate configuration items with exactly the code the rules' Lambdas run: from files, "
        "directories, stdin (-), s3://bucket/prefix, a Config aggregator (--aggregator) or the account (--live).",
    )
    scan_parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="a JSON file in any shape AWS's tools export (.gz accepted), a directory of them, - for stdin, or "
        "s3://bucket/prefix; several allowed",
    )
    source = scan_parser.add_mutually_exclusive_group()
    source.add_argument("--live", action="store_true",
                        help="read the resources from the AWS account with read-only API calls")
    source.add_argument("--aggregator", metavar="NAME",
                        help="read every resource of the rules' types from this Config aggregator")
    scan_parser.add_argument("--region", action="append", dest="regions", metavar="R",
                             help="with --live: scan this region; otherwise keep only items of this region "
                             "(repeatable)")
    scan_parser.add_argument("--account", action="append", dest="accounts", metavar="ID",
                             help="keep only items of this account (repeatable); not with --live")
    scan_parser.add_argument("--profile", metavar="P", help="the AWS profile for --live, --aggregator and s3://")
    scan_parser.add_argument("--rule", action="append", dest="rules", metavar="RULE_ID", help="only this rule (repeatable)")
    scan_parser.add_argument("--parameters", type=Path, metavar="FILE", help='JSON object {rule_id: {name: "value"}}')
    scan_parser.add_argument(
        "--format", choices=SCAN_FORMATS, default="table",
        help="json and csv rows are written as they are judged (a reader such as `| head` has them at once); an "
        "error found mid-scan comes after the rows before it: exit status 2 and one line on stderr, and the JSON "
        "array stays unterminated. table, html and asff are written once the whole input is judged",
    )
    scan_parser.add_argument(
        "--jobs", type=_jobs, metavar="N",
        help="worker processes judging a directory's files, several paths, S3 objects or aggregator pages at once "
        "(default: the usable cores); the output is the same as with --jobs 1, same rows, same order",
    )
    scan_parser.add_argument("--as-of", type=_as_of, metavar="YYYY-MM-DD", dest="as_of",
                             help="judge exemption tags at this date instead of today (UTC)")
    report_parser = commands.add_parser(
        "report",
        help="render what the deployed rules reported to a Config aggregator (no re-evaluation)",
        description="Read the deployed rules' results from a Config aggregator (DescribeAggregateComplianceBy"
        "ConfigRules, GetAggregateComplianceDetailsByConfigRule) and render them, by default as the HTML dashboard.",
    )
    report_parser.add_argument("--aggregator", metavar="NAME", required=True, help="the Config aggregator")
    report_parser.add_argument("--rule", action="append", dest="rules", metavar="RULE_ID", help="only this rule (repeatable)")
    report_parser.add_argument("--profile", metavar="P", help="the AWS profile to use")
    report_parser.add_argument("--name-prefix", metavar="PREFIX", dest="name_prefix",
                               help="the NamePrefix the pack was deployed with (default perimeter-): Config rules "
                               "named <PREFIX><rule id> are the pack's")
    report_parser.add_argument("--format", choices=REPORT_FORMATS, default="html")
    pack_parser = commands.add_parser(
        "pack",
        help="render a conformance pack body with your parameter values written in",
        description="Render the conformance pack body (YAML, on stdout) with the values of FILE written in; the pack "
        "keeps as input parameters only NamePrefix, RemediationAutomatic and each rule's RemediationDryRun. Without "
        "--parameters: the default pack, as templates/ holds it.",
    )
    pack_parser.add_argument(
        "--parameters", type=Path, metavar="FILE",
        help='JSON object {"rule-id": {"ruleParameter": "value", "RunbookParameter": "value"}, '
        '"PackWideParameter": "value"}',
    )
    pack_parser.add_argument("--organization", action="store_true",
                             help="the organization pack (organization/conformance-pack.yaml), not the account's")
    return parser


EXPIRING_DAYS = 30  # the table lists active exemptions that end within this many days


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of jobs (1 or more)")
    return jobs


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None


# Config takes at most 1,024 characters of InputParameters per rule (ConfigRule.InputParameters is a
# StringWithCharLimit1024 in Config's service model; https://docs.aws.amazon.com/config/latest/APIReference/
# API_ConfigRule.html), so a real parameters file is a few kilobytes; a larger one is a wrong file.
MAX_PARAMETERS_BYTES = 1 << 20


def _read_parameters_file(path: Path):
    """The JSON value of a parameters file; UsageError naming the file."""
    try:
        return read_json_value(path, MAX_PARAMETERS_BYTES)
    except JSONInputError as error:
        raise UsageError(f"{path}: {error}") from None
    except FileNotFoundError:
        raise UsageError(f"{path}: no such parameters file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a parameters file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot be read: {error.strerror or error}") from None


def _read_parameters(path: Path | None) -> dict[str, dict]:
    if path is None:
        return {}
    document = _read_parameters_file(path)
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


def visible(text: str) -> str:
    """The text with every character a terminal would act on or hide written out as an escape (``\\x1b``).

    What is not printable by ``str.isprintable``: C0 and C1 controls, DEL, format characters such as the
    bidirectional overrides, separators other than the space, surrogates and unassigned code points. Letters
    of every script, marks, symbols and emoji stay as they are.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def render_table(findings: list[Finding], rule_ids: Sequence[str], as_of: date | None = None) -> str:
    counts = Counter((finding.rule, finding.complianceType) for finding in findings)
    exempt = [f for f in findings if (f.exemption or {}).get("state") == ACTIVE]
    exempt_counts = Counter(finding.rule for finding in exempt)
    width = max(len("Rule"), *(len(rule_id) for rule_id in rule_ids))
    header = f"{'Rule':<{width}}  {'Compliant':>9}  {'Non-compliant':>13}  {'Not applicable':>14}  {'Exempt':>6}"
    lines = [header, "-" * len(header)]
    for rule_id in rule_ids:
        compliant, non_compliant, not_applicable = (counts[rule_id, kind] for kind in COMPLIANCE_TYPES)
        lines.append(f"{rule_id:<{width}}  {compliant:>9}  {non_compliant:>13}  {not_applicable:>14}  "
                     f"{exempt_counts[rule_id]:>6}")
    order = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    offenders = sorted(
        (finding for finding in findings if finding.complianceType == NON_COMPLIANT), key=lambda f: order[f.rule]
    )
    lines += _expiring(exempt, as_of or evaluation_date())
    lines.append("")
    if not offenders:
        lines.append("No non-compliant resources.")
        return "\n".join(lines)
    lines.append(f"Non-compliant resources ({len(offenders)}):")
    for finding in offenders:
        lines.append(f"  {finding.rule}  {visible(finding.resourceType)}  {visible(finding.resourceId)}")
        where = " ".join(part for part in (finding.accountId, finding.awsRegion) if part)
        name = f"name {finding.resourceName}" if finding.resourceName else ""
        if where or name:
            lines.append(f"      {visible(' '.join(part for part in ('in ' + where if where else '', name) if part))}")
        lines.append(f"      {visible(finding.annotation)}")
    return "\n".join(lines)


def _expiring(exempt: list[Finding], as_of: date) -> list[str]:
    """The active exemptions that end within EXPIRING_DAYS of ``as_of``, soonest first."""
    last = (as_of + timedelta(days=EXPIRING_DAYS)).isoformat()
    ending = sorted((f for f in exempt if f.exemption["expires"] <= last), key=lambda f: f.exemption["expires"])
    if not ending:
        return []
    lines = ["", f"Exemptions expiring within {EXPIRING_DAYS} days ({len(ending)}):"]
    for finding in ending:
        lines.append(f"  {finding.rule}  {visible(finding.resourceType)}  {visible(finding.resourceId)}  until "
                     f"{finding.exemption['expires']} ({visible(finding.exemption['reason'])})")
    return lines


class Progress:
    """Counts of items read, redrawn on one stderr line at most ten times a second; only on a terminal.

    A few lines of our own rather than a progress-bar dependency: the live scan pages through the account
    and never knows the total, so a percentage bar could only pretend; a running count is what is true.
    """

    def __init__(self, stream=None, interval: float = 0.1):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.counts: Counter = Counter()
        self._drawn = 0.0

    def track(self, items: Iterable[dict]) -> Iterator[dict]:
        try:
            for item in items:
                if self.enabled:
                    self.counts[(item.get("awsRegion"), item.get("resourceType"))] += 1
                    if time.monotonic() - self._drawn >= self.interval:
                        self._draw()
                yield item
        finally:
            self.clear()

    def add(self, counts: Counter) -> None:
        """Counts of items read elsewhere (a worker's unit of a parallel scan), drawn as ``track`` draws."""
        if self.enabled:
            self.counts.update(counts)
            if time.monotonic() - self._drawn >= self.interval:
                self._draw()

    def clear(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\033[K")  # leave the terminal as it was
            self.stream.flush()
            self._drawn = 0.0

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        parts = [f"{region} {kind.rsplit('::', 1)[-1]} {count}" for (region, kind), count in self.counts.items()]
        self.stream.write("\r\033[Kscanning: " + visible(", ".join(parts)))
        self.stream.flush()


def _warn(message: str) -> None:
    """What the scan read but could not use whole: one line on stderr, the scan goes on."""
    print(f"perimeter: warning: {visible(message)}", file=sys.stderr, flush=True)


def _check_sources(arguments: argparse.Namespace) -> None:
    """Usage errors of where the items come from, before anything is read."""
    if arguments.live:
        if arguments.paths:
            raise UsageError("PATH is not allowed with --live (see 'perimeter scan --help')")
        if arguments.accounts:
            raise UsageError("--account is not allowed with --live: it scans the profile's account "
                             "(see 'perimeter scan --help')")
        return
    if arguments.aggregator:
        if arguments.paths:
            raise UsageError("PATH is not allowed with --aggregator (see 'perimeter scan --help')")
        return
    if not arguments.paths:
        raise UsageError("the following arguments are required: path (a file, a directory, -, s3://...; or --live, or --aggregator) "
                         "(see 'perimeter scan --help')")
    if arguments.paths.count(STDIN) > 1:
        raise UsageError("- (stdin) may be given once")
    if arguments.profile and not any(path.startswith(S3_SCHEME) for path in arguments.paths):
        raise UsageError("--profile needs --live, --aggregator or an s3:// location (see 'perimeter scan --help')")


def _filters(arguments: argparse.Namespace) -> Filters:
    return Filters(frozenset(arguments.accounts or ()), frozenset(arguments.regions or ()))


def _items(arguments: argparse.Namespace, rules: list) -> Iterable[dict]:
    _check_sources(arguments)
    resource_types = [kind for spec in rules for kind in spec.resource_types]
    filters = _filters(arguments)
    if arguments.live:
        from perimeter.live import live_items  # boto3 is imported only for a live scan

        return Progress().track(live_items(resource_types, arguments.regions or (), arguments.profile))
    if arguments.aggregator:
        from perimeter.inputs.aggregator import aggregator_items

        return Progress().track(aggregator_items(arguments.aggregator, resource_types, filters.accounts,
                                                 filters.regions, arguments.profile))
    return location_items(arguments.paths, filters, _warn, arguments.profile, progress=Progress().track)


def _spreads(arguments: argparse.Namespace) -> bool:
    """Whether the input has units for workers: several paths, a directory, an S3 prefix, aggregator pages.
    One file or stdin alone is read by one process, its rows streamed as they are judged."""
    if arguments.live:
        return False
    return bool(arguments.aggregator) or len(arguments.paths) > 1 or any(
        path.startswith(S3_SCHEME) or Path(path).is_dir() for path in arguments.paths)


def _scan_in_parallel(arguments: argparse.Namespace, rules: list, parameters: dict, jobs: int,
                      flush: Callable[[], None]) -> Iterator:
    _check_sources(arguments)
    filters = _filters(arguments)
    if arguments.aggregator:
        from perimeter.inputs.aggregator import aggregator_units

        resource_types = [kind for spec in rules for kind in spec.resource_types]
        query = (arguments.aggregator, resource_types, filters.accounts, filters.regions, arguments.profile)
        units = lambda directory: aggregator_units(*query)  # noqa: E731
        filters = Filters()  # the query applies them, as the one-process scan of the aggregator relies on
    else:
        units = lambda directory: location_units(arguments.paths, filters, _warn, arguments.profile,  # noqa: E731
                                                 directory)
    progress = Progress()  # long reads show progress on a terminal, counted as the workers' units come back
    return _clearing(progress, scan_in_parallel(
        units, rules, parameters, arguments.as_of, jobs=jobs, filters=filters,
        output_format=arguments.format if arguments.format in ROW_FORMATS else None, warn=_warn, waiting=flush,
        progress=progress.add))


def _clearing(progress: Progress, results: Iterable) -> Iterator:
    try:
        yield from results
    finally:
        progress.clear()


def run_scan(arguments: argparse.Namespace) -> int:
    rules = [_rule(rule_id) for rule_id in dict.fromkeys(arguments.rules)] if arguments.rules else list(all_rules())
    parameters = _read_parameters(arguments.parameters)
    source = ("aggregator " + arguments.aggregator) if arguments.aggregator else (
        "live account" if arguments.live else ", ".join(arguments.paths))
    jobs = arguments.jobs or usable_cores()
    if jobs > 1 and _spreads(arguments):
        findings = lambda flush: _scan_in_parallel(arguments, rules, parameters, jobs, flush)  # noqa: E731
    else:
        findings = lambda flush: scan(_items(arguments, rules), rules, parameters, arguments.as_of)  # noqa: E731
    return _render(findings, arguments.format, rules, f"perimeter scan of {source}", arguments.as_of)


def run_report(arguments: argparse.Namespace) -> int:
    from perimeter.reports.deployed import deployed_findings  # boto3 only here

    rules = [_rule(rule_id) for rule_id in dict.fromkeys(arguments.rules)] if arguments.rules else list(all_rules())
    return _render(lambda flush: deployed_findings(arguments.aggregator, rules, arguments.profile,
                                                   progress=Progress().track, name_prefix=arguments.name_prefix),
                   arguments.format, rules, f"deployed rules reported to aggregator {arguments.aggregator}")


def _render(findings: Callable[[Callable[[], None]], Iterable], output: str, rules: list, source: str,
            as_of: date | None = None) -> int:
    """``findings(flush)`` (Findings, or perimeter.parallel.Rows) written in the ``output`` format; ``flush``
    sends out what is written so far (a parallel scan calls it before it waits for a worker)."""
    if output in ROW_FORMATS:
        return _stream_rows(findings, ROW_FORMATS[output])
    return _spool_report(lambda: findings(lambda: None), output, rules, source, as_of)


def _spool_report(findings: Callable[[], Iterable[Finding]], output: str, rules: list, source: str,
                  as_of: date | None = None) -> int:
    """The table and the reports that need every finding before their first line (counts, a summary) are written
    to a spool file as they are made (memory does not grow with the input) and copied out once the whole input is
    judged: bad input prints nothing but the error."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        try:
            if output == "table":
                rows = list(findings())
                non_compliant = any(f.complianceType == NON_COMPLIANT for f in rows)
                spool.write(render_table(rows, [spec.rule_id for spec in rules], as_of) + "\n")
            else:
                non_compliant = WRITERS[output](findings(), spool, ReportContext(rules, source, as_of=as_of))
        except SCAN_ERRORS as error:
            raise UsageError(str(error)) from None
        spool.seek(0)
        _write_out(lambda stdout: shutil.copyfileobj(spool, stdout))
    return EXIT_FINDINGS if non_compliant else EXIT_CLEAN


class _ReaderGone(Exception):
    """stdout's reader closed it (EPIPE): ``| head`` has what it wanted."""


class _CannotWrite(Exception):
    """stdout cannot take more (a full disk); the message is the system's."""


class _Output:
    """stdout for rows written as they are judged: flushed after every write when someone reads as it goes (a
    pipe, a socket, a terminal), so ``| head -1`` has its row at once; a file fills its buffer first."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.live = _read_as_written(stream)

    def write(self, text: str) -> None:
        if text:
            self._guarded(lambda: self.stream.write(text))
            if self.live:
                self.flush()

    def flush(self) -> None:
        self._guarded(self.stream.flush)

    @staticmethod
    def _guarded(call: Callable[[], object]) -> None:
        try:
            call()
        except BrokenPipeError:
            raise _ReaderGone() from None
        except OSError as error:
            raise _CannotWrite(error.strerror or str(error)) from None


def _read_as_written(stream: TextIO) -> bool:
    try:
        descriptor = stream.fileno()
        mode = os.fstat(descriptor).st_mode
        return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(descriptor)
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):  # not a file (replaced, as in tests)
        return False


def _stream_rows(findings: Callable[[Callable[[], None]], Iterable], form) -> int:
    """JSON or CSV rows on stdout as they are judged. An error mid-scan comes after the rows before it: they stay
    written (a JSON array without its end, which a JSON reader rejects, as it should), then the one line and exit
    2. A reader gone stops the scan: nothing more can be said, so no findings status either (EXIT_READER_GONE)."""
    output = _Output(sys.stdout)
    non_compliant = False
    try:
        with closing(iter(findings(output.flush))) as pieces:  # closed at once on any exit: workers stop
            writer = RowWriter(form, output)
            for piece in pieces:
                if isinstance(piece, Rows):
                    with open(piece.path, encoding="utf-8", newline="") as text:
                        writer.copy(text, piece.count)
                    non_compliant = non_compliant or piece.non_compliant
                else:
                    non_compliant = writer.finding(piece) or non_compliant
            writer.close()
            output.flush()
    except _ReaderGone:
        _discard_stdout()
        return EXIT_READER_GONE
    except _CannotWrite as error:
        _discard_stdout()
        raise UsageError(f"cannot write the output: {error}") from None
    except SCAN_ERRORS as error:
        try:
            output.flush()  # the rows before the error, before the error line
        except (_ReaderGone, _CannotWrite):
            _discard_stdout()
        raise UsageError(str(error)) from None
    return EXIT_FINDINGS if non_compliant else EXIT_CLEAN


def run_pack(arguments: argparse.Namespace) -> int:
    """The pack body on stdout; bad values in the file: one line, exit 2, nothing on stdout."""
    # Build tooling (PyYAML, the runbook renderer), imported for this command only: the scan starts without it.
    from perimeter.templates.packs import PackValues, PackValuesError
    from perimeter.templates.render import render_pack

    try:
        values = PackValues() if arguments.parameters is None else \
            PackValues.from_document(_read_parameters_file(arguments.parameters))
        text = render_pack(values, organization=arguments.organization,
                           source=str(arguments.parameters) if arguments.parameters else None)
    except PackValuesError as error:
        raise UsageError(f"{arguments.parameters}: {error}") from None
    _write_out(lambda stdout: stdout.write(text))
    return EXIT_CLEAN


def _write_out(write: Callable[[TextIO], object]) -> None:
    """Write the report to stdout, flushed. A reader that went away (``| head -1``) is no error: the exit
    status still says what was found. Any other failure to write (a full disk) is one."""
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
    except OSError as error:
        _discard_stdout()
        raise UsageError(f"cannot write the output: {error.strerror or error}") from None


def _discard_stdout() -> None:
    """Point stdout's descriptor at /dev/null, so the interpreter's last flush of what is still buffered
    neither fails nor prints "Exception ignored" (the Python docs' "Note on SIGPIPE" does the same:
    https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a file (replaced, as in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = build_parser().parse_args(argv)
        if arguments.command == "pack":
            return run_pack(arguments)
        return run_report(arguments) if arguments.command == "report" else run_scan(arguments)
    except UsageError as error:
        return _fail(str(error), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # a fault of ours; still one line, and never exit 1, which means findings
        return _fail(f"unexpected {type(error).__name__}: {error} (a bug in perimeter; please report it)", EXIT_USAGE)


def _fail(message: str, status: int) -> int:
    """One line on stderr, control characters made visible (the message may quote the input)."""
    try:
        print(f"perimeter: error: {visible(message)}", file=sys.stderr, flush=True)
    except OSError:  # stderr gone too: the status is all that is left
        pass
    return status


if __name__ == "__main__":
    sys.exit(main())
