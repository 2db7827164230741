"""What every report writer shares: the context of a report, and the one error a writer raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone


class ReportError(ValueError):
    """The findings cannot be written in the format asked for; the message says why, in one line."""


@dataclass(frozen=True)
class ReportContext:
    rules: list  # perimeter.registry.RuleSpec of the rules judged, in report order
    source: str  # what was judged, in words ("perimeter scan of snapshot.json")
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    as_of: date | None = None  # the date exemptions were judged at (scan --as-of); None: the day of ``now``

    @property
    def judged_on(self) -> date:
        return self.as_of or self.now.date()


