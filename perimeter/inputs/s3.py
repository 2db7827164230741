"""``perimeter scan s3://bucket/prefix``: Config's delivered objects read from S3 as streams, never to disk.

Calls: ``s3:ListBucket`` (ListObjectsV2, paginated) under the prefix, then ``s3:GetObject`` per object chosen
(perimeter.inputs.locations.Selection: the newest snapshot per account and region, and any other JSON object).
Each object's body is decoded as it arrives (gzip by its magic bytes), one item at a time.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import boto3
import botocore.exceptions

from perimeter.inputs.locations import S3_SCHEME, Filters, Selection, Unit, read_stream, spooled
from perimeter.live import CLIENT_CONFIG, LiveScanError, explain

ACTIONS = {"ListObjectsV2": "s3:ListBucket", "GetObject": "s3:GetObject"}
NEEDS = "reading a bucket needs s3:ListBucket on it and s3:GetObject on its objects (README 'Scanning an organization')"


def split_url(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len(S3_SCHEME):].partition("/")
    if not bucket:
        raise LiveScanError(f"{url}: no bucket name; write s3://bucket/prefix")
    return bucket, prefix


def _chosen_keys(client, url: str, bucket: str, prefix: str, filters: Filters,
                 warn: Callable[[str], None]) -> list[str]:
    selection = Selection(filters)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            selection.offer(entry["Key"])
    keys = selection.keys()
    if not keys:
        raise LiveScanError(f"{url}: no .json or .json.gz object under this prefix")
    note = selection.note(url)
    if note:
        warn(note)
    return keys


@contextmanager
def _explained(profile: str | None) -> Iterator[None]:
    """botocore's errors, listing, fetching or reading a body, as one line saying what to do."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise LiveScanError(" ".join(explain(error, None, profile, NEEDS, ACTIONS).split())) from error


def _objects(url: str, filters: Filters, warn: Callable[[str], None], profile: str | None) -> Iterator[tuple[str, Any]]:
    """(s3://bucket/key, its body) of each chosen object in turn; the caller reads the body before the next."""
    bucket, prefix = split_url(url)
    with _explained(profile):
        client = boto3.Session(profile_name=profile).client("s3", config=CLIENT_CONFIG)
        for key in _chosen_keys(client, url, bucket, prefix, filters, warn):
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                yield f"s3://{bucket}/{key}", body
            finally:
                body.close()


def s3_items(url: str, filters: Filters, warn: Callable[[str], None], profile: str | None = None) -> Iterator[Any]:
    with _explained(profile):
        for where, body in _objects(url, filters, warn, profile):
            yield from read_stream(body, where, warn)


def s3_units(url: str, filters: Filters, warn: Callable[[str], None], profile: str | None,
             directory: str) -> Iterator[Unit]:
    """Each chosen object copied into ``directory`` as it is reached (the parent reads S3; workers judge)."""
    with _explained(profile):
        for where, body in _objects(url, filters, warn, profile):
            yield spooled(body, where, directory)
