"""Headless Chromium for the dashboard's browser tests and the README screenshot (``make screenshot``).

Debian's ``chromium`` package, run as the CI runs it (as root, so ``--no-sandbox``), with everything that
would reach the network switched off and a fresh profile each time. ``.ci/run`` installs it when it is missing.
Also a small PNG reader (zlib and the five PNG filters, RFC 2083 / PNG spec section 9) so the screenshot can
be checked without an imaging library.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--mute-audio", "--disable-extensions")
WINDOW = (1280, 1000)
MISSING = ("Chromium is not installed: the dashboard's browser tests need it. .ci/run installs it "
           "(apt-get update && apt-get install -y chromium); or set PERIMETER_CHROMIUM to a Chromium binary")


def chromium() -> str | None:
    configured = os.environ.get("PERIMETER_CHROMIUM")
    if configured:
        return configured
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _run(arguments: list[str], timeout: int = 60) -> subprocess.CompletedProcess:
    binary = chromium()
    if binary is None:
        raise RuntimeError(MISSING)
    with tempfile.TemporaryDirectory(prefix="perimeter-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *arguments], capture_output=True,
                              timeout=timeout, check=True)


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran, as HTML."""
    return _run(["--virtual-time-budget=2000", "--dump-dom", url]).stdout.decode("utf-8")


def screenshot(url: str, output: Path, window: tuple[int, int] = WINDOW) -> Path:
    _run([f"--window-size={window[0]},{window[1]}", f"--screenshot={output}", url])
    return output


# --- PNG -----------------------------------------------------------------------------------------------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG: depth {depth} colour {color}"
    step = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows, previous = [], bytes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                upper_left = previous[i - step] if i >= step else 0
                line[i] = (line[i] + _paeth(left, previous[i], upper_left)) & 0xFF
        rows.append(bytes(line))
        previous = rows[-1]
    return width, height, [bytes(b for i, b in enumerate(row) if i % step < 3) if step == 4 else row for row in rows]


def colour_census(path: Path, every: int = 4) -> dict[tuple[int, int, int], int]:
    """How many pixels of each colour, sampling every ``every``-th pixel of every ``every``-th row."""
    width, height, rows = read_png(path)
    census: dict[tuple[int, int, int], int] = {}
    for row in rows[::every]:
        for x in range(0, width, every):
            pixel = (row[3 * x], row[3 * x + 1], row[3 * x + 2])
            census[pixel] = census.get(pixel, 0) + 1
    return census


# --- the README screenshot -------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """``python tests/browser.py OUTPUT.png``: the dashboard of the organization example, photographed."""
    root = Path(__file__).resolve().parent.parent
    sys.path[:0] = [str(root), str(root / "tests")]
    from example_report import render_example_report

    output = Path(argv[0]) if argv else root / "docs" / "dashboard.png"
    with tempfile.TemporaryDirectory() as work:
        page = render_example_report(Path(work) / "report.html")
        screenshot(page.as_uri(), output.resolve(), (1280, 1180))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
