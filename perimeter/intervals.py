"""Interval arithmetic over inclusive integer ranges: union, intersection, what is left uncovered.

Generic over ``(first, last)`` NamedTuples (``_replace`` builds the results, so they have the input's type): the SG
rules run it over perimeter.ports.PortRange, perimeter.networkacls over address ranges. A module of its own so that
runbooks importing perimeter.ports do not bundle it. Pure stdlib.
"""
from __future__ import annotations


def _with(interval, first, last):
    """``interval._replace(first=first, last=last)``; for a plain ``(first, last)`` pair (PortRange, AddressRange)
    without _replace's generic machinery, which the security-group rules would pay per permission."""
    if type(interval)._fields == _PAIR:
        return _new(type(interval), (first, last))
    return interval._replace(first=first, last=last)


_PAIR = ("first", "last")
_new = tuple.__new__


def merged(ranges):
    """The union of ``ranges`` as sorted, disjoint, non-adjacent ranges (``80,81`` is ``80-81``)."""
    result = []
    for current in sorted(ranges):
        if result and current.first <= result[-1].last + 1:
            result[-1] = _with(result[-1], result[-1].first, max(result[-1].last, current.last))
        else:
            result.append(current)
    return tuple(result)


def overlap(a, b):
    """The part both ranges hold, or None."""
    first, last = max(a.first, b.first), min(a.last, b.last)
    return _with(a, first, last) if first <= last else None


def intersection(port_range, ranges):
    """The parts of ``port_range`` inside the union of ``ranges``, sorted and merged."""
    first, last = port_range[0], port_range[1]
    parts = [_with(port_range, max(first, other.first), min(last, other.last)) for other in ranges
             if other.first <= last and first <= other.last]  # overlap(port_range, other) is not None
    return merged(parts) if parts else ()


def uncovered(port_range, ranges):
    """The parts of ``port_range`` outside the union of ``ranges``, sorted."""
    parts, start = [], port_range.first
    for covering in merged(ranges):
        if covering.last < start or covering.first > port_range.last:
            continue
        if covering.first > start:
            parts.append(_with(port_range, start, covering.first - 1))
        start = max(start, covering.last + 1)
    if start <= port_range.last:
        parts.append(_with(port_range, start, port_range.last))
    return tuple(parts)


def port_list_text(ranges) -> str:
    """``22, 3389, 8000-8010``: ranges as an annotation names them."""
    return ", ".join(str(port_range) for port_range in ranges)
