"""``perimeter scan --aggregator NAME``: every resource of the selected rules' types, from a Config aggregator.

AWS Config holds the organization's inventory; the pack judges it. One advanced query,
``SelectAggregateResourceConfig`` (read-only, https://docs.aws.amazon.com/config/latest/APIReference/
API_SelectAggregateResourceConfig.html), in pages of 100 (the API's ``Limit`` ceiling), each page judged before
the next is asked for, so memory holds one page whatever the organization's size. Rows come as JSON text with
the selected properties; ports may be written as ``22.0``, which the rules read as the whole number.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

import boto3
import botocore.exceptions

from perimeter.inputs.locations import ROWS, Unit, page_items
from perimeter.live import CLIENT_CONFIG, LiveScanError, explain

PAGE_SIZE = 100  # SelectAggregateResourceConfig's Limit maximum
# What the rules read of an item, as advanced-query properties (the resource schemas of
# https://github.com/awslabs/aws-config-resource-schema list them per type); the whole configuration object.
SELECTED = ("resourceId", "resourceType", "resourceName", "arn", "accountId", "awsRegion", "availabilityZone",
            "configurationItemStatus", "configurationItemCaptureTime", "configuration")
ACTIONS = {"SelectAggregateResourceConfig": "config:SelectAggregateResourceConfig"}
NEEDS = "the aggregator scan needs config:SelectAggregateResourceConfig on the aggregator (README 'Scanning an organization')"


def _quoted(values: Iterable[str]) -> str:
    # Config's query strings are single-quoted; a quote inside one is doubled, as in SQL.
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def aggregator_query(resource_types: Iterable[str], accounts: Iterable[str] = (), regions: Iterable[str] = ()) -> str:
    conditions = [f"resourceType IN ({_quoted(dict.fromkeys(resource_types))})"]
    if accounts:
        conditions.append(f"accountId IN ({_quoted(sorted(accounts))})")
    if regions:
        conditions.append(f"awsRegion IN ({_quoted(sorted(regions))})")
    return f"SELECT {', '.join(SELECTED)} WHERE {' AND '.join(conditions)}"


def aggregator_pages(
    name: str, resource_types: Iterable[str], accounts: Iterable[str] = (), regions: Iterable[str] = (),
    profile: str | None = None, region: str | None = None,
) -> Iterator[list]:
    """The result rows (JSON text) of the aggregator's resources of ``resource_types``, a page at a time; the
    next page is asked for only when the caller wants it."""
    expression = aggregator_query(resource_types, accounts, regions)
    try:
        session = boto3.Session(profile_name=profile)
        client = session.client("config", region_name=region or session.region_name, config=CLIENT_CONFIG)
        arguments = {"ConfigurationAggregatorName": name, "Expression": expression, "Limit": PAGE_SIZE}
        while True:
            page = client.select_aggregate_resource_config(**arguments)
            yield page.get("Results", [])
            if not page.get("NextToken"):
                return
            arguments["NextToken"] = page["NextToken"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LiveScanError(" ".join(explain(error, region, profile, NEEDS, ACTIONS).split())) from error


def aggregator_items(name: str, *arguments, **options) -> Iterator[Any]:
    """Raw items (API shape) of the aggregator's resources (``aggregator_pages``' arguments), page by page."""
    for rows in aggregator_pages(name, *arguments, **options):
        yield from page_items(f"aggregator {name}", rows)


def aggregator_units(name: str, *arguments, **options) -> Iterator[Unit]:
    """Each page as a unit a worker judges, asked for as the parallel scan needs the next."""
    for rows in aggregator_pages(name, *arguments, **options):
        yield Unit(ROWS, f"aggregator {name}", rows=tuple(rows))
