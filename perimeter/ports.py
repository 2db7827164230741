"""Port ranges and the comma-list syntax of AWS's managed rule vpc-sg-open-only-to-authorized-ports.

Pure stdlib: this module is bundled into SSM runbook scripts as well as imported by the rules.
"""
from __future__ import annotations

from typing import NamedTuple

MIN_PORT = 0
MAX_PORT = 65535


class PortRange(NamedTuple):
    """An inclusive range of ports, ``first <= last``."""

    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def contains(self, other: "PortRange") -> bool:
        return self.first <= other.first and other.last <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


ALL_PORTS = PortRange(MIN_PORT, MAX_PORT)


def parse_port(text: str) -> int:
    """One port number, 0-65535; ValueError says what is wrong."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"'{text}' is not a port number")
    port = int(text)
    if port > MAX_PORT:
        raise ValueError(f"port {port} is over {MAX_PORT}")
    return port


def parse_port_list(text: str) -> tuple[PortRange, ...]:
    """Parse ``"443,1024-65535"`` into ranges. Empty text is an empty list.

    Raises ValueError naming the faulty entry: not a number, over 65535, or a reversed range.
    """
    ranges = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            if text.strip():
                raise ValueError(f"empty entry in '{text}'")
            continue
        first_text, dash, last_text = entry.partition("-")
        first = parse_port(first_text)
        last = parse_port(last_text) if dash else first
        if last < first:
            raise ValueError(f"range '{entry}' is reversed")
        ranges.append(PortRange(first, last))
    return tuple(ranges)


def covered_by_one(port_range: PortRange, allowed: tuple[PortRange, ...]) -> bool:
    """True when one allowed range holds the whole of ``port_range``."""
    return any(candidate.contains(port_range) for candidate in allowed)
