"""The places ``perimeter scan`` reads: files, directories, ``-`` (stdin), ``s3://bucket/prefix``.

A directory is walked for ``.json`` and ``.json.gz`` files, in name order. Config's delivery bucket (as
``aws s3 sync`` copies it, or read in place from S3) holds, per account and region, a snapshot a day or so and
six-hourly history files under ``AWSLogs/<account>/Config/<region>/<y>/<m>/<d>/ConfigSnapshot|ConfigHistory/``
(https://docs.aws.amazon.com/config/latest/developerguide/example-configuration-snapshot-notification.html).
The scan judges what is there now, so of those it reads only the newest snapshot of each account and region
and no history file (their items repeat what the snapshots hold, at older times); it says how many it passed
over. Every other JSON file is read.

``--account`` / ``--region`` keep items of those accounts and regions only: objects whose Config path names
another account or region are not even opened, and every item is checked by its own fields (an item that
does not say its account or region is left out when that filter is given).
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, NamedTuple

from perimeter.inputs.documents import document_items, select_row
from perimeter.jsoninput import JSONInputError, open_json_stream

STDIN = "-"
S3_SCHEME = "s3://"
JSON_SUFFIXES = (".json", ".json.gz")
CONFIG_OBJECT = re.compile(
    r"(?:^|/)AWSLogs/(?P<account>\d{12})/Config/(?P<region>[a-z0-9-]+)/(?:\d+/){3}"
    r"(?P<kind>ConfigSnapshot|ConfigHistory)/[^/]*_(?P<time>\d{8}T\d{6}Z)[^/]*\.json(?:\.gz)?$"
)


@dataclass(frozen=True)
class Filters:
    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def admits_key(self, key: str) -> bool:
        """False when the object's Config path names an account or region outside the filters."""
        match = CONFIG_OBJECT.search(key)
        if not match:
            return True
        return (not self.accounts or match["account"] in self.accounts) and (
            not self.regions or match["region"] in self.regions)

    def admits(self, item: Any) -> bool:
        if not isinstance(item, dict):
            return True  # the scan names a malformed item
        account = item.get("accountId", item.get("awsAccountId"))
        return (not self.accounts or str(account) in self.accounts) and (
            not self.regions or item.get("awsRegion") in self.regions)

    def __bool__(self) -> bool:
        return bool(self.accounts or self.regions)


class Selection:
    """The JSON files worth reading among a listing: every plain JSON file, and of Config's delivered
    objects the newest snapshot per account and region (see the module docstring)."""

    def __init__(self, filters: Filters):
        self.filters = filters
        self.others: list[str] = []
        self.newest: dict[tuple[str, str], tuple[str, str]] = {}  # (account, region) -> (time, key)
        self.passed_over = 0

    def offer(self, key: str) -> None:
        if not key.endswith(JSON_SUFFIXES):
            return
        match = CONFIG_OBJECT.search(key)
        if not match:
            self.others.append(key)
            return
        if match["kind"] == "ConfigHistory" or not self.filters.admits_key(key):
            self.passed_over += 1
            return
        place = (match["account"], match["region"])
        held = self.newest.get(place)
        if held is None or (match["time"], key) > held:
            self.passed_over += held is not None
            self.newest[place] = (match["time"], key)
        else:
            self.passed_over += 1

    def keys(self) -> list[str]:
        return sorted(self.others + [key for _, key in self.newest.values()])

    def note(self, where: str) -> str | None:
        if not self.passed_over:
            return None
        return (f"{where}: read the newest Config snapshot of each account and region; passed over "
                f"{self.passed_over} older snapshot or history file(s)")


def directory_files(directory: Path, filters: Filters, warn: Callable[[str], None]) -> list[Path]:
    selection = Selection(filters)
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            selection.offer(path.relative_to(directory).as_posix())
    note = selection.note(str(directory))
    if note:
        warn(note)
    return [directory / key for key in selection.keys()]


def read_stream(binary, where: str, warn: Callable[[str], None]) -> Iterator[Any]:
    """The raw items of one document read from a binary stream (stdin, an S3 object)."""
    from perimeter.scan import ScanInputError

    try:
        with open_json_stream(binary) as reader:
            yield from document_items(reader, lambda message: warn(f"{where}: {message}"))
    except JSONInputError as error:
        raise ScanInputError(f"{where}: {error}") from None


