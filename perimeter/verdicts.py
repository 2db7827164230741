"""What a rule concludes about one resource, and annotations that fit AWS Config's limits."""
from __future__ import annotations

from typing import NamedTuple

COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"
NOT_APPLICABLE = "NOT_APPLICABLE"
COMPLIANCE_TYPES = (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE)

# PutEvaluations accepts annotations of 1 to 256 characters.
MAX_ANNOTATION = 256


class Verdict(NamedTuple):
    compliance: str
    annotation: str


def fit(annotation: str, limit: int = MAX_ANNOTATION) -> str:
    """Cut an annotation to Config's limit, marking the cut."""
    return annotation if len(annotation) <= limit else annotation[: limit - 1] + "…"


def summarise(prefix: str, offenders: list[str], limit: int = MAX_ANNOTATION) -> str:
    """``"<prefix>: a; b (+3 more)"``, as many offenders as fit in ``limit`` characters.

    Offenders are listed in the order given (callers put the most serious first). At least one
    offender is always named, cut with an ellipsis if it alone is too long.
    """
    head = f"{prefix}: "
    shown: list[str] = []
    for index, offender in enumerate(offenders):
        remaining = len(offenders) - index - 1
        tail = f" (+{remaining} more)" if remaining else ""
        candidate = head + "; ".join(shown + [offender]) + tail
        if len(candidate) <= limit:
            shown.append(offender)
            continue
        if not shown:  # one very long offender: cut it rather than name none
            room = limit - len(head) - len(tail) - 1
            shown.append(offender[:room] + "…")
            return head + "; ".join(shown) + tail
        return head + "; ".join(shown) + f" (+{len(offenders) - len(shown)} more)"
    return head + "; ".join(shown)
