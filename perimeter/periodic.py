"""What a periodic pass hands the Lambda edge: the items a rule listed itself, and whether the list is complete.

A rule whose declaration has a periodic trigger defines ``periodic_listing(client_factory, parameters)`` in its
``rule.py`` (the rule's one I/O edge, like ``complete_item``) returning a PeriodicListing. Every item is judged by
the rule's pure ``evaluate``, exactly as a change notification's item is, and reported under its own resource
type and id.

``complete`` says the list holds every resource of the rule's resource types that exists in the account and
region (e.g. ListFirewalls paged to the end). Only then may a resource that the rule reported earlier and that is
no longer listed be reported NOT_APPLICABLE ("no longer exists"); it is reported so once, since afterwards it is
no longer among the rule's COMPLIANT/NON_COMPLIANT results. A partial list (e.g. only the resources whose
exemption expired) flips nothing it did not evaluate. Pure: standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

GONE_ANNOTATION = "Resource no longer exists"


@dataclass(frozen=True)
class PeriodicListing:
    items: list = field(default_factory=list)  # notification-shaped items: resourceType, resourceId, configuration
    complete: bool = False