class _Arriving:
    """A pipe read as it arrives: ``read(size)`` answers with what is there (``read1``) rather than waiting for
    ``size`` bytes, so the items a producer has written are judged (and their rows printed) while it goes on."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read1(size) if hasattr(self._stream, "read1") else self._stream.read(size)


def _files(location: str, filters: Filters, warn: Callable[[str], None]) -> list[Path]:
    """The file a local path names, or the files of a directory (at least one)."""
    from perimeter.scan import ScanInputError

    path = Path(location)
    if not path.is_dir():
        return [path]
    files = directory_files(path, filters, warn)
    if not files:
        raise ScanInputError(f"{path}: no .json or .json.gz file in this directory")
    return files


def location_items(
    locations: Iterable[str], filters: Filters = Filters(), warn: Callable[[str], None] = lambda message: None,
    profile: str | None = None, progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> Iterator[Any]:
    """The raw items of every location in turn, filtered. S3 prefixes are read with boto3 (imported then)."""
    from perimeter.scan import read_items

    for location in locations:
        if location == STDIN:
            items = read_stream(_Arriving(sys.stdin.buffer), "stdin", warn)
        elif location.startswith(S3_SCHEME):
            from perimeter.inputs.s3 import s3_items

            items = progress(s3_items(location, filters, warn, profile))
        else:
            items = (item for file in _files(location, filters, warn) for item in read_items(file, warn))
        yield from (item for item in items if filters.admits(item)) if filters else items


# --- units: the same input cut where a worker process can take it whole (perimeter.parallel) ---------------


class Unit(NamedTuple):
    """One piece of the input a worker judges whole, in input order: a file (``path``, named by its own path),
    a spooled copy of a stream (stdin, an S3 object; ``path`` is the copy, ``where`` names the original), or an
    aggregator page (``rows``, advanced-query results)."""

    kind: str  # FILE, STREAM or ROWS
    where: str
    path: str | None = None
    rows: tuple = ()
    temporary: bool = False  # ``path`` is a copy the parent deletes once the unit is judged


FILE, STREAM, ROWS = "file", "stream", "rows"


def unit_items(unit: Unit, warn: Callable[[str], None]) -> Iterator[Any]:
    """The raw items of one unit, exactly as ``location_items`` (or ``aggregator_items``) reads that piece."""
    from perimeter.scan import read_items

    if unit.kind == FILE:
        yield from read_items(Path(unit.path), warn)
    elif unit.kind == STREAM:
        with open(unit.path, "rb") as binary:
            yield from read_stream(binary, unit.where, warn)
    else:
        yield from page_items(unit.where, unit.rows)


def page_items(where: str, rows: Iterable[Any]) -> Iterator[Any]:
    """Advanced-query result rows as raw items; a row that is not one is an error naming ``where``."""
    from perimeter.scan import ScanInputError

    for row in rows:
        try:
            yield select_row(row)
        except JSONInputError as error:
            raise ScanInputError(f"{where}: {error}") from None


def spooled(binary: BinaryIO, where: str, directory: str) -> Unit:
    """A stream copied to a file in ``directory`` (memory holds a buffer, whatever its size), as a unit."""
    with tempfile.NamedTemporaryFile("wb", dir=directory, suffix=".input", delete=False) as copy:
        shutil.copyfileobj(binary, copy)
    return Unit(STREAM, where, copy.name, temporary=True)


def location_units(
    locations: Iterable[str], filters: Filters, warn: Callable[[str], None], profile: str | None, directory: str,
) -> Iterator[Unit]:
    """The units of every location in turn: ``location_items`` cut into files and objects. Errors about a
    location (an empty directory, an S3 prefix with no object) are raised where ``location_items`` raises them;
    streams are copied into ``directory`` as they are reached."""
    for location in locations:
        if location == STDIN:
            yield spooled(sys.stdin.buffer, "stdin", directory)
        elif location.startswith(S3_SCHEME):
            from perimeter.inputs.s3 import s3_units

            yield from s3_units(location, filters, warn, profile, directory)
        else:
            yield from (Unit(FILE, str(file), str(file)) for file in _files(location, filters, warn))
