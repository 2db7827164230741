"""``perimeter scan --jobs N``: the input's units (files, objects, aggregator pages) judged by worker processes,
the results written in input order, so the output is the one ``perimeter.scan.scan`` gives in one process.

The parent cuts the input into units (``perimeter.inputs.locations.location_units``; it reads S3 and the
aggregator itself, so workers need no credentials) and keeps up to two units per worker in flight. A worker
judges a whole unit with ``scan`` and writes what it found to a file of its own in a temporary directory: the rows
already formatted for ``--format json``/``csv`` (so the parent only copies text), otherwise the findings pickled in
batches. Memory holds no unit's findings, whatever its size.

What has to be the same as one process:
- Order: results are taken unit by unit in input order, whatever order the workers finish in.
- Rules that read related items across the input (``perimeter.scan.related_resource_types``): workers leave
  them out, and send back the raw items of those rules' types and of the types they relate to; the parent judges
  those with ``scan`` once every unit is in, so their findings come last, as ``scan`` puts them.
- Errors: a worker's error is raised when its unit's turn comes, after the rows of the units before it and of
  the same unit before the fault; ``item #N`` counts from the start of the whole input.
- Parameters are validated before any unit is read; exemptions are judged at one date, fixed by the parent.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import tempfile
import threading
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from perimeter.exemptions import evaluation_date
from perimeter.inputs.locations import Filters, Unit, unit_items
from perimeter.items import ItemError
from perimeter.parameters import ParameterError
from perimeter.registry import RuleSpec, rule_by_id
from perimeter.reports.tabular import ROW_FORMATS
from perimeter.scan import Finding, ScanInputError, related_resource_types, scan
from perimeter.verdicts import NON_COMPLIANT

UNITS_PER_WORKER = 2  # in flight: one being judged, one waiting, so a worker never idles for the parent
PICKLED_BATCH = 1000  # findings per pickle.dump in a worker's file
JUDGING_ERRORS = (ScanInputError, ItemError, ParameterError)  # LiveScanError is a ScanInputError


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, as taskset or a container sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Rows(NamedTuple):
    """One unit's rows, formatted, in a file: copy them out, then delete the file."""

    path: str
    count: int
    non_compliant: bool


class _Judged(NamedTuple):
    """What a worker sends back for a unit: small, whatever the unit's size."""

    output: str  # the file of rows or pickled findings
    rows: int
    non_compliant: bool
    items: int  # items of the unit the scan read (after the filters), for ``item #N`` of later units
    related: list  # raw items the parent judges for the rules reading related items
    kinds: Counter  # items read per (awsRegion, resourceType), for the parent's progress line
    warnings: list
    error: Exception | None
    failed_item: int | None  # the error names this item of the unit as ``item #N``


class _Settings(NamedTuple):  # what every worker is told once, as it starts
    rule_ids: tuple
    parameters: dict
    as_of: date
    filters: Filters
    output_format: str | None  # "json"/"csv": rows as text; None: findings pickled
    directory: str


_settings: _Settings | None = None  # a worker's, set once as it starts
_rules: tuple = ()  # a worker's: (rules it judges, the types of the items it sends back)


def _start_worker(settings: _Settings) -> None:
    global _settings, _rules
    direct, _, kept_types = _split(rule_by_id(rule_id) for rule_id in settings.rule_ids)
    _settings, _rules = settings, (direct, kept_types)


def _split(rules: Iterable[RuleSpec]) -> tuple[list[RuleSpec], list[RuleSpec], frozenset]:
    """(rules a worker judges, rules the parent judges at the end, the types of items those need)."""
    rules = list(rules)
    relating = [spec for spec in rules if related_resource_types(spec)]
    kept = {kind for spec in relating for kind in (*spec.resource_types, *related_resource_types(spec))}
    return [spec for spec in rules if spec not in relating], relating, frozenset(kept)


def judge_unit(unit: Unit) -> _Judged:
    """A worker's task: judge one unit whole (see the module docstring)."""
    settings, (direct, kept_types) = _settings, _rules
    warnings: list[str] = []
    related: list = []
    kinds: Counter = Counter()
    read = 0

    def admitted() -> Iterator[Any]:
        nonlocal read
        for raw in unit_items(unit, warnings.append):
            if settings.filters and not settings.filters.admits(raw):
                continue
            read += 1
            if type(raw) is dict and isinstance(raw.get("resourceType"), str):
                kinds[(raw.get("awsRegion"), raw["resourceType"])] += 1
                if raw["resourceType"] in kept_types:
                    related.append(raw)
            yield raw

    findings = scan(admitted(), direct, settings.parameters, settings.as_of)
    descriptor, output = tempfile.mkstemp(dir=settings.directory, suffix=".rows")
    form = ROW_FORMATS.get(settings.output_format)
    rows, non_compliant, error, failed_item = 0, False, None, None
    text = {"mode": "w", "encoding": "utf-8", "newline": ""} if form else {"mode": "wb"}
    with open(descriptor, **text) as out:
        try:
            if form:
                for finding in findings:
                    out.write((form.between if rows else "") + form.row(finding))
                    rows += 1
                    non_compliant = non_compliant or finding.complianceType == NON_COMPLIANT
            else:
                batch: list[tuple] = []
                for finding in findings:
                    batch.append(tuple(finding))
                    if len(batch) == PICKLED_BATCH:
                        pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
                        rows, batch = rows + len(batch), []
                if batch:
                    pickle.dump(batch, out, pickle.HIGHEST_PROTOCOL)
                    rows += len(batch)
        except JUDGING_ERRORS as fault:
            error = fault
            failed_item = read if str(fault).startswith(f"item #{read}: ") else None
    return _Judged(output, rows, non_compliant, read, related, kinds, warnings, error, failed_item)


