"""JSON files a user hands the command line: read as a stream, within bounds, every fault one line.

The scan reads files from anywhere (issue 10, items 14-15), so nothing in them is trusted:
- gzip is recognised by its first two bytes, ID1 31 and ID2 139 (RFC 1952 section 2.3.1), not by the name;
- JSON text is UTF-8 (RFC 8259 section 8.1); a byte order mark in front is skipped, as that section lets a
  parser do; the first byte that is not UTF-8 is reported by its position;
- no value nests deeper than MAX_DEPTH levels. json's C decoder raises RecursionError somewhere below the
  interpreter's recursion limit (about a thousand levels) and uses little memory on the way; that bound is an
  accident of the interpreter, so the documented limit is ours, checked on what was decoded.
Messages carry no file name (the caller adds it) and never a bytes repr.
"""
from __future__ import annotations

import codecs
import gzip
import json
import re
import zlib
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO, Iterator

MAX_DEPTH = 64  # far beyond any configuration item: a security group is 6 levels deep, a stateless rule group 11
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
CHUNK = 1 << 20  # bytes read at a time; a value that does not fit reads more, doubling


class JSONInputError(ValueError):
    """The input is not JSON the scan reads; the message says what and where, in words, in one line."""


def nesting_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` holds objects or arrays more than ``limit`` levels deep (the outermost is level 1).

    Level by level rather than recursively, so the walk itself cannot overflow the stack.
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner = []
        for container in level:
            for child in container.values() if type(container) is dict else container:
                if type(child) is dict or type(child) is list:
                    inner.append(child)
        level = inner
    return False


class _Text:
    """UTF-8 text from a binary stream, decoded chunk by chunk, knowing the byte offset of every chunk."""

    def __init__(self, binary: BinaryIO, compressed: bool, max_bytes: int | None):
        self._binary, self._compressed, self._max_bytes = binary, compressed, max_bytes
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0  # bytes handed to the decoder so far
        self._read = 0  # bytes read (the mark included)
        self._started = False

    def read(self, size: int) -> str:
        """Some text, "" only at the end (a chunk may end inside a character, or hold only the mark)."""
        while True:
            data = self._read_bytes(size)
            if not self._started:
                data = self._past_byte_order_mark(data, size)
            pending = len(self._decoder.getstate()[0])  # bytes of a character cut at the previous chunk's end
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as error:
                where = self._offset - pending + error.start + 1
                raise JSONInputError(f"not UTF-8 text at byte {where}{self._uncompressed}") from None
            self._offset += len(data)
            if text or not data:
                return text

    def _past_byte_order_mark(self, data: bytes, size: int) -> bytes:
        self._started = True
        while 0 < len(data) < len(UTF8_BOM) and (more := self._read_bytes(size)):
            data += more
        if data.startswith(UTF16_BOMS):
            raise JSONInputError("starts with a UTF-16 byte order mark: the scan reads UTF-8 text")
        if data.startswith(UTF8_BOM):
            self._offset = len(UTF8_BOM)
            return data[len(UTF8_BOM):]
        return data

    @property
    def _uncompressed(self) -> str:
        return " of the uncompressed data" if self._compressed else ""

    def _read_bytes(self, size: int) -> bytes:
        try:
            data = self._binary.read(size)
        except EOFError:
            raise JSONInputError("gzip data cut short: the file ends inside the compressed stream") from None
        except zlib.error as error:
            raise JSONInputError(f"damaged gzip data ({error})") from None
        except gzip.BadGzipFile as error:  # its only message with a bytes repr is the one about what follows
            if str(error).startswith("Not a gzipped file"):
                raise JSONInputError("the gzip data is followed by bytes that are not gzip") from None
            raise JSONInputError(f"damaged gzip data ({error})") from None
        self._read += len(data)
        if self._max_bytes is not None and self._read > self._max_bytes:
            raise JSONInputError(f"larger than {self._max_bytes:,} bytes{self._uncompressed}")
        return data


@contextmanager
def open_json_text(path: Path, max_bytes: int | None = None) -> Iterator["JSONReader"]:
    """A JSONReader on the file, gzip or not; raises OSError subclasses when the file cannot be opened."""
    with open(path, "rb") as raw, open_json_stream(raw, max_bytes) as reader:
        yield reader


class _Rejoined:
    """A read-only stream that gives back the bytes already taken from its front, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


@contextmanager
def open_json_stream(binary: BinaryIO, max_bytes: int | None = None) -> Iterator["JSONReader"]:
    """A JSONReader on any binary stream that can be read once (stdin, an S3 object's body), gzip or not."""
    head = b""
    while len(head) < len(GZIP_MAGIC):
        more = binary.read(len(GZIP_MAGIC) - len(head))
        if not more:
            break
        head += more
    compressed = head == GZIP_MAGIC
    stream = _Rejoined(head, binary)
    with gzip.GzipFile(fileobj=stream, mode="rb") if compressed else nullcontext(stream) as decoded:
        yield JSONReader(_Text(decoded, compressed, max_bytes))


def read_json_value(path: Path, max_bytes: int) -> Any:
    """The one JSON value a small file holds (at most ``max_bytes``), nested at most MAX_DEPTH levels."""
    with open_json_text(path, max_bytes) as reader:
        value = reader.value(checked=True)
        reader.end()
    return value


_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]+")


class JSONReader:
    """A window on a JSON text, decoded one value at a time by json's own C decoder (``raw_decode``).

    Two to three times faster than ijson's per-event item builder (the snapshot scan's largest cost), and the
    window stays about one chunk plus the value being read, so memory does not grow with the file. Errors
    give the line and column in the whole text: the window keeps count of the lines it has moved past.
    """

    def __init__(self, text: _Text):
        self._text = text
        self.buffer, self.pos, self.eof = "", 0, False
        self._line, self._column = 1, 0  # of the window's first character: its line, characters before it

    def _more(self, size: int | None = None) -> bool:
        chunk = self._text.read(size or CHUNK)
        if not chunk:
            self.eof = True
            return False
        newlines = self.buffer.count("\n", 0, self.pos)
        if newlines:
            self._line += newlines
            self._column = self.pos - self.buffer.rfind("\n", 0, self.pos) - 1
        else:
            self._column += self.pos
        self.buffer, self.pos = self.buffer[self.pos:] + chunk, 0
        return True

    def where(self, pos: int) -> str:
        line_start = self.buffer.rfind("\n", 0, pos)
        if line_start >= 0:
            line = self._line + self.buffer.count("\n", 0, pos)
            return f"line {line} column {pos - line_start}"
        return f"line {self._line} column {self._column + pos + 1}"

    def invalid(self, message: str, pos: int) -> JSONInputError:
        return JSONInputError(f"invalid JSON: {message} at {self.where(pos)}")

    def too_deep(self, pos: int) -> JSONInputError:
        return JSONInputError(f"nested deeper than {MAX_DEPTH} levels, in the value at {self.where(pos)}")

    def peek(self) -> str:
        """The next character that is not whitespace, "" at the end of the text."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer) or not self._more():
                return self.buffer[self.pos : self.pos + 1]

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise self.invalid(f"Expecting {what}", self.pos)
        self.pos += 1

    def value(self, checked: bool = False) -> Any:
        """The next value; ``checked``: refuse it when it nests deeper than MAX_DEPTH (items are checked by
        the scan once normalised, which also covers configurations carried as JSON text)."""
        self.peek()
        size = CHUNK
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
                if self._whole(value, end):
                    break
            except RecursionError:
                raise self.too_deep(self.pos) from None
            except json.JSONDecodeError as error:  # at the window's edge: the value may just be cut
                cut = error.pos >= len(self.buffer) - 32 or error.msg.startswith("Unterminated string")
                if self.eof or not cut:
                    raise self.invalid(error.msg, error.pos) from None
            size *= 2
            self._more(size)
        if checked and nesting_exceeds(value):
            raise self.too_deep(self.pos)
        self.pos = end
        return value

    def _whole(self, value: Any, end: int) -> bool:
        """False when the text read so far may go on: the window ends with the value, or with what may still
        be the rest of a number (``1.`` of ``1.5``, ``2e`` of ``2e9``)."""
        if self.eof:
            return True
        if end == len(self.buffer):
            return False
        return not (type(value) in (int, float) and _NUMBER_TAIL.fullmatch(self.buffer, end))

    def array(self) -> Iterator[Any]:
        """The members of the array that comes next, one by one (unchecked: see ``value``)."""
        for _ in self._members("[", "]"):
            yield self.value()

    def keys(self) -> Iterator[str]:
        """The keys of the object that comes next; after each, the caller reads its value."""
        for _ in self._members("{", "}"):
            if self.peek() != '"':
                raise self.invalid("Expecting property name enclosed in double quotes", self.pos)
            key = self.value()
            self.expect(":", "':' delimiter")
            yield key

    def _members(self, opening: str, closing: str) -> Iterator[None]:
        """Once before each member of the array or object that comes next, which the caller then reads."""
        self.expect(opening, f"'{opening}'")
        if self.peek() == closing:
            self.pos += 1
            return
        while True:
            yield
            if not self._another(closing):
                return

    def _another(self, closing: str) -> bool:
        """Past the ',' before another member (True) or the closing bracket (False)."""
        following = self.peek()
        self.pos += 1
        if following == closing:
            return False
        if following != ",":
            raise self.invalid("Expecting ',' delimiter", self.pos - 1)
        return True

    def end(self) -> None:
        if self.peek():
            raise self.invalid("Extra data", self.pos)
