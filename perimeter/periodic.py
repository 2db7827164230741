"""What a periodic pass hands the Lambda edge: the items a rule listed itself, and whether the list is complete.

A rule whose declaration has a periodic trigger defines ``periodic_listing(client_factory, parameters)`` in its
``rule.py`` (the rule's one I/O edge, like ``complete_item``) returning a PeriodicListing. Every item is judged by
the rule's pure ``evaluate``, exactly as a change notification's item is, and reported under its own resource
type and id.

``complete`` says the list holds every resource of the rule's resource types that exists in the account and
region (e.g. ListFirewalls paged to the end). Only then may a resource that the rule reported earlier and that is
no longer listed be reported NOT_APPLICABLE ("no longer exists"); it is reported so once, since afterwards it is
no longer among the rule's COMPLIANT/NON_COMPLIANT results. A partial list (e.g. only the resources whose
exemption expired) flips nothing it did not evaluate.

Every rule also has the exemption pass below (the registry adds it to each rule's ScheduledNotification): a
partial listing of the resources whose exemption from the rule changed state. Standard library only; its I/O goes
through the Lambda's client factory, as the rules' own listings do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from perimeter.exemptions import INVALID, carries_tags, read_exemption, tag_key, tags_of
from perimeter.items import normalise_item

GONE_ANNOTATION = "Resource no longer exists"


@dataclass(frozen=True)
class PeriodicListing:
    items: list = field(default_factory=list)  # notification-shaped items: resourceType, resourceId, configuration
    complete: bool = False


# --- the exemption pass: every rule's daily look at its exempt resources ---------------------------------------
# Config re-evaluates a change-triggered rule only when a resource changes, so an exemption would never expire by
# itself. Once a day (EXEMPTION_PASS_FREQUENCY) each rule asks Config's advanced query for the resources carrying
# its tag key, which is cheap whatever the size of the account, and re-evaluates only those whose exemption state
# changed since the last pass: expired, or no longer too far ahead, within PASS_LOOKBACK_DAYS (so a failed or late
# pass is caught up; evaluating a resource twice gives the same result), and those whose tag is invalid.
EXEMPTION_PASS_FREQUENCY = "TwentyFour_Hours"
# What the pass calls; neither action supports resource-level permissions (Service Authorization Reference, AWS Config).
EXEMPTION_PASS_ACTIONS = ("config:BatchGetResourceConfig", "config:SelectResourceConfig")
PASS_LOOKBACK_DAYS = 3
BATCH_GET_LIMIT = 100  # BatchGetResourceConfig resourceKeys (API reference: 1-100)
BATCH_GET_ATTEMPTS = 3  # unprocessedResourceKeys are asked for again this many times in all


class ExemptionPassError(RuntimeError):
    """The pass could not read what it needs; the message says what and how many."""


def exemption_query(rule_id: str, resource_types) -> str:
    """The advanced query for the rule's exempt resources of its types.

    ``tags.key`` is a queryable property of every resource type (awslabs/aws-config-resource-schema, e.g.
    AWS::EC2::SecurityGroup.properties.json); ``IN`` and ``=`` are the query language's comparison operators
    (https://docs.aws.amazon.com/config/latest/developerguide/query-components.html). Selecting ``tags`` returns the
    whole tag list of each resource, from which the pass reads the exemption's value.
    """
    types = ", ".join(f"'{resource_type}'" for resource_type in resource_types)
    return (f"SELECT resourceId, resourceType, tags WHERE resourceType IN ({types}) "
            f"AND tags.key = '{tag_key(rule_id)}'")


def exemption_pass(client_factory, rule_id: str, resource_types, as_of: date, max_days: int) -> PeriodicListing:
    """The current items of the resources whose exemption from ``rule_id`` needs a new evaluation (partial)."""
    config = client_factory.build_client("config")
    key = tag_key(rule_id)
    due: dict[tuple[str, str], dict] = {}
    pages = config.get_paginator("select_resource_config").paginate(Expression=exemption_query(rule_id,
                                                                                                resource_types))
    for page in pages:
        for text in page.get("Results") or []:
            row = json.loads(text)
            tags = tags_of({"resourceType": row.get("resourceType"), "resourceId": row.get("resourceId"),
                            "tags": row.get("tags") or []})
            if key not in tags:  # a query row names tags.key, but the tag may be gone since the index was built
                continue
            now = read_exemption(tags[key], as_of, max_days)
            before = read_exemption(tags[key], as_of - timedelta(days=PASS_LOOKBACK_DAYS), max_days)
            if now.state == INVALID or now.state != before.state:  # expired, or became active, since the last pass
                due[(row["resourceType"], row["resourceId"])] = tags
    items = []
    keys = [{"resourceType": resource_type, "resourceId": resource_id} for resource_type, resource_id in due]
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        pending = keys[start:start + BATCH_GET_LIMIT]
        for _ in range(BATCH_GET_ATTEMPTS):
            response = config.batch_get_resource_config(resourceKeys=pending)
            for raw in response.get("baseConfigurationItems") or []:
                item = normalise_item(raw)
                # BatchGetResourceConfig's BaseConfigurationItem has no tags member: where the configuration does
                # not record them either, the query's tags (the same recorded state) stand in. A configuration
                # that records them, even as none, is the current word: the tag may be gone since the query's index.
                if not carries_tags(item):
                    item["tags"] = due[(item["resourceType"], item["resourceId"])]
                items.append(item)
            pending = response.get("unprocessedResourceKeys") or []
            if not pending:
                break
        if pending:
            names = ", ".join(f"{k['resourceType']} {k['resourceId']}" for k in pending[:10])
            raise ExemptionPassError(f"BatchGetResourceConfig left {len(pending)} resource(s) unprocessed after "
                                     f"{BATCH_GET_ATTEMPTS} attempts: {names}")
    return PeriodicListing(items, complete=False)