def start_method(threads: int | None = None) -> str:
    """How workers start. ``fork`` on Linux while this process runs one thread: a worker is a copy of the parent,
    pack imported, at once (the bench's 20-file directory: 1.82x faster on two jobs than on one, against 1.66x
    with forkserver, whose server imports the pack before the first worker starts: issue 16, target 3). Never fork
    beside other threads (boto3's transfers may have started some): a copy of a lock another thread held stays
    locked in the child, which is why Python warns of it. Then forkserver, whose server has already imported the
    pack, where there is one; spawn elsewhere."""
    threads = threading.active_count() if threads is None else threads
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and threads == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def _context():
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["perimeter.parallel"])
    return context


def scan_in_parallel(
    units: Callable[[str], Iterable[Unit]], rules: Iterable[RuleSpec], raw_parameters: dict[str, dict],
    as_of: date | None = None, *, jobs: int, filters: Filters = Filters(), output_format: str | None = None,
    warn: Callable[[str], None] = lambda message: None, waiting: Callable[[], None] = lambda: None,
    progress: Callable[[Counter], None] = lambda counts: None,
) -> Iterator[Rows | Finding]:
    """The scan of ``units(directory)`` (a temporary directory for spooled input) by ``jobs`` workers.

    Yields, in input order, ``Rows`` (when ``output_format`` is json or csv: each unit's rows as that format's
    text) or Findings; the related-items rules' findings come last, as Findings, in every case. ``warn`` hears
    the workers' warnings when their unit's turn comes; ``waiting`` is called before the parent blocks on a
    worker (the caller flushes what it has written); ``progress`` hears each unit's items per (region, type).
    """
    rules = list(rules)
    as_of = as_of or evaluation_date()
    for spec in rules:  # bad parameters fail before any input is read, as in ``scan``
        spec.parse_parameters(raw_parameters.get(spec.rule_id, {}))
    _, relating, _ = _split(rules)
    related: list = []
    with tempfile.TemporaryDirectory(prefix="perimeter-scan-") as directory:
        settings = _Settings(tuple(spec.rule_id for spec in rules), raw_parameters, as_of, filters, output_format,
                             directory)
        pool = ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_start_worker, initargs=(settings,))
        try:
            yield from _in_order(pool, units(directory), jobs * UNITS_PER_WORKER, output_format, related, warn,
                                 waiting, progress)
        except BaseException:  # an error, the reader gone (the generator closed), Ctrl-C
            _stop(pool)
            raise
        pool.shutdown(wait=True)
    if relating:
        yield from scan(related, relating, raw_parameters, as_of)


def _in_order(pool: ProcessPoolExecutor, units: Iterable[Unit], window: int, output_format: str | None,
              related: list, warn: Callable[[str], None], waiting: Callable[[], None],
              progress: Callable[[Counter], None]) -> Iterator[Rows | Finding]:
    pending: deque[tuple[Unit | None, Future | BaseException]] = deque()
    source = iter(units)
    items_before = 0
    while True:
        while source is not None and len(pending) < window:
            try:
                unit = next(source)
            except StopIteration:
                source = None
                break
            except JUDGING_ERRORS as error:  # the input ends here: raised once the units before it are written
                pending.append((None, error))
                source = None
                break
            pending.append((unit, pool.submit(judge_unit, unit)))
        if not pending:
            return
        unit, task = pending.popleft()
        if isinstance(task, BaseException):
            raise task
        if not task.done():
            waiting()
        judged = task.result()
        progress(judged.kinds)
        try:
            for message in judged.warnings:
                warn(message)
            if output_format:
                yield Rows(judged.output, judged.rows, judged.non_compliant)
            else:
                yield from _unpickled(judged.output)
        finally:
            _remove(judged.output)
            if unit.temporary:
                _remove(unit.path)
        if judged.error is not None:
            raise _numbered(judged.error, judged.failed_item, items_before)
        items_before += judged.items
        related.extend(judged.related)


def _numbered(error: Exception, failed_item: int | None, items_before: int) -> Exception:
    """The worker's error, ``item #N`` counted from the start of the whole input."""
    if failed_item is None:
        return error
    rest = str(error)[len(f"item #{failed_item}: "):]
    return type(error)(f"item #{items_before + failed_item}: {rest}")


def _unpickled(path: str) -> Iterator[Finding]:
    with open(path, "rb") as findings:
        while True:
            try:
                batch = pickle.load(findings)
            except EOFError:
                return
            yield from map(Finding._make, batch)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop at once: on an error or a reader gone, the units still being judged are of no use. The executor
    has no public way to end running tasks before Python 3.14 (``terminate_workers``), hence its process table."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join()
